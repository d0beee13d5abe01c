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

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {"path": self.path, "line": self.line}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass(frozen=True, slots=True)
class Value:
    """A normalized value with its origin. ``explicit`` is False when a documented default supplied it;
    ``note`` says which default (the reference row) or how the value was derived."""

    value: Json
    origin: Origin
    explicit: bool = True
    note: str | None = None

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {
            "value": self.value,
            "explicit": self.explicit,
            "origin": self.origin.to_dict(),
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    """The effective configuration of one artifact: ``{canonical key: Value}``.

    ``kind`` is the extractor's kind name (``triton``, ``hf-generation``...), ``path`` the artifact.
    """

    kind: str
    path: str
    values: Mapping[str, Value] = field(default_factory=dict)

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
        return {
            "kind": self.kind,
            "path": self.path,
            "values": {k: self.values[k].to_dict() for k in sorted(self.values)},
        }


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
        if self.fingerprint is not None:
            out["fingerprint"] = self.fingerprint
        if self.change is not None:
            out["change"] = self.change
        return out
