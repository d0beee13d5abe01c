"""The safetensors header: tensor names, dtypes, shapes and ``__metadata__``, never the tensor data.

The format (huggingface/safetensors README, "Format"): 8 bytes, a little-endian unsigned 64-bit header size
N; N bytes of UTF-8 JSON (an object, possibly padded with spaces) mapping each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the byte buffer after the header),
plus an optional ``"__metadata__"`` string-to-string map. The library caps N at 100,000,000 bytes; so do we,
and the header is read within ``Limits.file_bytes`` (it is JSON read whole), its tensors within
``Limits.tensors``, shapes within ``Limits.rank``, integers within ``Limits.int_digits``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.normalize import normalize_dtype
from driftguard.readers.files import open_regular, size_of
from driftguard.readers.limits import DEFAULT, Limits

MAX_HEADER_BYTES = 100_000_000
_U64 = 2**64 - 1  # dims are usize in the format
#: Bits per element of each safetensors dtype (safetensors/src/tensor.rs ``Dtype::bitsize``).
_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64,
    "I64": 64, "U64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}


def read_header(path: Path, limits: Limits = DEFAULT) -> tuple[dict[str, Any], int]:
    """The parsed header and the size of the data buffer after it; ExtractionError for anything malformed,
    LimitError past a limit."""
    with open_regular(path, ".safetensors file") as fh:
        try:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise ExtractionError("truncated safetensors file: no 8-byte header size", str(path))
            (size,) = struct.unpack("<Q", prefix)
            if size > MAX_HEADER_BYTES:
                raise ExtractionError(f"safetensors header size {size} exceeds the format's limit "
                                      f"({MAX_HEADER_BYTES} bytes): not a safetensors file", str(path))
            limits.check("file_bytes", size, f"safetensors header of {size} bytes", str(path))
            raw = fh.read(size)
        except OSError as exc:
            raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None
        if len(raw) < size:
            raise ExtractionError(f"truncated safetensors file: header says {size} bytes, "
                                  f"{len(raw)} present", str(path))
        data_len = size_of(fh) - 8 - size
    return _parse_header(raw, path, limits), data_len


def _parse_header(raw: bytes, path: Path, limits: Limits) -> dict[str, Any]:
    objects = 0

    def count_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal objects
        objects += 1
        limits.check("tensors", objects - 2, f"safetensors header with more than {objects - 3} tensors",
                     str(path))
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ExtractionError(f"invalid safetensors header JSON: {name} is not a JSON number", str(path))

    def parse_int(text: str) -> int:
        digits = len(text.lstrip("-"))
        limits.check("int_digits", digits, f"safetensors header integer of {digits} digits", str(path))
        return int(text)

    try:
        text = raw.decode("utf-8")
        header = json.loads(text, object_pairs_hook=count_object, parse_int=parse_int,
                            parse_constant=no_constant)
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"safetensors header is not UTF-8 (byte {exc.start})", str(path)) from None
    except json.JSONDecodeError as exc:
        raise ExtractionError(f"invalid safetensors header JSON: {exc.msg} at header byte {exc.pos}",
                              str(path)) from None
    except RecursionError:
        raise ExtractionError("invalid safetensors header JSON: nested too deeply", str(path)) from None
    if not isinstance(header, dict):
        raise ExtractionError("safetensors header is not a JSON object", str(path))
    return header


def tensor_entry(path: Path, name: str, info: Any, data_len: int, limits: Limits) -> tuple[str, int, str]:
    where = f"tensor '{name[:200]}'"
    if not isinstance(info, dict) or not isinstance(info.get("dtype"), str):
        raise ExtractionError(f"{where}: header entry needs a string dtype", str(path))
    shape, offsets, raw_dtype = info.get("shape"), info.get("data_offsets"), info["dtype"][:40]
    if not isinstance(shape, list):
        raise ExtractionError(f"{where}: shape must be a list of non-negative ints", str(path))
    limits.check("rank", len(shape), f"{where}: shape of {len(shape)} dims", str(path))
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= _U64 for d in shape):
        raise ExtractionError(f"{where}: shape must be a list of non-negative ints", str(path))
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_len):
        raise ExtractionError(f"{where}: data_offsets must be [begin, end] within the {data_len}-byte data "
                              "buffer (truncated file?)", str(path))
    nbytes = offsets[1] - offsets[0]
    bits = _BITS.get(raw_dtype)
    # Every element takes at least one bit, so more elements than bits in the tensor's bytes can never fit:
    # the product stops there, and stays an ordinary integer.
    most = nbytes * 8 // (bits or 1)
    numel = 1
    for d in shape:
        numel *= d
        if numel > most:
            raise ExtractionError(f"{where}: shape {shape[:8]}{'...' if len(shape) > 8 else ''} holds more "
                                  f"{raw_dtype} elements than its {nbytes} bytes", str(path))
    if bits is not None and (numel * bits + 7) // 8 != nbytes:
        raise ExtractionError(f"{where}: {numel} {raw_dtype} elements do not fill data_offsets "
                              f"{offsets}", str(path))
    return name, numel, normalize_dtype(raw_dtype) or raw_dtype.lower()




@dataclass(frozen=True)
class Header:
    """A validated header: ``(name, element count, canonical dtype)`` per tensor, and ``__metadata__``."""

    tensors: list[tuple[str, int, str]]
    metadata: dict[str, str]


def read(path: Path, limits: Limits = DEFAULT) -> Header:
    """Read and validate a ``.safetensors`` header (ExtractionError / LimitError for anything wrong)."""
    header, data_len = read_header(path, limits)
    metadata = header.get("__metadata__")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ExtractionError("__metadata__ must be a JSON object of strings", str(path))
        for key, value in metadata.items():
            if not isinstance(value, str):
                raise ExtractionError(f"__metadata__ '{key[:200]}' must be a string (the format maps strings to "
                                      f"strings), got {type(value).__name__}", str(path))
    tensors = [tensor_entry(path, name, info, data_len, limits) for name, info in header.items()
               if name != "__metadata__"]
    return Header(tensors, dict(metadata or {}))
