"""Read an ONNX model without its embedded weights, at the protobuf wire level.

``onnx.load`` has no way to skip embedded tensor payloads (``load_external_data=False`` only concerns external
files), so a 1 GB model costs a second and over 2 GiB of memory just to read its metadata. The protobuf wire format
is the official, documented encoding (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of
``tag, value`` fields, where ``tag = field_number << 3 | wire_type``. We walk ``ModelProto`` down to
``GraphProto.initializer`` (field 7, then field 5) and drop each initializer's payload fields, copying every other
byte range through unchanged. The file is read through a small window (seek and read), never mapped: mapping it would
count the page-cache folios around every tag in our RSS. The reduced bytes are then parsed by onnx's own generated
class (``onnx.ModelProto.FromString``), so this module decodes no ONNX semantics itself.

Kept payloads: sparse initializers, tensors inside node attributes (``Constant``) and subgraphs (small in practice).
This module imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from driftguard.errors import ExtractionError
from driftguard.protowire import _LEN, _VARINT, Buffer, FileBytes, WireError, iter_tags
from driftguard.protowire import encode_varint as _encode_varint
from driftguard.protowire import varint as _varint

#: ModelProto.graph
MODEL_GRAPH = 7
#: GraphProto.initializer
GRAPH_INITIALIZER = 5
#: TensorProto fields holding element data: float_data 4, int32_data 5, string_data 6, int64_data 7,
#: raw_data 9, double_data 10, uint64_data 11. Kept: dims 1, data_type 2, segment 3, name 8, doc_string 12,
#: external_data 13, data_location 14, metadata_props 16.
TENSOR_PAYLOAD_FIELDS = frozenset({4, 5, 6, 7, 9, 10, 11})

#: ModelProto field numbers (onnx.in.proto), used by the cheap content check.
_MODEL_FIELDS = {2: _LEN, 3: _LEN, 4: _LEN, 5: _VARINT, 6: _LEN, 7: _LEN, 8: _LEN, 14: _LEN, 20: _LEN,
                 25: _LEN}


def _tensor_without_payload(buf: Buffer, start: int, end: int) -> bytes:
    """A TensorProto's bytes minus its element-data fields."""
    out = bytearray()
    for field, _, field_start, _, after in iter_tags(buf, start, end):
        if field not in TENSOR_PAYLOAD_FIELDS:
            out += buf[field_start:after]
    return bytes(out)


def _rewrite(buf: Buffer, start: int, end: int, target: int, reduce: Callable[[Buffer, int, int], bytes]) -> bytes:
    """The message in ``buf[start:end]`` with each LEN field number ``target`` replaced by ``reduce`` of its
    body (length prefix recomputed); every other field copied through unchanged."""
    out = bytearray()
    for field, wire_type, field_start, value_start, after in iter_tags(buf, start, end):
        if field == target and wire_type == _LEN:
            _, body = _varint(buf, value_start, end)
            reduced = reduce(buf, body, after)
            out += buf[field_start:value_start]  # the tag, unchanged
            out += _encode_varint(len(reduced))
            out += reduced
        else:
            out += buf[field_start:after]
    return bytes(out)


def _graph_without_payloads(buf: Buffer, start: int, end: int) -> bytes:
    """A GraphProto's bytes with each initializer reduced by ``_tensor_without_payload``."""
    return _rewrite(buf, start, end, GRAPH_INITIALIZER, _tensor_without_payload)


def strip_payloads(buf: Buffer) -> bytes:
    """The serialized ModelProto in ``buf`` without initializer payloads; WireError when malformed."""
    return _rewrite(buf, 0, len(buf), MODEL_GRAPH, _graph_without_payloads)


def read_without_payloads(path: Path) -> bytes:
    """The file's ModelProto bytes without initializer payloads (payloads are skipped, never read).
    ExtractionError "not an ONNX model: ..." when the bytes are not a protobuf message."""
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            if size == 0:
                raise ExtractionError("not an ONNX model: the file is empty", str(path))
            return strip_payloads(FileBytes(fh, size))
    except IsADirectoryError:
        raise ExtractionError("is a folder, expected a file", str(path)) from None
    except WireError as exc:
        raise ExtractionError(f"not an ONNX model: malformed protobuf ({exc})", str(path)) from None
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def looks_like_model(head: bytes) -> bool:
    """Cheap content check: a ModelProto written by onnx starts with ``ir_version`` (field 1, varint) holding
    a small number, followed by another ModelProto field tag."""
    if len(head) < 3 or head[0] != 0x08:
        return False
    try:
        version, pos = _varint(head, 1, len(head))
        if not 1 <= version <= 32:
            return False
        tag, _ = _varint(head, pos, len(head))
    except WireError:
        return False
    return _MODEL_FIELDS.get(tag >> 3) == tag & 7
