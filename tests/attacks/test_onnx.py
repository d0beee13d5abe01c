"""Hostile ONNX models: every crafted graph is exit 2 with one line naming the limit that stopped the walk, with
bounded reads and memory; payloads are skipped wherever a tensor can hide; DG401 reads external data only from
regular files inside the model's folder, within their size. Models are built here, at the wire level where
onnx.helper would refuse them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from driftguard.errors import DriftguardError  # noqa: E402
from driftguard.extractors import onnx as onnx_extractor  # noqa: E402
from driftguard.extractors.base import ExtractOptions  # noqa: E402
from driftguard.readers import onnx_wire  # noqa: E402
from driftguard.readers.limits import DEFAULT  # noqa: E402
from driftguard.readers.protowire import encode_varint  # noqa: E402

from .bounded import run_cli  # noqa: E402

BACKEND_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"


# -- wire-level builders -------------------------------------------------------------------------------------

def fld(number: int, body: bytes) -> bytes:
    """A LEN field."""
    return encode_varint(number << 3 | 2) + encode_varint(len(body)) + body


def vint(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value)


def model_bytes(graph: bytes, extra: bytes = b"") -> bytes:
    """ModelProto: ir_version 8, opset 17, ``extra`` fields, then the graph (field 7)."""
    return vint(1, 8) + fld(8, fld(1, b"") + vint(2, 17)) + extra + fld(7, graph)


RELU = fld(1, fld(1, b"x") + fld(2, b"y") + fld(4, b"Relu"))  # GraphProto.node


def write(tmp_path: Path, data: bytes, name: str = "model.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- limits, each at its default -----------------------------------------------------------------------------

@pytest.mark.slow
def test_more_nodes_than_the_limit_stops_while_walking(tmp_path: Path) -> None:
    path = write(tmp_path, model_bytes(RELU * (DEFAULT.onnx_nodes + 1)))
    res = run_cli(["extract", str(path)])
    res.assert_input_error(str(path), f"more than {DEFAULT.onnx_nodes} nodes")
    res.assert_limit("onnx_nodes")
    res.assert_bounded()


def test_nodes_in_subgraphs_and_functions_count_too(tmp_path: Path) -> None:
    branch = fld(5, fld(1, b"then_branch") + vint(20, 5) + fld(6, RELU * 3))  # attribute g: 3 nodes
    function = fld(1, b"f") + fld(10, b"local") + RELU.replace(b"\x0a", b"\x3a", 1) * 3  # FunctionProto.node 7
    path = write(tmp_path, model_bytes(fld(1, fld(4, b"If") + branch), extra=fld(25, function)))
    run_cli(["extract", str(path), "--limit", "onnx_nodes=6"]).assert_input_error("more than 6 nodes")
    assert run_cli(["extract", str(path), "--limit", "onnx_nodes=7"]).rc == 0


@pytest.mark.slow
def test_millions_of_node_inputs_stop_on_the_field_budget(tmp_path: Path) -> None:
    node = fld(1, fld(1, b"") * 5_000_000 + fld(4, b"Sum"))
    path = write(tmp_path, model_bytes(node))
    res = run_cli(["extract", str(path)])
    res.assert_input_error("fields")
    res.assert_limit("onnx_fields")
    res.assert_bounded()


def test_unpacked_tensor_elements_stop_on_the_field_budget(tmp_path: Path) -> None:
    n = DEFAULT.onnx_fields + 1000
    tensor = vint(1, n) + vint(2, 1) + fld(8, b"W") + (encode_varint(4 << 3 | 5) + b"\0\0\0\0") * n
    path = write(tmp_path, model_bytes(fld(5, tensor)))
    res = run_cli(["extract", str(path)])
    res.assert_input_error("fields")
    res.assert_limit("onnx_fields")
    res.assert_bounded()


@pytest.mark.slow
def test_more_tensors_than_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, model_bytes(fld(5, fld(8, b"t")) * (DEFAULT.tensors + 1)))
    res = run_cli(["extract", str(path)])
    res.assert_limit("tensors")
    res.assert_bounded()


def test_subgraphs_nested_past_the_depth_limit(tmp_path: Path) -> None:
    graph = RELU
    for _ in range(DEFAULT.depth + 5):
        graph = fld(1, fld(4, b"If") + fld(5, fld(1, b"then_branch") + vint(20, 5) + fld(6, graph)))
    path = write(tmp_path, model_bytes(graph))
    res = run_cli(["extract", str(path)])
    res.assert_limit("depth")
    res.assert_bounded()


@pytest.mark.parametrize("packed", [True, False])
def test_tensor_rank_past_the_limit(tmp_path: Path, packed: bool) -> None:
    rank = DEFAULT.rank + 1
    dims = fld(1, encode_varint(1) * rank) if packed else vint(1, 1) * rank
    path = write(tmp_path, model_bytes(fld(5, dims + vint(2, 1) + fld(8, b"W"))))
    run_cli(["extract", str(path)]).assert_input_error("rank limit")


def test_huge_declared_dims_are_refused_not_multiplied_into_a_giant_number(tmp_path: Path) -> None:
    dims = fld(1, encode_varint(2**62) * DEFAULT.rank)
    path = write(tmp_path, model_bytes(fld(5, dims + vint(2, 1) + fld(8, b"W"))))
    res = run_cli(["extract", str(path)])
    res.assert_input_error("initializer 'W'", "over 2**63 elements")
    res.assert_bounded()


def test_metadata_past_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, model_bytes(fld(10, b"d" * (2 << 20))))  # GraphProto.doc_string
    run_cli(["extract", str(path), "--limit", "onnx_metadata_bytes=1M"]).assert_input_error(
        "onnx_metadata_bytes limit")
    assert run_cli(["extract", str(path)]).rc == 0


def test_nested_groups_are_refused_without_recursion(tmp_path: Path) -> None:
    depth = 200_000
    groups = b"".join(encode_varint(n << 3 | 3) for n in range(1, depth + 1))
    groups += b"".join(encode_varint(n << 3 | 4) for n in range(depth, 0, -1))
    path = write(tmp_path, model_bytes(RELU + groups))
    res = run_cli(["extract", str(path)])
    res.assert_input_error("not an ONNX model", "groups nested")
    res.assert_bounded(read_at_most=path.stat().st_size)  # one pass at most, stopped at the first deep group


@pytest.mark.slow
@pytest.mark.parametrize("data", [b"\x08\x08\x3a\x05\x0a\x03", b"\x08\x08\x3a\xff\xff\xff\xff\x0f",
                                  b"\x08" + b"\xff" * 20, b"\x08\x08\x3a\x02\x0a\x05", b"\x08\x08\x3f",
                                  b"\x08\x08\x00"])
def test_malformed_wire_is_one_line(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    run_cli(["extract", str(path)]).assert_input_error("not an ONNX model")


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.onnx"
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)
    else:
        path.mkdir()
    res = run_cli(["extract", f"onnx:{path}"])
    assert res.rc == 2, res.stderr
    res.assert_bounded(read_at_most=0)


# -- payloads skipped wherever a tensor can hide --------------------------------------------------------------

BIG = np.arange(256 * 1024, dtype=np.float32)  # 1 MiB


def _hiding_places() -> dict[str, onnx.ModelProto]:
    big = numpy_helper.from_array(BIG, "big")
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(BIG, "sv"),
                                       numpy_helper.from_array(np.arange(BIG.size, dtype=np.int64), "si"),
                                       [BIG.size * 2])
    inner = helper.make_graph([helper.make_node("Identity", ["big"], ["z"])], "inner", [],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], [big])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)

    def model(nodes: list[onnx.NodeProto], **kw: object) -> onnx.ModelProto:
        graph = helper.make_graph(nodes, "g", [x], [y], **kw)  # type: ignore[arg-type]
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    places = {
        "constant t": model([helper.make_node("Constant", [], ["y"], value=big)]),
        "attribute tensors": model([helper.make_node("Custom", ["x"], ["y"], domain="x", ts=[big, big])]),
        "constant sparse_tensor": model([helper.make_node("Constant", [], ["y"], sparse_value=sparse)]),
        "sparse_initializer": model([helper.make_node("Identity", ["x"], ["y"])], sparse_initializer=[sparse]),
        "subgraph initializer": model([helper.make_node("If", ["x"], ["y"], then_branch=inner, else_branch=inner)]),
        "attribute graphs": model([helper.make_node("Custom", ["x"], ["y"], domain="x", gs=[inner, inner])]),
    }
    fn = helper.make_function("local", "f", ["a"], ["b"], [helper.make_node("Constant", [], ["b"], value=big)],
                              [helper.make_opsetid("", 17)])
    with_fn = model([helper.make_node("f", ["x"], ["y"], domain="local")])
    with_fn.functions.append(fn)
    with_fn.opset_import.append(helper.make_opsetid("local", 1))
    places["function node"] = with_fn
    training = model([helper.make_node("Identity", ["x"], ["y"])])
    info = training.training_info.add()
    info.initialization.CopyFrom(inner)
    info.algorithm.CopyFrom(inner)
    places["training_info graphs"] = training
    return places


@pytest.mark.parametrize("place", sorted(_hiding_places()))
def test_payloads_are_skipped_wherever_they_hide(tmp_path: Path, place: str) -> None:
    model = _hiding_places()[place]
    data = model.SerializeToString()
    assert len(data) > 1 << 20
    reduced = onnx_wire.strip_payloads(data)
    assert len(reduced) < 4096, place
    assert onnx.ModelProto.FromString(bytes(reduced)).graph.name == "g"
    path = write(tmp_path, data)
    onnx_extractor.extract(path, ExtractOptions())  # parses the reduced model


def test_file_and_bytes_walks_agree_on_hidden_payloads(tmp_path: Path) -> None:
    for place, model in _hiding_places().items():
        path = write(tmp_path, model.SerializeToString(), "m.onnx")
        assert onnx_wire.read_without_payloads(path) == onnx_wire.strip_payloads(path.read_bytes()), place


# -- DG401: external data stays inside the model's folder ----------------------------------------------------

def _dg401_case(tmp_path: Path, external: dict[str, str]) -> Path:
    """A manifest checking a safetensors training file against an ONNX model whose initializer W has the
    given external_data entries."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    weights = np.ones((4, 4), dtype=np.float32)
    safetensors_numpy.save_file({"W": weights}, str(tmp_path / "train.safetensors"))
    (tmp_path / "model.onnx.data").write_bytes(weights.tobytes())
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4])
    w.data_location = TensorProto.EXTERNAL
    for key, value in external.items():
        w.external_data.add(key=key, value=value)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "model.onnx"))
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  clf:\n"
                        "    training: [{path: train.safetensors}]\n"
                        "    deployment: [{path: model.onnx}]\n"
                        "rules: {enable: [DG401]}\n", encoding="utf-8")
    return manifest


