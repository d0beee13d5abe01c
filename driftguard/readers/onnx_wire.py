"""Read an ONNX model without its tensor payloads, at the protobuf wire level, within ``Limits``.

``onnx.load`` has no way to skip embedded tensor payloads (``load_external_data=False`` only concerns external
files), so a 1 GB model costs a second and over 2 GiB of memory just to read its metadata. The protobuf wire
format is the official, documented encoding (https://protobuf.dev/programming-guides/encoding/): a message is a
sequence of ``tag, value`` fields, where ``tag = field_number << 3 | wire_type``.

One walk (:func:`index`) serves both readers: the extractor (``extractors.onnx``) parses the reduced bytes
with onnx's own ``ModelProto``, and DG401 (``readers.tensors``) reads the top graph's initializers one
at a time from the places the walk recorded. The walk descends only into the messages that can hold a tensor
(``_SCHEMA``), wherever one can hide: graph initializers and sparse initializers, node attributes (``Constant``
values, ``t``/``tensors``/``sparse_tensor(s)``), subgraphs (``g``/``graphs``, recursively), function bodies and
attribute defaults, training graphs. Each TensorProto met loses its element-data fields; every other byte
range is copied through unchanged, with the length prefixes of shrunken messages recomputed.

The walk is iterative (an explicit stack, no Python recursion) and bounded as it goes: nodes (``onnx_nodes``),
tensors (``tensors``), dims of one tensor (``rank``), subgraph nesting (``depth``), the bytes kept
(``onnx_metadata_bytes``) and the fields visited one by one (``onnx_fields``)
each raise ``LimitError`` the moment they are exceeded, before anything is parsed.
The file is read through a small window (seek and read), never mapped: mapping it would count the page-cache
folios around every tag in our RSS.

Field numbers are onnx's (``onnx/onnx.in.proto``, checked against onnx 1.23). This module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers.files import open_regular, size_of
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.protowire import (
    EGROUP,
    I32,
    I64,
    LEN,
    SGROUP,
    VARINT,
    Buffer,
    FileBytes,
    WireError,
    encode_varint,
    skip_value,
    varint,
)

# Messages the walk descends into.
MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR, SPARSE_TENSOR, TRAINING_INFO, FUNCTION = range(8)

#: ModelProto: graph 7, training_info 20, functions 25.
MODEL_GRAPH, MODEL_TRAINING_INFO, MODEL_FUNCTIONS = 7, 20, 25
#: GraphProto: node 1, initializer 5, sparse_initializer 15.
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_SPARSE_INITIALIZER = 1, 5, 15
#: NodeProto.attribute.
NODE_ATTRIBUTE = 5
#: AttributeProto: t 5, g 6, tensors 10, graphs 11, sparse_tensor 22, sparse_tensors 23.
ATTR_T, ATTR_G, ATTR_TENSORS, ATTR_GRAPHS, ATTR_SPARSE_TENSOR, ATTR_SPARSE_TENSORS = 5, 6, 10, 11, 22, 23
#: SparseTensorProto: values 1, indices 2, dims 3.
SPARSE_VALUES, SPARSE_INDICES, SPARSE_DIMS = 1, 2, 3
#: TrainingInfoProto: initialization 1, algorithm 2.
TRAINING_INITIALIZATION, TRAINING_ALGORITHM = 1, 2
#: FunctionProto: node 7, attribute_proto 11.
FUNCTION_NODE, FUNCTION_ATTRIBUTE_PROTO = 7, 11
#: TensorProto: dims 1, name 8.
TENSOR_DIMS, TENSOR_NAME = 1, 8
#: TensorProto fields holding element data: float_data 4, int32_data 5, string_data 6, int64_data 7,
#: raw_data 9, double_data 10, uint64_data 11. Kept: dims 1, data_type 2, segment 3, name 8, doc_string 12,
#: external_data 13, data_location 14, metadata_props 16.
TENSOR_PAYLOAD_FIELDS = frozenset({4, 5, 6, 7, 9, 10, 11})

#: For each walked message, its LEN fields that hold a walked message, and which.
_SCHEMA: dict[int, dict[int, int]] = {
    MODEL: {MODEL_GRAPH: GRAPH, MODEL_TRAINING_INFO: TRAINING_INFO, MODEL_FUNCTIONS: FUNCTION},
    TRAINING_INFO: {TRAINING_INITIALIZATION: GRAPH, TRAINING_ALGORITHM: GRAPH},
    GRAPH: {GRAPH_NODE: NODE, GRAPH_INITIALIZER: TENSOR, GRAPH_SPARSE_INITIALIZER: SPARSE_TENSOR},
    FUNCTION: {FUNCTION_NODE: NODE, FUNCTION_ATTRIBUTE_PROTO: ATTRIBUTE},
    NODE: {NODE_ATTRIBUTE: ATTRIBUTE},
    ATTRIBUTE: {ATTR_T: TENSOR, ATTR_TENSORS: TENSOR, ATTR_G: GRAPH, ATTR_GRAPHS: GRAPH,
                ATTR_SPARSE_TENSOR: SPARSE_TENSOR, ATTR_SPARSE_TENSORS: SPARSE_TENSOR},
    SPARSE_TENSOR: {SPARSE_VALUES: TENSOR, SPARSE_INDICES: TENSOR},
    TENSOR: {},
}

#: ModelProto field numbers and wire types, used by the cheap content check.
_MODEL_FIELDS = {2: LEN, 3: LEN, 4: LEN, 5: VARINT, 6: LEN, 7: LEN, 8: LEN, 14: LEN, 20: LEN, 25: LEN, 26: LEN}
#: Bytes read per refill of the walk's window (at least one varint's worth).
_MIN_READ = 16
#: Bytes copied at a time into the reduced model.
_COPY_PIECE = 1 << 20
# ``onnx_fields`` bounds the fields the walk visits one by one: far above real models (a node has 5-10 fields,
# a tensor header about 5), and it keeps the walk of a crafted file (30 million empty node inputs, tensor data
# written as unpacked elements) to a few seconds.


@dataclass(frozen=True, slots=True)
class Initializer:
    """One top-graph initializer: its name and where its TensorProto (payload included) lies in the file."""

    index: int
    name: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class OnnxIndex:
    """The model without payloads (a serialized ModelProto) and the top graph's initializers."""

    reduced: bytearray
    initializers: tuple[Initializer, ...]


