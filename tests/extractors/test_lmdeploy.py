"""lmdeploy extractors: the TurboMind INI with inline comments, the pipeline (greedy) and server (sampling)
defaults, bad input, and where its GenerationConfig differs from the other engines (``top_k`` 50)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect, extract

FIX = Path(__file__).resolve().parents[1] / "fixtures"


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


@pytest.mark.parametrize(("name", "value", "reported"), [
    ("presence_penalty", 0.5, True), ("frequency_penalty", -0.3, True), ("echo", True, True),
    ("suffix", "end", True), ("presence_penalty", 0.0, False), ("echo", False, False), ("suffix", None, False)])
def test_request_fields_the_api_server_never_reads_are_reported(tmp_path: Path, name: str, value: object,
                                                                 reported: bool) -> None:
    """lmdeploy@1263d5cd889b: the request models take presence_penalty, frequency_penalty, echo and suffix, and
    build_serving_generation_config keeps only GenerationConfig's fields: a request asking for one is served
    without it (DG304), one at its neutral value asks for nothing."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"model": "m", "prompt": "hi", name: value}))
    cfg = api.extract(f"lmdeploy:{path}")
    key = f"lmdeploy.unknown_fields.{name}"
    assert (key in cfg) is reported
    if reported:
        assert cfg[key].note is not None and "never read" in cfg[key].note
        assert f"generation.{name}" not in cfg
