"""Tiny models built in code for the parity tests: a linear ONNX graph, a manifest around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

USERFNS = Path(__file__).resolve().parent / "userfns"


def linear_onnx(path: Path, weight: Any, bias: Any, *, batch: str | int = "batch", output: str = "logits",
                relu: bool = False) -> Path:
    """``output = x @ weight + bias`` (float32), input ``x`` of shape ``[batch, in]``."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.asarray(weight, dtype=np.float32), "W")
    b = numpy_helper.from_array(np.asarray(bias, dtype=np.float32), "B")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"]),
             helper.make_node("Add", ["xw", "B"], ["pre" if relu else output])]
    if relu:
        nodes.append(helper.make_node("Relu", ["pre"], [output]))
    graph = helper.make_graph(
        nodes, "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, weight.shape[0]])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [batch, weight.shape[1]])],
        initializer=[w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture()
def pair(tmp_path: Path) -> dict[str, Path]:
    """A reference graph, a candidate graph nudged by 1e-3 on its weights, golden inputs, a manifest."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    ref = linear_onnx(tmp_path / "ref.onnx", w, b)
    cand = linear_onnx(tmp_path / "cand.onnx", w + 1e-3 * rng.standard_normal(w.shape).astype(np.float32), b)
    golden = tmp_path / "golden.npz"
    np.savez(golden, x=rng.standard_normal((32, 8)).astype(np.float32))
    return {"ref": ref, "cand": cand, "golden": golden, "dir": tmp_path}


def write_manifest(folder: Path, parity: str, *, training: str = "ref.onnx", deployment: str = "cand.onnx") -> Path:
    """A manifest with one model, ``m``, whose parity section is ``parity`` (YAML, indented 4)."""
    text = (f"version: 1\nmodels:\n  m:\n    training:\n      - path: {training}\n    deployment:\n"
            f"      - path: {deployment}\n    parity:\n{parity}")
    path = folder / "driftguard.yaml"
    path.write_text(text, encoding="utf-8")
    return path
