"""The records everything else speaks: where a value came from, the value, an artifact's effective config, a
finding (what a check saw, with typed evidence) and the judged record (a finding with its verdict); and the words
verdicts and provenance are stated in (``Severity``, ``Status``, ``Change``, ``ApprovalState``, ``How``,
``Unjudged``). Frozen dataclasses and str-valued Enums; this module imports nothing from driftguard."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

#: A normalized value: JSON-like (None, bool, int, float, str, lists and str-keyed dicts of these).
Json = Any


class Word(str, Enum):
    """A str-valued Enum that reads and prints as its value.

    Members compare equal to their plain string (``Severity.ERROR == "error"``) and hash alike, so a member can
    key a dict that plain strings look up; ``str()``, ``format()`` and f-strings give the value (``error``, not
    ``Severity.ERROR``), so every message prints as it did when these were plain strings. JSON writers
    serialise ``.value``.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Severity(Word):
    """How bad a finding is. The manifest's ``off`` is a selection (the rule does not run), not a severity."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Status(Word):
    """A finding's verdict after approvals: ``unapproved`` and ``expired`` fail the gate (for errors, or for
    warnings when strict); ``approved`` names its approval; ``info`` findings are never judged."""

    UNAPPROVED = "unapproved"
    APPROVED = "approved"
    EXPIRED = "expired"
    INFO = "info"


#: Statuses that fail the gate (for findings whose severity is ``error``, or a warning when strict).
FAILING_STATUSES = (Status.UNAPPROVED, Status.EXPIRED)


class Change(Word):
    """``check --base``: a finding the change ``introduced``, or one ``existing`` at the base revision (the same
    drift, values and verdict; it does not fail the gate)."""

    INTRODUCED = "introduced"
    EXISTING = "existing"


class ApprovalState(Word):
    """What became of an approval in a check.

    ``used`` (approved at least one finding), ``expired`` (past ``expires``), ``stale`` (matched nothing),
    ``uncommitted`` (ignored: ``--require-committed-approvals`` and the file is not committed as it is, or
    ``--require-base-approvals`` and it is not on the base revision as it is), ``self-approved``
    (``approval_policy.separate_approver``: last changed by whoever last changed a line the finding rests on, so it
    approves nothing).
    """

    USED = "used"
    EXPIRED = "expired"
    STALE = "stale"
    UNCOMMITTED = "uncommitted"
    SELF_APPROVED = "self-approved"


class How(Word):
    """How a value came to be (``Value.how``).

    - ``explicit``: written in the artifact;
    - ``default``: a documented default of the format or engine;
    - ``derived``: computed by an engine rule from other values (``derived_from`` names them), such as the
      decoding mode or vLLM's ``do_sample`` from ``temperature < 1e-5``;
    - ``inherited``: taken from another artifact of the side (the model's generation_config.json under
      ``vllm serve``), keeping that artifact's origin;
    - ``forced``: an engine rule replaced the value (``replaced`` keeps the raw one, with its origin);
    - ``unresolved``: written in the artifact as an expression the files do not fix (``$MODEL`` with no
      assignment, a command substitution, a Kubernetes secret): the value is the expression as written, shown
      but never compared (a side's merge leaves the key out; DG304 reports it).
    """

    EXPLICIT = "explicit"
    DEFAULT = "default"
    DERIVED = "derived"
    INHERITED = "inherited"
    FORCED = "forced"
    UNRESOLVED = "unresolved"

    @property
    def engine_made(self) -> bool:
        """True for ``derived`` and ``forced``: an engine rule made the value, not a file or a default."""
        return self in (How.DERIVED, How.FORCED)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from.

    ``path`` is the file, ``line`` its 1-based line where the format has lines, ``pointer`` the place inside
    the file (``input[1].dims``, ``/parameters/top_p``), and ``source`` which layer of an engine's precedence
    supplied it (``request``, ``generation_config.json``, ``vllm default``...). ``default_of`` names whose
    documented default the value is when such a layer supplied it (``vllm``, ``transformers 4.57.6``: the
    ``<owner>`` of ``<owner> default``); None for a format's own defaults and for values read from a file. It
    is not serialised (``source`` shows it).
    """

    path: str
    line: int | None = None
    pointer: str | None = None
    source: str | None = None
    default_of: str | None = None

    def location(self) -> str:
        """``path:line`` (or just ``path``) for humans and annotations."""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        """``path:line (source)``, as reports show an origin."""
        return self.location() + (f" ({self.source})" if self.source else "")

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {"path": self.path, "line": self.line}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass(frozen=True, slots=True)
class Value:
    """A normalized value with its origin.

    ``how`` (``How``) says how the value came to be, and is the one statement of it. ``explicit`` follows from
    it: True for ``explicit``, False for ``default``; for a value an engine rule made or another artifact
    supplied (``derived``, ``forced``, ``inherited``), ``basis`` says how what it rests on came to be
    (``How.EXPLICIT``: the values it follows from were written down, such as a request's ``truncate`` making
    its truncation side explicit; ``How.DEFAULT`` or None: they were not).

    ``note`` is free text: which default supplied the value (the reference row), what a forced value replaced.
    ``derivation`` is an engine rule's account of a derived value (reports show it as ``derived: <derivation>``
    where no ``note`` is given). Whose documented default supplied it is the origin's (``Origin.default_of``).
    """

    value: Json
    origin: Origin
    how: How = How.EXPLICIT
    note: str | None = None
    replaced: Value | None = None
    derived_from: tuple[str, ...] = ()
    basis: How | None = None
    derivation: str | None = None

    def __post_init__(self) -> None:
        # A plain string from a plug-in or a test ("derived") becomes its member, so .value and == both hold.
        if type(self.how) is not How:
            object.__setattr__(self, "how", How(self.how))
        if self.basis is not None and type(self.basis) is not How:
            object.__setattr__(self, "basis", How(self.basis))

    @property
    def explicit(self) -> bool:
        """True when the value was written down: ``how`` explicit, or an engine-made or inherited value whose
        ``basis`` was."""
        if self.how == How.EXPLICIT:
            return True
        if self.how == How.DEFAULT:
            return False
        return self.basis == How.EXPLICIT

    @property
    def engine_made(self) -> bool:
        """True for a value an engine rule derived or forced, not one a file or a default supplied."""
        return self.how.engine_made

    @property
    def shown_note(self) -> str | None:
        """The note as reports show it: ``note``, else ``derived: <derivation>`` for an engine rule's derivation."""
        if self.note is not None:
            return self.note
        return None if self.derivation is None else f"derived: {self.derivation}"

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {
            "value": self.value,
            "explicit": self.explicit,
            "how": self.how.value,
            "origin": self.origin.to_dict(),
        }
        note = self.shown_note
        if note:
            out["note"] = note
        if self.replaced is not None:
            out["replaced"] = {"value": self.replaced.value, "origin": self.replaced.origin.to_dict(),
                               "how": self.replaced.how.value}
        if self.derived_from:
            out["derived_from"] = list(self.derived_from)
        return out


def basis_of(value: Value | None) -> How:
    """The ``basis`` of a value made from ``value``: ``How.EXPLICIT`` when it was written down, else
    ``How.DEFAULT`` (also for no value)."""
    return How.EXPLICIT if value is not None and value.explicit else How.DEFAULT


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    """The effective configuration of one artifact: ``{canonical key: Value}``.

    ``kind`` is the extractor's kind name (``triton``, ``hf-generation``...), ``path`` the artifact,
    ``serving`` the serving path its values were resolved for (``vllm-serve``, ``triton-vllm``...; None for
    model files).
    """

    kind: str
    path: str
    values: Mapping[str, Value] = field(default_factory=dict)
    serving: str | None = None

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def __getitem__(self, key: str) -> Value:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.values))

    def __len__(self) -> int:
        return len(self.values)

    def get(self, key: str) -> Value | None:
        return self.values.get(key)

    def plain(self) -> dict[str, Json]:
        """``{key: value}`` without origins, sorted by key."""
        return {k: self.values[k].value for k in sorted(self.values)}

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {"kind": self.kind, "path": self.path}
        if self.serving is not None:
            out["serving"] = self.serving
        out["values"] = {k: self.values[k].to_dict() for k in sorted(self.values)}
        return out


