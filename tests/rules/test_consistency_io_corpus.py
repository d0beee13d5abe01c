"""Every ONNX Runtime config of tests/corpus, paired with ONNX graphs generated here.

For each config a graph is built from the config's own inputs and outputs (batch dimension dynamic when
``max_batch_size > 0``): the pair must give no finding. Then one thing is broken at a time, in the graph or in
the config (a name, a dtype, the batch dimension, a dim, the claimed precision): exactly one finding, of the
expected rule, naming both files (and the config's line).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from driftguard.api import extract
from driftguard.errors import DriftguardError
from driftguard.gate.sides import kind_traits
from driftguard.model import EffectiveConfig, Finding
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.engine import run_rules

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "triton"
ELEM = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "int64": TensorProto.INT64,
        "int32": TensorProto.INT32, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8, "bool": TensorProto.BOOL,
        "float64": TensorProto.DOUBLE, "string": TensorProto.STRING}


def ort_configs() -> list[Path]:
    out = []
    for path in sorted(CORPUS.iterdir()):
        if path.suffix != ".pbtxt":
            continue
        try:
            cfg = extract(f"triton:{path}")
        except DriftguardError:
            continue
        backend = cfg.get("serving.backend")
        dtypes = [cfg[k].value for k in cfg if k.startswith("io.") and k.endswith(".dtype")]
        if (backend is not None and backend.value == "onnxruntime" and "io.inputs" in cfg and "io.outputs" in cfg
                and all(d in ELEM for d in dtypes)):
            out.append(path)
    return out


CONFIGS = ort_configs()
#: corpus/triton configs that do not extract as they are (templates with placeholders): ``ort_configs`` leaves
#: them out, so which ones is pinned, and a config that stops extracting fails instead of shrinking the walk.
#: An empty config (Triton auto-completes it from the model) sets no field and is refused too.
REFUSED = [
    "k2-fsa__sherpa__triton__speech_llm__model_repo_whisper_qwen_trtllm__speech_encoder__config.pbtxt",
    "k2-fsa__sherpa__triton__speech_llm__model_repo_whisper_qwen_trtllm__tensorrt_llm__config.pbtxt",
    "triton-inference-server__server__qa__L0_model_config__autofill_noplatform_success__python__empty_config__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__inflight_batcher_llm__ensemble__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__inflight_batcher_llm__postprocessing__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__inflight_batcher_llm__preprocessing__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__inflight_batcher_llm__tensorrt_llm__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__inflight_batcher_llm__tensorrt_llm_bls__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__multimodal__ensemble__config.pbtxt",
    "triton-inference-server__tensorrtllm_backend__all_models__whisper__whisper_bls__config.pbtxt",
]


def test_the_walk_is_pinned() -> None:
    pbtxt = sorted(p for p in CORPUS.iterdir() if p.suffix == ".pbtxt")
    refused = []
    for path in pbtxt:
        try:
            extract(f"triton:{path}")
        except DriftguardError:
            refused.append(path.name)
    assert (len(pbtxt), refused, len(CONFIGS)) == (69, REFUSED, 11)


def graph_for(cfg: EffectiveConfig) -> onnx.ModelProto:
    """An ONNX graph whose I/O is exactly what the Triton config describes (reshape honoured)."""
    mbs = cfg["batching.max_batch_size"].value

    def info(plural: str, name: str) -> onnx.ValueInfoProto:
        reshape = cfg.get(f"triton.{plural}.{name}.reshape")
        dims = list(reshape.value if reshape is not None else cfg[f"triton.{plural}.{name}.dims"].value)
        shape: list[int | str | None] = ["batch"] if mbs > 0 else []
        shape += [d if d >= 0 else f"d{i}" for i, d in enumerate(dims)]
        return helper.make_tensor_value_info(name, ELEM[cfg[f"io.{plural}.{name}.dtype"].value], shape)

    inputs = [info("inputs", n) for n in cfg["io.inputs"].value]
    outputs = [info("outputs", n) for n in cfg["io.outputs"].value]
    nodes = [helper.make_node("Identity", [inputs[0].name], [o.name]) for o in outputs]
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 13)])
    return model


def deploy(tmp: Path, config_text: str, model: onnx.ModelProto) -> list[Finding]:
    folder = tmp / "m"
    (folder / "1").mkdir(parents=True, exist_ok=True)
    (folder / "config.pbtxt").write_text(config_text)
    onnx.save(model, str(folder / "1" / "model.onnx"))
    arts = (extract(folder / "config.pbtxt"), extract(folder / "1" / "model.onnx"))
    merged = {k: v for a in arts for k, v in a.values.items()}
    deployed = Side("deployment", arts, merged, kinds=kind_traits(a.kind for a in arts))
    ctx = RuleContext("m", Side("training", (), {}), deployed)
    return run_rules(ctx, select=["DG21*"])


def _first_input(model: onnx.ModelProto) -> onnx.ValueInfoProto:
    return model.graph.input[0]


def rename_input(cfg: EffectiveConfig, model: onnx.ModelProto, text: str) -> tuple[onnx.ModelProto, str]:
    old = _first_input(model).name
    _first_input(model).name = old + "_renamed"
    for node in model.graph.node:
        node.input[:] = [old + "_renamed" if i == old else i for i in node.input]
    return model, text


def change_dtype(cfg: EffectiveConfig, model: onnx.ModelProto, text: str) -> tuple[onnx.ModelProto, str]:
    t = _first_input(model).type.tensor_type
    t.elem_type = TensorProto.DOUBLE if t.elem_type != TensorProto.DOUBLE else TensorProto.FLOAT
    return model, text


def fix_batch_dim(cfg: EffectiveConfig, model: onnx.ModelProto, text: str) -> tuple[onnx.ModelProto, str]:
    dim = _first_input(model).type.tensor_type.shape.dim[0]
    dim.ClearField("dim_param")
    dim.dim_value = 1
    return model, text


def change_dim(cfg: EffectiveConfig, model: onnx.ModelProto, text: str) -> tuple[onnx.ModelProto, str]:
    dims = _first_input(model).type.tensor_type.shape.dim
    last = dims[len(dims) - 1]
    if last.HasField("dim_value"):
        last.dim_value += 3
    else:  # a dynamic Triton dim against a fixed graph dim is a mismatch Triton rejects (server#4065)
        last.ClearField("dim_param")
        last.dim_value = 7
    return model, text


def claim_int8(cfg: EffectiveConfig, model: onnx.ModelProto, text: str) -> tuple[onnx.ModelProto, str]:
    claim = ('\noptimization { execution_accelerators { gpu_execution_accelerator : [ { name : "tensorrt"\n'
             '  parameters { key: "precision_mode" value: "INT8" } } ] } }\n')
    return model, text + claim


Mutation = Callable[[EffectiveConfig, onnx.ModelProto, str], tuple[onnx.ModelProto, str]]
MUTATIONS: list[tuple[str, Mutation, str]] = [
    ("name", rename_input, "DG210"),
    ("dtype", change_dtype, "DG211"),
    ("batch-dim", fix_batch_dim, "DG212"),
    ("dim", change_dim, "DG213"),
    ("precision", claim_int8, "DG215"),
]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name[-60:] for p in CONFIGS])
def test_corpus_config_with_matching_graph_then_one_break_at_a_time(path: Path, tmp_path: Path) -> None:
    cfg = extract(f"triton:{path}")
    text = path.read_text()
    assert deploy(tmp_path / "ok", text, graph_for(cfg)) == []
    mbs = cfg["batching.max_batch_size"].value
    checked = 0
    for label, mutate, code in MUTATIONS:
        model = graph_for(cfg)
        if label == "batch-dim" and mbs == 0:
            continue
        if label == "dim" and not _first_input(model).type.tensor_type.shape.dim:
            continue
        if label == "dim" and cfg.get(f"triton.inputs.{_first_input(model).name}.reshape") is not None:
            continue  # reshape is what the graph sees; checked by the densenet cases
        if label == "precision" and re.search(r"^\s*optimization\b", text, re.M):
            continue  # a second optimization block would not parse; configs without one get the claim
        model, new_text = mutate(cfg, model, text)
        findings = deploy(tmp_path / label, new_text, model)
        assert [f.rule for f in findings] == [code], (label, [f.message for f in findings])
        names = {Path(o.path).name for o in findings[0].origins()}
        assert names == {"config.pbtxt", "model.onnx"}, (label, names)
        assert any(o.line is not None for o in findings[0].origins() if o.path.endswith("config.pbtxt"))
        checked += 1
    assert checked >= 3