@dataclass(slots=True)
class _Place:
    offset: int
    length: int
    name: str = ""


@dataclass(slots=True)
class _Frame:
    kind: int
    end: int  # where the message's body ends
    prefix: tuple[int, int]  # (start, end) of its length prefix; (0, 0) for the model itself
    graph_depth: int
    shrink: int = 0  # bytes removed inside it so far
    dims: int = 0  # dims seen (tensors and sparse tensors)
    place: _Place | None = None  # where a top-graph initializer lies


class _Walk:
    """One pass over a ModelProto in ``buf``: edits that remove payloads, and the top graph's initializers."""

    def __init__(self, buf: Buffer, limits: Limits, path: str | None) -> None:
        self.buf = buf
        self.size = len(buf)
        self.limits = limits
        self.path = path
        self.data = b""  # a window of buf, starting at self.base
        self.base = 0
        self.edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement), replacement b"" deletes
        self.deleted = 0
        self.nodes = 0
        self.tensors = 0
        self.fields = 0
        self.max_fields = limits.onnx_fields
        self.places: list[_Place] = []

    def _refill(self, pos: int, need: int) -> None:
        stop = min(self.size, pos + max(need, getattr(FileBytes, "WINDOW", 1 << 16), _MIN_READ))
        self.data = self.buf[pos:stop] if pos < stop else b""
        self.base = pos

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        i = pos - self.base
        if i < 0 or (i + 10 > len(self.data) and self.base + len(self.data) < self.size):
            self._refill(pos, 10)
            i = 0
        data = self.data
        if i < len(data) and pos < end:
            b = data[i]
            if b < 0x80:
                return b, pos + 1
        try:
            value, after = varint(data, i, min(len(data), i + end - pos))
        except WireError as exc:
            raise WireError(str(exc).rsplit(" at byte ", 1)[0], pos) from None
        return value, pos + (after - i)

    def read(self, start: int, stop: int) -> bytes:
        i = start - self.base
        if i >= 0 and stop - self.base <= len(self.data):
            return self.data[i:stop - self.base]
        return self.buf[start:stop]

    def check_kept(self, pos: int) -> None:
        kept = pos - self.deleted
        self.limits.check("onnx_metadata_bytes", kept, f"ONNX model with more than {kept} bytes besides "
                          "tensor payloads", self.path)

    def delete(self, start: int, stop: int) -> None:
        if self.edits and not self.edits[-1][2] and self.edits[-1][1] == start:
            self.edits[-1] = (self.edits[-1][0], stop, b"")
        else:
            self.edits.append((start, stop, b""))
        self.deleted += stop - start

    def enter(self, parent: _Frame, kind: int, number: int, prefix: tuple[int, int], end: int) -> _Frame:
        """The frame of a walked child message; counts it against its limit."""
        depth = parent.graph_depth
        if kind == NODE:
            self.nodes += 1
            self.limits.check("onnx_nodes", self.nodes, f"ONNX model with more than {self.nodes - 1} nodes "
                              "(subgraphs and functions included)", self.path)
        elif kind == TENSOR:
            self.tensors += 1
            self.limits.check("tensors", self.tensors, f"ONNX model with more than {self.tensors - 1} tensors",
                              self.path)
        elif kind == GRAPH:
            depth += 1
            self.limits.check("depth", depth, f"ONNX subgraphs nested {depth} deep", self.path)
        frame = _Frame(kind, end, prefix, depth)
        if kind == TENSOR and parent.kind == GRAPH and number == GRAPH_INITIALIZER and depth == 1:
            frame.place = _Place(prefix[1], end - prefix[1])
            self.places.append(frame.place)
        return frame

    def count_dims(self, frame: _Frame, wire_type: int, body: int, end: int) -> None:
        if wire_type == LEN:  # packed: one varint per dim, each ending in a byte below 0x80
            if end - body > 10 * self.limits.rank:
                found = (end - body) // 10 + 1
            else:
                found = sum(1 for b in self.read(body, end) if b < 0x80)
        else:
            found = 1
        frame.dims += found
        self.limits.check("rank", frame.dims, f"ONNX tensor with more than {frame.dims - 1} dims", self.path)

    def leave(self, frame: _Frame, parent: _Frame) -> None:
        if frame.shrink:
            start, stop = frame.prefix
            length = frame.end - stop - frame.shrink
            new_prefix = encode_varint(length)
            self.edits.append((start, stop, new_prefix))
            parent.shrink += frame.shrink + (stop - start) - len(new_prefix)

    def run(self) -> _Frame:
        top = _Frame(MODEL, self.size, (0, 0), 0)
        stack = [top]
        pos = 0
        fields, max_fields = 0, self.max_fields
        while True:
            frame = stack[-1]
            end = frame.end
            if pos >= end:
                if pos > frame.end:
                    raise WireError("field runs past the end of its message", frame.end)
                if len(stack) == 1:
                    return top
                stack.pop()
                self.leave(frame, stack[-1])
                continue
            tag_start = pos
            fields += 1
            if fields > max_fields:
                raise LimitError("onnx_fields", max_fields, "protobuf fields in the ONNX model's graphs, nodes, "
                                 "attributes and tensor headers", self.path)
            # The common case inline: a one-byte tag and a one-byte length inside the window.
            i = pos - self.base
            data = self.data
            if 0 <= i < len(data) - 1 and data[i] < 0x80 and data[i + 1] < 0x80 and pos + 2 <= end:
                tag, length = data[i], data[i + 1]
                pos += 1
                body = pos + 1
            else:
                tag, pos = self.varint(pos, end)
                length, body = -1, 0
            number, wire_type = tag >> 3, tag & 7
            if number == 0:
                raise WireError("field number 0", tag_start)
            kind = frame.kind
            if wire_type == LEN:
                if length < 0:
                    length, body = self.varint(pos, end)
                after = body + length
                if after > end:
                    raise WireError("field runs past the end of its message", tag_start)
                child = _SCHEMA[kind].get(number)
                if child is not None:
                    stack.append(self.enter(frame, child, number, (pos, body), after))
                    pos = body
                    continue
                if kind == TENSOR:
                    if number in TENSOR_PAYLOAD_FIELDS:
                        self.delete(tag_start, after)
                        frame.shrink += after - tag_start
                    elif number == TENSOR_DIMS:
                        self.count_dims(frame, LEN, body, after)
                    elif number == TENSOR_NAME and frame.place is not None:
                        frame.place.name = self.read(body, after).decode("utf-8", "replace")
                elif kind == SPARSE_TENSOR and number == SPARSE_DIMS:
                    self.count_dims(frame, LEN, body, after)
                pos = after
                if length > 4096:
                    self.check_kept(pos)
                continue
            if wire_type == VARINT:
                _, pos = self.varint(pos, frame.end)
            elif wire_type == I64:
                pos += 8
            elif wire_type == I32:
                pos += 4
            elif wire_type == SGROUP:
                _, pos = skip_value(self.buf, pos, frame.end, SGROUP, number)
            elif wire_type == EGROUP:
                raise WireError("end-group without a start", tag_start)
            else:
                raise WireError(f"invalid wire type {wire_type}", tag_start)
            if pos > frame.end:
                raise WireError("field runs past the end of its message", tag_start)
            if kind == TENSOR:
                if number in TENSOR_PAYLOAD_FIELDS:  # an unpacked element
                    if wire_type in (I32, I64) and tag < 0x80:  # skip its fixed-width siblings in one loop
                        width = pos - tag_start
                        i, data = pos - self.base, self.data
                        while i + width <= len(data) and pos + width <= end and data[i] == tag:
                            i += width
                            pos += width
                            fields += 1
                        if fields > max_fields:
                            raise LimitError("onnx_fields", max_fields, "protobuf fields in the ONNX model's "
                                             "graphs, nodes, attributes and tensor headers", self.path)
                    self.delete(tag_start, pos)
                    frame.shrink += pos - tag_start
                elif number == TENSOR_DIMS:
                    self.count_dims(frame, wire_type, tag_start, pos)
            elif kind == SPARSE_TENSOR and number == SPARSE_DIMS:
                self.count_dims(frame, wire_type, tag_start, pos)

    def output(self, top: _Frame) -> bytearray:
        """The model with every edit applied, written once into a buffer of its final size."""
        kept = self.size - top.shrink
        self.limits.check("onnx_metadata_bytes", kept, f"ONNX model with {kept} bytes besides tensor payloads",
                          self.path)
        out = bytearray(kept)
        at = 0

        def copy(start: int, stop: int) -> None:
            nonlocal at
            while start < stop:  # in pieces, so a large kept field is never held twice
                piece = self.buf[start:min(stop, start + _COPY_PIECE)]
                out[at:at + len(piece)] = piece
                at += len(piece)
                start += len(piece)

        pos = 0
        for start, stop, replacement in sorted(self.edits):
            copy(pos, start)
            out[at:at + len(replacement)] = replacement
            at += len(replacement)
            pos = stop
        copy(pos, self.size)
        if at != kept:
            raise WireError("overlapping fields", pos)
        return out


