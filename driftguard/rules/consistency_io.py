"""DG21x: a Triton model config against the ONNX graph it serves, and the graph against the training side's
tokenizer. Triton's ONNX Runtime backend checks names, dtypes and dims when it loads the model
(``onnxruntime_backend`` ``ValidateInputs``/``ValidateOutputs``, ``CompareDimsSupported``); these rules report the
same contradictions before deployment, naming both files.

A Triton config is paired with the ONNX graphs stored under its folder (``<model>/<version>/model.onnx``), or,
when a side has exactly one of each, with that graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath

from driftguard.engines.transformers import HF_VERY_LARGE_INTEGER
from driftguard.model import EffectiveConfig, Finding, Severity, Value
from driftguard.rules.base import Rule, RuleContext, Side

#: Tensors a Hugging Face tokenizer produces for a transformer encoder.
TOKENIZER_TENSORS = ("input_ids", "attention_mask", "token_type_ids")
#: Triton backends that load an .onnx file.
ONNX_BACKENDS = ("onnxruntime", "openvino")


def pairs(side: Side) -> list[tuple[EffectiveConfig, EffectiveConfig]]:
    """(serving config, model graph) pairs of a side, by the IO signature their kinds declare (``declared``: a
    Triton config; ``graph``: an ONNX graph): graphs under the config's folder, else the only pair."""
    tritons, graphs = side.where(lambda k: k.io == "declared"), side.where(lambda k: k.io == "graph")
    out: list[tuple[EffectiveConfig, EffectiveConfig]] = []
    for t in tritons:
        folder = PurePath(t.path).parent
        out += [(t, g) for g in graphs if folder in PurePath(g.path).parents]
    if not out and len(tritons) == 1 and len(graphs) == 1:
        out.append((tritons[0], graphs[0]))
    return out


def _name(cfg: EffectiveConfig) -> str:
    return PurePath(cfg.path).name


def _list(v: Value | None) -> list[str]:
    return [str(x) for x in v.value] if v is not None and isinstance(v.value, list) else []


def _shape(v: Value | None) -> list[int] | None:
    if v is None or not isinstance(v.value, list) or not all(isinstance(d, int) for d in v.value):
        return None
    return [int(d) for d in v.value]


def _common(triton: EffectiveConfig, graph: EffectiveConfig) -> Iterator[tuple[str, str]]:
    """(plural, name) of every tensor both files declare."""
    for plural in ("inputs", "outputs"):
        names = set(_list(graph.get(f"io.{plural}")))
        for name in _list(triton.get(f"io.{plural}")):
            if name in names:
                yield plural, name


class TritonOnnxNames(Rule):
    """A Triton config names an input or output the ONNX graph does not have, or leaves out a graph input
    (one finding per config and direction, listing every name).

    Triton refuses to load the model (``unexpected inference input 'x', allowed inputs are: ...``), or, for a
    graph input the config does not declare, no request can feed it and every inference fails.

    **Anti-pattern**

    ::

        config.pbtxt   input [ { name: "input_ids" ... }, { name: "attention_mask" ... } ]
        model.onnx     inputs: input_ids, attention_mask, token_type_ids

    **Best practice**

    Declare exactly the graph's inputs (``token_type_ids`` too), with the names the exporter wrote; or export
    the graph without the input the server will not send.
    """

    code = "DG210"
    name = "consistency.triton-onnx-names"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for triton, graph in pairs(ctx.deployed):
            for plural in ("inputs", "outputs"):
                tv, gv = triton.get(f"io.{plural}"), graph.get(f"io.{plural}")
                if tv is None or gv is None or not tv.value:
                    continue  # no tensors listed: Triton auto-completes them from the model
                t_names, g_names = _list(tv), _list(gv)
                unknown = [n for n in t_names if n not in g_names]
                undeclared = [n for n in g_names if n not in t_names] if plural == "inputs" else []
                if not unknown and not undeclared:
                    continue
                parts = []
                if unknown:
                    parts.append(f"{_name(triton)} declares {plural} {unknown} that the ONNX graph {_name(graph)} "
                                 f"does not have")
                if undeclared:
                    parts.append(f"the ONNX graph {_name(graph)} needs inputs {undeclared} that {_name(triton)} "
                                 f"does not declare, so no request can feed them")
                yield self.finding(f"io.{plural}", "; ".join(parts) + f" (graph {plural}: {g_names})",
                                   deployed=tv, related=(tv, gv))


