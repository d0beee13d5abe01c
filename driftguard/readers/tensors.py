"""Weight tensors of checkpoints and ONNX graphs, one at a time, for DG401 (``provenance``).

Every reader yields ``WeightTensor`` records: a float32 numpy array (a view where the file allows it), the
tensor's place in its file, and the per-element tolerance it can be compared with (0 for exact float32
values; half the quantization step for weights an ONNX graph stores as int8). Nothing is executed:
checkpoints are read with ``torch.load(weights_only=True, mmap=True)`` or safetensors' ``safe_open``; ONNX
graphs are walked at the protobuf wire level so that only one initializer's bytes are in memory at a time
(each parsed by onnx's own ``TensorProto``; external data read per tensor, only from a regular file inside
the model's folder).

torch, safetensors, onnx and numpy are imported inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from driftguard.errors import ExtractionError, MissingExtraError
from driftguard.readers import floors, onnx_wire
from driftguard.readers.files import confine, open_regular, size_of, vetted
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.torch_archive import NOT_WEIGHTS, STATE_DICT_KEYS, check_archive

if TYPE_CHECKING:
    import numpy as np
    from onnx import NodeProto, TensorProto

#: Relative rounding error of each reduced float format (half an ulp at 1.0, doubled for safety).
REL_TOLERANCE = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


class NotComparable(Exception):
    """The weights of a file cannot be compared (refused by ``weights_only``, an unsupported quantization).
    The rule reports it as a warning; it is never a pass."""


@dataclass(frozen=True, slots=True)
class WeightTensor:
    """One tensor: ``values`` as float32, ``pointer`` its place in the file (``/state_dict/fc.weight``,
    ``graph.initializer[3]``), ``abs_tol``/``rel_tol`` the per-element error its storage format allows."""

    name: str
    pointer: str
    values: np.ndarray[Any, Any]
    stored_as: str
    abs_tol: float = 0.0
    rel_tol: float = 0.0


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise MissingExtraError("weights provenance (DG401)", "parity", "numpy") from None
    return numpy


# ---------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------

def _torch(path: Path) -> Any:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("weights provenance (DG401) of a checkpoint", "torch", "torch", str(path)) from None
    floors.check("torch", torch.__version__)  # before torch.load(weights_only=True) meets the checkpoint
    return torch


def _torch_load(path: Path, limits: Limits = DEFAULT) -> Any:
    # The metadata reader's rules first (an ambiguous archive, a zip bomb, a refused global): torch.load must
    # judge the same file the extractors judged, and never see one they refused.
    check_archive(path, limits)
    real = vetted(path, "checkpoint file")  # torch opens the file itself: the path checked as ours are
    torch = _torch(path)
    try:
        try:
            return torch.load(real, weights_only=True, mmap=True, map_location="cpu")
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            # Legacy (pre-1.6, non-zip) files cannot be mapped: read whole.
            return torch.load(real, weights_only=True, map_location="cpu")
    except __import__("pickle").UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotComparable(f"torch.load(weights_only=True) refused it, nothing was executed ({first})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise ExtractionError(f"cannot read the checkpoint's tensors: {exc}", str(path)) from None


def _tensors_in(obj: Any, torch: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key in sorted(obj, key=str):
            yield from _tensors_in(obj[key], torch, f"{prefix}/{key}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _tensors_in(item, torch, f"{prefix}/{i}")


def _state_dict(top: Any, torch: Any) -> tuple[str, Any]:
    def holds_tensors(obj: Any) -> bool:
        return isinstance(obj, dict) and any(isinstance(v, torch.Tensor) for v in obj.values())

    if holds_tensors(top):
        return "", top
    if isinstance(top, dict):
        for key in STATE_DICT_KEYS:
            if holds_tensors(top.get(key)):
                return f"/{key}", top[key]
        return "", {k: v for k, v in top.items() if k not in NOT_WEIGHTS}
    return "", top


def checkpoint_tensors(path: Path, limits: Limits = DEFAULT) -> Iterator[WeightTensor]:
    """The float tensors of a torch/Lightning checkpoint's state dict (integer buffers skipped)."""
    torch = _torch(path)
    pointer, state = _state_dict(_torch_load(path, limits), torch)
    for where, t in _tensors_in(state, torch, pointer):
        if t.is_quantized:
            t = t.dequantize()
        if not t.is_floating_point():
            continue
        dtype = str(t.dtype).removeprefix("torch.")
        values = t.detach().numpy() if t.dtype == torch.float32 else t.detach().to(torch.float32).numpy()
        yield WeightTensor(where.rsplit("/", 1)[-1] if pointer else where.lstrip("/"), where, values, dtype)


