"""ONNX graphs (kind ``onnx``): opsets, IR version, producer, inputs/outputs, metadata, weight precision and
quantization, read without loading tensor payloads and without importing onnx.

Tensor payloads are skipped at the protobuf wire level (``readers.onnx_wire``, wherever they hide: initializers,
``Constant`` attributes, subgraphs, functions) and external data is never opened, so a 1 GB model is read in a
fraction of ``onnx.load``'s time and memory, within ``ExtractOptions.limits``; the fields read are decoded by
``readers.onnx_proto`` (field numbers and enums from onnx's schema), so neither onnx nor numpy is imported.
ONNX is binary: values carry a ``pointer`` into the ModelProto (``graph.input[1].type.tensor_type.shape``) and
no line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.model import EffectiveConfig
from driftguard.normalize import FLOAT_DTYPES, normalize_dtype, parse_scalar

if TYPE_CHECKING:  # readers.onnx_proto is imported by extract, not by detection (every check imports this module)
    from driftguard.readers.onnx_proto import Graph, Model, Node, Tensor, ValueInfo, ValueType

INFO = KindInfo(
    kind="onnx",
    description="ONNX graph (.onnx): opsets, inputs/outputs, metadata, weight precision, quantization",
    role="deployment",
    rank=10,
    keeps=("onnx",),
    weights="onnx",
    io="graph",
    names=("*.onnx",),
)

#: metadata_props keys that hold known configuration → (canonical key, expected type).
KNOWN_METADATA: dict[str, tuple[str, type]] = {
    "max_length": ("preprocessing.max_length", int),
    "model_max_length": ("preprocessing.max_length", int),
    "max_seq_length": ("preprocessing.max_length", int),
    "max_sequence_length": ("preprocessing.max_length", int),
    "num_labels": ("model.num_labels", int),
    "vocab_size": ("model.vocab_size", int),
    "hidden_size": ("model.hidden_size", int),
    "num_hidden_layers": ("model.num_layers", int),
    "num_layers": ("model.num_layers", int),
    "num_attention_heads": ("model.num_attention_heads", int),
    "max_position_embeddings": ("model.max_position_embeddings", int),
    "model_type": ("model.type", str),
}

#: Ops that quantize activations at run time (onnxruntime dynamic quantization).
_DYNAMIC_OPS = frozenset({"DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "DynamicQuantizeMatMul",
                          "DynamicQuantizeLSTM", "MatMulIntegerToFloat"})
#: Weight-only quantized kernels (onnxruntime contrib ops) and their default bit width.
_WEIGHT_ONLY_OPS = {"MatMulNBits": 4, "GatherBlockQuantized": 4, "MatMulBnb4": 4}
_QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})

#: No tensor holds more elements than an int64 can count (dims are int64; ``Limits.rank`` bounds the product).
_MAX_ELEMENTS = 2**63 - 1


def detect(path: Path, head: bytes) -> bool:
    """A ``.onnx`` file, or a file whose first bytes look like a serialized ModelProto."""
    if path.is_dir():
        return False
    if path.suffix.lower() == ".onnx":
        return True
    if not head.startswith(b"\x08"):  # ir_version's tag, which looks_like_model requires first
        return False  # most files: decided without importing the wire reader (detection asks every kind)
    from driftguard.readers import onnx_wire

    return onnx_wire.looks_like_model(head)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """Read the graph's metadata (never tensor payloads) into canonical keys."""
    from driftguard.readers import onnx_wire
    from driftguard.readers.onnx_proto import NotUtf8Error, decode_model
    from driftguard.readers.protowire import WireError

    data = bytes(onnx_wire.read_without_payloads(path, options.limits))  # metadata only: kilobytes, not the model
    try:
        model = decode_model(data)
    except WireError as exc:
        raise ExtractionError(f"not an ONNX model: malformed protobuf ({exc})", str(path)) from None
    except NotUtf8Error as exc:
        raise ExtractionError(f"not an ONNX model: {exc}", str(path)) from None
    return config_from_model(model, path)


def config_from_model(model: Model, path: Path) -> EffectiveConfig:
    """The effective config of a decoded ModelProto. Reads only metadata, so a model decoded whole and one
    read without payloads give the same result (``benchmarks/walk_onnx_backend.py`` checks this)."""
    if model.ir_version <= 0 or model.graph is None:
        missing = "ir_version" if model.ir_version <= 0 else "graph"
        raise ExtractionError(f"not an ONNX model: no {missing}", str(path))
    b = ValueBuilder(INFO.kind, path)
    b.set("onnx.ir_version", model.ir_version, pointer="ir_version")
    for i, opset in enumerate(model.opset_import):
        domain = opset.domain or "ai.onnx"
        b.set(f"onnx.opset.{domain}", opset.version, pointer=f"opset_import[{i}]")
    for field in ("producer_name", "producer_version", "domain", "doc_string"):
        if getattr(model, field):
            b.set(f"onnx.{field}", getattr(model, field), pointer=field)
    if model.model_version:
        b.set("onnx.model_version", model.model_version, pointer="model_version")
    graph = model.graph
    if graph.name:
        b.set("onnx.graph.name", graph.name, pointer="graph.name")
    _metadata(b, model)
    initializer_names = {t.name for t in graph.initializer} | {s.values.name for s in graph.sparse_initializer}
    _io(b, "inputs", "input", [(i, v) for i, v in enumerate(graph.input) if v.name not in initializer_names])
    _io(b, "outputs", "output", list(enumerate(graph.output)))
    _weights(b, model, graph, path)
    return b.build()