@dataclass(frozen=True, slots=True)
class Metric:
    """A number a finding rests on (typed evidence, e.g. a parity metric), with the bound it was judged by.

    ``better`` says which way is better (``lower`` for errors, ``higher`` for cosine or agreement), so an
    approval can accept a bound rather than one measured value. ``value`` None means it was not finite (NaN or
    Inf) or could not be computed; ``output`` names the model output it was measured on.
    """

    name: str
    value: float | None
    bound: float | None = None
    better: str = "lower"
    output: str | None = None
    passed: bool | None = None

    def within(self, bound: float) -> bool:
        """True when the measured value satisfies ``bound`` in the metric's direction (never when not finite)."""
        if self.value is None:
            return False
        return self.value <= bound if self.better == "lower" else self.value >= bound

    def to_dict(self) -> dict[str, Json]:
        return {"name": self.name, "value": self.value, "bound": self.bound, "better": self.better,
                "output": self.output, "passed": self.passed}


class Unjudged(Word):
    """Why DG401 judged no weights of a file (shown in the finding's value slot for that side)."""

    #: The file could not be read as weights (its format, or a tensor type with no float reading).
    NOT_READ = "not read"
    #: The file was not compared: there was nothing on the other side to compare it with.
    NOT_COMPARED = "not compared"