@pytest.mark.slow
def test_dg401_honest_external_data_passes(tmp_path: Path) -> None:
    manifest = _dg401_case(tmp_path, {"location": "model.onnx.data", "offset": "0", "length": "64"})
    res = run_cli(["check", "--config", str(manifest)])
    assert res.rc == 0, res.stdout + res.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("external", "needle"), [
    ({"location": "/etc/passwd"}, "outside the model's folder"),
    ({"location": "../outside.bin"}, "outside the model's folder"),
    ({"location": "link.bin"}, "outside"),
    ({"location": "sub"}, "folder"),
    ({"location": "fifo"}, "FIFO"),
    ({"location": "model.onnx.data", "offset": "60", "length": "64"}, "beyond the end"),
    ({"location": "model.onnx.data", "offset": "9999999999"}, "beyond the end"),
    ({"location": "model.onnx.data", "length": "-5"}, "not a byte count"),
    ({"location": "model.onnx.data", "offset": "1" * 5000}, "not a byte count"),
    ({"location": "model.onnx.data", "length": "8"}, "initializer 'W'"),
    ({"location": "missing.bin"}, "no such file"),
])
def test_dg401_hostile_external_data(tmp_path: Path, external: dict[str, str], needle: str) -> None:
    (tmp_path.parent / "outside.bin").write_bytes(b"\0" * 64)
    os.symlink(tmp_path.parent / "outside.bin", tmp_path / "link.bin")
    (tmp_path / "sub").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
    elif external["location"] == "fifo":
        pytest.skip("no FIFOs here")
    manifest = _dg401_case(tmp_path, external)
    res = run_cli(["check", "--config", str(manifest)])
    res.assert_input_error("model.onnx", needle)
    if needle != "initializer 'W'":
        res.assert_input_error("initializer 'W'")
    res.assert_bounded()
    # Nothing outside the model's folder is opened, and the data file gives no more than the entry's length.
    assert res.opened_outside(tmp_path) == []
    length = external.get("length", "0")
    assert res.read_of(tmp_path / "model.onnx.data").read <= (int(length) if length.isdigit() else 0)


