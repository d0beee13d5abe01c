"""The parts of an ONNX ``ModelProto`` the ``onnx`` kind reads, decoded from the protobuf wire format without
importing onnx (which pulls in numpy and costs more start-up than the whole extraction).

Schema: ``onnx/onnx.proto`` of onnx/onnx@f7546912001b (proto2): the field numbers below, the ``DataType`` and
``DataLocation`` enums, and the oneofs ``TypeProto.value`` and ``TensorShapeProto.Dimension.value``. Decoding
follows protobuf's rules (https://protobuf.dev/programming-guides/encoding/) the way onnx's own parser applies
them, so that both read the same values (``tests/readers/test_onnx_proto.py`` compares them on real graphs):
the last value of a singular field wins, a singular message met twice is merged, repeated numbers are read
packed or not, a field with an unexpected wire type is an unknown field, an ``int32`` keeps its low 32 bits, an
enum value outside the enum leaves the field unset, and a oneof keeps its last member. Unknown fields are
skipped (their framing checked). Messages nest at most ``MAX_NESTING`` deep, as in protobuf's parsers.

Only the fields the extractor reads are decoded; everything else is skipped, never built. The records are
named tuples: a dozen dataclasses would cost more to define than decoding a graph takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple, TypeVar

from driftguard.readers.protowire import EGROUP, I32, I64, LEN, SGROUP, VARINT, WireError, skip_value, varint

#: ``TensorProto.DataType`` (onnx/onnx.proto): element type numbers and their names. 27 and 28 are not on
#: main at f7546912001b; they come from onnx/onnx pull request #8349 (c93be5d09877 onnx/onnx.proto), which the
#: onnx 1.23.2 wheel already carries.
DATA_TYPES: dict[int, str] = {
    0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
    8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
    15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
    20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2",
    27: "FLOAT6E2M3", 28: "FLOAT6E3M2",
}
#: ``TensorProto.DataLocation`` (onnx/onnx.proto): DEFAULT 0, EXTERNAL 1.
DATA_LOCATIONS = frozenset({0, 1})
EXTERNAL = 1
#: Message nesting protobuf's parsers accept (upb's and the C++ runtime's default recursion limit).
MAX_NESTING = 100

#: ``TypeProto.value``'s members by field number (onnx-ml's ``opaque_type`` included).
_TYPE_MEMBERS = {1: "tensor_type", 4: "sequence_type", 5: "map_type", 9: "optional_type",
                 8: "sparse_tensor_type", 7: "opaque_type"}


class NotUtf8Error(ValueError):
    """A string field the extractor reads holds bytes that are not UTF-8 (onnx.proto's strings are UTF-8)."""


class Entry(NamedTuple):
    """``StringStringEntryProto``: key 1, value 2."""

    key: str = ""
    value: str = ""


class OpsetId(NamedTuple):
    """``OperatorSetIdProto``: domain 1, version 2 (int64)."""

    domain: str = ""
    version: int = 0


class Dim(NamedTuple):
    """``TensorShapeProto.Dimension``: the member of its ``value`` oneof that is set (``dim_value`` 1 or
    ``dim_param`` 2, or None), and its value."""

    which: str | None = None
    dim_value: int = 0
    dim_param: str = ""


class ValueType(NamedTuple):
    """``TypeProto``: ``which`` is the member of its ``value`` oneof that is set. ``elem_type`` is a tensor's
    or sparse tensor's element type, or a map's ``key_type``; ``shape`` a tensor's dims (None: no shape field);
    ``inner`` a sequence's or optional's element type, or a map's value type."""

    which: str | None = None
    elem_type: int = 0
    shape: tuple[Dim, ...] | None = None
    inner: ValueType | None = None


class ValueInfo(NamedTuple):
    """``ValueInfoProto``: name 1, type 2."""

    name: str = ""
    type: ValueType = ValueType()


class Tensor(NamedTuple):
    """``TensorProto`` without its data: dims 1, data_type 2 (int32), name 8, external_data 13,
    data_location 14."""

    name: str = ""
    dims: tuple[int, ...] = ()
    data_type: int = 0
    data_location: int = 0
    external_data: tuple[Entry, ...] = ()


class SparseTensor(NamedTuple):
    """``SparseTensorProto``: values 1, dims 3."""

    values: Tensor = Tensor()
    dims: tuple[int, ...] = ()


class Attribute(NamedTuple):
    """``AttributeProto``: name 1, i 3, g 6, graphs 11."""

    name: str = ""
    i: int = 0
    g: Graph | None = None
    graphs: tuple[Graph, ...] = ()


class Node(NamedTuple):
    """``NodeProto``: input 1, name 3, op_type 4, attribute 5."""

    op_type: str = ""
    name: str = ""
    input: tuple[str, ...] = ()
    attribute: tuple[Attribute, ...] = ()


class Graph(NamedTuple):
    """``GraphProto``: node 1, name 2, initializer 5, input 11, output 12, sparse_initializer 15."""

    name: str = ""
    node: tuple[Node, ...] = ()
    initializer: tuple[Tensor, ...] = ()
    sparse_initializer: tuple[SparseTensor, ...] = ()
    input: tuple[ValueInfo, ...] = ()
    output: tuple[ValueInfo, ...] = ()


class Model(NamedTuple):
    """``ModelProto``: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5,
    doc_string 6, graph 7, opset_import 8, metadata_props 14, and the nodes of its functions 25 (node 7)."""

    ir_version: int = 0
    producer_name: str = ""
    producer_version: str = ""
    domain: str = ""
    model_version: int = 0
    doc_string: str = ""
    graph: Graph | None = None
    opset_import: tuple[OpsetId, ...] = ()
    metadata_props: tuple[Entry, ...] = ()
    function_nodes: tuple[tuple[Node, ...], ...] = ()


T = TypeVar("T")
#: A message's bytes: the buffer, and the (start, end) ranges whose concatenation is the message (a singular
#: message met more than once is the merge of its occurrences, which protobuf defines as their concatenation).
Ranges = list[tuple[int, int]]


class _Decoder:
    """Decodes messages of one buffer, counting their nesting."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.depth = 0

    def fields(self, ranges: Ranges) -> Iterator[tuple[int, int, int, int]]:
        """``(number, wire type, a, b)`` for each field: a VARINT's value in ``a``; a LEN's body as
        ``buf[a:b]``; I32/I64/groups skipped (``a`` and ``b`` 0)."""
        buf = self.buf
        for pos, end in ranges:
            while pos < end:
                tag_start = pos
                tag = buf[pos]
                if tag < 0x80:
                    pos += 1
                else:
                    tag, pos = varint(buf, pos, end)
                number, wire_type = tag >> 3, tag & 7
                if number == 0:
                    raise WireError("field number 0", tag_start)
                if wire_type == VARINT:
                    value, pos = varint(buf, pos, end)
                    yield number, VARINT, value, 0
                elif wire_type == LEN:
                    length, body = varint(buf, pos, end)
                    pos = body + length
                    if pos > end:
                        raise WireError("field runs past the end of its message", tag_start)
                    yield number, LEN, body, pos
                elif wire_type in (I32, I64, SGROUP):
                    _, pos = skip_value(buf, pos, end, wire_type, number)
                    yield number, wire_type, 0, 0
                elif wire_type == EGROUP:
                    raise WireError("end-group without a start", tag_start)
                else:
                    raise WireError(f"invalid wire type {wire_type}", tag_start)

    def string(self, a: int, b: int) -> str:
        try:
            return self.buf[a:b].decode("utf-8")
        except UnicodeDecodeError:
            raise NotUtf8Error(f"a string field is not UTF-8 at byte {a}") from None

    def ints(self, wire_type: int, a: int, b: int, bits: int = 64) -> Iterator[int]:
        """The values of a repeated integer field's occurrence, packed (LEN) or not (VARINT)."""
        if wire_type == VARINT:
            yield _signed(a, bits)
        elif wire_type == LEN:
            pos = a
            while pos < b:
                value, pos = varint(self.buf, pos, b)
                yield _signed(value, bits)

    def message(self, ranges: Ranges, decode: Callable[[Ranges], T]) -> T:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise WireError(f"messages nested more than {MAX_NESTING} deep", ranges[0][0] if ranges else 0)
        try:
            return decode(ranges)
        finally:
            self.depth -= 1

    # -- messages, one method each (field numbers from onnx/onnx.proto) --------------------------------------

    def model(self, ranges: Ranges) -> Model:
        ir_version = model_version = 0
        strings = {2: "", 3: "", 4: "", 6: ""}
        graph: Ranges | None = None
        opsets: list[OpsetId] = []
        metadata: list[Entry] = []
        functions: list[tuple[Node, ...]] = []
        for number, wire_type, a, b in self.fields(ranges):
            if wire_type == VARINT:
                if number == 1:
                    ir_version = _signed(a, 64)
                elif number == 5:
                    model_version = _signed(a, 64)
            elif wire_type == LEN:
                if number in strings:
                    strings[number] = self.string(a, b)
                elif number == 7:
                    graph = (graph or []) + [(a, b)]
                elif number == 8:
                    opsets.append(self.message([(a, b)], self.opset))
                elif number == 14:
                    metadata.append(self.message([(a, b)], self.entry))
                elif number == 25:
                    functions.append(self.message([(a, b)], self.function_nodes))
        return Model(ir_version, strings[2], strings[3], strings[4], model_version, strings[6],
                     None if graph is None else self.message(graph, self.graph), tuple(opsets), tuple(metadata),
                     tuple(functions))

    def opset(self, ranges: Ranges) -> OpsetId:
        domain, version = "", 0
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1 and wire_type == LEN:
                domain = self.string(a, b)
            elif number == 2 and wire_type == VARINT:
                version = _signed(a, 64)
        return OpsetId(domain, version)

    def entry(self, ranges: Ranges) -> Entry:
        key = value = ""
        for number, wire_type, a, b in self.fields(ranges):
            if wire_type == LEN and number == 1:
                key = self.string(a, b)
            elif wire_type == LEN and number == 2:
                value = self.string(a, b)
        return Entry(key, value)

    def function_nodes(self, ranges: Ranges) -> tuple[Node, ...]:
        return tuple(self.message([(a, b)], self.node) for number, wire_type, a, b in self.fields(ranges)
                     if number == 7 and wire_type == LEN)

    def graph(self, ranges: Ranges) -> Graph:
        name = ""
        nodes: list[Node] = []
        initializers: list[Tensor] = []
        sparse: list[SparseTensor] = []
        inputs: list[ValueInfo] = []
        outputs: list[ValueInfo] = []
        for number, wire_type, a, b in self.fields(ranges):
            if wire_type != LEN:
                continue
            if number == 1:
                nodes.append(self.message([(a, b)], self.node))
            elif number == 2:
                name = self.string(a, b)
            elif number == 5:
                initializers.append(self.message([(a, b)], self.tensor))
            elif number == 11:
                inputs.append(self.message([(a, b)], self.value_info))
            elif number == 12:
                outputs.append(self.message([(a, b)], self.value_info))
            elif number == 15:
                sparse.append(self.message([(a, b)], self.sparse_tensor))
        return Graph(name, tuple(nodes), tuple(initializers), tuple(sparse), tuple(inputs), tuple(outputs))

    def node(self, ranges: Ranges) -> Node:
        op_type = name = ""
        inputs: list[str] = []
        attributes: list[Attribute] = []
        for number, wire_type, a, b in self.fields(ranges):
            if wire_type != LEN:
                continue
            if number == 1:
                inputs.append(self.string(a, b))
            elif number == 3:
                name = self.string(a, b)
            elif number == 4:
                op_type = self.string(a, b)
            elif number == 5:
                attributes.append(self.message([(a, b)], self.attribute))
        return Node(op_type, name, tuple(inputs), tuple(attributes))

    def attribute(self, ranges: Ranges) -> Attribute:
        name, i = "", 0
        g: Ranges | None = None
        graphs: list[Graph] = []
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1 and wire_type == LEN:
                name = self.string(a, b)
            elif number == 3 and wire_type == VARINT:
                i = _signed(a, 64)
            elif number == 6 and wire_type == LEN:
                g = (g or []) + [(a, b)]
            elif number == 11 and wire_type == LEN:
                graphs.append(self.message([(a, b)], self.graph))
        return Attribute(name, i, None if g is None else self.message(g, self.graph), tuple(graphs))

    def tensor(self, ranges: Ranges) -> Tensor:
        name = ""
        dims: list[int] = []
        data_type = data_location = 0
        external: list[Entry] = []
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1:
                dims.extend(self.ints(wire_type, a, b))
            elif number == 2 and wire_type == VARINT:
                data_type = _signed(a, 32)
            elif number == 8 and wire_type == LEN:
                name = self.string(a, b)
            elif number == 13 and wire_type == LEN:
                external.append(self.message([(a, b)], self.entry))
            elif number == 14 and wire_type == VARINT and _signed(a, 32) in DATA_LOCATIONS:
                data_location = _signed(a, 32)
        return Tensor(name, tuple(dims), data_type, data_location, tuple(external))

    def sparse_tensor(self, ranges: Ranges) -> SparseTensor:
        values: Ranges | None = None
        dims: list[int] = []
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1 and wire_type == LEN:
                values = (values or []) + [(a, b)]
            elif number == 3:
                dims.extend(self.ints(wire_type, a, b))
        return SparseTensor(Tensor() if values is None else self.message(values, self.tensor), tuple(dims))

    def value_info(self, ranges: Ranges) -> ValueInfo:
        name = ""
        type_ranges: Ranges | None = None
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1 and wire_type == LEN:
                name = self.string(a, b)
            elif number == 2 and wire_type == LEN:
                type_ranges = (type_ranges or []) + [(a, b)]
        return ValueInfo(name, ValueType() if type_ranges is None else self.message(type_ranges, self.value_type))

    def value_type(self, ranges: Ranges) -> ValueType:
        """``TypeProto``: the oneof's last member wins; a member met again after another is set starts anew."""
        which: str | None = None
        member: Ranges = []
        for number, wire_type, a, b in self.fields(ranges):
            name = _TYPE_MEMBERS.get(number)
            if name is None or wire_type != LEN:
                continue
            if name != which:
                which, member = name, []
            member.append((a, b))
        if which in ("tensor_type", "sparse_tensor_type"):
            return self.message(member, lambda r: self.tensor_type(which, r))
        if which in ("sequence_type", "optional_type", "map_type"):
            return self.message(member, lambda r: self.wrapped_type(which, r))
        return ValueType(which)

    def tensor_type(self, which: str | None, ranges: Ranges) -> ValueType:
        """``TypeProto.Tensor`` / ``TypeProto.SparseTensor``: elem_type 1 (int32), shape 2."""
        elem_type = 0
        shape: Ranges | None = None
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1 and wire_type == VARINT:
                elem_type = _signed(a, 32)
            elif number == 2 and wire_type == LEN:
                shape = (shape or []) + [(a, b)]
        return ValueType(which, elem_type, None if shape is None else self.message(shape, self.shape))

    def wrapped_type(self, which: str | None, ranges: Ranges) -> ValueType:
        """``TypeProto.Sequence``/``Optional`` (elem_type 1) and ``TypeProto.Map`` (key_type 1, value_type 2)."""
        is_map = which == "map_type"
        key_type = 0
        inner: Ranges | None = None
        for number, wire_type, a, b in self.fields(ranges):
            if is_map and number == 1 and wire_type == VARINT:
                key_type = _signed(a, 32)
            elif number == (2 if is_map else 1) and wire_type == LEN:
                inner = (inner or []) + [(a, b)]
        return ValueType(which, key_type, None, ValueType() if inner is None else self.message(inner, self.value_type))

    def shape(self, ranges: Ranges) -> tuple[Dim, ...]:
        """``TensorShapeProto``: dim 1."""
        return tuple(self.message([(a, b)], self.dim) for number, wire_type, a, b in self.fields(ranges)
                     if number == 1 and wire_type == LEN)

    def dim(self, ranges: Ranges) -> Dim:
        """``TensorShapeProto.Dimension``: the oneof ``value`` (dim_value 1, dim_param 2): the last one wins."""
        which: str | None = None
        dim_value, dim_param = 0, ""
        for number, wire_type, a, b in self.fields(ranges):
            if number == 1 and wire_type == VARINT:
                which, dim_value, dim_param = "dim_value", _signed(a, 64), ""
            elif number == 2 and wire_type == LEN:
                which, dim_value, dim_param = "dim_param", 0, self.string(a, b)
        return Dim(which, dim_value, dim_param)


def _signed(value: int, bits: int) -> int:
    """A varint read as protobuf's ``int32`` (its low 32 bits) or ``int64``, two's complement."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def decode_model(buf: bytes) -> Model:
    """The ``ModelProto`` serialized in ``buf``. WireError when malformed, NotUtf8Error when a string it reads
    is not UTF-8."""
    decoder = _Decoder(buf)
    return decoder.model([(0, len(buf))])
