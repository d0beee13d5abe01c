"""The GGUF header: metadata key-value pairs and tensor infos, never the tensor data, never array payloads.

The format is ggml's GGUF specification (ggml-org/ggml@d99724f2b141 ``docs/gguf.md``): the magic ``GGUF``, a
uint32 version (2 and 3 are read, as ``gguf.GGUFReader`` and llama.cpp do; v1 used 32-bit counts and
llama.cpp no longer loads it), uint64 tensor and key-value counts, then each pair as a GGUF string key, a
uint32 value type and the value; then each tensor's name, dimension count, dimensions, ggml type and offset.
Version 3 files may be big-endian (every value then is): like ``GGUFReader`` we read the version
little-endian and take a version whose low 16 bits are zero as the byte-swapped file.

Why not ``gguf.GGUFReader`` (PyPI ``gguf``, llama.cpp's own reader): its constructor builds a numpy view for
every element of every array (a 150,000-entry ``tokenizer.ggml.tokens`` is 300,000 arrays: 26 s and 190 MiB
here for a 2.4 MB file) and for every tensor, with no way to bound counts or lengths before it allocates, and
``import gguf`` (even ``gguf.constants``) imports numpy and its writer, a second before anything is read. So
the header is read here, per the specification, with the specification's tables (the value types below; the
ggml and file types in ``FILE_TYPES``/``GGML_TYPES``, which tests cross-check against the ``gguf`` package's
``GGUFValueType``, ``LlamaFileType`` and ``GGMLQuantizationType``), and every array is skipped by its declared
length (string arrays one length prefix at a time), never read.

Bounds (``Limits``): the header's bytes (``gguf_header_bytes``: every byte walked, skipped array payloads
included, so a string array is visited at most that many / 8 elements), the key-value pairs (``objects``),
the tensors (``tensors``), dimensions of one tensor (``rank``), nesting of arrays (``depth``), one kept
string (``file_bytes``). A count whose smallest encoding cannot fit in the file is refused before any loop.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from driftguard.errors import ExtractionError
from driftguard.readers.files import open_regular, size_of
from driftguard.readers.limits import DEFAULT, Limits

MAGIC = b"GGUF"
VERSIONS = (2, 3)
#: Value types (docs/gguf.md ``enum gguf_metadata_value_type``): name, struct format, byte size; STRING (8)
#: and ARRAY (9) have no fixed size.
VALUE_TYPES: dict[int, tuple[str, str, int]] = {
    0: ("UINT8", "B", 1), 1: ("INT8", "b", 1), 2: ("UINT16", "H", 2), 3: ("INT16", "h", 2),
    4: ("UINT32", "I", 4), 5: ("INT32", "i", 4), 6: ("FLOAT32", "f", 4), 7: ("BOOL", "B", 1),
    8: ("STRING", "", 8), 9: ("ARRAY", "", 12), 10: ("UINT64", "Q", 8), 11: ("INT64", "q", 8),
    12: ("FLOAT64", "d", 8),
}
STRING, ARRAY = 8, 9
#: ``general.file_type`` (the type of most tensors) as llama.cpp names it: gguf-py ``LlamaFileType`` (gguf 0.19.0,
#: llama.cpp ``gguf-py/gguf/constants.py``) without its ``MOSTLY_``/``ALL_`` prefix, the spelling of
#: llama-quantize's options; 4-6 and 33-35 were removed from the format (docs/gguf.md; constants.py comments).
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 1024: "GUESSED",
}
#: A tensor's ggml type (docs/gguf.md ``enum ggml_type``; gguf-py ``GGMLQuantizationType``, gguf 0.19.0, which has
#: 40 and 41 besides the specification's). A type missing here reads as ``ggml_type_<n>``.
GGML_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
    11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
    19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
    27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4", 41: "Q1_0",
}


#: Bytes read from the file at a time (the header is walked through this buffer).
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArrayInfo:
    """An array value, described, not read: its element type's name and its declared length."""

    element: str
    length: int


Scalar = int | float | bool | str
MetaValue = Scalar | ArrayInfo


@dataclass(frozen=True)
class Header:
    """A GGUF header: version, byte order, metadata in file order, and ``(name, ggml type, elements)`` per
    tensor."""

    version: int
    big_endian: bool
    metadata: dict[str, MetaValue]
    tensors: list[tuple[str, str, int]]