# -- property: mutated real models raise nothing but DriftguardError ------------------------------------------

def _seeds() -> list[bytes]:
    paths = sorted(BACKEND_DATA.rglob("*.onnx"))[::25] if BACKEND_DATA.is_dir() else []
    seeds = [p.read_bytes() for p in paths if p.stat().st_size < 200_000]
    seeds += [m.SerializeToString() for m in _hiding_places().values()][:2]
    return seeds


SEEDS = _seeds()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(seed=st.integers(0, max(0, len(SEEDS) - 1)), edits=st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from(["flip", "cut", "insert", "byte"]), st.binary(min_size=1, max_size=8)),
    min_size=1, max_size=4))
def test_mutated_models_raise_only_driftguard_errors(tmp_path: Path, seed: int,
                                                      edits: list[tuple[float, str, bytes]]) -> None:
    data = bytearray(SEEDS[seed])
    for where, how, blob in edits:
        at = int(where * max(0, len(data) - 1))
        if how == "flip" and data:
            data[at] ^= blob[0] or 1
        elif how == "cut":
            del data[at:at + blob[0]]
        elif how == "insert":
            data[at:at] = blob
        elif data:
            data[at] = blob[0]
    path = tmp_path / "mutated.onnx"
    path.write_bytes(bytes(data))
    with contextlib.suppress(DriftguardError):
        onnx_extractor.extract(path, ExtractOptions())
