"""TensorRT-LLM engine config.json (kind ``tensorrt-llm-engine``): both layouts, each mapping checked by hand
against tensorrt_llm/builder.py (``EngineConfig.to_dict``, ``BuildConfig``) and models/modeling_utils.py
(``PretrainedConfig``, ``QuantConfig``); detection never as ``hf-config``; the CLI; a check against an HF folder.

The fixtures are shaped like trtllm-build 0.17 output (``EngineConfig.to_dict``) and the pre-0.8
``BuilderConfig.to_dict`` layout, trimmed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect, hf_config, hf_model, tensorrt_llm_engine
from driftguard.model import How

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "tests" / "fixtures" / "tensorrt-llm-engine" / "good"


def _values(name: str) -> dict[str, object]:
    return {k: v.value for k, v in api.extract(GOOD / name / "config.json").values.items()}


def test_new_layout_maps_build_limits_precision_and_parallelism() -> None:
    v = _values("new")
    assert (v["serving.max_model_len"], v["serving.max_input_length"], v["serving.max_num_tokens"]) == \
        (8192, 4096, 8192)
    assert v["batching.max_batch_size"] == 64 and v["serving.tensor_parallel_size"] == 2
    assert (v["precision.compute"], v["precision.weights"], v["precision.quantization"]) == \
        ("bfloat16", "bfloat16", "none")
    assert v["model.architecture"] == "LlamaForCausalLM"
    assert (v["model.vocab_size"], v["model.hidden_size"], v["model.num_layers"], v["model.num_attention_heads"],
            v["model.max_position_embeddings"]) == (128256, 4096, 32, 32, 131072)
    assert v["tensorrt_llm.engine.build_config.max_beam_width"] == 1
    assert v["tensorrt_llm.engine.build_config.plugin_config.use_paged_context_fmha"] is True
    assert v["tensorrt_llm.engine.version"] == "0.17.0.post1"
    assert "model.speculative.num_heads" not in v


def test_lines_point_into_the_file() -> None:
    path = GOOD / "new" / "config.json"
    cfg = api.extract(path)
    lines = path.read_text().splitlines()
    line = cfg.values["serving.max_model_len"].origin.line
    assert line is not None and '"max_seq_len": 8192' in lines[line - 1]


def test_weight_only_awq_records_int4_weights_and_keeps_kv_cache_algo() -> None:
    cfg = api.extract(GOOD / "awq" / "config.json")
    v = {k: x.value for k, x in cfg.values.items()}
    assert v["precision.quantization"] == "awq"  # the tensorrt-llm kind's spelling of W4A16_AWQ
    assert v["precision.compute"] == "float16"  # activations stay in the engine's dtype
    assert v["precision.weights"] == "int4" and cfg.values["precision.weights"].how is How.DERIVED
    assert v["tensorrt_llm.engine.pretrained_config.quantization.kv_cache_quant_algo"] == "FP8"


@pytest.mark.parametrize(("algo", "scheme", "weights"), [
    ("W8A16", "w8a16", "int8"), ("W4A16_GPTQ", "gptq", "int4"), ("FP8", "fp8", "float8_e4m3fn"),
    ("W8A8_SQ_PER_CHANNEL", "w8a8_sq_per_channel", "int8"), ("NVFP4", "nvfp4", "float4_e2m1fn"),
    ("MIXED_PRECISION", "mixed_precision", None),
])
def test_quant_algo_spellings(tmp_path: Path, algo: str, scheme: str, weights: str | None) -> None:
    data = json.loads((GOOD / "new" / "config.json").read_text())
    data["pretrained_config"]["quantization"]["quant_algo"] = algo
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data, indent=2))
    v = {k: x.value for k, x in api.extract(path).values.items()}
    assert v["precision.quantization"] == scheme and v["precision.compute"] == "bfloat16"
    assert v.get("precision.weights") == weights


def test_medusa_heads() -> None:
    v = _values("medusa")
    assert v["model.speculative.num_heads"] == 4 and v["model.architecture"] == "MedusaForCausalLM"
    assert v["tensorrt_llm.engine.build_config.speculative_decoding_mode"] == 4  # SpeculativeDecodingMode.MEDUSA
    assert v["tensorrt_llm.engine.build_config.max_draft_len"] == 63


def test_old_layout_derives_the_sequence_limit() -> None:
    cfg = api.extract(GOOD / "old" / "config.json")
    v = {k: x.value for k, x in cfg.values.items()}
    assert v["serving.max_model_len"] == 2048 + 512 and cfg.values["serving.max_model_len"].how is How.DERIVED
    assert (v["serving.max_input_length"], v["batching.max_batch_size"], v["serving.tensor_parallel_size"]) == \
        (2048, 8, 4)
    assert (v["precision.compute"], v["precision.weights"], v["precision.quantization"]) == \
        ("float16", "float16", "none")
    assert (v["model.num_layers"], v["model.num_attention_heads"], v["model.hidden_size"]) == (80, 64, 8192)
    assert v["tensorrt_llm.engine.plugin_config.gpt_attention_plugin"] == "float16"


@pytest.mark.parametrize("name", ["new", "awq", "medusa", "old"])
def test_detected_as_engine_never_as_hf_config(name: str) -> None:
    path = GOOD / name / "config.json"
    assert detect(path) == "tensorrt-llm-engine"
    assert not hf_config.detect(path, path.read_bytes())
    assert not hf_model.detect(path.parent, b"")


def test_engine_config_with_architectures_marker_is_still_not_hf_config(tmp_path: Path) -> None:
    data = json.loads((GOOD / "new" / "config.json").read_text())
    data["architectures"] = ["LlamaForCausalLM"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    assert not hf_config.detect(path, path.read_bytes())
    assert detect(path) == "tensorrt-llm-engine"


def test_weak_shapes_are_not_claimed(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"builder_config": {"builder_type": "cartesian"}, "plugin_config": {}}))
    assert not tensorrt_llm_engine.detect(path, path.read_bytes())
    with pytest.raises(ExtractionError, match="not a TensorRT-LLM engine config"):
        api.extract(path, kind="tensorrt-llm-engine")


@pytest.mark.parametrize(("edit", "text"), [
    ({"build_config": {"max_seq_len": "8k"}}, "build_config.max_seq_len: expected a non-negative integer"),
    ({"pretrained_config": {"dtype": "float17"}}, "pretrained_config.dtype: not a dtype"),
    ({"pretrained_config": {"quantization": {"quant_algo": 4}}}, "quant_algo must be a QuantAlgo name"),
])
def test_bad_values_are_input_errors_with_lines(tmp_path: Path, edit: dict[str, dict[str, object]],
                                                text: str) -> None:
    data = json.loads((GOOD / "new" / "config.json").read_text())
    for section, members in edit.items():
        for k, v in members.items():
            if isinstance(v, dict):
                data[section][k].update(v)
            else:
                data[section][k] = v
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ExtractionError, match=text) as info:
        api.extract(path)
    assert info.value.line is not None


def test_cli_extract_engine_config() -> None:
    path = GOOD / "awq" / "config.json"
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "(tensorrt-llm-engine)" in proc.stdout
    assert "precision.weights" in proc.stdout and "int4" in proc.stdout


def test_cli_check_hf_folder_against_engine(tmp_path: Path) -> None:
    """Training: an HF model folder (bf16, 131072 positions); deployment: an AWQ engine built for 8192 tokens."""
    training = tmp_path / "training"
    training.mkdir()
    (training / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
        "num_attention_heads": 32, "vocab_size": 128256, "max_position_embeddings": 131072,
        "torch_dtype": "bfloat16", "transformers_version": "4.57.6"}, indent=2))
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "config.json").write_bytes((GOOD / "awq" / "config.json").read_bytes())
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  llama:\n    training:\n      - path: training\n        kind: hf-model\n"
                        "    deployment:\n      - path: engine/config.json\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--config", str(manifest), "--today",
                           "2026-12-01", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    findings = {f["key"]: f for m in report["models"] for f in m["findings"] if f.get("deployed_origin")}
    weights = findings["precision.weights"]
    assert (weights["training"], weights["deployed"]) == ("bfloat16", "int4")
    assert weights["deployed_origin"]["path"].endswith("engine/config.json")
    assert weights["deployed_origin"]["line"] is not None
