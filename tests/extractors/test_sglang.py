"""The sglang kind: SGLang's native /generate body and its OpenAI-compatible chat/completions bodies
(engines/sglang.py, extractors/sglang.py), read as SGLang reads them (sgl-project/sglang@00c17cafcb9e
sampling_params.py, @004c82e07d87 entrypoints/openai/protocol.py, @001adf564fd3 configs/model_config.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftguard import api
from driftguard.errors import ExtractionError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sglang" / "good" / "generate.json"


def _write(tmp_path: Path, body: Any, name: str = "request.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def test_a_generate_body_is_detected_and_read_on_the_generate_path() -> None:
    cfg = api.extract(str(FIXTURE))
    assert cfg.kind == "sglang" and cfg.serving == "sglang-generate"
    assert cfg["generation.temperature"].value == 0 and cfg["generation.temperature"].origin.line == 4
    assert cfg["generation.max_new_tokens"].value == 64
    assert cfg["generation.do_sample"].value is False  # temperature below 1e-6 is greedy (top_k 1)
    assert cfg["sglang.json_schema"].origin.line == 6
    assert cfg["preprocessing.chat_template_applied"].value is False
    assert "generation.top_p" not in cfg  # the model's (--sampling-defaults model); this side holds no model


def test_sglangs_own_defaults_fill_what_the_model_does_not_decide(tmp_path: Path) -> None:
    cfg = api.extract(f"sglang:{_write(tmp_path, {'text': 'hi', 'sampling_params': {'temperature': 0.7}})}")
    assert cfg["generation.max_new_tokens"].value == 128 and not cfg["generation.max_new_tokens"].explicit
    assert cfg["generation.max_new_tokens"].origin.source == "sglang default"
    assert cfg["generation.frequency_penalty"].value == 0.0 and cfg["generation.num_return_sequences"].value == 1
    assert cfg["generation.do_sample"].value is True
    for key in ("generation.top_k", "generation.top_p", "generation.min_p", "generation.repetition_penalty"):
        assert key not in cfg, key


def test_the_models_generation_config_fills_the_five_fields(tmp_path: Path) -> None:
    """With the model's generation_config.json on the side, SGLang's default sampling parameters are its values
    as ``GenerationConfig.to_dict()`` gives them: top_k 50, transformers' class default, where the file sets none."""
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": True, "temperature": 0.6,
                                                                 "top_p": 0.9}))
    request = _write(tmp_path, {"text": "hi", "sampling_params": {"max_new_tokens": 8}})
    result = api.diff(str(tmp_path / "generation_config.json"), f"sglang:{request}",
                      context=[str(tmp_path / "generation_config.json")])
    cfg = result.deployed
    assert cfg["generation.temperature"].value == 0.6 and cfg["generation.top_p"].value == 0.9
    assert cfg["generation.top_k"].value == 50
    assert cfg["generation.temperature"].origin.source == "generation_config.json"
    assert [f.key for f in result.findings if f.rule == "DG101"] == []


@pytest.mark.parametrize(("top_k", "read"), [(-1, 0), (1 << 30, 0), (20, 20)])
def test_top_k_off_is_zero(tmp_path: Path, top_k: int, read: int) -> None:
    cfg = api.extract(f"sglang:{_write(tmp_path, {'text': 'hi', 'sampling_params': {'top_k': top_k}})}")
    assert cfg["generation.top_k"].value == read


@pytest.mark.parametrize(("name", "value"), [("top_p", 0.0), ("repetition_penalty", 2.5),
                                             ("frequency_penalty", -3), ("temperature", -1), ("min_p", 1.5)])
def test_values_sglang_rejects_are_input_errors_at_their_line(tmp_path: Path, name: str, value: float) -> None:
    path = _write(tmp_path, {"text": "hi", "sampling_params": {name: value}})
    with pytest.raises(ExtractionError) as err:
        api.extract(f"sglang:{path}")
    assert err.value.line == 4 and name in str(err.value)  # the field's own line


def test_fields_sglang_does_not_take_are_unknown_fields(tmp_path: Path) -> None:
    """``max_tokens`` is the OpenAI spelling; inside sampling_params SGLang's is ``max_new_tokens`` (DG304)."""
    path = _write(tmp_path, {"text": "hi", "sampling_params": {"max_tokens": 5}, "temprature": 1})
    cfg = api.extract(f"sglang:{path}")
    assert cfg["sglang.unknown_fields.max_tokens"].origin.line == 4
    assert "sglang.unknown_fields.temprature" in cfg
    assert cfg["generation.max_new_tokens"].value == 128  # not read as the limit


def test_per_prompt_sampling_params_are_read_when_they_agree(tmp_path: Path) -> None:
    same = _write(tmp_path, {"text": ["a", "b"], "sampling_params": [{"temperature": 0}, {"temperature": 0}]})
    assert api.extract(f"sglang:{same}")["generation.temperature"].value == 0
    differ = _write(tmp_path, {"text": ["a", "b"], "sampling_params": [{"temperature": 0}, {"temperature": 1}]},
                    "differ.json")
    with pytest.raises(ExtractionError, match="differ per prompt"):
        api.extract(f"sglang:{differ}")


def test_an_openai_compatible_chat_request(tmp_path: Path) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 32,
            "max_completion_tokens": 64, "top_k": 20, "min_tokens": 2, "seed": 3, "regex": "[a-z]+"}
    cfg = api.extract(f"sglang:{_write(tmp_path, body)}")
    assert cfg.serving == "sglang-chat"
    assert cfg["generation.max_new_tokens"].value == 64  # max_completion_tokens first (to_sampling_params)
    assert cfg["generation.top_k"].value == 20 and cfg["generation.min_new_tokens"].value == 2
    assert cfg["generation.seed"].value == 3 and cfg["sglang.regex"].value == "[a-z]+"
    assert cfg["preprocessing.chat_template_applied"].value is True
    assert not [k for k in cfg if ".unknown_fields." in k]


def test_a_completion_request_runs_16_tokens_by_default(tmp_path: Path) -> None:
    cfg = api.extract(f"sglang:{_write(tmp_path, {'model': 'm', 'prompt': 'hi'})}")
    assert cfg.serving == "sglang-completions"
    assert cfg["generation.max_new_tokens"].value == 16
    assert cfg["preprocessing.chat_template_applied"].value is False


def test_a_chat_request_with_input_ids_bypasses_the_template(tmp_path: Path) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "input_ids": [1, 2, 3]}
    v = api.extract(f"sglang:{_write(tmp_path, body)}")["preprocessing.chat_template_applied"]
    assert v.value is False and v.origin.pointer == "/input_ids"


def test_not_a_request(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="not an SGLang request"):
        api.extract(f"sglang:{_write(tmp_path, {'model': 'm', 'temperature': 0.2})}")
