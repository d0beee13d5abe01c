"""``.safetensors`` files: tensor dtypes and counts from the header, never the tensor data.

The format (huggingface/safetensors README, "Format"): 8 bytes, a little-endian unsigned 64-bit header size
N; N bytes of UTF-8 JSON (an object, possibly padded with spaces) mapping each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the byte buffer after the header),
plus an optional ``"__metadata__"`` string-to-string map. The library caps N at 100,000,000 bytes; so do we.

Keys: ``precision.weights`` (the float dtype holding most elements), ``model.weights.count``,
``model.weights.parameters`` (elements of every tensor), ``safetensors.metadata.<name>`` for each
``__metadata__`` entry (``format``: ``pt``, ``tf``, ``flax``, ``np``... the framework that wrote it).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors import pickle_reader as pr
from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype

KIND = "safetensors"
DESCRIPTION = "safetensors weights file: weight precision and counts, __metadata__"

MAX_HEADER_BYTES = 100_000_000
#: Bits per element of each safetensors dtype (safetensors/src/tensor.rs ``Dtype::bitsize``).
_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64,
    "I64": 64, "U64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}


def detect(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".safetensors"


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The parsed header and the size of the data buffer after it; ExtractionError for anything malformed."""
    try:
        with path.open("rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise ExtractionError("truncated safetensors file: no 8-byte header size", str(path))
            (size,) = struct.unpack("<Q", prefix)
            if size > MAX_HEADER_BYTES:
                raise ExtractionError(f"safetensors header size {size} exceeds the format's limit "
                                      f"({MAX_HEADER_BYTES} bytes): not a safetensors file", str(path))
            raw = fh.read(size)
            if len(raw) < size:
                raise ExtractionError(f"truncated safetensors file: header says {size} bytes, "
                                      f"{len(raw)} present", str(path))
            fh.seek(0, 2)
            data_len = fh.tell() - 8 - size
    except IsADirectoryError:
        raise ExtractionError("is a folder, expected a .safetensors file", str(path)) from None
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    try:
        text = raw.decode("utf-8")
        header = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"safetensors header is not UTF-8 (byte {exc.start})", str(path)) from None
    except json.JSONDecodeError as exc:
        raise ExtractionError(f"invalid safetensors header JSON: {exc.msg} at header byte {exc.pos}",
                              str(path)) from None
    if not isinstance(header, dict):
        raise ExtractionError("safetensors header is not a JSON object", str(path))
    return header, data_len


def _tensor(path: Path, name: str, info: Any, data_len: int) -> tuple[str, int, str]:
    where = f"tensor '{name}'"
    if not isinstance(info, dict) or not isinstance(info.get("dtype"), str):
        raise ExtractionError(f"{where}: header entry needs a string dtype", str(path))
    shape, offsets, raw_dtype = info.get("shape"), info.get("data_offsets"), info["dtype"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise ExtractionError(f"{where}: shape must be a list of non-negative ints", str(path))
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_len):
        raise ExtractionError(f"{where}: data_offsets must be [begin, end] within the {data_len}-byte data "
                              "buffer (truncated file?)", str(path))
    numel = math.prod(shape)
    bits = _BITS.get(raw_dtype)
    if bits is not None and (numel * bits + 7) // 8 != offsets[1] - offsets[0]:
        raise ExtractionError(f"{where}: {numel} {raw_dtype} elements do not fill data_offsets "
                              f"{offsets}", str(path))
    return name, numel, normalize_dtype(raw_dtype) or raw_dtype.lower()


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    header, data_len = read_header(path)
    vb = ValueBuilder(KIND, path)
    tensors = [_tensor(path, name, info, data_len) for name, info in header.items() if name != "__metadata__"]
    summary = pr.weights_summary(tensors)
    if tensors:
        vb.set("model.weights.count", summary["count"], pointer="/", note="tensors in the file")
        vb.set("model.weights.parameters", summary["parameters"], pointer="/",
               note="elements of every tensor in the file")
    if summary["precision"] is not None:
        vb.set("precision.weights", summary["precision"], pointer="/", note=summary["precision_note"])
    metadata = header.get("__metadata__")
    if metadata is not None and not isinstance(metadata, dict):
        raise ExtractionError("__metadata__ must be a JSON object of strings", str(path))
    for key, value in sorted((metadata or {}).items()):
        vb.set(f"safetensors.metadata.{key}", value, pointer=f"/__metadata__/{key}")
    return vb.build()
