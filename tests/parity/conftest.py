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


def text_encoder_onnx(path: Path, vocab_size: int, *, seed: int = 0, dim: int = 32, width: int = 8) -> Path:
    """A tiny text encoder built with torch and exported to ONNX (TorchScript exporter): token and position
    embeddings, one tanh layer, mean over the real tokens (``attention_mask``), a linear head; inputs
    ``input_ids`` and ``attention_mask`` ``[batch, sequence]`` (both axes dynamic), output ``embedding`` of
    magnitude about 5, as a real encoder's hidden states (the head's weights are scaled up to give it). Position
    embeddings make where a token sits matter, as in a real encoder (padding side, truncation)."""
    import warnings

    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tokens = torch.nn.Embedding(vocab_size, dim)
            self.positions = torch.nn.Embedding(64, dim)
            self.mix = torch.nn.Linear(dim, dim)
            self.head = torch.nn.Linear(dim, width)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            where = torch.arange(input_ids.shape[1]).unsqueeze(0)
            hidden = torch.tanh(self.mix(self.tokens(input_ids) + self.positions(where)))
            mask = attention_mask.unsqueeze(-1).float()
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    torch.manual_seed(seed)
    model = Encoder().eval()
    with torch.no_grad():
        model.head.weight.mul_(8.0)
    ids = torch.ones((2, 5), dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (ids, torch.ones_like(ids)), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"}, "embedding": {0: "batch"}})
    return path


def quantize_int8(src: Path, dst: Path) -> Path:
    """``onnxruntime.quantization.quantize_dynamic`` of ``src`` (int8 weights, activations quantized per batch)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" advice
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    return dst
