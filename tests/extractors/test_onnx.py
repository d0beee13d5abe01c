"""ONNX graph extraction: keys, pointers, symbolic dims, metadata, precision and quantization, external data,
errors, and agreement with ``onnx.load`` on onnx's own backend test models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from driftguard.errors import ExtractionError
from driftguard.extractors import detect
from driftguard.extractors import onnx as onnx_extractor
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig
from driftguard.readers import onnx_wire
from tests.readers.test_onnx_proto import from_onnx

BACKEND_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120)


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def classifier(weights: np.ndarray | None = None, metadata: dict[str, str] | None = None,
               opset: int = 17) -> onnx.ModelProto:
    """input_ids [batch, 128] int64, attention_mask [batch, sequence] -> logits [batch, 2] float32."""
    w = weights if weights is not None else np.ones((128, 2), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["x"], to=TensorProto.FLOAT),
         helper.make_node("MatMul", ["x", "W"], ["logits"])],
        "classifier",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", 128]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                    helper.make_opsetid("com.microsoft", 1)],
                              producer_name="pytorch", producer_version="2.3.0")
    model.ir_version = 8
    for k, v in (metadata or {}).items():
        model.metadata_props.add(key=k, value=v)
    return model


def extract(path: Path) -> EffectiveConfig:
    return onnx_extractor.extract(path, ExtractOptions())


# -- mapping ------------------------------------------------------------------------------------------------

def test_io_opsets_producer_and_weights(tmp_path: Path) -> None:
    cfg = extract(save(classifier(), tmp_path / "model.onnx"))
    plain = cfg.plain()
    assert plain["io.inputs"] == ["input_ids", "attention_mask"]
    assert plain["io.outputs"] == ["logits"]
    assert plain["io.inputs.input_ids.dtype"] == "int64"
    assert plain["io.inputs.input_ids.shape"] == [-1, 128]
    assert plain["onnx.inputs.input_ids.dim_params"] == ["batch", None]
    assert plain["io.inputs.attention_mask.shape"] == [-1, -1]
    assert plain["onnx.inputs.attention_mask.dim_params"] == ["batch", "sequence"]
    assert plain["io.outputs.logits.dtype"] == "float32"
    assert plain["io.outputs.logits.shape"] == [-1, 2]
    assert plain["onnx.ir_version"] == 8
    assert plain["onnx.opset.ai.onnx"] == 17
    assert plain["onnx.opset.com.microsoft"] == 1
    assert plain["onnx.producer_name"] == "pytorch"
    assert plain["onnx.producer_version"] == "2.3.0"
    assert plain["model.weights.count"] == 1
    assert plain["model.weights.parameters"] == 256
    assert plain["precision.weights"] == "float32"
    assert plain["precision.quantization"] == "none"
    shape = cfg["io.inputs.attention_mask.shape"]
    assert shape.origin.pointer == "graph.input[1].type.tensor_type.shape"
    assert shape.origin.line is None and shape.origin.path == str(tmp_path / "model.onnx")


def test_initializers_listed_as_inputs_are_not_model_inputs(tmp_path: Path) -> None:
    model = classifier()
    model.graph.input.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [128, 2]))  # IR < 4 style
    assert extract(save(model, tmp_path / "m.onnx")).plain()["io.inputs"] == ["input_ids", "attention_mask"]


def test_metadata_maps_known_keys_and_keeps_the_rest(tmp_path: Path) -> None:
    meta = {"max_length": "512", "num_labels": "3", "author": "me", "vocab_size": "not a number"}
    plain = extract(save(classifier(metadata=meta), tmp_path / "m.onnx")).plain()
    assert plain["preprocessing.max_length"] == 512
    assert plain["model.num_labels"] == 3
    assert plain["onnx.metadata.author"] == "me"
    assert plain["onnx.metadata.vocab_size"] == "not a number"
    assert "onnx.metadata.max_length" not in plain


def test_fp16_weights(tmp_path: Path) -> None:
    model = classifier(np.ones((128, 2), dtype=np.float16))
    model.graph.initializer.append(numpy_helper.from_array(np.ones(3, dtype=np.float32), "small"))
    plain = extract(save(model, tmp_path / "m.onnx")).plain()
    assert plain["precision.weights"] == "float16"
    assert plain["onnx.initializers.dtypes"] == {"float16": 256, "float32": 3}


def quant_model(ops: list[str]) -> onnx.ModelProto:
    """A tiny graph made of the given quantization ops, with an int8 weight initializer."""
    nodes = []
    inits = [numpy_helper.from_array(np.ones((64, 64), dtype=np.int8), "Wq"),
             numpy_helper.from_array(np.array(0.1, dtype=np.float32), "s"),
             numpy_helper.from_array(np.array(0, dtype=np.int8), "z")]
    for i, op in enumerate(ops):
        if op == "DequantizeLinear":
            nodes.append(helper.make_node(op, ["Wq", "s", "z"], [f"o{i}"]))
        elif op == "QuantizeLinear":
            nodes.append(helper.make_node(op, ["x", "s", "z"], [f"o{i}"]))
        elif op == "MatMulNBits":
            nodes.append(helper.make_node(op, ["x", "Wq"], [f"o{i}"], domain="com.microsoft", K=64, N=64, bits=4,
                                          block_size=32))
        else:
            nodes.append(helper.make_node(op, ["x", "Wq"], [f"o{i}"]))
    graph = helper.make_graph(nodes, "q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info(f"o{len(ops) - 1}", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])


@pytest.mark.parametrize(("ops", "scheme"), [
    (["QuantizeLinear", "DequantizeLinear"], "qdq"),
    (["DequantizeLinear"], "weight-only-int8"),
    (["DynamicQuantizeLinear", "MatMulInteger"], "dynamic"),
    (["QLinearMatMul", "QuantizeLinear", "DequantizeLinear"], "qlinear"),
    (["MatMulNBits"], "weight-only-int4"),
    (["Relu"], "none"),
])
def test_quantization_from_ops(tmp_path: Path, ops: list[str], scheme: str) -> None:
    cfg = extract(save(quant_model(ops), tmp_path / "q.onnx"))
    assert cfg.plain()["precision.quantization"] == scheme
    if scheme != "none":
        pointer = cfg["precision.quantization"].origin.pointer
        assert pointer is not None and pointer.startswith("graph.node[")
        assert cfg.plain()["precision.weights"] == "int8"  # the quantized weight dominates


def test_output_without_shape_has_no_shape_key(tmp_path: Path) -> None:
    plain = extract(save(quant_model(["Relu"]), tmp_path / "q.onnx")).plain()
    assert plain["io.outputs.o0.dtype"] == "float32"
    assert "io.outputs.o0.shape" not in plain


def test_sequence_input_keeps_its_type(tmp_path: Path) -> None:
    seq = helper.make_tensor_sequence_value_info("xs", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("SequenceLength", ["xs"], ["n"])], "s", [seq],
                              [helper.make_tensor_value_info("n", TensorProto.INT64, [])])
    plain = extract(save(helper.make_model(graph), tmp_path / "s.onnx")).plain()
    assert plain["onnx.inputs.xs.type"] == "seq(tensor(float))"
    assert plain["io.outputs.n.shape"] == []


def test_external_data_is_listed_not_read(tmp_path: Path) -> None:
    model = classifier(np.ones((128, 64), dtype=np.float32))
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, location="ext.onnx.data",
              size_threshold=0)
    plain = extract(tmp_path / "ext.onnx").plain()
    assert plain["onnx.external_data.files"] == ["ext.onnx.data"]
    assert plain["onnx.external_data.tensors"] == 1
    assert plain["model.weights.parameters"] == 128 * 64
    assert "onnx.external_data.missing" not in plain
    (tmp_path / "ext.onnx.data").unlink()
    assert extract(tmp_path / "ext.onnx").plain()["onnx.external_data.missing"] == ["ext.onnx.data"]


# -- the wire-level reader -----------------------------------------------------------------------------------

def test_payloads_are_dropped_and_everything_else_kept(tmp_path: Path) -> None:
    model = classifier(np.arange(128 * 64, dtype=np.float32).reshape(128, 64))
    path = save(model, tmp_path / "m.onnx")
    reduced = onnx.ModelProto.FromString(onnx_wire.read_without_payloads(path))
    assert len(reduced.SerializeToString()) < 2000 < path.stat().st_size
    for t in model.graph.initializer:
        for f in ("raw_data", "float_data"):
            t.ClearField(f)
    assert reduced.SerializeToString(deterministic=True) == model.SerializeToString(deterministic=True)


def backend_sample() -> list[Path]:
    paths = sorted(BACKEND_DATA.rglob("*.onnx")) if BACKEND_DATA.is_dir() else []
    return paths[::4]


@pytest.mark.parametrize("path", backend_sample(), ids=lambda p: p.parent.name if p.name == "model.onnx" else p.name)
def test_agrees_with_onnx_load_on_backend_test_models(path: Path) -> None:
    full = onnx.load(str(path), load_external_data=False)
    assert extract(path).to_dict() == onnx_extractor.config_from_model(from_onnx(full), path).to_dict()


def test_backend_sample_is_not_empty() -> None:
    if not BACKEND_DATA.is_dir():
        pytest.skip("this onnx build ships no backend test data")
    assert len(backend_sample()) >= 20


# -- detection and errors ------------------------------------------------------------------------------------

def test_detected_by_suffix_and_by_content(tmp_path: Path) -> None:
    save(classifier(), tmp_path / "model.onnx")
    (tmp_path / "model.bin").write_bytes((tmp_path / "model.onnx").read_bytes())
    assert detect(tmp_path / "model.onnx") == "onnx"
    assert onnx_extractor.detect(tmp_path / "model.bin", (tmp_path / "model.bin").read_bytes()[:4096])
    assert not onnx_extractor.detect(tmp_path / "x.json", b'{"a": 1}')
    assert not onnx_extractor.detect(tmp_path / "x.bin", b"PK\x03\x04")


@pytest.mark.parametrize("content", [b"", b"this is not a model at all\n", b"\x08\x08", b"\x0a\xff\xff\xff\x0f",
                                     b"\x08\x08\x12\x02\xff\xfe\x3a\x00"])  # producer_name not UTF-8
def test_invalid_files_raise_extraction_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match="not an ONNX model") as info:
        extract(path)
    assert info.value.path == str(path)


def test_cli_extracts_and_fails_cleanly(tmp_path: Path) -> None:
    path = save(classifier(), tmp_path / "model.onnx")
    ok = run_cli("extract", "--format", "json", str(path))
    assert ok.returncode == 0, ok.stderr
    assert '"precision.weights"' in ok.stdout and "float32" in ok.stdout
    json.loads(ok.stdout)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage that is not protobuf \xff\xff")
    res = run_cli("extract", str(bad))
    assert res.returncode == 2
    assert res.stderr.startswith("driftguard: error: ") and "not an ONNX model" in res.stderr
    assert "Traceback" not in res.stderr


def test_extracting_imports_neither_onnx_nor_numpy(tmp_path: Path) -> None:
    path = save(classifier(), tmp_path / "model.onnx")
    code = ("import sys\nfrom driftguard.cli import run\n"
            f"assert run(['extract', 'onnx:{path}', '--format', 'json']) == 0\n"
            "print(*(m in sys.modules for m in ('onnx', 'numpy', 'google.protobuf')), file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stderr.split() == ["False", "False", "False"]


@pytest.mark.parametrize("window", [1, 7, 4096])
def test_file_reader_window_size_does_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            window: int) -> None:
    path = save(classifier(np.arange(128 * 64, dtype=np.float32).reshape(128, 64), {"author": "x" * 300}),
                tmp_path / "m.onnx")
    monkeypatch.setattr(onnx_wire.FileBytes, "WINDOW", window)
    assert onnx_wire.read_without_payloads(path) == onnx_wire.strip_payloads(path.read_bytes())
