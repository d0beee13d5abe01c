"""The ONNX Runtime runner (``parity.runners.onnxruntime``) on real sessions of tiny graphs built here with
``onnx.helper`` (nothing downloads, nothing of onnxruntime is faked): the session options it sets, the execution
provider it picks, golden inputs checked against and cast to the graph's declared inputs, the outputs it keeps,
and one-line errors.

Expected values come from onnxruntime, not from the runner: the ``SessionOptions`` docstrings
(onnxruntime/python/onnxruntime_pybind_state.cc, microsoft/onnxruntime@06c980b3: ``log_severity_level``
"0:Verbose, 1:Info, 2:Warning. 3:Error, 4:Fatal", thread counts "Default is 0 to let onnxruntime choose"), the
session config key ``session.intra_op.allow_spinning`` ("0": a thread with no job blocks instead of spinning;
include/onnxruntime/core/session/onnxruntime_session_options_config_keys.h, microsoft/onnxruntime@5bbf2675), and
``InferenceSession.get_inputs()``, which reports a fixed dimension as an int, a named one as its name and an
unnamed one as None."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

np = pytest.importorskip("numpy")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from driftguard.errors import MissingExtraError  # noqa: E402
from driftguard.parity.errors import ParityError  # noqa: E402
from driftguard.parity.runners.base import RunnerConfig  # noqa: E402
from driftguard.parity.runners.onnxruntime import (  # noqa: E402
    OnnxRuntimeRunner,
    OnnxRuntimeSettings,
    _first_line,
    _first_provider,
    _providers,
)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def graph(path: Path, inputs: list[tuple[str, int, list[Any]]], nodes: list[Any],
          outputs: list[tuple[str, int]]) -> Path:
    """An ONNX model (opset 17) with ``inputs`` (name, element type, dims), ``nodes`` and ``outputs``."""
    from onnx import helper

    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, t, d) for n, t, d in inputs],
                          [helper.make_tensor_value_info(n, t, None) for n, t in outputs])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def identities(path: Path, inputs: list[tuple[str, int, list[Any]]]) -> Path:
    """Each input ``n`` given back as output ``n_out``, in the inputs' order."""
    from onnx import helper

    nodes = [helper.make_node("Identity", [n], [f"{n}_out"]) for n, _, _ in inputs]
    return graph(path, inputs, nodes, [(f"{n}_out", t) for n, t, _ in inputs])


def runner(folder: Path, artifact: str = "m.onnx", *, device: str = "cpu", config: dict[str, Any] | None = None,
           **settings: Any) -> OnnxRuntimeRunner:
    cfg = RunnerConfig("onnxruntime", OnnxRuntimeSettings(artifact=artifact, **settings), folder, device)
    return OnnxRuntimeRunner(cfg, config or {})


def started(folder: Path, **kwargs: Any) -> OnnxRuntimeRunner:
    r = runner(folder, **kwargs)
    r.setup()
    return r


@pytest.fixture
def two(tmp_path: Path) -> Path:
    """A graph with a float input ``x`` [batch, 3] and an int64 input ``ids`` [batch, 4], each given back."""
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [("x", TensorProto.FLOAT, ["batch", 3]),
                                     ("ids", TensorProto.INT64, ["batch", 4])])
    return tmp_path


# --- the runner as the registry sees it -------------------------------------------------------------------

def test_the_runner_needs_an_artifact_and_names_it(tmp_path: Path) -> None:
    with pytest.raises(ParityError, match=r"the onnxruntime runner needs an 'artifact' \(\.onnx file\)"):
        OnnxRuntimeRunner(RunnerConfig("onnxruntime", OnnxRuntimeSettings(), tmp_path, "cpu"), {})
    assert runner(tmp_path, "sub/m.onnx").describe() == f"onnxruntime:{tmp_path / 'sub' / 'm.onnx'}"
    assert OnnxRuntimeRunner.runs_artifact is True  # the graph itself runs: precision, weights, ops exercised
    assert OnnxRuntimeRunner.applies == {"preprocessing.max_length", "preprocessing.truncation_side",
                                         "preprocessing.padding_side"}


