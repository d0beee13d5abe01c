"""driftguard's ModelProto decoder agrees with onnx's own parser: on every graph onnx ships for its backend tests
(model-zoo architectures such as ResNet-50, DenseNet-121 and Inception, and models converted from PyTorch), on
onnxruntime's sample models, and on crafted messages that exercise each protobuf rule the decoder follows
(merging, last value wins, packed or not, oneofs, int32 truncation, enums, unexpected wire types). The tests
import onnx; the decoder does not."""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from driftguard.readers import onnx_wire
from driftguard.readers.onnx_proto import (
    DATA_LOCATIONS,
    DATA_TYPES,
    MAX_NESTING,
    Attribute,
    Dim,
    Entry,
    Graph,
    Model,
    Node,
    NotUtf8Error,
    OpsetId,
    SparseTensor,
    Tensor,
    ValueInfo,
    ValueType,
    decode_model,
)
from driftguard.readers.protowire import WireError, encode_varint

BACKEND_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
ORT_DATASETS = Path(onnxruntime.__file__).parent / "datasets"


# -- the same records, read through onnx's parser --------------------------------------------------------------

def from_onnx(m: onnx.ModelProto) -> Model:
    """What driftguard's decoder should give, built from onnx's parsed message."""
    return Model(m.ir_version, m.producer_name, m.producer_version, m.domain, m.model_version, m.doc_string,
                 _graph(m.graph) if m.HasField("graph") else None,
                 tuple(OpsetId(o.domain, o.version) for o in m.opset_import),
                 tuple(Entry(e.key, e.value) for e in m.metadata_props),
                 tuple(tuple(_node(n) for n in f.node) for f in m.functions))


def _graph(g: onnx.GraphProto) -> Graph:
    return Graph(g.name, tuple(_node(n) for n in g.node), tuple(_tensor(t) for t in g.initializer),
                 tuple(SparseTensor(_tensor(s.values), tuple(s.dims)) for s in g.sparse_initializer),
                 tuple(_value_info(v) for v in g.input), tuple(_value_info(v) for v in g.output))


def _node(n: onnx.NodeProto) -> Node:
    return Node(n.op_type, n.name, tuple(n.input),
                tuple(Attribute(a.name, a.i, _graph(a.g) if a.HasField("g") else None,
                                tuple(_graph(g) for g in a.graphs)) for a in n.attribute))


def _tensor(t: onnx.TensorProto) -> Tensor:
    return Tensor(t.name, tuple(t.dims), t.data_type, t.data_location,
                  tuple(Entry(e.key, e.value) for e in t.external_data))


def _value_info(v: onnx.ValueInfoProto) -> ValueInfo:
    return ValueInfo(v.name, _type(v.type))


def _type(t: onnx.TypeProto) -> ValueType:
    which = t.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type"):
        inner = getattr(t, which)
        shape = tuple(Dim(d.WhichOneof("value"), d.dim_value, d.dim_param) for d in inner.shape.dim) \
            if inner.HasField("shape") else None
        return ValueType(which, inner.elem_type, shape)
    if which in ("sequence_type", "optional_type"):
        return ValueType(which, 0, None, _type(getattr(t, which).elem_type))
    if which == "map_type":
        return ValueType(which, t.map_type.key_type, None, _type(t.map_type.value_type))
    return ValueType(which)


def agree(data: bytes) -> Model:
    """Decode ``data`` both ways, assert they agree, return driftguard's record."""
    ours = decode_model(data)
    assert ours == from_onnx(onnx.ModelProto.FromString(data))
    return ours


def graph_of(model: Model) -> Graph:
    assert model.graph is not None
    return model.graph


# -- the schema's enums ------------------------------------------------------------------------------------------

def test_data_types_are_onnx_s() -> None:
    installed = {number: name for name, number in TensorProto.DataType.items()}
    assert {n: DATA_TYPES[n] for n in installed} == installed  # newer onnx schemas only add numbers
    assert all(n > max(installed) for n in set(DATA_TYPES) - set(installed))


def test_data_locations_are_onnx_s() -> None:
    assert set(TensorProto.DataLocation.values()) == DATA_LOCATIONS


# -- real graphs ----------------------------------------------------------------------------------------------

def real_graphs() -> list[Path]:
    return sorted(BACKEND_DATA.rglob("*.onnx")) + sorted(ORT_DATASETS.glob("*.onnx"))