def safetensors_tensors(path: Path, limits: Limits = DEFAULT) -> Iterator[WeightTensor]:
    """The float tensors of a ``.safetensors`` file, read one at a time, after the header passed the metadata
    reader's checks and limits (the safetensors library then reads the same header)."""
    from driftguard.readers import safetensors as safetensors_header

    safetensors_header.read(path, limits)
    try:
        from safetensors import safe_open
    except ImportError:
        raise MissingExtraError("weights provenance (DG401) of safetensors", "torch", "safetensors",
                                str(path)) from None
    torch: Any
    try:
        import torch
    except ImportError:
        torch = None
    try:
        with safe_open(str(vetted(path, ".safetensors file")), framework="pt" if torch is not None else "numpy") as fh:
            for name in sorted(fh.keys()):
                t = fh.get_tensor(name)
                if torch is not None:
                    if not t.is_floating_point():
                        continue
                    dtype = str(t.dtype).removeprefix("torch.")
                    arr = t.numpy() if t.dtype == torch.float32 else t.to(torch.float32).numpy()
                else:
                    if t.dtype.kind != "f":
                        continue
                    dtype, arr = str(t.dtype), t.astype("float32", copy=False)
                yield WeightTensor(name, f"/{name}", arr, dtype)
    except (OSError, ValueError) as exc:  # SafetensorError is an OSError/Exception subclass depending on version
        raise ExtractionError(f"cannot read the safetensors tensors: {exc}", str(path)) from None
    except TypeError as exc:  # numpy cannot hold bf16 without torch
        raise NotComparable(f"{exc} (install the 'torch' extra to read bf16 tensors)") from None


def weight_files(folder: Path) -> list[Path]:
    """The weight files of a Hugging Face model folder: ``*.safetensors``, else ``pytorch_model*.bin``."""
    found = sorted(folder.glob("*.safetensors"))
    return found or sorted(folder.glob("pytorch_model*.bin"))


# ---------------------------------------------------------------------------------------------------------
# ONNX, streamed
# ---------------------------------------------------------------------------------------------------------

# The wire walk (field numbers, payload skipping, limits) is driftguard.readers.onnx_wire's, shared with the
# extractor: one index gives the parsed nodes (from the payload-free model) and each initializer's place.


@dataclass(frozen=True, slots=True)
class _OnnxIndex:
    nodes: list[NodeProto]
    initializers: dict[str, tuple[int, int, int]]  # name -> (index, offset, length)


def _index_onnx(path: Path, limits: Limits = DEFAULT) -> _OnnxIndex:
    """The top graph's nodes (parsed without any payload) and where each initializer's bytes lie."""
    import onnx
    from google.protobuf.message import DecodeError

    found = onnx_wire.index(path, limits)
    try:
        model = onnx.ModelProto.FromString(found.reduced)  # type: ignore[arg-type]  # upb reads any buffer
    except (DecodeError, ValueError, RecursionError) as exc:
        raise ExtractionError(f"not an ONNX model: {exc}", str(path)) from None
    initializers = {t.name: (t.index, t.offset, t.length) for t in found.initializers}
    return _OnnxIndex(list(model.graph.node), initializers)


@dataclass(frozen=True, slots=True)
class _Quant:
    """How an integer initializer turns back into floats: its scale and zero point initializers, the axis a
    per-channel scale runs along (None: infer from the shapes)."""

    scale: str
    zero_point: str | None
    axis: int | None


#: op -> (weight input, scale input or None (ORT naming), zero point input or None, default axis)
_QUANT_INPUTS: dict[str, tuple[int, int | None, int | None, int | None]] = {
    "DequantizeLinear": (0, 1, 2, 1),
    "MatMulInteger": (1, None, 3, 1),
    "ConvInteger": (1, None, 3, 0),
    "MatMulIntegerToFloat": (1, 3, 5, 1),
    "QLinearMatMul": (3, 4, 5, 1),
    "QLinearConv": (3, 4, 5, 0),
    "DynamicQuantizeMatMul": (1, 2, 3, 1),
}