@pytest.mark.parametrize("name", ["intra_op_threads", "inter_op_threads"])
def test_a_thread_count_is_at_least_one(name: str) -> None:
    assert getattr(OnnxRuntimeSettings.model_validate({name: 1}), name) == 1
    with pytest.raises(ValidationError):
        OnnxRuntimeSettings.model_validate({name: 0})


def test_without_onnxruntime_setup_names_the_extra(two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what an environment without it gives the import
    with pytest.raises(MissingExtraError) as err:
        runner(two).setup()
    assert str(err.value) == ("parity with ONNX Runtime needs the 'parity' extra (onnxruntime is not installed): "
                              "pip install 'driftguard-ml[parity]'")


def test_a_missing_or_unloadable_model_is_a_one_line_error(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    with pytest.raises(ParityError, match="ONNX model not found"):
        runner(tmp_path, "absent.onnx").setup()
    # onnxruntime refuses an operator it has no kernel for; its message's first line only, at most 300 characters
    op = "NoSuchOperator" + "X" * 400
    graph(tmp_path / "m.onnx", [("x", TensorProto.FLOAT, [1])], [helper.make_node(op, ["x"], ["y"])],
          [("y", TensorProto.FLOAT)])
    with pytest.raises(ParityError) as err:
        runner(tmp_path).setup()
    message = err.value.message
    assert message.startswith("onnxruntime cannot load the model: ")
    assert len(message) == len("onnxruntime cannot load the model: ") + 300 and "\n" not in message
    assert err.value.path == str(tmp_path / "m.onnx")


def test_first_line_of_an_exception() -> None:
    assert _first_line(RuntimeError("  first\nsecond\nthird  ")) == "first"
    assert _first_line(RuntimeError("y" * 301)) == "y" * 300
    assert _first_line(RuntimeError("y" * 300)) == "y" * 300
    assert _first_line(ValueError("")) == "ValueError"
    assert _first_line(KeyError()) == "KeyError"


# --- session options and providers ------------------------------------------------------------------------

def test_thread_counts_log_level_and_spinning_reach_the_session(two: Path) -> None:
    r = started(two, intra_op_threads=2, inter_op_threads=3)
    opts = r.session.get_session_options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (2, 3)
    assert opts.log_severity_level == 3  # Error: onnxruntime's warnings are not printed into driftguard's output
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    r.teardown()
    assert r.session is None


def test_unset_thread_counts_leave_onnxruntime_to_choose(two: Path) -> None:
    opts = started(two).session.get_session_options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (0, 0)


def test_cpu_runs_on_the_cpu_provider_only(two: Path) -> None:
    r = started(two, device="cpu")
    assert r.providers() == [CPU] and r.session.get_providers() == [CPU]
    assert OnnxRuntimeRunner.execution(r.cfg) == CPU and r.execution(r.cfg) == CPU  # a static method


def test_auto_takes_cuda_only_where_onnxruntime_has_it(two: Path) -> None:
    r = runner(two, device="auto")
    want = [CUDA, CPU] if CUDA in ort.get_available_providers() else [CPU]
    assert r.providers() == want and OnnxRuntimeRunner.execution(r.cfg) == want[0]


def parsed(device: str) -> str:
    """``device`` as a command line gives it: a string made at run time, not an interned literal."""
    return "".join(list(device))


def test_cuda_without_the_cuda_provider_names_what_there_is(two: Path) -> None:
    available = ort.get_available_providers()
    if CUDA in available:
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(ParityError) as err:
        runner(two, device=parsed("cuda")).providers()
    assert str(err.value) == ("--device cuda: onnxruntime has no CUDAExecutionProvider here (available: "
                              f"{', '.join(available)})")


# Which providers each device takes, for what an onnxruntime build lists (``get_available_providers()``: "the
# default priority order of Execution Providers from highest to lowest"): a CUDA build's list here, so the
# choice the GPU tests make only where CUDA is is tested on every machine. No session is made from it.
@pytest.mark.parametrize(("device", "available", "want"), [
    ("auto", [CUDA, CPU], [CUDA, CPU]), ("cuda", [CUDA, CPU], [CUDA, CPU]), ("cpu", [CUDA, CPU], [CPU]),
    ("auto", ["TensorrtExecutionProvider", CUDA, CPU], [CUDA, CPU]), ("auto", [CPU], [CPU]),
    ("cpu", [CPU], [CPU]), ("auto", ["AzureExecutionProvider", CPU], [CPU])])
def test_the_providers_each_device_takes(device: str, available: list[str], want: list[str]) -> None:
    assert _providers(parsed(device), available) == want
    assert _first_provider(parsed(device), available) == want[0]  # what every executor reports it ran on


def test_cuda_where_the_build_has_no_cuda_is_one_error_naming_what_it_has() -> None:
    with pytest.raises(ParityError) as err:
        _providers(parsed("cuda"), ["AzureExecutionProvider", CPU])
    assert str(err.value) == ("--device cuda: onnxruntime has no CUDAExecutionProvider here (available: "
                              "AzureExecutionProvider, CPUExecutionProvider)")


# --- golden inputs against the graph's inputs -------------------------------------------------------------

def test_inputs_are_cast_to_the_declared_element_types(two: Path) -> None:
    x = np.array([[0.5, -1.25, 3.0]], dtype=np.float64)
    ids = np.array([[1, 2, 3, 4]], dtype=np.int32)
    out = started(two).run({"x": x, "ids": ids})
    assert list(out) == ["x_out", "ids_out"]  # every output, in the graph's order
    assert out["x_out"].dtype == np.float32 and out["ids_out"].dtype == np.int64
    np.testing.assert_array_equal(out["x_out"], x.astype(np.float32))
    np.testing.assert_array_equal(out["ids_out"], ids)


def test_an_input_type_the_runner_does_not_name_is_passed_as_it_is(tmp_path: Path) -> None:
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [("s", TensorProto.INT16, [2])])
    out = started(tmp_path).run({"s": np.array([7, -7], dtype=np.int16)})
    assert out["s_out"].dtype == np.int16 and out["s_out"].tolist() == [7, -7]
    with pytest.raises(ParityError, match=r"onnxruntime failed on the golden inputs: .*int32"):
        started(tmp_path).run({"s": np.array([7, -7], dtype=np.int32)})  # not cast: onnxruntime refuses it


def test_an_input_the_golden_set_lacks_names_both_sides(two: Path) -> None:
    with pytest.raises(ParityError) as err:
        started(two).run({"x": np.zeros((1, 3), np.float32), "a": np.zeros(1)})
    assert err.value.message == "golden inputs have no 'ids' (the graph's inputs: x, ids; golden: a, x)"
    assert err.value.path == str(two / "m.onnx")


def test_shapes_are_checked_against_fixed_dimensions_only(tmp_path: Path) -> None:
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [("x", TensorProto.FLOAT, [2, "seq", None, 3])])
    r = started(tmp_path)
    assert r.run({"x": np.ones((2, 5, 1, 3), np.float32)})["x_out"].shape == (2, 5, 1, 3)
    assert r.run({"x": np.ones((2, 1, 7, 3), np.float32)})["x_out"].shape == (2, 1, 7, 3)
    with pytest.raises(ParityError) as err:
        r.run({"x": np.ones((3, 5, 1, 3), np.float32)})
    assert err.value.message == "golden input 'x' has shape [3, 5, 1, 3], the graph expects [2, seq, ?, 3]"
    with pytest.raises(ParityError) as err:
        r.run({"x": np.ones((2, 5, 1, 4), np.float32)})
    assert err.value.message == "golden input 'x' has shape [2, 5, 1, 4], the graph expects [2, seq, ?, 3]"
    with pytest.raises(ParityError) as err:
        r.run({"x": np.ones((1, 5, 1, 3), np.float32)})
    assert err.value.message == "golden input 'x' has shape [1, 5, 1, 3], the graph expects [2, seq, ?, 3]"
    with pytest.raises(ParityError) as err:
        r.run({"x": np.ones((2, 5, 3), np.float32)})
    assert err.value.message == "golden input 'x' has shape [2, 5, 3], the graph expects rank 4 [2, seq, ?, 3]"
    with pytest.raises(ParityError) as err:
        r.run({"x": np.ones((2, 5, 1, 3, 1), np.float32)})
    assert err.value.message == ("golden input 'x' has shape [2, 5, 1, 3, 1], the graph expects rank 4 "
                                 "[2, seq, ?, 3]")
    assert err.value.path == str(tmp_path / "m.onnx")