def index_buffer(buf: Buffer, limits: Limits = DEFAULT, path: str | None = None) -> OnnxIndex:
    """The serialized ModelProto in ``buf`` without payloads, and the top graph's initializers.
    WireError when malformed, LimitError past a limit."""
    walk = _Walk(buf, limits, path)
    top = walk.run()
    reduced = walk.output(top)
    return OnnxIndex(reduced, tuple(Initializer(i, p.name, p.offset, p.length) for i, p in enumerate(walk.places)))


def strip_payloads(buf: Buffer, limits: Limits = DEFAULT) -> bytearray:
    """The serialized ModelProto in ``buf`` without tensor payloads; WireError when malformed."""
    return index_buffer(buf, limits).reduced


def index(path: Path, limits: Limits = DEFAULT) -> OnnxIndex:
    """The file's ModelProto without tensor payloads (skipped, never read) and its top graph's initializers.
    ExtractionError "not an ONNX model: ..." when the bytes are not a protobuf message; LimitError past a limit.
    """
    with open_regular(path, "model file") as fh:
        size = size_of(fh)
        if size == 0:
            raise ExtractionError("not an ONNX model: the file is empty", str(path))
        try:
            return index_buffer(FileBytes(fh, size), limits, str(path))
        except WireError as exc:
            raise ExtractionError(f"not an ONNX model: malformed protobuf ({exc})", str(path)) from None
        except OSError as exc:
            raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def read_without_payloads(path: Path, limits: Limits = DEFAULT) -> bytearray:
    """The file's ModelProto bytes without tensor payloads (see :func:`index`)."""
    return index(path, limits).reduced


def looks_like_model(head: bytes) -> bool:
    """Cheap content check: a ModelProto written by onnx starts with ``ir_version`` (field 1, varint) holding
    a small number, followed by another ModelProto field tag."""
    if len(head) < 3 or head[0] != 0x08:
        return False
    try:
        version, pos = varint(head, 1, len(head))
        if not 1 <= version <= 32:
            return False
        tag, _ = varint(head, pos, len(head))
    except WireError:
        return False
    return _MODEL_FIELDS.get(tag >> 3) == tag & 7