class TritonOnnxDtype(Rule):
    """A tensor's element type in the Triton config differs from the ONNX graph's.

    Triton refuses the model (``unexpected datatype TYPE_FP16 for input 'data', expecting TYPE_FP32``). An
    "fp16 model" often keeps fp32 inputs and outputs (triton-inference-server/server#2377).

    **Anti-pattern**

    ::

        config.pbtxt   input { name: "pixel_values" data_type: TYPE_FP16 dims: [3, 224, 224] }
        model.onnx     pixel_values: float32 [-1, 3, 224, 224]

    **Best practice**

    Copy each tensor's type from the graph (``data_type: TYPE_FP32``), whatever the weights' precision.
    """

    code = "DG211"
    name = "consistency.triton-onnx-dtype"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for triton, graph in pairs(ctx.deployed):
            for plural, name in _common(triton, graph):
                key = f"io.{plural}.{name}.dtype"
                tv, gv = triton.get(key), graph.get(key)
                if tv is not None and gv is not None and tv.value != gv.value:
                    yield self.finding(key, f"{plural[:-1]} '{name}' is {tv.value} in {_name(triton)} but "
                                       f"{gv.value} in the ONNX graph {_name(graph)}", deployed=tv,
                                       related=(tv, gv))


def _max_batch(triton: EffectiveConfig) -> tuple[int, Value | None]:
    v = triton.get("batching.max_batch_size")
    return (v.value if v is not None and isinstance(v.value, int) else 0), v


def _model_shape(triton: EffectiveConfig, plural: str, name: str) -> tuple[list[int] | None, Value | None]:
    """The full shape Triton hands the model (reshape honoured, batch dim prepended) and the Value it came
    from: the config's dims as written, as the ONNX Runtime backend compares them."""
    reshape = triton.get(f"triton.{plural}.{name}.reshape")
    dims_v = reshape if reshape is not None else triton.get(f"triton.{plural}.{name}.dims")
    dims = _shape(dims_v)
    if dims is None:
        shape_v = triton.get(f"io.{plural}.{name}.shape")
        return _shape(shape_v), shape_v
    return ([-1] if _max_batch(triton)[0] > 0 else []) + dims, dims_v


def _dims_fit(g: list[int], full: list[int], batching: bool, exact: bool) -> bool:
    """Whether ONNX Runtime's backend loads a graph tensor of shape ``g`` for the config's ``full`` shape
    (``ValidateInputs``/``ValidateOutputs``, ``CompareDimsSupported``), the batch dimension left to DG212: a
    scalar graph tensor takes config dims of 1 only; otherwise the ranks agree and so does every dimension, where
    a dynamic (-1) graph dimension takes any config value for an input but only -1 for an output (``exact``:
    the backend compares outputs exactly)."""
    start = 1 if batching else 0
    if not g:
        return all(d == 1 for d in full[start:])
    return len(g) == len(full) and all(g[i] == full[i] or (g[i] == -1 and not exact) for i in range(start, len(g)))


class TritonOnnxBatchDim(Rule):
    """``max_batch_size > 0`` in the Triton config, but the ONNX graph's first dimension is fixed.

    With batching, Triton prepends a batch dimension and requires the model's to be dynamic
    (``for the model to support batching the shape should have at least 1 dimension and the first dimension
    must be -1; but shape expected by the model is [1,3,800,800]``: onnxruntime_backend
    ``CompareDimsSupported``; server#7003, an FP16 export without dynamic axes).

    **Anti-pattern**

    ::

        config.pbtxt   max_batch_size: 8
        model.onnx     images: float32 [1, 3, 800, 800]

    **Best practice**

    Export with a dynamic batch axis (``dynamic_axes={"images": {0: "batch"}}``), or set
    ``max_batch_size: 0`` and declare the full shape in ``dims``.
    """

    code = "DG212"
    name = "consistency.triton-onnx-batch-dim"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for triton, graph in pairs(ctx.deployed):
            mbs, mbs_v = _max_batch(triton)
            if mbs <= 0 or mbs_v is None:
                continue
            for plural, name in _common(triton, graph):
                full, _ = _model_shape(triton, plural, name)
                gv = graph.get(f"io.{plural}.{name}.shape")
                g = _shape(gv)
                if full is None or g is None or gv is None or len(g) != len(full):
                    continue  # a rank mismatch is DG213's
                if g[0] != -1:
                    yield self.finding(
                        f"io.{plural}.{name}.shape", f"{_name(triton)} sets max_batch_size {mbs}, but {plural[:-1]} "
                        f"'{name}' of the ONNX graph {_name(graph)} has a fixed first dimension ({g}); Triton "
                        f"needs it dynamic (-1)", deployed=mbs_v, related=(mbs_v, gv))


