"""TensorRT-LLM's preprocessing: ``truncate_prompt_tokens`` keeps the last k tokens (left truncation, TRT-SP),
and a trtllm-serve request's ``chat_template`` replaces the tokenizer's, compared by digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.keys import chat_template_digest


def test_truncate_prompt_tokens_is_left_truncation(tmp_path: Path) -> None:
    p = tmp_path / "sampling.json"
    p.write_text(json.dumps({"temperature": 0.7, "max_tokens": 64, "truncate_prompt_tokens": 512}, indent=1))
    cfg = api.extract(f"tensorrt-llm:{p}")
    assert cfg["preprocessing.max_length"].value == 512 and cfg["preprocessing.max_length"].origin.line == 4
    side = cfg["preprocessing.truncation_side"]
    assert side.value == "left" and side.how == "derived" and "TRT-SP" in (side.shown_note or "")
    assert cfg.serving == "trtllm-llmapi"


def test_truncation_side_drifts_against_a_right_truncating_tokenizer(tmp_path: Path) -> None:
    tok = tmp_path / "tokenizer_config.json"
    tok.write_text(json.dumps({"model_max_length": 512, "truncation_side": "right"}))
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"model": "m", "prompt": "x", "max_tokens": 8, "truncate_prompt_tokens": 512}))
    result = api.diff(f"hf-tokenizer:{tok}", f"tensorrt-llm:{req}")
    assert [(f.key, f.training.value, f.deployed.value) for f in result.findings  # type: ignore[union-attr]
            if f.key == "preprocessing.truncation_side"] == [("preprocessing.truncation_side", "right", "left")]


def test_bad_truncation_is_rejected_at_its_line(tmp_path: Path) -> None:
    p = tmp_path / "sampling.json"
    p.write_text(json.dumps({"temperature": 0.7, "truncate_prompt_tokens": 0}, indent=1))
    with pytest.raises(ExtractionError, match=r"truncate_prompt_tokens must be in \[1, inf\)") as exc:
        api.extract(f"tensorrt-llm:{p}")
    assert exc.value.line == 3


def test_serve_request_chat_template_is_compared_by_digest(tmp_path: Path) -> None:
    template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"model": "m", "messages": [], "chat_template": template}))
    cfg = api.extract(f"tensorrt-llm:{req}")
    assert cfg["preprocessing.chat_template"].value == chat_template_digest(template)
    assert cfg["preprocessing.chat_template_text"].value == template
    assert not any(k.startswith("tensorrt_llm.chat_template") for k in cfg.values)
    req.write_text(json.dumps({"model": "m", "messages": [], "chat_template": 3}))
    with pytest.raises(ExtractionError, match="chat_template must be a string"):
        api.extract(f"tensorrt-llm:{req}")
