"""TGI, OpenAI, TensorRT-LLM and lmdeploy extractors: documented defaults, derived sampling, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError
from driftguard.extractors import detect, extract
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, How, Origin, Value

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def test_tgi_request_detected_and_warper_turns_sampling_on() -> None:
    f = FIX / "tgi" / "good" / "generate.json"
    assert detect(f) == "tgi"
    cfg = extract(f)
    assert cfg["generation.temperature"].value == 0.7 and cfg["generation.temperature"].origin.line == 4
    assert cfg["generation.do_sample"].value is True  # temperature 0.7 is a warper, despite do_sample false
    assert cfg["preprocessing.max_length"].value == 1000
    assert cfg["generation.top_k"].value == 0 and cfg["generation.top_k"].origin.source == "tgi default"
    assert cfg["tgi.parameters.watermark"].value is False


def test_tgi_missing_parameters_samples_and_plain_request_is_greedy() -> None:
    assert extract(FIX / "tgi" / "good" / "no-parameters.json", "tgi")["generation.do_sample"].value is True
    assert extract(FIX / "tgi" / "good" / "greedy.json", "tgi")["generation.do_sample"].value is False


@pytest.mark.parametrize(("name", "line"), [("top_p.json", 4), ("temperature.json", 1), ("parameters.json", 1)])
def test_tgi_rejects_what_the_router_rejects(name: str, line: int) -> None:
    with pytest.raises(ExtractionError) as err:
        extract(FIX / "tgi" / "bad" / name, "tgi")
    assert err.value.line == line


def test_tgi_launcher_args_dtype_and_quantize(tmp_path: Path) -> None:
    f = tmp_path / "launcher.yaml"
    f.write_text("MODEL_ID: /data/m\n--dtype: bfloat16\nmax-total-tokens: 2048\nquantize: AWQ\n")
    assert detect(f) == "tgi"
    cfg = extract(f)
    assert (cfg["precision.compute"].value, cfg["precision.compute"].origin.line) == ("bfloat16", 2)
    assert (cfg["precision.quantization"].value, cfg["precision.quantization"].origin.line) == ("awq", 4)
    assert cfg["precision.compute"].origin.source == "launcher args"
    assert cfg["tgi.launcher.model_id"].value == "/data/m" and cfg["tgi.launcher.max_total_tokens"].value == 2048
    assert "tgi.launcher.dtype" not in cfg.values and "generation.temperature" not in cfg.values


@pytest.mark.parametrize(("body", "line"), [('{"model_id": "m",\n "dtype": "float32"}', 2),
                                           ('{"model_id": "m",\n "quantize": "int3"}', 2)])
def test_tgi_launcher_rejects_what_the_launcher_rejects(tmp_path: Path, body: str, line: int) -> None:
    f = tmp_path / "launcher.json"
    f.write_text(body)
    with pytest.raises(ExtractionError) as err:
        extract(f, "tgi")
    assert err.value.line == line


def test_openai_chat_and_completions_defaults() -> None:
    chat = extract(FIX / "openai" / "good" / "chat.json")
    assert chat.kind == "openai"
    assert chat["generation.max_new_tokens"].value == 300
    assert chat["generation.top_p"].value == 1 and chat["generation.top_p"].origin.source == "openai default"
    assert "generation.top_k" not in chat  # the API has no top_k
    done = extract(FIX / "openai" / "good" / "completion-defaults.json", "openai")
    assert done["generation.max_new_tokens"].value == 16 and not done["generation.max_new_tokens"].explicit
    assert extract(FIX / "openai" / "good" / "completion.json")["generation.do_sample"].value is False


@pytest.mark.parametrize(("name", "line"), [("temperature.json", 4), ("no-messages.json", 1)])
def test_openai_bad(name: str, line: int) -> None:
    with pytest.raises(ExtractionError) as err:
        extract(FIX / "openai" / "bad" / name, "openai")
    assert err.value.line == line


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


def test_lmdeploy_ini_with_inline_comments() -> None:
    f = FIX / "lmdeploy" / "good" / "turbomind.ini"
    assert detect(f) == "lmdeploy"
    cfg = extract(f)
    assert cfg["generation.top_k"].value == 40 and cfg["generation.top_k"].origin.line == 7
    assert cfg["precision.compute"].value == "bfloat16"
    assert cfg["generation.max_new_tokens"].value == 512
    assert cfg["lmdeploy.ft_instance_hyperparameter.tensor_para_size"].value == 1
    assert cfg["generation.do_sample"].value is True


def test_lmdeploy_pipeline_greedy_and_server_sampling() -> None:
    gc = extract(FIX / "lmdeploy" / "good" / "gen-config.yaml", "lmdeploy")
    t = gc["generation.temperature"]
    # do_sample false (the class default): the pipeline forces greedy; the origin names that rule, not the
    # line that says 0.6, and the note keeps the replaced value
    assert (t.value, t.origin.line) == (1.0, None)
    assert t.origin.source == "forced: lmdeploy pipeline greedy (do_sample false, §6)"
    assert t.note is not None and t.note.startswith("forced from 0.6 (") and t.note.endswith("gen-config.yaml:2)")
    assert gc["generation.top_k"].value == 1
    sample = extract(FIX / "lmdeploy" / "good" / "gen-config-sample.yaml", "lmdeploy")
    assert sample["generation.temperature"].value == 0.8 and sample["generation.top_k"].value == 50
    server = extract(FIX / "lmdeploy" / "good" / "api-request.json", "lmdeploy")
    assert server["generation.do_sample"].value is True
    assert "generation.max_new_tokens" not in server


@pytest.mark.parametrize(("name", "line"), [("duplicate.ini", 3), ("no-section.ini", 1),
                                            ("temperature.yaml", 1)])
def test_lmdeploy_bad(name: str, line: int) -> None:
    with pytest.raises(ExtractionError) as err:
        extract(FIX / "lmdeploy" / "bad" / name, "lmdeploy")
    assert err.value.line == line


def test_same_body_means_different_things_per_engine(tmp_path: Path) -> None:
    """Unset top_k: off in vLLM, TGI and TensorRT-LLM; 50 in lmdeploy's GenerationConfig."""
    body = tmp_path / "body.json"
    body.write_text('{"temperature": 0.7, "top_p": 0.9, "do_sample": true}')
    top_k = {k: extract(body, k)["generation.top_k"].value for k in ("vllm", "tensorrt-llm", "lmdeploy")}
    assert top_k == {"vllm": 0, "tensorrt-llm": 0, "lmdeploy": 50}