def _quant_map(index: _OnnxIndex) -> dict[str, _Quant]:
    out: dict[str, _Quant] = {}
    inits = index.initializers
    for node in index.nodes:
        spec = _QUANT_INPUTS.get(node.op_type)
        if spec is None or len(node.input) <= spec[0] or node.input[spec[0]] not in inits:
            continue
        weight = node.input[spec[0]]
        axis = spec[3]
        if node.op_type == "DequantizeLinear":
            for attr in node.attribute:
                if attr.name == "axis":
                    axis = attr.i
        scale = node.input[spec[1]] if spec[1] is not None and len(node.input) > spec[1] else None
        zp = node.input[spec[2]] if spec[2] is not None and len(node.input) > spec[2] else None
        if scale is None and weight.endswith("_quantized"):  # onnxruntime.quantization's naming
            scale = weight.removesuffix("_quantized") + "_scale"
        if scale and scale in inits:
            out[weight] = _Quant(scale, zp if zp and zp in inits else None, axis)
    # Gather on a quantized table dequantizes its *output*: fall back to onnxruntime's names.
    for name in inits:
        base = name.removesuffix("_quantized")
        if name not in out and base != name and f"{base}_scale" in inits:
            zp_name = f"{base}_zero_point"
            out[name] = _Quant(f"{base}_scale", zp_name if zp_name in inits else None, None)
    return out


def _read_tensor(fh: BinaryIO, place: tuple[int, int, int]) -> TensorProto:
    import onnx

    fh.seek(place[1])
    return onnx.TensorProto.FromString(fh.read(place[2]))


_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
_DIGITS = 20  # an int64 offset or length has at most 19 digits


def _external_bytes(proto: TensorProto, path: Path, what: str) -> bytes:
    """The bytes an external-data tensor points at, read from a regular file inside the model's folder, with
    its offset and length inside that file; ExtractionError naming the tensor otherwise."""
    info = {entry.key: entry.value for entry in proto.external_data}
    location = info.get("location", "")
    folder = path.parent
    if not location or "\0" in location:
        raise ExtractionError(f"{what}: external data without a usable location", str(path))
    rel = Path(location)
    if rel.is_absolute() or ".." in rel.parts:
        raise ExtractionError(f"{what}: external data location '{location}' is outside the model's folder: "
                              "refused", str(path))
    target = folder / rel
    try:
        confine(target, folder, "location", origin=str(path))
        fh = open_regular(target, "regular file")
    except ExtractionError as exc:
        raise ExtractionError(f"{what}: external data '{location}': {exc.message}", str(path)) from None
    numbers: dict[str, int] = {}
    with fh:
        for key in ("offset", "length"):
            raw = info.get(key)
            if raw is None:
                continue
            if not (raw.isascii() and raw.isdigit() and len(raw) <= _DIGITS):
                raise ExtractionError(f"{what}: external data {key} '{raw[:40]}' is not a byte count", str(path))
            numbers[key] = int(raw)
        offset = numbers.get("offset", 0)
        size = size_of(fh)
        length = numbers.get("length", size - offset)
        if offset + length > size or length < 0:
            raise ExtractionError(f"{what}: external data [{offset}, {offset + max(length, 0)}) lies beyond the "
                                  f"end of '{location}' ({size} bytes)", str(path))
        fh.seek(offset)
        data = fh.read(length)
    if len(data) != length:
        raise ExtractionError(f"{what}: '{location}' changed while reading", str(path))
    return data


def _array(proto: TensorProto, path: Path, what: str) -> np.ndarray[Any, Any]:
    """A tensor's values, external data read through ``_external_bytes``."""
    from onnx import numpy_helper

    if proto.data_location == _EXTERNAL:
        data = _external_bytes(proto, path, what)
        proto.ClearField("external_data")
        proto.ClearField("data_location")
        proto.raw_data = data
    try:
        return numpy_helper.to_array(proto)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ExtractionError(f"cannot read {what}: {exc}", str(path)) from None


