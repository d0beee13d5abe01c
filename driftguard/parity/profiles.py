"""Tolerance profiles: which metrics judge an output, and their bounds, per deployed precision.

Where the numbers come from (none is tuned to a model; override them per model and per output):

* **fp32**: Polygraphy's default tolerances for comparing two runners, ``atol = rtol = 1e-5``, with its
  elementwise rule (an element fails only where it exceeds both), and no element may fail. Cosine per sample
  at least 0.9999 (a noise-to-signal ratio ``r = sqrt(2·(1 − cos))`` of 1.4 %), and every argmax the same.
* **fp16 / bf16**: no elementwise rule: the unit roundoff (fp16 2⁻¹¹ ≈ 4.9e-4, bf16 2⁻⁸ ≈ 3.9e-3) compounds
  over the layers, so any fixed per-element tolerance is either meaningless or fails sensible builds
  (TensorRT#2709). Judged by per-sample cosine (fp16 ≥ 0.999, r ≈ 4.5 %; bf16 ≥ 0.99, r ≈ 14 %, eight times
  fp16's roundoff) and by argmax agreement ≥ 0.999, MLPerf Inference's "99.9 % of the FP32 accuracy" target.
* **int8**: mean per-sample cosine ≥ 0.99 (r ≈ 14 %) and argmax agreement ≥ 0.99, MLPerf Inference's
  "99 % of the FP32 accuracy" target for quantized submissions. The mean, not the minimum: one hard input may
  quantize badly without the model being broken; tighten with ``cosine_min`` per model.

Argmax and top-k apply to outputs of kind ``logits``; exact match and token agreement to ``sequence`` outputs
(each profile requires token agreement 1.0 for greedy sequences under fp32, 0.99 otherwise). NaN or Inf in an
output always fails (DG502), in every profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Better = Literal["lower", "higher"]

#: Every metric a bound may be set on, and which way is better.
METRICS: dict[str, Better] = {
    "max_abs": "lower", "mean_abs": "lower", "median_abs": "lower", "p99_abs": "lower",
    "max_rel": "lower", "mean_rel": "lower", "median_rel": "lower", "p99_rel": "lower",
    "elementwise_fraction": "lower",
    "cosine": "higher", "cosine_min": "higher", "cosine_mean": "higher", "sqnr_db": "higher",
    "argmax_agreement": "higher", "topk_overlap": "higher",
    "exact_match": "higher", "token_agreement": "higher",
}

PROFILE_NAMES = ("fp32", "fp16", "bf16", "int8")


@dataclass(frozen=True)
class Profile:
    """Bounds per metric (a metric without a bound is measured and shown, not judged) and the elementwise
    rule's tolerances."""

    name: str
    atol: float
    rtol: float
    bounds: dict[str, float] = field(default_factory=dict)

    def with_overrides(self, bounds: dict[str, float | None], atol: float | None = None,
                       rtol: float | None = None, origin: str | None = None) -> Profile:
        """These bounds with ``bounds`` on top (None removes a bound) and ``atol``/``rtol`` when given."""
        merged = dict(self.bounds)
        for k, v in bounds.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return Profile(origin or self.name, self.atol if atol is None else atol,
                       self.rtol if rtol is None else rtol, merged)


PROFILES: dict[str, Profile] = {
    "fp32": Profile("fp32", 1e-5, 1e-5, {"elementwise_fraction": 0.0, "cosine_min": 0.9999,
                                         "argmax_agreement": 1.0, "token_agreement": 1.0}),
    "fp16": Profile("fp16", 1e-3, 1e-3, {"cosine_min": 0.999, "argmax_agreement": 0.999,
                                         "token_agreement": 0.99}),
    "bf16": Profile("bf16", 1e-2, 1e-2, {"cosine_min": 0.99, "argmax_agreement": 0.999,
                                         "token_agreement": 0.99}),
    "int8": Profile("int8", 1e-2, 1e-2, {"cosine_mean": 0.99, "argmax_agreement": 0.99,
                                         "token_agreement": 0.99}),
}

_INT8 = {"int8", "uint8", "qdq", "dynamic", "static", "qoperator", "int8-dynamic"}
_NOT_QUANTIZED = {"none", "", "no", "false"}


def profile_for(deployed: dict[str, object]) -> str:
    """The profile the deployment's precision calls for, from ``precision.quantization``,
    ``precision.weights`` and ``precision.compute`` (the narrowest wins); fp32 when none says otherwise."""
    seen = {str(deployed.get(k, "")).lower() for k in ("precision.weights", "precision.compute")}
    quant = str(deployed.get("precision.quantization", "none")).lower()
    if quant not in _NOT_QUANTIZED or seen & _INT8:
        return "int8"
    if seen & {"bfloat16", "bf16"}:
        return "bf16"
    if seen & {"float16", "fp16", "half"}:
        return "fp16"
    return "fp32"