@pytest.mark.parametrize("path", real_graphs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_agrees_with_onnx_on_real_graphs(path: Path) -> None:
    data = path.read_bytes()
    model = agree(data)
    # The model without payloads (what the extractor decodes) holds the same metadata.
    assert decode_model(bytes(onnx_wire.strip_payloads(data))) == model


def test_the_corpus_is_there() -> None:
    graphs = real_graphs()
    assert len(graphs) >= 100
    assert any(p.name == "light_resnet50.onnx" for p in graphs)


# -- protobuf's rules, each checked against onnx's parser -------------------------------------------------------

def field(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def number_field(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value & (2**64 - 1))


def typed_model(*type_protos: bytes, dims: bytes = b"") -> bytes:
    value_info = field(1, b"x") + b"".join(field(2, t) for t in type_protos)
    tensor = field(8, b"W") + number_field(2, 1) + dims
    return number_field(1, 8) + field(7, field(11, value_info) + field(5, tensor))


def test_a_singular_message_met_twice_is_merged() -> None:
    # graph (7) twice: the name from the first, the node from the second; ir_version twice: the last wins.
    data = number_field(1, 3) + field(7, field(2, b"g")) + number_field(1, 9) + field(7, field(1, field(4, b"Relu")))
    model = agree(data)
    assert model.ir_version == 9 and model.graph == Graph("g", (Node("Relu"),))


def test_repeated_numbers_packed_or_not() -> None:
    unpacked = number_field(1, 2) + number_field(1, 3)
    packed = field(1, encode_varint(4) + encode_varint(5))
    assert graph_of(agree(typed_model(dims=unpacked + packed))).initializer[0].dims == (2, 3, 4, 5)


def test_the_last_oneof_member_wins_and_starts_anew() -> None:
    tensor_a = field(1, number_field(1, 1) + field(2, b""))  # tensor_type: FLOAT, shape []
    sequence = field(4, field(1, field(1, number_field(1, 7))))
    tensor_b = field(1, number_field(1, 6))  # tensor_type: INT32, no shape (the first one was cleared)
    model = agree(typed_model(tensor_a + sequence + tensor_b))
    assert graph_of(model).input[0].type == ValueType("tensor_type", 6, None)
    dims = field(1, number_field(1, 4) + field(2, b"n"))  # dim_value then dim_param: the param wins
    shaped = field(1, number_field(1, 1) + field(2, dims))
    model = agree(typed_model(shaped))
    assert graph_of(model).input[0].type.shape == (Dim("dim_param", 0, "n"),)


def test_int32_keeps_its_low_bits_and_int64_its_sign() -> None:
    shape = field(2, field(1, number_field(1, -1)))  # one dim, dim_value -1
    value_info = field(1, b"x") + field(2, field(1, number_field(1, 2**32 + 7) + shape))
    model = agree(number_field(1, -5) + field(7, field(11, value_info)))
    assert model.ir_version == -5
    assert graph_of(model).input[0].type == ValueType("tensor_type", 7, (Dim("dim_value", -1),))


def test_an_enum_value_outside_the_enum_leaves_the_field_unset() -> None:
    tensor = field(8, b"W") + number_field(14, 1) + number_field(14, 5)
    model = agree(number_field(1, 8) + field(7, field(5, tensor)))
    assert graph_of(model).initializer[0].data_location == 1


def test_a_field_with_an_unexpected_wire_type_is_unknown() -> None:
    # ir_version as a LEN, graph as a varint, an unknown fixed64 and a group: all skipped.
    data = (number_field(1, 8) + field(1, b"xx") + number_field(7, 3) + encode_varint(99 << 3 | 1) + bytes(8)
            + encode_varint(98 << 3 | 3) + number_field(1, 1) + encode_varint(98 << 3 | 4))
    model = agree(data)
    assert model.ir_version == 8 and model.graph is None


def test_subgraphs_functions_and_sparse_initializers() -> None:
    body = helper.make_graph([helper.make_node("Identity", ["a"], ["b"])], "body", [], [])
    node = helper.make_node("If", ["c"], ["o"], then_branch=body, else_branch=body, bits=4)
    sparse = helper.make_sparse_tensor(helper.make_tensor("v", TensorProto.FLOAT, [2], [1.0, 2.0]),
                                       helper.make_tensor("i", TensorProto.INT64, [2], [0, 3]), [4])
    graph = helper.make_graph([node], "g", [], [], sparse_initializer=[sparse])
    fn = helper.make_function("local", "f", ["x"], ["y"], [helper.make_node("Relu", ["x"], ["y"])],
                              [helper.make_opsetid("", 17)])
    model = agree(helper.make_model(graph, functions=[fn]).SerializeToString())
    assert model.function_nodes == ((Node("Relu", "", ("x",)),),)
    assert graph_of(model).sparse_initializer[0].dims == (4,)


# -- malformed input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"\x3a\x05\x0a", b"\x00\x01", b"\x3a\x02\x0c\x00", b"\x3a\x01\x0f",
                                  b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"])
def test_malformed_messages_are_wire_errors(data: bytes) -> None:
    with pytest.raises(WireError):
        decode_model(data)


def test_nesting_is_bounded_as_protobuf_bounds_it() -> None:
    inner = b""
    for _ in range(MAX_NESTING):
        inner = field(4, field(1, inner))  # sequence of sequence of ...
    with pytest.raises(WireError, match="nested more than"):
        decode_model(typed_model(inner))


def test_a_string_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(NotUtf8Error):
        decode_model(number_field(1, 8) + field(2, b"\xff\xfe"))