@dataclass(frozen=True, slots=True)
class WeightMatch:
    """DG401's evidence for one deployed weights file: how its tensors compare with the training checkpoint's.

    ``matched``/``unmatched``: names of the tensors that match a training tensor / match none;
    ``not_comparable``: names of tensors that could not be compared (an opaque or quantized type); ``skipped``:
    tensors left out (ignored by name, or too small). ``training``/``deployed``: why that side's file was not
    judged at all (None when the weights were compared).
    """

    path: str
    matched: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    not_comparable: tuple[str, ...] = ()
    skipped: int = 0
    training: Unjudged | None = None
    deployed: Unjudged | None = None

    def delta(self) -> dict[str, Json]:
        """The finding's ``delta`` as reports write it (counts, and at most 20 names of each list)."""
        return {"matched": len(self.matched), "unmatched": list(self.unmatched[:20]),
                "not_comparable": list(self.not_comparable[:20]), "skipped": self.skipped}


@dataclass(frozen=True, slots=True)
class KeyRevert:
    """One differing config key reverted to its training value in the candidate run: how many of the diverging
    golden inputs that restores (``restores`` of ``of``)."""

    key: str
    training: Json
    deployed: Json
    restores: int
    of: int

    def to_dict(self) -> dict[str, Json]:
        return {"key": self.key, "training": self.training, "deployed": self.deployed, "restores": self.restores,
                "of": self.of}


@dataclass(frozen=True, slots=True)
class JointRevert:
    """Differing config keys reverted together in the candidate run: ``restores`` of the ``of`` diverging golden
    inputs come back, inputs that no single one of these keys restores. ``only``: no smaller group of them was
    left untried (a pair: neither key alone restores them); False when the group is every applied key and some
    of its pairs were not tried within the rerun budget."""

    keys: tuple[str, ...]
    restores: int
    of: int
    only: bool = True

    def to_dict(self) -> dict[str, Json]:
        return {"keys": list(self.keys), "restores": self.restores, "of": self.of, "only": self.only}