def _dequantize(q: np.ndarray[Any, Any], scale: np.ndarray[Any, Any], zp: np.ndarray[Any, Any] | None,
                axis: int | None) -> np.ndarray[Any, Any]:
    import numpy as np

    values = q.astype(np.float32)
    if zp is not None:
        zp = zp.astype(np.float32)
    if scale.size == 1:
        return (values - (zp.reshape(()) if zp is not None else 0.0)) * scale.astype(np.float32).reshape(())
    fits = [i for i, d in enumerate(q.shape) if d == scale.size]
    if axis is not None and axis < 0:
        axis += q.ndim
    if axis is None or axis not in fits:
        if len(fits) != 1:
            raise NotComparable(f"per-channel scale of {scale.size} fits no single axis of {list(q.shape)}")
        axis = fits[0]
    shape = [1] * q.ndim
    shape[axis] = scale.size
    zero = zp.reshape(shape) if zp is not None else 0.0
    return (values - zero) * scale.astype(np.float32).reshape(shape)


def onnx_tensors(path: Path, limits: Limits = DEFAULT) -> Iterator[WeightTensor | tuple[str, str, str]]:
    """The float initializers of an ONNX graph, and its quantized weights dequantized, one at a time.

    The graph is indexed within ``limits`` (``readers.onnx_wire``); external data must be a regular file inside
    the model's folder (symlinks resolved) and hold the bytes the tensor names, else ExtractionError.
    Integer initializers that are not quantized weights (shapes, indices) are skipped; a quantized one that
    cannot be dequantized (4-bit packing, a missing scale) is yielded as ``(name, pointer, reason)``.
    """
    try:
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:
        raise MissingExtraError("weights provenance (DG401) of an ONNX graph", "onnx", "onnx", str(path)) from None
    np = _numpy()
    index = _index_onnx(path, limits)
    quant = _quant_map(index)
    helpers = {q.scale for q in quant.values()} | {q.zero_point for q in quant.values() if q.zero_point}
    quant_consumers = {n.input[_QUANT_INPUTS[n.op_type][0]] for n in index.nodes
                       if n.op_type in _QUANT_INPUTS and len(n.input) > _QUANT_INPUTS[n.op_type][0]}
    quant_consumers |= {i for n in index.nodes if n.op_type in ("MatMulNBits", "GatherBlockQuantized",
                                                                "MatMulBnb4") for i in n.input[1:2]}
    with open_regular(path, "model file") as fh:
        for name, place in sorted(index.initializers.items(), key=lambda kv: kv[1][0]):
            if name in helpers:
                continue
            pointer = f"graph.initializer[{place[0]}]"
            what = f"initializer '{name}' ({pointer})"
            try:
                proto = _read_tensor(fh, place)
                dtype = onnx.TensorProto.DataType.Name(proto.data_type).lower()
                dtype = {"float": "float32", "double": "float64"}.get(dtype, dtype)
                if name in quant:
                    q = quant[name]
                    arr = _array(proto, path, what)
                    scale = _array(_read_tensor(fh, index.initializers[q.scale]), path, f"scale '{q.scale}' of {what}")
                    zp = None if q.zero_point is None else _array(
                        _read_tensor(fh, index.initializers[q.zero_point]), path, f"zero point of {what}")
                    values = _dequantize(arr, scale, zp, q.axis)
                    step = float(np.max(np.abs(scale.astype(np.float64))))
                    # Rounding costs half a step; an asymmetric zero point rounded to an integer can clip the
                    # extremes by up to one more half step.
                    yield WeightTensor(name, pointer, values, f"{dtype} (dequantized)", abs_tol=step * 1.01)
                    continue
                if proto.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                                       onnx.TensorProto.BFLOAT16):
                    arr = _array(proto, path, what)
                    values = arr if arr.dtype == np.float32 else arr.astype(np.float32)
                    yield WeightTensor(name, pointer, values, dtype, rel_tol=REL_TOLERANCE.get(dtype, 0.0))
                elif name in quant_consumers:
                    yield (name, pointer, f"{dtype} weights without a scale this rule can read")
            except NotComparable as exc:
                yield (name, pointer, str(exc))
            except (ValueError, TypeError, DecodeError, OSError) as exc:
                raise ExtractionError(f"cannot read {what}: {exc}", str(path)) from None