def test_a_large_fixed_dimension_equal_to_the_golden_one_passes(tmp_path: Path) -> None:
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [("x", TensorProto.FLOAT, [1, 300])])  # past CPython's small-int cache
    assert started(tmp_path).run({"x": np.ones((1, 300), np.float32)})["x_out"].shape == (1, 300)


def test_a_dimension_declared_zero_is_a_fixed_dimension(tmp_path: Path) -> None:
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [("x", TensorProto.FLOAT, [0, 3])])
    r = started(tmp_path)
    assert r.run({"x": np.ones((0, 3), np.float32)})["x_out"].shape == (0, 3)
    with pytest.raises(ParityError, match=r"golden input 'x' has shape \[1, 3\], the graph expects \[0, 3\]"):
        r.run({"x": np.ones((1, 3), np.float32)})


def test_a_failure_inside_the_session_is_a_one_line_error(tmp_path: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "k"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    r = started(tmp_path)
    assert r.run({"x": np.ones((1, 3), np.float32)})["y"].tolist() == [[3.0, 3.0]]
    with pytest.raises(ParityError) as err:
        r.run({"x": np.ones((1, 4), np.float32)})  # k is symbolic: only MatMul finds 4 != 3
    assert err.value.message.startswith("onnxruntime failed on the golden inputs: ")
    assert "\n" not in err.value.message and err.value.path == str(tmp_path / "m.onnx")


# --- outputs ----------------------------------------------------------------------------------------------

def test_outputs_named_in_the_settings_are_kept_in_their_order(two: Path) -> None:
    feeds = {"x": np.zeros((1, 3), np.float32), "ids": np.zeros((1, 4), np.int64)}
    assert list(started(two, outputs=("ids_out",)).run(feeds)) == ["ids_out"]
    assert list(started(two, outputs=("ids_out", "x_out")).run(feeds)) == ["ids_out", "x_out"]
    with pytest.raises(ParityError) as err:
        started(two, outputs=("ids_out", "z", "w")).run(feeds)
    assert err.value.message == "the graph has no output z, w (it has x_out, ids_out)"
    assert err.value.path == str(two / "m.onnx")


# --- token arrays and the graph's sequence width ----------------------------------------------------------

def test_token_arrays_are_cut_and_padded_as_the_side_says(tmp_path: Path) -> None:
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [("input_ids", TensorProto.INT64, ["batch", 6]),
                                     ("attention_mask", TensorProto.INT64, ["batch", 6])])
    ids = np.array([[11, 12, 13, 14, 15, 16]], np.int64)
    mask = np.ones_like(ids)
    config = {"preprocessing.max_length": 3, "preprocessing.padding_side": "left"}
    out = started(tmp_path, config=config).run({"input_ids": ids, "attention_mask": mask})
    # a tokenizer with truncation="longest_first" (right) keeps the first 3 tokens; padding on the left
    assert out["input_ids_out"].tolist() == [[0, 0, 0, 11, 12, 13]]
    assert out["attention_mask_out"].tolist() == [[0, 0, 0, 1, 1, 1]]


@pytest.mark.parametrize(("inputs", "width"), [
    ([("input_ids", [3, 8])], 8),
    ([("input_ids", ["batch", 8])], 8),
    ([("input_ids", [3, "sequence"])], None),
    ([("input_ids", ["batch", None])], None),
    ([("input_ids", [1, 2, 8])], None),
    ([("input_ids", [8])], None),
    ([("x", ["batch", 8]), ("input_ids", ["batch", "sequence"])], None),
    ([("x", ["batch", 5]), ("input_ids", ["batch", 8])], 8),
    ([("attention_mask", ["batch", 5]), ("input_ids", ["batch", 8])], 8),
])
def test_the_graphs_fixed_sequence_width_is_input_ids_second_axis(tmp_path: Path, inputs: list[Any],
                                                                  width: int | None) -> None:
    from onnx import TensorProto

    identities(tmp_path / "m.onnx", [(n, TensorProto.INT64, d) for n, d in inputs])
    assert started(tmp_path)._width() == width

