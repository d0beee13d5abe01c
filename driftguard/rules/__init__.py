"""The rule engine and rule families.

``RULES`` is the explicit registry of built-in rules (code -> class); ``load_rules()`` adds third-party rules
from the ``driftguard.rules`` entry point (value ``module:Class``). Nothing registers itself on import.
Families: DG1xx drift between sides (``drift_rules``), DG2xx consistency within a side (``consistency``),
DG21x Triton config vs ONNX graph (``consistency_io``), DG3xx policy on values (``policy``).
``engine.run_rules`` runs them.
"""

from __future__ import annotations

from functools import cache

from driftguard.rules.base import Rule
from driftguard.rules.consistency import EosTokenConsistency, GenerationLengthConsistency, MaxLengthConsistency
from driftguard.rules.consistency_io import (
    OnnxMaxLength,
    OnnxTokenizerInputs,
    TritonOnnxBackend,
    TritonOnnxBatchDim,
    TritonOnnxDims,
    TritonOnnxDtype,
    TritonOnnxNames,
    TritonOnnxPrecision,
)
from driftguard.rules.drift_rules import DecodingDrift, OneSidedKey, PrecisionDrift, ValueDrift
from driftguard.rules.policy import GreedyBySamplingLimits, SamplingWithoutDoSample, ValueRange
from driftguard.rules.policy_fields import IgnoredRequestField
from driftguard.rules.precision_serving import ServingPrecision
from driftguard.rules.provenance import WeightsProvenance

RULES: dict[str, type[Rule]] = {
    "DG101": ValueDrift,
    "DG102": PrecisionDrift,
    "DG103": OneSidedKey,
    "DG104": DecodingDrift,
    "DG105": ServingPrecision,
    "DG201": EosTokenConsistency,
    "DG202": MaxLengthConsistency,
    "DG203": GenerationLengthConsistency,
    "DG210": TritonOnnxNames,
    "DG211": TritonOnnxDtype,
    "DG212": TritonOnnxBatchDim,
    "DG213": TritonOnnxDims,
    "DG214": TritonOnnxBackend,
    "DG215": TritonOnnxPrecision,
    "DG216": OnnxTokenizerInputs,
    "DG217": OnnxMaxLength,
    "DG301": SamplingWithoutDoSample,
    "DG302": GreedyBySamplingLimits,
    "DG303": ValueRange,
    "DG304": IgnoredRequestField,
    "DG401": WeightsProvenance,
}


class RuleLoadError(Exception):
    """A ``driftguard.rules`` entry point could not be loaded or is not a Rule: a broken plug-in (exit 3)."""


@cache
def _entry_point_rules() -> dict[str, type[Rule]]:
    # importlib.metadata scans every installed distribution: driftguard.plugins does it once per process.
    from driftguard.plugins import entry_points

    out: dict[str, type[Rule]] = {}
    for ep in entry_points("driftguard.rules"):
        try:
            obj = ep.load()
        except Exception as exc:
            raise RuleLoadError(f"driftguard.rules entry point '{ep.name} = {ep.value}' failed to load: "
                                f"{type(exc).__name__}: {exc}") from exc
        if not (isinstance(obj, type) and issubclass(obj, Rule)) or not obj.code:
            raise RuleLoadError(f"driftguard.rules entry point '{ep.name} = {ep.value}' is not a Rule with a code")
        out[obj.code] = obj
    return out


def load_rules() -> dict[str, type[Rule]]:
    """Every rule of this installation, code -> class: ``RULES`` plus entry points (built-ins win a clash)."""
    plugins = _entry_point_rules()
    if not plugins:
        return dict(RULES)
    return {**plugins, **RULES}


__all__ = ["RULES", "Rule", "RuleLoadError", "load_rules"]