class _Cursor:
    """Sequential reads of an open file through a buffer, with the header's byte budget and the file's end
    enforced before anything is read (a length prefix is checked against what is left before it is used)."""

    def __init__(self, fh: BinaryIO, path: Path, limits: Limits) -> None:
        self.fh, self.path, self.limits = fh, path, limits
        self.size = size_of(fh)
        self.pos = 0  # file offset of the next unread byte
        self.buf = b""
        self.off = 0  # offset of that byte in buf
        self.order = "<"

    def error(self, message: str) -> ExtractionError:
        return ExtractionError(f"GGUF header: {message}", str(self.path))

    def _advance(self, n: int, what: str) -> None:
        if n > self.size - self.pos:
            raise self.error(f"{what} of {n} bytes at offset {self.pos} runs past the end of the file "
                             f"({self.size} bytes): truncated or not a GGUF file")
        self.pos += n
        self.limits.check("gguf_header_bytes", self.pos, f"GGUF header of more than {self.pos - n} bytes "
                          f"(at {what})", str(self.path))

    def take(self, n: int, what: str) -> bytes:
        self._advance(n, what)
        if len(self.buf) - self.off < n:
            rest = self.buf[self.off:]
            self.buf = rest + self.fh.read(max(n - len(rest), _CHUNK))
            self.off = 0
            if len(self.buf) < n:  # the file shrank while being read
                raise self.error(f"{what}: file ended early")
        out = self.buf[self.off:self.off + n]
        self.off += n
        return out

    def skip(self, n: int, what: str) -> None:
        self._advance(n, what)
        held = len(self.buf) - self.off
        if n <= held:
            self.off += n
        else:
            self.fh.seek(n - held, 1)
            self.buf, self.off = b"", 0

    def skip_strings(self, count: int, what: str) -> None:
        """Skip ``count`` GGUF strings (a token list): each one's length prefix is read, its bytes are not."""
        length = struct.Struct(self.order + "Q").unpack_from
        bound = min(self.size, self.limits.gguf_header_bytes)
        for _ in range(count):
            # Fast path: prefix and string both in the buffer and within both bounds (millions of tokens).
            off = self.off
            if len(self.buf) - off >= 8:
                end = off + 8 + length(self.buf, off)[0]
                if end <= len(self.buf) and self.pos + end - off <= bound:
                    self.pos += end - off
                    self.off = end
                    continue
            # Slow path: refills the buffer, seeks past a long string, raises at a bound.
            self.skip(length(self.take(8, f"string length in {what}"))[0], f"string in {what}")

    def unpack(self, fmt: str, size: int, what: str) -> int | float:
        value: int | float = struct.unpack(self.order + fmt, self.take(size, what))[0]
        return value

    def u32(self, what: str) -> int:
        return int(self.unpack("I", 4, what))

    def u64(self, what: str) -> int:
        return int(self.unpack("Q", 8, what))

    def fits(self, count: int, each: int, what: str) -> None:
        """Refuse ``count`` items of at least ``each`` bytes that the rest of the file cannot hold."""
        if count * each > self.size - self.pos:
            raise self.error(f"{what} declares {count} entries: more than the {self.size - self.pos} bytes left "
                             "in the file can hold")


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    with open_regular(path, "GGUF file") as fh:
        try:
            yield fh
        except OSError as exc:
            raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def read(path: Path, limits: Limits = DEFAULT) -> Header:
    """Read and validate a GGUF header (ExtractionError naming the file for anything malformed, LimitError past
    a limit)."""
    with _opened(path) as fh:
        cur = _Cursor(fh, path, limits)
        if cur.size < 4 or cur.take(4, "magic") != MAGIC:
            raise cur.error("no GGUF magic (the file does not start with the bytes 'GGUF'): not a GGUF file")
        version, cur.order = _version(cur)
        tensor_count, kv_count = cur.u64("tensor count"), cur.u64("metadata count")
        limits.check("objects", kv_count, f"GGUF header with {kv_count} metadata pairs", str(path))
        limits.check("tensors", tensor_count, f"GGUF header with {tensor_count} tensors", str(path))
        cur.fits(kv_count, 8 + 4 + 1, "metadata count")
        metadata: dict[str, MetaValue] = {}
        for _ in range(kv_count):
            key = _string(cur, "metadata key")
            if key in metadata:
                raise cur.error(f"duplicate metadata key '{key[:200]}' (llama.cpp refuses the file)")
            metadata[key] = _value(cur, cur.u32(f"type of '{key[:200]}'"), key, 1)
        cur.fits(tensor_count, 8 + 4 + 4 + 8, "tensor count")
        tensors = [_tensor_info(cur) for _ in range(tensor_count)]
    return Header(version, cur.order == ">", metadata, tensors)


