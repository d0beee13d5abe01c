"""The records everything else speaks: where a value came from, the value, an artifact's effective config,
and a finding. Frozen dataclasses; this module imports nothing from driftguard."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A normalized value: JSON-like (None, bool, int, float, str, lists and str-keyed dicts of these).
Json = Any


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from.

    ``path`` is the file, ``line`` its 1-based line where the format has lines, ``pointer`` the place inside
    the file (``input[1].dims``, ``/parameters/top_p``), and ``source`` which layer of an engine's precedence
    supplied it (``request``, ``generation_config.json``, ``vllm default``...).
    """

    path: str
    line: int | None = None
    pointer: str | None = None
    source: str | None = None

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


#: How a value came to be (``Value.how``).
EXPLICIT, DEFAULT, DERIVED, INHERITED, FORCED = "explicit", "default", "derived", "inherited", "forced"
HOWS = (EXPLICIT, DEFAULT, DERIVED, INHERITED, FORCED)


@dataclass(frozen=True, slots=True)
class Value:
    """A normalized value with its origin.

    ``explicit`` is False when a documented default supplied it (or an engine derived it); ``note`` says which
    default (the reference row) or how the value was derived. ``how`` records how the value came to be:

    - ``explicit``: written in the artifact;
    - ``default``: a documented default of the format or engine;
    - ``derived``: computed by an engine rule from other values (``derived_from`` names them), such as the
      decoding mode or vLLM's ``do_sample`` from ``temperature < 1e-5``;
    - ``inherited``: taken from another artifact of the side (the model's generation_config.json under
      ``vllm serve``), keeping that artifact's origin;
    - ``forced``: an engine rule replaced the value (``replaced`` keeps the raw one, with its origin).

    Empty ``how`` (the constructor's default) means ``explicit`` or ``default`` after ``explicit``.
    """

    value: Json
    origin: Origin
    explicit: bool = True
    note: str | None = None
    how: str = ""
    replaced: Value | None = None
    derived_from: tuple[str, ...] = ()

    @property
    def provenance(self) -> str:
        """``how``, with the empty default read from ``explicit``."""
        return self.how or (EXPLICIT if self.explicit else DEFAULT)

    @property
    def engine_made(self) -> bool:
        """True for a value an engine rule derived or forced, not one a file or a default supplied."""
        return self.how in (DERIVED, FORCED)

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {
            "value": self.value,
            "explicit": self.explicit,
            "how": self.provenance,
            "origin": self.origin.to_dict(),
        }
        if self.note:
            out["note"] = self.note
        if self.replaced is not None:
            out["replaced"] = {"value": self.replaced.value, "origin": self.replaced.origin.to_dict(),
                               "how": self.replaced.provenance}
        if self.derived_from:
            out["derived_from"] = list(self.derived_from)
        return out


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


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference or problem, as a rule reported it.

    ``training``/``deployed`` are the two sides' values (either may be None for consistency and policy rules,
    which then name the values they looked at in ``related``). ``status`` is filled in by approvals:
    ``unapproved``, ``approved`` (``approval`` names it), ``expired`` or ``info``. ``fingerprint`` is the
    finding's stable identity (model, rule, key, artifact path relative to the repository; never a line
    number), stamped by ``check`` (``report.fingerprint``): SARIF's ``partialFingerprints`` carry it.
    ``change`` (``check --base``): ``introduced`` by the change, or ``existing`` (the same drift, values and
    verdict at the base revision; it does not fail the gate).
    """

    rule: str
    name: str
    key: str
    message: str
    severity: str = "error"
    training: Value | None = None
    deployed: Value | None = None
    related: tuple[Value, ...] = ()
    delta: Json = None
    status: str = "unapproved"
    approval: str | None = None
    model: str | None = None
    #: What the finding rests on, typed (parity metrics); empty for config findings.
    evidence: tuple[Metric, ...] = ()
    fingerprint: str | None = None
    change: str | None = None

    def origins(self) -> list[Origin]:
        """Every origin the finding points at, training side first."""
        out = [v.origin for v in (self.training, self.deployed) if v is not None]
        out.extend(v.origin for v in self.related)
        return out

    def to_dict(self) -> dict[str, Json]:
        def side(v: Value | None) -> Json:
            return None if v is None else v.value

        def origin(v: Value | None) -> Json:
            return None if v is None else v.origin.to_dict()

        out: dict[str, Json] = {
            "rule": self.rule,
            "name": self.name,
            "key": self.key,
            "severity": self.severity,
            "status": self.status,
            "message": self.message,
            "training": side(self.training),
            "deployed": side(self.deployed),
            "training_origin": origin(self.training),
            "deployed_origin": origin(self.deployed),
            "training_explicit": None if self.training is None else self.training.explicit,
            "deployed_explicit": None if self.deployed is None else self.deployed.explicit,
            "training_how": None if self.training is None else self.training.provenance,
            "deployed_how": None if self.deployed is None else self.deployed.provenance,
        }
        if self.related:
            out["related"] = [
                {"value": v.value, "origin": v.origin.to_dict(), "explicit": v.explicit} for v in self.related
            ]
        if self.delta is not None:
            out["delta"] = self.delta
        if self.approval is not None:
            out["approval"] = self.approval
        if self.model is not None:
            out["model"] = self.model
        if self.evidence:
            out["evidence"] = [m.to_dict() for m in self.evidence]
        if self.fingerprint is not None:
            out["fingerprint"] = self.fingerprint
        if self.change is not None:
            out["change"] = self.change
        return out