class TritonOnnxDims(Rule):
    """A tensor's dims in the Triton config (``reshape`` when given, batch dimension included when
    ``max_batch_size > 0``) do not match the ONNX graph's shape.

    A fixed graph dimension must be declared with the same number, not -1 (onnxruntime_backend
    ``CompareDimsSupported``: ``the model expects 3 dimensions (shape [-1,256,25]) but the model configuration
    specifies 3 dimensions ... [-1,-1,25]``, server#4065); a dynamic graph dimension accepts any config value for
    an input, but only -1 for an output (the backend compares outputs exactly). A scalar graph tensor takes dims
    of 1 only.

    **Anti-pattern**

    ::

        config.pbtxt   max_batch_size: 8   output { name: "logits" dims: [-1, 25] }
        model.onnx     logits: float32 [-1, 256, 25]

    **Best practice**

    Declare ``dims: [256, 25]``, or export the sequence axis as dynamic too.
    """

    code = "DG213"
    name = "consistency.triton-onnx-dims"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for triton, graph in pairs(ctx.deployed):
            mbs, _ = _max_batch(triton)
            batching = mbs > 0  # the backend's own test (``supports_batching``)
            for plural, name in _common(triton, graph):
                full, tv = _model_shape(triton, plural, name)
                gv = graph.get(f"io.{plural}.{name}.shape")
                g = _shape(gv)
                if full is None or tv is None or g is None or gv is None:
                    continue
                if _dims_fit(g, full, batching, exact=plural == "outputs"):
                    continue
                hint = ""
                if batching and len(g) == len(full) - 1:
                    hint = " (the graph has no batch dimension: set max_batch_size: 0, or export one)"
                elif not batching and len(g) == len(full) + 1:
                    hint = " (the graph has a batch dimension: set max_batch_size > 0, or declare it in dims)"
                elif plural == "outputs" and _dims_fit(g, full, batching, exact=False):
                    hint = " (Triton compares an output's dims exactly: declare -1 where the graph's is dynamic)"
                yield self.finding(
                    f"io.{plural}.{name}.shape", f"{plural[:-1]} '{name}': {_name(triton)} gives the model shape "
                    f"{full} (max_batch_size {mbs}) but the ONNX graph {_name(graph)} expects {g}{hint}",
                    deployed=tv, related=(tv, gv))


class TritonOnnxBackend(Rule):
    """The Triton config serves an ONNX graph with a backend that cannot load it.

    **Anti-pattern**

    ::

        config.pbtxt   platform: "tensorrt_plan"
        1/model.onnx

    **Best practice**

    ``backend: "onnxruntime"`` (or ``platform: "onnxruntime_onnx"``) for a model.onnx; build a TensorRT
    plan first to serve with ``tensorrt``, or use the ONNX Runtime TensorRT execution accelerator.
    """

    code = "DG214"
    name = "consistency.triton-onnx-backend"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for triton, graph in pairs(ctx.deployed):
            bv = triton.get("serving.backend")
            if bv is None or bv.value in ONNX_BACKENDS:
                continue
            gv = graph.get("onnx.ir_version") or next(iter(graph.values.values()), None)
            related = (bv,) if gv is None else (bv, gv)
            yield self.finding("serving.backend", f"{_name(triton)} serves with backend '{bv.value}', which "
                               f"cannot load the ONNX graph {_name(graph)} (use onnxruntime)", deployed=bv,
                               related=related)


_INT8_SCHEMES = ("qdq", "qlinear")


class TritonOnnxPrecision(Rule):
    """The precision an accelerator claims in the Triton config contradicts the graph's quantization.

    ``precision_mode: INT8`` on a graph without quantization ops needs a calibration table, else TensorRT
    has no int8 scales; a QDQ or QLinear graph served at ``FP16``/``FP32`` does not run as the int8 model that
    was validated.

    **Anti-pattern**

    ::

        config.pbtxt   gpu_execution_accelerator { name: "tensorrt" parameters { key: "precision_mode"
                                                                               value: "INT8" } }
        model.onnx     precision.quantization: none

    **Best practice**

    Quantize the graph (QDQ) before claiming INT8, or claim the precision the graph was validated at.
    """

    code = "DG215"
    name = "consistency.triton-onnx-precision"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for triton, graph in pairs(ctx.deployed):
            cv, qv = triton.get("precision.compute"), graph.get("precision.quantization")
            if cv is None or qv is None:
                continue
            int8 = cv.value in ("int8", "uint8")
            quantized = qv.value in _INT8_SCHEMES
            if int8 and qv.value == "none":
                message = (f"{_name(triton)} claims {cv.value} compute but the ONNX graph {_name(graph)} has no "
                           f"quantization ops (TensorRT needs a calibration table)")
            elif quantized and not int8:
                message = (f"{_name(triton)} claims {cv.value} compute but the ONNX graph {_name(graph)} is "
                           f"int8-quantized ({qv.value})")
            else:
                continue
            yield self.finding("precision.compute", message, deployed=cv, related=(cv, qv))


