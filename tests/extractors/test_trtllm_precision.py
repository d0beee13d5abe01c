"""TensorRT-LLM serving precision: LLM-API ``dtype`` -> ``precision.compute``, ``quant_config.quant_algo`` ->
``precision.quantization`` (model.yaml, ``trtllm-serve --extra_llm_api_options`` YAML), and DG105 on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "extra-llm-api-options.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("raw", "compute"), [
    ("auto", "auto"), ("float16", "float16"), ("bfloat16", "bfloat16"), ("float32", "float32"), ("BF16", "bfloat16"),
])
def test_dtype_is_precision_compute(tmp_path: Path, raw: str, compute: str) -> None:
    path = _yaml(tmp_path, f"model: /models/m\nbackend: pytorch\ndtype: {raw}\n")
    cfg = api.extract(f"tensorrt-llm:{path}")
    v = cfg["precision.compute"]
    assert (v.value, v.origin.line, v.origin.source) == (compute, 3, "engine config")
    assert "tensorrt_llm.dtype" not in cfg


@pytest.mark.parametrize(("algo", "scheme"), [
    ("FP8", "fp8"), ("W4A16_AWQ", "awq"), ("W4A16_GPTQ", "gptq"), ("W8A16", "w8a16"), ("INT8", "int8"),
    ("NVFP4", "nvfp4"), ("FP8_BLOCK_SCALES", "fp8_block_scales"), ("NO_QUANT", "none"), ("null", "none"),
])
def test_quant_algo_is_precision_quantization(tmp_path: Path, algo: str, scheme: str) -> None:
    path = _yaml(tmp_path, f"kv_cache_config:\n  free_gpu_memory_fraction: 0.9\nquant_config:\n"
                           f"  quant_algo: {algo}\n  kv_cache_quant_algo: FP8\n")
    cfg = api.extract(f"tensorrt-llm:{path}")
    v = cfg["precision.quantization"]
    assert (v.value, v.origin.line) == (scheme, 4)
    # the whole QuantConfig stays visible, KV-cache algorithm included
    assert cfg["tensorrt_llm.quant_config.kv_cache_quant_algo"].value == "FP8"


def test_no_quant_config_states_no_quantization(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "model: /models/m\nbackend: pytorch\n")
    cfg = api.extract(f"tensorrt-llm:{path}")
    assert "precision.quantization" not in cfg and "precision.compute" not in cfg


@pytest.mark.parametrize(("text", "line"), [
    ("model: m\nbackend: pytorch\ndtype: int8\n", 3),
    ("model: m\nbackend: pytorch\ndtype: 16\n", 3),
    ("model: m\nquant_config:\n  quant_algo: [FP8]\n", 3),
    ("model: m\nbackend: pytorch\nquant_config: FP8\n", 3),
])
def test_bad_precision_fields_are_input_errors(tmp_path: Path, text: str, line: int) -> None:
    path = _yaml(tmp_path, text)
    with pytest.raises(ExtractionError) as exc:
        api.extract(f"tensorrt-llm:{path}")
    assert exc.value.line == line


def _check(tmp_path: Path, engine: str) -> api.Report:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(json.dumps(
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16"}))
    (tmp_path / "model.yaml").write_text(engine, encoding="utf-8")
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  m:\n    training: [{path: model, kind: hf-model}]\n"
                        "    deployment: [{path: model.yaml, kind: tensorrt-llm}]\n")
    return api.check(manifest)


def test_bf16_model_served_fp8_is_one_dg105_finding(tmp_path: Path) -> None:
    report = _check(tmp_path, "model: model\nbackend: pytorch\ndtype: auto\nquant_config:\n  quant_algo: FP8\n")
    precision = [f for f in report.findings if f.key.startswith("precision.")]
    assert [(f.rule, f.key) for f in precision] == [("DG105", "precision.quantization")]
    f = precision[0]
    assert f.training is not None and f.training.value == "bfloat16"
    assert f.deployed is not None and (f.deployed.value, f.deployed.origin.line) == ("fp8", 5)
    assert not report.ok


def test_dtype_auto_stays_unresolved(tmp_path: Path) -> None:
    """defaults.md documents no TensorRT-LLM rule for ``dtype: auto``: no finding, and no DG102 'bfloat16 vs
    auto' either."""
    report = _check(tmp_path, "model: model\nbackend: pytorch\ndtype: auto\n")
    assert not [f for f in report.findings if f.key.startswith("precision.")]


def test_bf16_model_served_fp16(tmp_path: Path) -> None:
    report = _check(tmp_path, "model: model\nbackend: pytorch\ndtype: float16\n")
    assert [(f.rule, f.key, f.deployed.value if f.deployed else None) for f in report.findings
            if f.key.startswith("precision.")] == [("DG105", "precision.compute", "float16")]
