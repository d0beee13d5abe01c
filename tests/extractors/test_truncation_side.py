"""preprocessing.truncation_side on the serving side: vLLM truncate_prompt_tokens and TGI truncate keep the last
tokens (left truncation); unset, the engine truncates nothing and records nothing."""

from __future__ import annotations

import json
from pathlib import Path

from driftguard import api
from driftguard.extractors import extract


def test_vllm_truncate_prompt_tokens_truncates_left(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("temperature: 0.7\ntruncate_prompt_tokens: 512\n", encoding="utf-8")
    cfg = extract(tmp_path / "params.yaml", "vllm")
    side = cfg["preprocessing.truncation_side"]
    assert side.value == "left" and side.explicit and side.origin.line == 2
    assert "last" in (side.derivation or "") and cfg["preprocessing.max_length"].value == 512


def test_vllm_nested_triton_sampling_parameters(tmp_path: Path) -> None:
    body = {"text_input": "x", "sampling_parameters": json.dumps({"truncate_prompt_tokens": 64})}
    (tmp_path / "req.json").write_text(json.dumps(body), encoding="utf-8")
    assert extract(tmp_path / "req.json", "vllm")["preprocessing.truncation_side"].value == "left"


def test_no_truncation_field_records_no_side(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("temperature: 0.7\n", encoding="utf-8")
    assert "preprocessing.truncation_side" not in extract(tmp_path / "params.yaml", "vllm")
    (tmp_path / "tgi.json").write_text('{"inputs": "x", "parameters": {"max_new_tokens": 8}}', encoding="utf-8")
    assert "preprocessing.truncation_side" not in extract(tmp_path / "tgi.json", "tgi")


def test_tgi_truncate_truncates_left(tmp_path: Path) -> None:
    (tmp_path / "tgi.json").write_text('{"inputs": "x", "parameters": {"truncate": 1000}}', encoding="utf-8")
    cfg = extract(tmp_path / "tgi.json", "tgi")
    assert cfg["preprocessing.truncation_side"].value == "left"
    assert cfg["preprocessing.truncation_side"].origin.pointer == "/parameters/truncate"


def test_right_truncated_training_served_with_left_truncation_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 512, "truncation_side": "right"}',
                                                    encoding="utf-8")
    (tmp_path / "params.yaml").write_text("temperature: 0.7\ntruncate_prompt_tokens: 512\n", encoding="utf-8")
    report = api.diff(tmp_path / "tokenizer_config.json", f"vllm:{tmp_path / 'params.yaml'}")
    by_key = {f.key: f for f in report.findings}
    assert "preprocessing.max_length" not in by_key  # same length, other end
    f = by_key["preprocessing.truncation_side"]
    assert f.rule == "DG101" and f.training is not None and f.deployed is not None
    assert (f.training.value, f.deployed.value) == ("right", "left")
