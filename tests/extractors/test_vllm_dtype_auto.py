"""vLLM ``dtype: auto`` is resolved the way vLLM resolves it (defaults.md §8, VLLM-MC: FP16 for FP32 and FP16
models, BF16 for BF16 models) from the model files on the same side, so it is compared as a dtype, not as the
string "auto"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api


def _side(tmp_path: Path, torch_dtype: str, dtype: str) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(json.dumps(
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": torch_dtype}))
    (tmp_path / "engine.json").write_text(json.dumps(
        {"model": "model", "dtype": dtype, "max_model_len": 4096, "gpu_memory_utilization": 0.9}))
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  m:\n    training: [{path: model, kind: hf-model}]\n"
                        "    deployment: [{path: model, kind: hf-model}, {path: engine.json, kind: vllm}]\n")
    return manifest


@pytest.mark.parametrize(("torch_dtype", "dtype", "served", "finding"), [
    ("bfloat16", "auto", "bfloat16", False),
    ("float32", "auto", "float16", True),   # auto serves an fp32 model in fp16: a precision change
    ("float16", "auto", "float16", False),
    ("bfloat16", "float16", "float16", True),
])
def test_dtype_auto_is_resolved_from_the_sides_model(tmp_path: Path, torch_dtype: str, dtype: str, served: str,
                                                     finding: bool) -> None:
    report = api.check(_side(tmp_path, torch_dtype, dtype))
    cfg = next(c for c in api.extract_many([f"vllm:{tmp_path / 'engine.json'}"]) if c)
    assert cfg["precision.compute"].value == dtype  # alone, without the model folder, it stays as written
    precision = [f for f in report.findings if f.key.startswith("precision.")]
    assert bool(precision) is finding, [(f.rule, f.key, f.message) for f in precision]
    if finding:
        assert precision[0].deployed is not None and precision[0].deployed.value == served
    assert not [f for f in report.findings if f.rule == "DG102"]