def _metadata(b: ValueBuilder, model: Model) -> None:
    for i, prop in enumerate(model.metadata_props):
        pointer = f"metadata_props[{i}]"
        known = KNOWN_METADATA.get(prop.key.lower())
        if known is not None:
            key, kind = known
            value: Any = parse_scalar(prop.value) if kind is int else prop.value
            if isinstance(value, kind) and not isinstance(value, bool):
                b.set(key, value, pointer=pointer, note=f"ONNX metadata_props '{prop.key}'")
                continue
        b.set(f"onnx.metadata.{prop.key}", prop.value, pointer=pointer)


def _io(b: ValueBuilder, key: str, field: str, values: list[tuple[int, ValueInfo]]) -> None:
    from driftguard.readers.onnx_proto import DATA_TYPES

    b.set(f"io.{key}", [v.name for _, v in values], pointer=f"graph.{field}")
    for i, v in values:
        base = f"graph.{field}[{i}].type"
        t = v.type
        which = t.which
        if which not in ("tensor_type", "sparse_tensor_type"):
            b.set(f"onnx.{key}.{v.name}.type", _type_string(t), pointer=base)
            continue
        pointer = f"{base}.{which}"
        dtype_name = DATA_TYPES.get(t.elem_type)
        dtype = normalize_dtype(dtype_name)
        if dtype is not None:
            b.set(f"io.{key}.{v.name}.dtype", dtype, pointer=f"{pointer}.elem_type")
        else:
            b.set(f"onnx.{key}.{v.name}.elem_type", dtype_name or t.elem_type, pointer=f"{pointer}.elem_type")
        if which == "sparse_tensor_type":
            b.set(f"onnx.{key}.{v.name}.sparse", True, pointer=pointer)
        if t.shape is None:
            continue  # rank unknown: ONNX says nothing about the shape
        shape: list[int] = []
        symbols: list[str | None] = []
        for d in t.shape:
            which_dim = d.which
            if which_dim == "dim_value" and d.dim_value >= 0:
                shape.append(d.dim_value)
                symbols.append(None)
            else:
                shape.append(-1)
                symbols.append(d.dim_param if which_dim == "dim_param" else None)
        b.set(f"io.{key}.{v.name}.shape", shape, pointer=f"{pointer}.shape")
        if any(s is not None for s in symbols):
            b.set(f"onnx.{key}.{v.name}.dim_params", symbols, pointer=f"{pointer}.shape")


def _type_string(t: ValueType) -> str:
    """``seq(tensor(float))``-style spelling of a non-tensor ONNX type."""
    from driftguard.readers.onnx_proto import DATA_TYPES

    which = t.which
    if which in ("tensor_type", "sparse_tensor_type"):
        name = DATA_TYPES[t.elem_type].lower() if t.elem_type in DATA_TYPES else str(t.elem_type)
        return f"{'sparse_tensor' if which == 'sparse_tensor_type' else 'tensor'}({name})"
    inner = _type_string(t.inner) if t.inner is not None else "undefined"
    if which == "sequence_type":
        return f"seq({inner})"
    if which == "optional_type":
        return f"optional({inner})"
    if which == "map_type":
        key = DATA_TYPES[t.elem_type].lower() if t.elem_type in DATA_TYPES else str(t.elem_type)
        return f"map({key},{inner})"
    return which or "undefined"


def _tensor_dtype(t: Tensor) -> str:
    from driftguard.readers.onnx_proto import DATA_TYPES

    name = DATA_TYPES.get(t.data_type)
    if name is not None:
        return normalize_dtype(name) or name.lower()
    return str(t.data_type)