@dataclass(frozen=True, slots=True)
class Attribution:
    """Why a parity failure happened, measured (``parity.attribution``): ``diverging`` of ``inputs`` golden inputs
    diverge; how many still diverge with the deployed artifact under the training config and with the training
    artifact under the deployed config (artifact or config?); each differing key the runner applies, reverted
    alone, most restoring first; the groups of keys that restore what no single key does (``joint``); and the
    reruns it made (``reruns`` of ``budget``, k + 3 for k applied keys), with the runs it did not make because
    they could not change the answer (``skipped``, each in plain words)."""

    diverging: int
    inputs: int
    deployed_artifact_training_config: int
    training_artifact_deployed_config: int
    keys: tuple[KeyRevert, ...] = ()
    joint: tuple[JointRevert, ...] = ()
    reruns: int = 0
    budget: int = 0
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Json]:
        return {"diverging": self.diverging, "inputs": self.inputs,
                "deployed_artifact_training_config": self.deployed_artifact_training_config,
                "training_artifact_deployed_config": self.training_artifact_deployed_config,
                "keys": [k.to_dict() for k in self.keys], "joint": [j.to_dict() for j in self.joint],
                "reruns": self.reruns, "budget": self.budget, "skipped": list(self.skipped)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference or problem, as a check saw it: what was seen, never the verdict (that is ``Judged``).

    ``training``/``deployed`` are the two sides' values (either may be None for consistency and policy rules,
    which then name the values they looked at in ``related``). What the finding rests on, typed: ``evidence``,
    the parity metrics of an output (``measured``: the one of them the finding judges, whose bound an approval
    may accept); ``weights``, DG401's tensor matches (or why a file was not judged); ``attribution``, what a
    failing parity output's divergence is due to; ``plot``, the picture of a failing output (``--plots``). The
    value slots and ``delta`` show them in JSON, as they always have (``shown_delta``).
    """

    rule: str
    name: str
    key: str
    message: str
    severity: Severity = Severity.ERROR
    training: Value | None = None
    deployed: Value | None = None
    related: tuple[Value, ...] = ()
    delta: Json = None
    model: str | None = None
    evidence: tuple[Metric, ...] = ()
    measured: Metric | None = None
    weights: WeightMatch | None = None
    attribution: Attribution | None = None
    plot: str | None = None

    def __post_init__(self) -> None:
        # A plain string (a plug-in rule's ``severity = "warning"``) becomes its member; an unknown word is a
        # ValueError.
        if type(self.severity) is not Severity:
            object.__setattr__(self, "severity", Severity(self.severity))

    def origins(self) -> list[Origin]:
        """Every origin the finding points at, training side first."""
        out = [v.origin for v in (self.training, self.deployed) if v is not None]
        out.extend(v.origin for v in self.related)
        return out

    def shown_delta(self) -> Json:
        """``delta`` as reports write it: the attribution (which replaces a failing output's own delta) and the
        plot's file join it as ``attribution`` and ``plot``."""
        if self.attribution is None and self.plot is None:
            return self.delta
        out: dict[str, Json] = {}
        if self.attribution is not None:
            out["attribution"] = self.attribution.to_dict()
        elif isinstance(self.delta, dict):
            out.update(self.delta)
        if self.plot is not None:
            out["plot"] = self.plot
        return out

    def to_dict(self) -> dict[str, Json]:
        """The finding as a report writes it before any judging (``diff``): status ``unapproved``."""
        return Judged(self).to_dict()


@dataclass(frozen=True, slots=True)
class Judged:
    """A finding with its verdict.

    ``status`` is set by approvals: ``unapproved``, ``approved`` (``approval`` names it), ``expired`` (``approval``
    names the expired one) or ``info``. ``fingerprint`` is the finding's stable identity (model, rule, key,
    artifact path relative to the repository; never a line number), stamped by ``check``
    (``report.fingerprint``): SARIF's ``partialFingerprints`` carry it. ``change`` (``check --base``):
    ``introduced`` by the change, or ``existing`` (the same drift, values and verdict at the base revision; it
    does not fail the gate). What was seen reads through to ``finding`` (``j.key`` is ``j.finding.key``).
    """

    finding: Finding
    status: Status = Status.UNAPPROVED
    approval: str | None = None
    fingerprint: str | None = None
    change: Change | None = None

    def __post_init__(self) -> None:
        if type(self.status) is not Status:  # a plain string becomes its member
            object.__setattr__(self, "status", Status(self.status))
        if self.change is not None and type(self.change) is not Change:
            object.__setattr__(self, "change", Change(self.change))

    # What was seen, read through to the finding.
    @property
    def rule(self) -> str:
        return self.finding.rule

    @property
    def name(self) -> str:
        return self.finding.name

    @property
    def key(self) -> str:
        return self.finding.key

    @property
    def message(self) -> str:
        return self.finding.message

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    @property
    def training(self) -> Value | None:
        return self.finding.training

    @property
    def deployed(self) -> Value | None:
        return self.finding.deployed

    @property
    def related(self) -> tuple[Value, ...]:
        return self.finding.related

    @property
    def delta(self) -> Json:
        return self.finding.shown_delta()

    @property
    def model(self) -> str | None:
        return self.finding.model

    @property
    def evidence(self) -> tuple[Metric, ...]:
        return self.finding.evidence

    @property
    def measured(self) -> Metric | None:
        return self.finding.measured

    @property
    def weights(self) -> WeightMatch | None:
        return self.finding.weights

    def origins(self) -> list[Origin]:
        """Every origin the finding points at, training side first."""
        return self.finding.origins()

    def to_dict(self) -> dict[str, Json]:
        """The finding and its verdict as JSON reports write them (one flat object, keys in a fixed order)."""
        f = self.finding

        def side(v: Value | None) -> Json:
            return None if v is None else v.value

        def origin(v: Value | None) -> Json:
            return None if v is None else v.origin.to_dict()

        out: dict[str, Json] = {
            "rule": f.rule,
            "name": f.name,
            "key": f.key,
            "severity": f.severity.value,
            "status": self.status.value,
            "message": f.message,
            "training": side(f.training),
            "deployed": side(f.deployed),
            "training_origin": origin(f.training),
            "deployed_origin": origin(f.deployed),
            "training_explicit": None if f.training is None else f.training.explicit,
            "deployed_explicit": None if f.deployed is None else f.deployed.explicit,
            "training_how": None if f.training is None else f.training.how.value,
            "deployed_how": None if f.deployed is None else f.deployed.how.value,
        }
        if f.related:
            out["related"] = [
                {"value": v.value, "origin": v.origin.to_dict(), "explicit": v.explicit} for v in f.related
            ]
        delta = f.shown_delta()
        if delta is not None:
            out["delta"] = delta
        if self.approval is not None:
            out["approval"] = self.approval
        if f.model is not None:
            out["model"] = f.model
        if f.evidence:
            out["evidence"] = [m.to_dict() for m in f.evidence]
        if self.fingerprint is not None:
            out["fingerprint"] = self.fingerprint
        if self.change is not None:
            out["change"] = self.change.value
        return out
