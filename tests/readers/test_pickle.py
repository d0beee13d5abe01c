"""The safe unpickler called directly: what each stand-in accepts and refuses, what is counted against which
limit, and how the loaded tree is measured (check_tree) and walked (iter_tensors)."""

from __future__ import annotations

import dataclasses
import pickle
import struct
from typing import Any

import pytest

from driftguard.errors import ExtractionError, LimitError, RefusedError
from driftguard.readers import pickle as sp
from driftguard.readers.limits import Limits
from tests.readers.opcodes import P2
from tests.readers.opcodes import glob as g
from tests.readers.opcodes import text as s


def i64(n: int) -> bytes:
    return b"\x8a\x09" + n.to_bytes(9, "little", signed=True)


def tup(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def storage(dtype_class: str = "torch.FloatStorage", numel: bytes = b"K\x06") -> bytes:
    """A BINPERSID storage: ('storage', <type>, '0', 'cpu', numel)."""
    return tup(s("storage"), g(dtype_class), s("0"), s("cpu"), numel) + b"Q"


def tensor(size: bytes, dtype_class: str = "torch.FloatStorage") -> bytes:
    """torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())."""
    return g("torch._utils._rebuild_tensor_v2") + tup(storage(dtype_class), b"K\x00", size, tup(b"K\x01"),
                                                       b"\x89", g("collections.OrderedDict") + b")R") + b"R"


def load(body: bytes, limits: Limits | None = None) -> Any:
    return sp.loads(P2 + body + b".", "t.pkl", limits or Limits())


# --- records --------------------------------------------------------------------------------------------

def test_records_are_frozen_value_objects() -> None:
    t = sp.TensorRecord((2, 3), "float32", 6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.dtype = "int8"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        t.extra = 1  # type: ignore[attr-defined]  # slots: no per-instance attributes
    st = sp.StorageRecord("float32", "0", "cpu", 6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.numel = 0  # type: ignore[misc]
    assert sp.TensorRecord((2, 3), "float32", 6) == t and hash(t) == hash(sp.TensorRecord((2, 3), "float32", 6))


def test_a_tensor_becomes_a_record_with_its_storage_dtype() -> None:
    out = load(b"}" + s("w") + tensor(tup(b"K\x02", b"K\x03"), "torch.HalfStorage") + b"s")
    assert out == {"w": sp.TensorRecord((2, 3), "float16", 6)}


def test_recorded_object_fields_merge_slot_state() -> None:
    obj = sp.ALLOWED["argparse.Namespace"]()
    obj.state = ({"a": 1}, {"b": 2})
    assert obj.fields() == {"a": 1, "b": 2}
    obj.state = (None, {"b": 2})
    assert obj.fields() == {"b": 2}
    obj.state = ("x", 3)
    assert obj.fields() == {}
    obj.state = {1: "x"}
    assert obj.fields() == {"1": "x"}


# --- tensor shapes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "message"), [
    (s("x"), "tuple of ints"),
    (tup(b"\x88"), "tuple of ints"),              # a bool is not a dimension
    (tup(b"J" + struct.pack("<i", -1)), "outside"),
    (tup(i64(2**63)), "outside"),
    (tup(i64(2**62), i64(2**62)), "2\\*\\*63 elements"),
    (tup(i64(2**62), b"K\x02"), "2\\*\\*63 elements"),  # exactly 2**63 elements: one too many for an int64
])
def test_bad_tensor_sizes_are_corrupt(size: bytes, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        load(b"}" + s("w") + tensor(size) + b"s")


def test_largest_legal_dimension_and_rank_limit() -> None:
    out = load(b"}" + s("w") + tensor(tup(i64(2**63 - 1))) + b"s")
    assert out["w"].numel == 2**63 - 1
    dims = tup(*[b"K\x01"] * 64)
    assert load(b"}" + s("w") + tensor(dims) + b"s")["w"].shape == (1,) * 64
    with pytest.raises(LimitError) as exc:
        load(b"}" + s("w") + tensor(tup(*[b"K\x01"] * 65)) + b"s")
    assert exc.value.limit == "rank"
    assert load(b"}" + s("w") + tensor(tup(*[b"K\x01"] * 65)) + b"s", Limits(rank=65))["w"].numel == 1


# --- the other stand-ins --------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    (g("torch._utils._rebuild_tensor_v2") + tup(s("no storage"), b"K\x00", tup(), tup(), b"\x89", b"N") + b"R",
     "storage record"),
    (g("torch._utils._rebuild_parameter") + tup(s("data"), b"\x89", b"N") + b"R", "parameter data"),
    (g("torch._tensor._rebuild_from_type_v2") + tup(g("torch.Size"), b"N", tup(), b"N") + b"R", "rebuild"),
    (g("torch._tensor._rebuild_from_type_v2") + tup(g("torch._utils._rebuild_parameter"), b"N", s("x"), b"N")
     + b"R", "rebuild"),
    (g("torch.Size") + tup(b"K\x01") + b"R", "sequence"),
    (g("torch.device") + tup(b"N") + b"R", "device"),
    (g("torch.device") + tup(b"\x88") + b"R", "device"),
    (g("_codecs.encode") + tup(b"K\x01", s("latin1")) + b"R", "bytes"),
    (g("_codecs.encode") + tup(s("x"), s("rot13")) + b"R", "bytes"),
    (g("builtins.bytearray") + tup(b"J\x00\x00\x00\x7f") + b"R", "bytearray"),
    (g("builtins.set") + tup(b"K\x01") + b"R", "set of"),
    (g("builtins.frozenset") + tup(s("ab")) + b"R", "frozenset of"),
    (g("builtins.complex") + tup(s("1")) + b"R", "complex"),
    (g("builtins.complex") + tup(b"\x88", b"K\x01") + b"R", "complex"),
    (g("copyreg._reconstructor") + tup(g("builtins.object"), g("builtins.object"), b"N") + b"R", "allowlisted"),
    (g("copyreg.__newobj__") + tup(g("builtins.dict")) + b"R", "allowlisted"),
])
def test_stand_ins_refuse_misuse(body: bytes, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        load(body)


@pytest.mark.parametrize(("body", "expected"), [
    (g("torch.Size") + tup(tup(b"K\x02", b"K\x03")) + b"R", (2, 3)),
    (g("torch.Size") + b")R", ()),
    (g("torch.device") + tup(s("cuda"), b"K\x01") + b"R", "cuda:1"),
    (g("_codecs.encode") + tup(s("\u00ff"), s("latin1")) + b"R", b"\xff"),
    (g("builtins.bytearray") + tup(s("ab")) + b"R", bytearray(b"ab")),
    (g("builtins.bytearray") + b")R", bytearray()),
    (g("builtins.set") + tup(b"]K\x01a") + b"R", {1}),
    (g("builtins.frozenset") + b")R", frozenset()),
    (g("builtins.complex") + tup(b"K\x01", b"K\x02") + b"R", 1 + 2j),
    (g("builtins.complex") + b")R", 0j),
    (g("torch.serialization._get_layout") + tup(s("torch.strided")) + b"R", "torch.strided"),
    (g("torch.serialization._get_layout") + tup(b"K\x01") + b"R", "layout"),
    (g("torch.bfloat16"), "bfloat16"),
])
def test_stand_ins_build_plain_values(body: bytes, expected: Any) -> None:
    assert load(body) == expected


def test_record_classes_build_through_reduce_newobj_and_reconstructor() -> None:
    ns = "argparse.Namespace"
    for body in (g(ns) + b")R", g(ns) + b")\x81", g("copyreg._reconstructor") + tup(g(ns), g("builtins.object"),
                                                                                      b"N") + b"R",
                 g("copyreg.__newobj__") + tup(g(ns)) + b"R"):
        obj = load(body + b"}" + s("lr") + b"K\x01sb")
        assert isinstance(obj, sp.RecordedObject) and obj.fields() == {"lr": 1}
    od = load(g("collections.OrderedDict") + b")R" + s("a") + b"K\x01s")
    assert isinstance(od, sp.RecordedDict) and od == {"a": 1}


# --- persistent ids -----------------------------------------------------------------------------------------

def test_persistent_ids() -> None:
    assert load(storage()) == sp.StorageRecord("float32", "0", "cpu", 6)
    assert load(storage(numel=b"\x88")).numel == 0  # a bool is no element count
    assert load(storage(numel=s("6"))).numel == 0
    with pytest.raises(RefusedError, match="pickled module"):
        load(tup(s("module"), b"N", b"N", b"N") + b"Q")
    for bad in (tup(s("storage"), s("torch.FloatStorage"), s("0"), s("cpu"), b"K\x01") + b"Q",  # type not a global
                tup(s("storage"), g("torch.FloatStorage"), s("0"), s("cpu")) + b"Q",          # too short
                tup(s("blob"), g("torch.FloatStorage"), s("0"), s("cpu"), b"K\x01") + b"Q",
                s("storage") + b"Q"):
        with pytest.raises(ExtractionError, match="persistent id"):
            load(bad)


def test_legacy_persistent_ids_carry_view_metadata() -> None:
    pid = tup(s("storage"), g("torch.FloatStorage"), s("0"), s("cpu"), b"K\x04", b"N") + b"Q"
    data = P2 + pid + b"."
    assert sp.load(__import__("io").BytesIO(data), "l.pt", legacy=True) == sp.StorageRecord("float32", "0", "cpu", 4)
    with pytest.raises(ExtractionError, match="persistent id"):
        sp.loads(data, "z.pt")  # a 6-tuple is not a zip-format id


# --- counting -----------------------------------------------------------------------------------------------

def test_opcodes_and_built_objects_are_counted_against_their_limits() -> None:
    body = b"]" + b"Na" * 10  # PROTO, EMPTY_LIST, 10 x (NONE, APPEND), STOP: 23 opcodes
    assert load(body, Limits(pickle_ops=23)) == [None] * 10
    with pytest.raises(LimitError) as exc:
        load(body, Limits(pickle_ops=22))
    assert exc.value.limit == "pickle_ops"
    lists = b"]" + b"]a" * 10  # 11 containers built
    assert len(load(lists, Limits(objects=11))) == 10
    with pytest.raises(LimitError) as exc:
        load(lists, Limits(objects=10))
    assert exc.value.limit == "objects"
    # Scalars are not built objects in the unpickler (one list built), but the tree counts every value.
    with pytest.raises(LimitError, match="object tree"):
        load(b"]" + b"Na" * 10, Limits(objects=10))


def test_integer_digits_are_counted_without_converting() -> None:
    digits = Limits().int_digits
    ok = 10 ** (digits - 1)
    raw = ok.to_bytes((ok.bit_length() + 8) // 8, "little", signed=True)
    assert load(b"\x8a" + bytes([len(raw)]) + raw) == ok
    big = 10 ** (digits + 5)
    raw = big.to_bytes((big.bit_length() + 8) // 8, "little", signed=True)
    with pytest.raises(LimitError) as exc:
        load(b"\x8b" + struct.pack("<i", len(raw)) + raw)
    assert exc.value.limit == "int_digits"
    assert load(b"I01\n") is True  # protocol 0 spells True as INT 01


def test_errors_name_the_file() -> None:
    with pytest.raises(LimitError) as exc:
        load(b"}" + s("w") + tensor(tup(*[b"K\x01"] * 65)) + b"s")
    assert exc.value.path == "t.pkl"


# --- the tree -----------------------------------------------------------------------------------------------

def test_check_tree_counts_shared_objects_where_referenced() -> None:
    shared = [1, 2, 3]              # 4 values
    tree = {"a": shared, "b": shared}  # 1 + 2 keys + 2 * 4
    sp.check_tree(tree, "x", Limits(objects=11))
    with pytest.raises(LimitError) as exc:
        sp.check_tree(tree, "x", Limits(objects=10))
    assert exc.value.limit == "objects"


def test_check_tree_depth_is_the_longest_path() -> None:
    deep: Any = 0
    for _ in range(10):
        deep = [deep]
    sp.check_tree({"x": deep, "y": [[1]]}, "x", Limits(depth=11))
    with pytest.raises(LimitError) as exc:
        sp.check_tree({"x": deep}, "x", Limits(depth=10))
    assert exc.value.limit == "depth"


def test_check_tree_depth_counts_a_shared_subtree_where_it_is_referenced_deepest() -> None:
    chain: Any = 0
    for _ in range(8):
        chain = [chain]  # 8 deep on its own
    deep: Any = chain
    for _ in range(8):
        deep = [deep]  # the same chain again, 8 levels further down
    tree = [chain, deep]  # sized first where it is shallow, then referenced deep: 1 + 8 + 8 lists
    sp.check_tree(tree, "x", Limits(depth=17))
    with pytest.raises(LimitError) as exc:
        sp.check_tree(tree, "x", Limits(depth=16))
    assert exc.value.limit == "depth"


def test_check_tree_refuses_cycles_and_counts_tensors() -> None:
    loop: list[Any] = []
    loop.append([loop])
    with pytest.raises(ExtractionError, match="cycle"):
        sp.check_tree({"x": loop}, "x")
    t = sp.TensorRecord((1,), "float32", 1)
    sp.check_tree([t, t, [t]], "x", Limits(tensors=3))
    with pytest.raises(LimitError) as exc:
        sp.check_tree([t, t, [t]], "x", Limits(tensors=2))
    assert exc.value.limit == "tensors"
    sp.check_tree(5, "x", Limits(objects=1, depth=1))  # a bare scalar is no tree


def test_check_tree_sizes_each_container_once() -> None:
    shared: Any = [0] * 1000
    tree = [shared] * 200  # 200 references, measured in time linear in the distinct objects
    sp.check_tree(tree, "x", Limits(objects=1 + 200 * 1001))
    with pytest.raises(LimitError):
        sp.check_tree(tree, "x", Limits(objects=200 * 1001))


def test_iter_tensors_walks_dicts_lists_and_tuples_in_order() -> None:
    t1, t2, t3 = (sp.TensorRecord((i,), "float32", i) for i in (1, 2, 3))
    tree = {"a": t1, "b": [t2, {"c": (t3,)}], "d": {t1}, "e": 5}
    assert list(sp.iter_tensors(tree)) == [("a", t1), ("b.0", t2), ("b.1.c.0", t3)]
    assert list(sp.iter_tensors(tree, "sd")) == [("sd.a", t1), ("sd.b.0", t2), ("sd.b.1.c.0", t3)]
    assert list(sp.iter_tensors(t1, "w")) == [("w", t1)]
    assert list(sp.iter_tensors(7)) == []


def test_children() -> None:
    assert sp.children({"a": 1}) == ("a", 1)
    assert sp.children([1, 2]) == (1, 2)
    assert sp.children(3) is None
    obj = sp.ALLOWED["argparse.Namespace"](1)
    obj.state = {"x": 2}
    assert sp.children(obj) == ((1,), {"x": 2})


def test_describe_names_stand_ins() -> None:
    with pytest.raises(RefusedError, match=r"allowlisted global torch\.Tensor"):
        load(g("torch.Tensor") + s("k") + s("v") + b"s")
    with pytest.raises(RefusedError, match="allowlisted global _size"):
        load(g("torch.Size") + s("v") + b"a")
    with pytest.raises(RefusedError, match="BUILD on a str"):
        load(s("x") + b"}b")


def test_unhashable_keys_are_corrupt() -> None:
    with pytest.raises(ExtractionError, match="unhashable"):
        load(b"}" + b"]" + s("v") + b"s")
    with pytest.raises(ExtractionError, match="unhashable"):
        load(b"\x8f(]\x90")


def test_a_plain_pickle_round_trips() -> None:
    value = {"a": [1, 2.5, "s", None, True], "b": (1, (2,)), "c": b"\x00", "d": {"n": -(2**40)}}
    for protocol in (0, 1, 2, 3, 4, 5):
        assert sp.loads(pickle.dumps(value, protocol=protocol), "rt.pkl") == value