def _token_inputs(graph: EffectiveConfig, names: list[str]) -> list[str]:
    wanted = set(names) | set(TOKENIZER_TENSORS)
    return [n for n in _list(graph.get("io.inputs")) if n in wanted]


class OnnxTokenizerInputs(Rule):
    """The ONNX graph's inputs do not match the tensors the training tokenizer produces
    (``preprocessing.model_input_names``).

    A graph input the tokenizer never produces cannot be fed (``token_type_ids`` for a BERT graph served
    with a DistilBERT tokenizer); a tensor the tokenizer produces that the graph lacks makes ONNX Runtime
    reject the request (``Invalid input name``) unless the client drops it (warning).

    **Anti-pattern**

    ::

        tokenizer_config.json   "model_input_names": ["input_ids", "attention_mask"]
        model.onnx              inputs: input_ids, attention_mask, token_type_ids

    **Best practice**

    Export the graph from the model the tokenizer belongs to, with exactly the tokenizer's tensors as inputs.
    """

    code = "DG216"
    name = "consistency.onnx-tokenizer-inputs"
    pairwise = True
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        tok = ctx.training.merged.get("preprocessing.model_input_names")
        names = _list(tok)
        if tok is None or not names:
            return
        for graph in ctx.deployed.where(lambda k: k.io == "graph"):
            gv = graph.get("io.inputs")
            if gv is None:
                continue
            g_names = _list(gv)
            for name in _token_inputs(graph, names):
                if name not in names:
                    yield self.finding("preprocessing.model_input_names",
                                       f"the ONNX graph {_name(graph)} takes '{name}' but the training tokenizer "
                                       f"produces only {names}", training=tok, deployed=gv)
            for name in names:
                if name not in g_names:
                    yield self.finding("preprocessing.model_input_names",
                                       f"the training tokenizer produces '{name}' but the ONNX graph "
                                       f"{_name(graph)} has no such input", training=tok, deployed=gv,
                                       severity=Severity.WARNING)


class OnnxMaxLength(Rule):
    """The training tokenizer's ``max_length`` does not fit the ONNX graph's fixed sequence dimension.

    Inputs truncated at ``max_length`` tokens are longer than a graph exported with a fixed sequence length
    accepts (error); shorter ones must be padded to exactly that length (warning). The sequence dimension is a
    token input's last: ``[batch, sequence]``, or ``[batch, choice, sequence]`` for a multiple-choice export.

    **Anti-pattern**

    ::

        tokenizer_config.json   "model_max_length": 512
        model.onnx              input_ids: int64 [-1, 128]

    **Best practice**

    Export with a dynamic sequence axis (``dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}}``), or
    with the length the tokenizer truncates at.
    """

    code = "DG217"
    name = "consistency.onnx-max-length"
    pairwise = True
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        mv = ctx.training.merged.get("preprocessing.max_length")
        if mv is None or not mv.explicit or not isinstance(mv.value, int) or mv.value >= HF_VERY_LARGE_INTEGER:
            return
        names = _list(ctx.training.merged.get("preprocessing.model_input_names"))
        for graph in ctx.deployed.where(lambda k: k.io == "graph"):
            fixed: list[tuple[str, int, Value]] = []
            for name in _token_inputs(graph, names):
                gv = graph.get(f"io.inputs.{name}.shape")
                g = _shape(gv)
                # the sequence axis is a token tensor's last: [batch, sequence], or [batch, choice, sequence]
                # for a multiple-choice export
                if gv is not None and g is not None and len(g) >= 2 and g[-1] != -1:
                    fixed.append((name, g[-1], gv))
            if not fixed:
                continue
            name, length, gv = fixed[0]
            if length == mv.value:
                continue
            others = f" (also {', '.join(n for n, _, _ in fixed[1:])})" if len(fixed) > 1 else ""
            if mv.value > length:
                message = (f"the training tokenizer truncates at {mv.value} tokens but the ONNX graph {_name(graph)} "
                           f"takes '{name}' of fixed length {length}{others}")
                severity = Severity.ERROR
            else:
                message = (f"the ONNX graph {_name(graph)} takes '{name}' of fixed length {length}{others}; inputs "
                           f"truncated at {mv.value} tokens must be padded to exactly {length}")
                severity = Severity.WARNING
            yield self.finding(f"io.inputs.{name}.shape", message, training=mv, deployed=gv, severity=severity)


#: The rules of this module, for the registry (``driftguard/rules/__init__.py``).
CONSISTENCY_IO_RULES: tuple[type[Rule], ...] = (TritonOnnxNames, TritonOnnxDtype, TritonOnnxBatchDim, TritonOnnxDims,
                                                TritonOnnxBackend, TritonOnnxPrecision, OnnxTokenizerInputs,
                                                OnnxMaxLength)
