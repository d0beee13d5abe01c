"""DG105: the precision an LLM server computes in or loads, against the precision the model was evaluated in.

DG102 compares the same precision key on both sides. A model's precision is stated by its training files as
``precision.weights`` (config.json ``torch_dtype``/``dtype``, checkpoint tensors) and by its server as
``precision.compute`` (vLLM/TGI ``dtype``, TensorRT ``precision_mode``) and ``precision.quantization`` (vLLM
``quantization``, TGI ``quantize``): different keys, so a bf16 model served in fp16 or as AWQ reaches no rule
without this one.

What the model was evaluated in: the narrower of the training side's ``precision.weights`` and
``precision.compute`` (mixed precision: fp32 weights under bf16 autocast ran in bf16; bf16 weights with both
mixed-precision flags off ran in bf16 too); where neither covers the other (fp16 against bf16) the compute type
wins, since that is what the forward passes ran in.

What the server computes in: the deployment's ``precision.compute``, with engine rules for what it leaves open:

- vLLM/lmdeploy ``dtype: auto`` "will use FP16 precision for FP32 and FP16 models, and BF16 precision for BF16
  models" (defaults.md §8, VLLM-MC), read from the deployment side's own model files (an ``hf-model`` or
  ``hf-config`` artifact's ``precision.weights``), else the training side's.
- TGI launcher args without ``--dtype``: float16 (the server's ``default_dtype`` for flash models on CUDA;
  ``awq``/``gptq``/``exl2``/``marlin`` force float16). Not yet a row of defaults.md (read in
  text-generation-inference ``server/text_generation_server/models/__init__.py`` ``get_model`` and
  ``flash_causal_lm.py``); a few architectures (Gemma) default to bfloat16 instead.

A finding when the server quantizes (any scheme but ``none``) a model evaluated unquantized, or computes in a
type that cannot hold every value of the evaluated one (bf16 -> fp16, fp32 -> fp16/bf16, fp16 -> bf16, anything
-> int8); serving in a wider type (bf16 -> fp32) is not drift. One finding per model, keyed on the deployed key
that carries the change (``precision.quantization`` over ``precision.compute``), training value = the
evaluated dtype, so an approval pins both like DG101's.

Not reported again: when DG102 already reports a difference on a precision key of this model (the two sides
state the same key differently, e.g. an INT8 ONNX graph's ``precision.weights``), that finding is the one to
approve; an unresolved ``auto`` on the deployment side does not count as such a difference.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from driftguard.engines import EngineSpec, find
from driftguard.model import Finding, How, Severity, Value, basis_of
from driftguard.rules.base import Rule, RuleContext, Side

#: (exponent bits, mantissa bits) of the floating types: a type covers another when it has at least as many
#: of both (every value of the narrower one is then exactly representable).
_FLOAT_BITS: dict[str, tuple[int, int]] = {
    "float64": (11, 52), "float32": (8, 23), "bfloat16": (8, 7), "float16": (5, 10),
    "float8_e4m3fn": (4, 3), "float8_e4m3fnuz": (4, 3), "float8_e5m2": (5, 2), "float8_e5m2fnuz": (5, 2),
    "float4_e2m1fn": (2, 1),
}
_PRECISION_KEYS = ("precision.weights", "precision.compute", "precision.quantization")
_AUTO_ROW = "defaults.md §8: dtype auto uses FP16 for FP32 and FP16 models, BF16 for BF16 models (VLLM-MC)"


def covers(served: str, evaluated: str) -> bool:
    """True when every value of ``evaluated`` is representable in ``served`` (equal types cover each other)."""
    if served == evaluated:
        return True
    s, e = _FLOAT_BITS.get(served), _FLOAT_BITS.get(evaluated)
    if s is None or e is None:
        return False
    return s[0] >= e[0] and s[1] >= e[1]


def evaluated_precision(training: Mapping[str, Value]) -> Value | None:
    """The training side's evaluated dtype: the narrower of ``precision.weights`` and ``precision.compute``,
    the compute type where neither covers the other; None when the side states neither."""
    weights, compute = training.get("precision.weights"), training.get("precision.compute")
    if weights is None or not isinstance(weights.value, str):
        return compute if compute is not None and isinstance(compute.value, str) else None
    if compute is None or not isinstance(compute.value, str):
        return weights
    if covers(str(compute.value), str(weights.value)) and compute.value != weights.value:
        return weights  # bf16 weights, fp32 "compute" (mixed precision off): the model ran in bf16
    return compute


def _spec_of(side: Side, value: Value) -> EngineSpec | None:
    """The serving path of the artifact that holds ``value`` (its spec knows how ``auto`` resolves)."""
    for artifact in side.artifacts:
        if artifact.path == value.origin.path and artifact.serving is not None:
            return find(artifact.serving)
    return None


def _model_dtype(ctx: RuleContext) -> Value | None:
    """The dtype the server reads from the model files: the deployment side's own, else the training side's."""
    for artifact in ctx.deployed.where(lambda k: k.engine_loads):
        v = artifact.get("precision.weights")
        if v is not None and isinstance(v.value, str):
            return v
    v = ctx.training.merged.get("precision.weights")
    return v if v is not None and isinstance(v.value, str) else None


def served_compute(ctx: RuleContext) -> Value | None:
    """The deployment's compute dtype with ``auto`` and TGI's unset ``--dtype`` resolved; None when unknown."""
    v = ctx.deployed.merged.get("precision.compute")
    if v is not None and v.value != "auto":
        return v
    if v is not None:  # "auto"
        spec = _spec_of(ctx.deployed, v)
        model = _model_dtype(ctx)
        if spec is None or model is None or model.value not in spec.dtype_auto:
            return None  # the path documents no rule for auto (TensorRT-LLM): left unresolved
        resolved = spec.dtype_auto[str(model.value)]
        return Value(resolved, v.origin, How.DERIVED,
                     f"{spec.label} dtype auto: {model.value} model ({model.origin.location()}) -> {resolved}; "
                     f"{_AUTO_ROW}", v, ("precision.weights",), basis_of(v))
    for artifact in ctx.deployed.artifacts:  # a path that documents what it computes in when unset (TGI)
        path = find(artifact.serving) if artifact.serving is not None else None
        if path is None or path.dtype_unset is None:
            continue
        applies, unset = path.dtype_unset(artifact)
        if applies:
            return unset
    return None


def _dg102_covers(ctx: RuleContext) -> bool:
    """DG102 already reports a precision difference for this model (same key, both sides)."""
    return any(key in _PRECISION_KEYS and b.value != "auto" for key, _a, b in ctx.differences())


class ServingPrecision(Rule):
    """The server computes in, or loads, a lower precision than the model was evaluated in.

    Relates the training side's ``precision.weights``/``precision.compute`` (the narrower: what evaluation ran
    in) to the deployment's ``precision.compute`` (vLLM/TGI ``dtype``, TensorRT ``precision_mode``) and
    ``precision.quantization`` (vLLM ``quantization``, TGI ``quantize``). vLLM's ``dtype: auto`` is resolved
    as vLLM does (fp32 and fp16 models -> fp16, bf16 -> bf16, defaults.md §8) from the deployment's model files,
    else the training side's; TGI without ``--dtype`` computes in fp16. Findings: any quantization of an
    unquantized model, and a compute type that cannot hold the evaluated one (bf16 -> fp16, fp32 -> fp16);
    a wider type (bf16 -> fp32) is not one. Skipped when DG102 already reports a precision key of the model.

    **Anti-pattern**

    A bf16 model, evaluated in bf16, served by vLLM in fp16 (values above 65504 overflow) or as AWQ::

        # training: config.json            {"torch_dtype": "bfloat16"}
        # deployment: vLLM engine args      {"model": "/models/m", "dtype": "float16"}

    ``precision.compute: evaluated in 'bfloat16', served in 'float16'``.

    **Best practice**

    Serve in the evaluated precision (``"dtype": "bfloat16"``, or ``"auto"``, which vLLM resolves to the
    model's bf16), or evaluate the quantized or fp16 server and approve the change pinned to both values::

        key: precision.quantization
        rule: DG105
        training: bfloat16
        deployed: awq
        evidence: reports/awq-parity.json
    """

    code = "DG105"
    name = "drift.serving-precision"
    pairwise = True
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        evaluated = evaluated_precision(ctx.training.merged)
        if evaluated is None or _dg102_covers(ctx):
            return
        quant = ctx.deployed.merged.get("precision.quantization")
        trained_quant = ctx.training.merged.get("precision.quantization")
        compute = served_compute(ctx)
        related = tuple(v for v in (compute,) if v is not None)
        if quant is not None and quant.value not in (None, "none") and \
                (trained_quant is None or trained_quant.value in (None, "none")):
            in_compute = f", computing in {compute.value!r}" if compute is not None else ""
            yield self.finding("precision.quantization",
                               f"precision: evaluated in {evaluated.value!r}, served {quant.value!r}-quantized"
                               f"{in_compute}", training=evaluated, deployed=quant, related=related)
            return
        if compute is not None and isinstance(compute.value, str) and \
                not covers(compute.value, str(evaluated.value)):
            # Say how the served dtype was found when it was resolved (here, or by the engine's extractor).
            note = compute.shown_note if compute.how == How.DERIVED else None
            how = f" ({note})" if note else ""
            yield self.finding("precision.compute",
                               f"precision.compute: evaluated in {evaluated.value!r}, served in "
                               f"{compute.value!r}{how}", training=evaluated, deployed=compute)
