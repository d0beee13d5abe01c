"""What a rule is and what it sees.

A rule is a ``checks.Check`` (a ``code`` such as ``DG101``, a dotted ``name``, a default ``severity`` and a
docstring with an **Anti-pattern** and a **Best practice** section: ``driftguard explain CODE`` prints it; a
test checks every registered rule has both). ``check(ctx)`` yields Findings. Families: DG1xx drift between sides, DG2xx
consistency within a side (or between artifacts of the deployment), DG3xx policy on values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from driftguard.checks import Check
from driftguard.model import EffectiveConfig, Finding, Value
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.rules.comparison import CompareOptions, compare_sides


@dataclass(frozen=True)
class KindTraits:
    """What rules know about a kind of artifact: what its extractor declares (``extractors.KindInfo``), passed
    by the gate on each ``Side`` because rules never import extractors, so no rule names a kind.

    ``speaks``: the canonical namespaces it can state (its documented defaults' and those its extractor
    declares), for DG103. ``weights``: the format of the weights its artifacts hold (``onnx``, ``torch``,
    ``safetensors``, or ``folder``: a model folder's weight files), for DG401; None for none.
    ``engine_loads``: a serving engine loads the model from it, so its weight precision is what ``dtype: auto``
    resolves from (DG105). ``io``: the model IO signature it states, ``declared`` by a serving config or the
    model ``graph``'s own (DG21x check the one against the other); None for none.
    """

    speaks: tuple[str, ...] = ()
    weights: str | None = None
    engine_loads: bool = False
    io: str | None = None


#: The traits of a kind the side has none for (an artifact built by hand in a test): it states nothing rules
#: select artifacts by.
NO_TRAITS = KindTraits()


@dataclass(frozen=True)
class Side:
    """One side of a model (training or deployment): its artifacts and their merged values.

    ``artifacts`` in manifest order; ``merged`` is ``{key: Value}`` after the side's precedence was applied
    (each Value's origin names the artifact that won); ``shadowed`` the values the merge set aside, per key
    (another artifact of the side stated the key too); ``serving`` the serving path that serves the side
    (``engines.get``'s name; None when no serving engine's file is on it); ``kinds`` what each of its
    artifacts' kinds declares (``KindTraits``); ``tied`` per key the values of artifacts that no documented
    precedence orders, only manifest order (``gate.sides.tied``: two graphs, two Triton configs), for DG204.
    """

    name: str
    artifacts: tuple[EffectiveConfig, ...]
    merged: Mapping[str, Value]
    serving: str | None = None
    shadowed: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)
    kinds: Mapping[str, KindTraits] = field(default_factory=dict)
    tied: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)

    def traits(self, artifact: EffectiveConfig) -> KindTraits:
        """What the kind of one of the side's artifacts declares."""
        return self.kinds.get(artifact.kind, NO_TRAITS)

    def where(self, test: Callable[[KindTraits], bool]) -> list[EffectiveConfig]:
        """The side's artifacts whose kind's traits pass ``test``, in order."""
        return [a for a in self.artifacts if test(self.traits(a))]

    def with_weights(self, *formats: str) -> list[tuple[EffectiveConfig, str]]:
        """(artifact, weights format) for the side's artifacts holding weights in one of ``formats``, in order."""
        return [(a, w) for a in self.artifacts if (w := self.traits(a).weights) is not None and w in formats]


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: the model name, both sides, the comparison options and the rule's own options."""

    model: str
    training: Side
    deployed: Side
    compare: CompareOptions = field(default_factory=CompareOptions)
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The run's reader limits, for rules that read files themselves (DG401).
    limits: Limits = DEFAULT_LIMITS
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def differences(self) -> list[tuple[str, Value, Value]]:
        """Keys both sides give with different values (``rules.comparison.compare_sides``), computed once per
        context however many rules ask."""
        hit: list[tuple[str, Value, Value]] | None = self._memo.get("differences")
        if hit is None:
            hit = self._memo["differences"] = compare_sides(self.training.merged, self.deployed.merged, self.compare)
        return hit


class Rule(Check):
    """Base class for rules (``checks.Check``: code, name, severity, doc). Subclasses set the class attributes
    and implement ``check``; a rule that takes options declares their pydantic model as ``Options``."""

    #: True for rules that relate what the two sides state (DG101, DG102, DG104-DG108, DG216, DG217) and for
    #: DG304 (a field either file's engine ignores hides a difference): ``driftguard diff``, a check of two
    #: artifacts, runs these from the same selection as ``check``. False for rules that judge one side on its own
    #: (within-side consistency, value policy), and for DG103, which judges what a whole side leaves unset: in
    #: ``diff`` each side is one file, and a key a file leaves unset may be stated by the side's other files.
    pairwise: ClassVar[bool] = False
    #: The pydantic model of the rule's options (``rules.options.<code>`` in the manifest), None when it takes
    #: none: the manifest validates them when it loads and its JSON Schema lists them.
    Options: ClassVar[type[BaseModel] | None] = None

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        raise NotImplementedError

    @classmethod
    def options(cls, ctx: RuleContext) -> BaseModel | None:
        """This rule's options from the manifest (``rules.options.<code>``) as its ``Options`` model (its
        defaults when the manifest gives none); None for a rule that takes none. The manifest checked them when
        it loaded (``manifest.Manifest.check_rule_options``)."""
        if cls.Options is None:
            return None
        return cls.Options.model_validate(ctx.options.get(cls.code) or {})
