"""TensorRT-LLM extractors: Triton request tensors, the LLM API's sampling (greedy until set), its
generation_config ``auto`` taking present values only, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError
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