def _version(cur: _Cursor) -> tuple[int, str]:
    raw = cur.take(4, "version")
    version = int.from_bytes(raw, "little")
    order = "<"
    if version & 0xFFFF == 0:  # written for the other byte order (GGUFReader's test)
        version, order = int.from_bytes(raw, "big"), ">"
    if version not in VERSIONS:
        raise cur.error(f"version {version} is not one this reader knows ({', '.join(map(str, VERSIONS))}; "
                        "llama.cpp no longer loads version 1)")
    return version, order


def _string(cur: _Cursor, what: str) -> str:
    """A GGUF string (uint64 length, UTF-8 bytes) of at most ``file_bytes`` bytes."""
    n = cur.u64(f"{what} length")
    cur.limits.check("file_bytes", n, f"GGUF {what} of {n} bytes", str(cur.path))
    raw = cur.take(n, what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise cur.error(f"{what} at offset {cur.pos - n} is not UTF-8 (byte {exc.start})") from None


def _value(cur: _Cursor, kind: int, key: str, depth: int) -> MetaValue:
    spec = VALUE_TYPES.get(kind)
    where = f"'{key[:200]}'"
    if spec is None:
        raise cur.error(f"{where} has unknown value type {kind} (the specification's are 0-12)")
    name, fmt, size = spec
    if kind == STRING:
        return _string(cur, f"string value of {where}")
    if kind == ARRAY:
        return _array(cur, key, depth)
    value = cur.unpack(fmt, size, f"value of {where}")
    if name == "BOOL":
        if value not in (0, 1):
            raise cur.error(f"{where} is a bool of byte {value} (the specification allows 0 and 1 only)")
        return bool(value)
    return _shortest_float32(float(value)) if name == "FLOAT32" else value


def _array(cur: _Cursor, key: str, depth: int) -> ArrayInfo:
    """Skip an array by its declared length, reading only what that needs (each string's length prefix, each
    nested array's header)."""
    cur.limits.check("depth", depth, f"GGUF array nested {depth} deep in '{key[:200]}'", str(cur.path))
    element = cur.u32(f"element type of '{key[:200]}'")
    length = cur.u64(f"length of '{key[:200]}'")
    spec = VALUE_TYPES.get(element)
    if spec is None:
        raise cur.error(f"'{key[:200]}' is an array of unknown value type {element} (the specification's are 0-12)")
    name, _, size = spec
    what = f"array '{key[:200]}'"
    cur.fits(length, size, what)
    if element == STRING:
        cur.skip_strings(length, what)
    elif element == ARRAY:
        for _ in range(length):
            _array(cur, key, depth + 1)
    else:
        cur.skip(length * size, f"payload of {what}")
    return ArrayInfo(name, length)


def _tensor_info(cur: _Cursor) -> tuple[str, str, int]:
    name = _string(cur, "tensor name")
    n_dims = cur.u32(f"dimension count of tensor '{name[:200]}'")
    cur.limits.check("rank", n_dims, f"GGUF tensor '{name[:200]}' of {n_dims} dimensions", str(cur.path))
    elements = 1
    for _ in range(n_dims):
        elements *= cur.u64(f"dimension of tensor '{name[:200]}'")
    kind = cur.u32(f"type of tensor '{name[:200]}'")
    cur.u64(f"offset of tensor '{name[:200]}'")
    return name, GGML_TYPES.get(kind, f"ggml_type_{kind}"), elements


def _shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 (a GGUF ``0.9`` reads back as 0.8999999761581421)."""
    if value != value or value in (float("inf"), float("-inf")):
        return value
    packed = struct.pack("<f", value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if struct.pack("<f", candidate) == packed:
                return candidate
        except OverflowError:  # rounded past float32's largest value
            continue
    return value
