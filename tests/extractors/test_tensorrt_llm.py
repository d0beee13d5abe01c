"""TensorRT-LLM extractors: Triton request tensors, the LLM API's sampling (greedy until set), its
generation_config ``auto`` taking present values only, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors import detect, extract
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, How, Origin, Value

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def test_trtllm_request_tensors_top_p_zero_is_absent() -> None:
    f = FIX / "tensorrt-llm" / "good" / "request.json"
    assert detect(f) == "tensorrt-llm"
    cfg = extract(f)
    assert cfg["generation.max_new_tokens"].value == 64 and cfg["generation.max_new_tokens"].origin.line == 4
    top_p = cfg["generation.top_p"]
    assert (top_p.value, top_p.explicit, top_p.origin.source) == (0.0, False, "trtllm runtime default")
    assert cfg["generation.eos_token_id"].value == [2]
    assert cfg["generation.seed"].value == 0  # C++ default, unlike vLLM/TGI
    assert cfg["generation.do_sample"].value is False  # top_k 0 with top_p 0 is greedy (§4.1)


def test_trtllm_llm_api_greedy_by_default_and_sampling_once_set() -> None:
    greedy = extract(FIX / "tensorrt-llm" / "good" / "llmapi-greedy.yaml", "tensorrt-llm")
    assert greedy["generation.do_sample"].value is False
    sampling = extract(FIX / "tensorrt-llm" / "good" / "llmapi-sampling.yaml", "tensorrt-llm")
    assert sampling["generation.do_sample"].value is True
    assert sampling["generation.top_p"].value == 1.0
    assert sampling["generation.top_p"].origin.source == "llm-api default"
    assert extract(FIX / "tensorrt-llm" / "good" / "llmapi-greedy.yaml",
                   "tensorrt-llm")["generation.max_new_tokens"].value == 64
    serve = extract(FIX / "tensorrt-llm" / "good" / "serve-request.json", "tensorrt-llm")
    assert serve["generation.do_sample"].value is True
    assert serve["generation.top_p"].origin.source == "trtllm-serve default"


def test_trtllm_generation_config_auto_takes_present_values_only() -> None:
    ctx = ExtractOptions(context=(EffectiveConfig("hf-generation", "g.json", {
        "generation.temperature": Value(0.6, Origin("g.json", 3, "/temperature")),
        "generation.top_k": Value(50, Origin("g.json", None), How.DEFAULT),
    }),))
    cfg = extract(FIX / "tensorrt-llm" / "good" / "llmapi-auto.yaml", "tensorrt-llm", ctx)
    assert cfg["generation.temperature"].value == 0.6
    assert cfg["generation.temperature"].origin.source == "generation_config.json"
    assert cfg["generation.top_k"].value == 0  # HF's synthesized 50 is not applied (§4.4)
    plain = extract(FIX / "tensorrt-llm" / "good" / "llmapi-greedy.yaml", "tensorrt-llm", ctx)
    assert plain["generation.temperature"].origin.source != "generation_config.json"  # default mode trtllm


@pytest.mark.parametrize(("name", "line"), [("temperature.json", 3), ("request.json", 1)])
def test_trtllm_bad(name: str, line: int) -> None:
    with pytest.raises(ExtractionError) as err:
        extract(FIX / "tensorrt-llm" / "bad" / name, "tensorrt-llm")
    assert err.value.line == line


def test_an_ensemble_generate_body_is_detected_and_read_as_its_tensors(tmp_path: Path) -> None:
    """``curl .../v2/models/ensemble/generate -d '{"text_input": ..., "max_tokens": 20, "bad_words": "",
    "stop_words": ""}'`` (tensorrtllm_backend's README): each member is the ensemble input of its name, on the
    Triton path's runtime defaults (greedy: top_k 0 and top_p 0), the text raw; vllm_backend's body, whose
    sampling parameters are a ``parameters`` member, is not claimed."""
    body = tmp_path / "generate.json"
    body.write_text(json.dumps({"text_input": "What is ML?", "max_tokens": 20, "bad_words": "", "stop_words": "",
                                "top_k": 5, "top_p": 0.9}))
    cfg = api.extract(str(body))
    assert cfg.kind == "tensorrt-llm" and cfg.serving == "triton-tensorrtllm"
    assert cfg["generation.max_new_tokens"].value == 20 and cfg["generation.top_k"].value == 5
    assert cfg["generation.top_p"].value == 0.9 and cfg["generation.do_sample"].value is True
    assert cfg["preprocessing.chat_template_applied"].value is False
    assert cfg["tensorrt_llm.request.bad_words"].value == ""
    vllm_body = tmp_path / "vllm_generate.json"
    vllm_body.write_text(json.dumps({"text_input": "What is ML?", "parameters": {"temperature": 0}}))
    with pytest.raises(UsageError, match="cannot tell what kind"):
        api.extract(str(vllm_body))