def _nodes(graph: Graph) -> Iterator[Node]:
    """Every node of a graph, subgraphs (If/Loop/Scan bodies) included."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.g is not None:
                yield from _nodes(attr.g)
            for g in attr.graphs:
                yield from _nodes(g)


def _weights(b: ValueBuilder, model: Model, graph: Graph, path: Path) -> None:
    from driftguard.readers import onnx_proto

    nodes = list(_nodes(graph))
    for function_nodes in model.function_nodes:
        nodes.extend(function_nodes)
    # Integer initializers that feed a quantization op are quantized weights, not shape constants.
    quant_inputs = {name for n in nodes if n.op_type in _QDQ_OPS | _DYNAMIC_OPS or n.op_type in _WEIGHT_ONLY_OPS
                    or n.op_type.startswith("QLinear") for name in n.input}
    mix: Counter[str] = Counter()
    weight_mix: Counter[str] = Counter()
    parameters = 0
    external: set[str] = set()
    external_count = 0
    tensors = [(t, list(t.dims)) for t in graph.initializer]
    tensors += [(s.values, list(s.dims)) for s in graph.sparse_initializer]
    for t, dims in tensors:
        dtype = _tensor_dtype(t)
        count = prod(dims)
        if not 0 <= count <= _MAX_ELEMENTS:
            raise ExtractionError(f"not an ONNX model: initializer '{t.name}' declares dims {dims[:8]}"
                                  f"{'...' if len(dims) > 8 else ''} ({'negative' if count < 0 else 'over 2**63'}"
                                  " elements)", str(path))
        parameters += count
        mix[dtype] += count
        if dtype in FLOAT_DTYPES or t.name in quant_inputs:
            weight_mix[dtype] += count
        if t.data_location == onnx_proto.EXTERNAL:
            external_count += 1
            for entry in t.external_data:
                if entry.key == "location":
                    external.add(entry.value)
    b.set("model.weights.count", len(tensors), pointer="graph.initializer")
    b.set("model.weights.parameters", parameters, pointer="graph.initializer",
          note="product of the initializers' dims")
    if mix:
        b.set("onnx.initializers.dtypes", {k: mix[k] for k in sorted(mix)}, pointer="graph.initializer",
              note="elements per initializer dtype")
    if weight_mix:
        top = max(sorted(weight_mix), key=lambda k: weight_mix[k])
        b.set("precision.weights", top, pointer="graph.initializer",
              note="dtype holding most float (or quantized) initializer elements")
    if external_count:
        b.set("onnx.external_data.tensors", external_count, pointer="graph.initializer")
        b.set("onnx.external_data.files", sorted(external), pointer="graph.initializer")
        missing = sorted(f for f in external if not _beside(path, f))
        if missing:
            b.set("onnx.external_data.missing", missing, pointer="graph.initializer",
                  note="external data files not found beside the model")
    _quantization(b, graph, nodes, {t.name: _tensor_dtype(t) for t in graph.initializer})


def _beside(model: Path, location: str) -> bool:
    """True when the external data file a tensor names exists beside the model (an impossible name does not)."""
    from driftguard.readers.files import exists

    try:
        return exists(model.parent / location)
    except ExtractionError:
        return False


def _quantization(b: ValueBuilder, graph: Graph, nodes: list[Node], init_dtypes: dict[str, str]) -> None:
    """``precision.quantization`` from the ops: qlinear > dynamic > qdq > weight-only-<bits> > none."""
    ops = sorted({n.op_type for n in nodes if n.op_type in _QDQ_OPS | _DYNAMIC_OPS
                  or n.op_type in _WEIGHT_ONLY_OPS or n.op_type.startswith("QLinear")})
    pointer = "graph.node"
    scheme = "none"
    index = {id(n): i for i, n in enumerate(graph.node)}

    def first(pred: Callable[[Node], bool]) -> str:
        for n in nodes:
            if pred(n):
                i = index.get(id(n))
                return f"graph.node[{i}]" if i is not None else f"node '{n.name or n.op_type}'"
        return "graph.node"

    if any(op.startswith("QLinear") for op in ops):
        scheme, pointer = "qlinear", first(lambda n: n.op_type.startswith("QLinear"))
    elif any(op in _DYNAMIC_OPS for op in ops):
        scheme, pointer = "dynamic", first(lambda n: n.op_type in _DYNAMIC_OPS)
    elif "QuantizeLinear" in ops and "DequantizeLinear" in ops:
        scheme, pointer = "qdq", first(lambda n: n.op_type == "QuantizeLinear")
    elif any(op in _WEIGHT_ONLY_OPS for op in ops):
        node = next(n for n in nodes if n.op_type in _WEIGHT_ONLY_OPS)
        bits = next((a.i for a in node.attribute if a.name == "bits"), _WEIGHT_ONLY_OPS[node.op_type])
        scheme, pointer = f"weight-only-int{bits}", first(lambda n: n is node)
    elif "DequantizeLinear" in ops:
        deq = [n for n in nodes if n.op_type == "DequantizeLinear" and n.input and n.input[0] in init_dtypes]
        if deq:
            scheme = f"weight-only-{init_dtypes[deq[0].input[0]]}"
            pointer = first(lambda n: n is deq[0])
    b.set("precision.quantization", scheme, pointer=pointer,
          note="from the graph's ops" if ops else "no quantization ops in the graph")
    if ops:
        b.set("onnx.quantization.ops", ops, pointer="graph.node")
