"""lmdeploy ``data_type: auto`` (TurboMind ``[ft_instance_hyperparameter]``) is kept as written; rule DG105
resolves it the way lmdeploy does, which is vLLM's rule (defaults.md §8: FP16 for FP32 and FP16 models, BF16
for BF16 models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api


def _side(tmp_path: Path, torch_dtype: str, data_type: str) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(json.dumps(
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": torch_dtype}))
    (tmp_path / "config.ini").write_text(f"[ft_instance_hyperparameter]\ndata_type = {data_type}\n"
                                         "tensor_para_size = 1\n", encoding="utf-8")
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  m:\n    training: [{path: model, kind: hf-model}]\n"
                        "    deployment: [{path: model, kind: hf-model}, {path: config.ini, kind: lmdeploy}]\n")
    return manifest


@pytest.mark.parametrize("spelling", ["auto", "AUTO", " auto "])
def test_data_type_auto_is_kept(tmp_path: Path, spelling: str) -> None:
    ini = tmp_path / "config.ini"
    ini.write_text(f"[ft_instance_hyperparameter]\ndata_type={spelling}\n", encoding="utf-8")
    v = api.extract(f"lmdeploy:{ini}")["precision.compute"]
    assert (v.value, v.origin.line, v.explicit) == ("auto", 2, True)


@pytest.mark.parametrize(("torch_dtype", "finding"), [
    ("bfloat16", None),
    ("float16", None),
    ("float32", "float16"),  # auto serves an fp32 model in fp16: a precision change
])
def test_data_type_auto_is_resolved_by_dg105(tmp_path: Path, torch_dtype: str, finding: str | None) -> None:
    report = api.check(_side(tmp_path, torch_dtype, "auto"))
    precision = [f for f in report.findings if f.key.startswith("precision.")]
    assert [(f.rule, f.deployed.value if f.deployed else None) for f in precision] == \
        ([("DG105", finding)] if finding else [])
    if finding:
        assert "TurboMind dtype auto: float32 model" in precision[0].message
