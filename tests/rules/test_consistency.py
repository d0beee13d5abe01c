"""The DG2xx rules of ``rules.consistency`` beyond their cases (tests/rules/cases/DG20*.yaml): DG204 end to end, as
a user meets it. ``driftguard init`` on a tree holding an FP32 ONNX export beside the INT8 graph Triton serves puts
both graphs on the deployment side; ``driftguard check`` must fail naming both, where the merge alone would let
the export (later in the list) win and equal the FP32 training side."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _graph(path: Path, int8: bool) -> None:
    """A one-MatMul graph: FP32 weights, or INT8 weights dequantized (weight-only quantization)."""
    x = helper.make_tensor_value_info("features", TensorProto.FLOAT, [-1, 16])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [-1, 2])
    if int8:
        inits = [numpy_helper.from_array(np.ones((16, 2), dtype=np.int8), "w_q"),
                 numpy_helper.from_array(np.array(0.1, dtype=np.float32), "w_s"),
                 numpy_helper.from_array(np.array(0, dtype=np.int8), "w_z")]
        nodes = [helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w"])]
    else:
        inits = [numpy_helper.from_array(np.ones((16, 2), dtype=np.float32), "w")]
        nodes = []
    nodes.append(helper.make_node("MatMul", ["features", "w"], ["logits"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                                opset_imports=[helper.make_opsetid("", 19)]), str(path))


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_init_and_check_fail_on_an_fp32_export_beside_the_served_int8_graph(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "config.json").write_text(
        '{"architectures": ["BertForSequenceClassification"], "model_type": "bert", "torch_dtype": "float32"}\n',
        encoding="utf-8")
    served = tmp_path / "deploy" / "model_repository" / "m" / "1" / "model.onnx"
    _graph(served, int8=True)
    (served.parents[1] / "config.pbtxt").write_text('platform: "onnxruntime_onnx"\nmax_batch_size: 8\n',
                                                    encoding="utf-8")
    _graph(tmp_path / "deploy" / "onnx" / "model_fp32.onnx", int8=False)  # sorts after model_repository/
    init = _cli(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    manifest = (tmp_path / "driftguard.yaml").read_text(encoding="utf-8")
    assert manifest.index("deploy/model_repository/m/1/model.onnx") < manifest.index("deploy/onnx/model_fp32.onnx")
    assert "# another ONNX graph on this side, beside deploy/model_repository/m/1/model.onnx" in manifest

    check = _cli(tmp_path, "check", "--format", "text")
    assert check.returncode == 1, check.stdout + check.stderr
    line = next(x for x in check.stdout.splitlines() if x.strip().startswith("DG204 precision.weights"))
    assert "'int8' (deploy/model_repository/m/1/model.onnx)" in line
    assert "'float32' (deploy/onnx/model_fp32.onnx)" in line
    assert "DG204 precision.quantization" in check.stdout


def test_one_graph_per_side_is_no_contradiction(tmp_path: Path) -> None:
    served = tmp_path / "model_repository" / "m" / "1" / "model.onnx"
    _graph(served, int8=False)
    _graph(tmp_path / "export" / "model.onnx", int8=False)
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training: [{path: export/model.onnx}]\n"
        "    deployment: [{path: model_repository/m/1/model.onnx}, {path: export/model.onnx}]\n", encoding="utf-8")
    check = _cli(tmp_path, "check", "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert '"DG204"' not in check.stdout  # the same values twice: nothing contradicts
