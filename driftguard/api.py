"""The library API that the CLI and deploy scripts call. Wires extractors, rules and reporters; prints
nothing and never exits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftguard import extractors
from driftguard.compare import structured_delta
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions
from driftguard.keys import spec_for
from driftguard.model import EffectiveConfig, Finding
from driftguard.rules.drift import CompareOptions, compare_sides


def extract(path: str | Path, kind: str | None = None,
            substitutions: Mapping[str, str] | None = None) -> EffectiveConfig:
    """The effective config of one artifact. ``path`` may be ``KIND:PATH``; ``kind`` forces the extractor.

    Raises ``DriftguardError`` subclasses (with file and line) for unreadable or invalid artifacts.
    """
    spec_kind, real = extractors.split_kind(str(path))
    options = ExtractOptions(substitutions=dict(substitutions or {}))
    return extractors.extract(real, kind or spec_kind, options)


@dataclass(frozen=True)
class DiffResult:
    """The outcome of ``diff``: both configs and the differences by canonical key."""

    training: EffectiveConfig
    deployed: EffectiveConfig
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, object]:
        return {
            "training": {"kind": self.training.kind, "path": self.training.path},
            "deployed": {"kind": self.deployed.kind, "path": self.deployed.path},
            "findings": [f.to_dict() for f in self.findings],
            "summary": {"findings": len(self.findings)},
        }


def diff_configs(training: EffectiveConfig, deployed: EffectiveConfig,
                 options: CompareOptions | None = None) -> tuple[Finding, ...]:
    """Findings for every canonical or shared key whose effective values differ between the two configs."""
    findings: list[Finding] = []
    for key, a, b in compare_sides(training.values, deployed.values, options):
        spec = spec_for(key)
        delta = structured_delta(a.value, b.value, unordered=bool(spec and spec.unordered))
        findings.append(Finding(
            rule="DG101", name="drift.value", key=key, training=a, deployed=b, delta=delta,
            message=f"{key}: training {a.value!r} != deployed {b.value!r}",
        ))
    return tuple(findings)


def diff(training: str | Path | EffectiveConfig, deployed: str | Path | EffectiveConfig,
         substitutions: Mapping[str, str] | None = None, options: CompareOptions | None = None) -> DiffResult:
    """Compare a training-side artifact with a deployment-side one (paths, ``KIND:PATH`` or configs)."""
    a = training if isinstance(training, EffectiveConfig) else extract(training, substitutions=substitutions)
    b = deployed if isinstance(deployed, EffectiveConfig) else extract(deployed, substitutions=substitutions)
    return DiffResult(a, b, diff_configs(a, b, options))


def extract_many(paths: Sequence[str | Path], kind: str | None = None,
                 substitutions: Mapping[str, str] | None = None) -> list[EffectiveConfig]:
    """``extract`` for several paths, in order."""
    if not paths:
        raise ExtractionError("no artifact given")
    return [extract(p, kind, substitutions) for p in paths]
