"""lmdeploy extractors: the TurboMind INI with inline comments, the pipeline (greedy) and server (sampling)
defaults, bad input, and where its GenerationConfig differs from the other engines (``top_k`` 50)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect, extract
from driftguard.model import Value

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


# lmdeploy's api_server since v0.15 (PR #4708, f3650f9d; InternLM/lmdeploy@1263d5cd889b): the request's values
# over the generation config ``--generation-config`` names (default ``auto``: the model's generation_config.json,
# read with transformers' ``GenerationConfig.to_diff_dict()`` and filtered to lmdeploy's GenerationConfig fields,
# lmdeploy/serve/core/generation_config.py resolve_default_gen_config / merge_gen_config), over the class
# defaults (messages.py GenerationConfig: temperature 0.8, top_k 50, top_p 1.0); ``build_generation_config``
# drops the file's max_new_tokens and do_sample and always samples. The native /generate takes
# ``GenerateReqInput`` (serve/openai/protocol.py): max_tokens 128, no ``model`` member; endpoints/generate.py
# check_request: top_p in (0, 1], top_k >= 0, temperature in [0, 2], max_tokens > 0.
_MODEL_GEN = {"bos_token_id": 1, "eos_token_id": 2, "do_sample": True, "temperature": 0.6, "top_p": 0.9,
              "top_k": 20, "repetition_penalty": 1.05, "max_new_tokens": 256}
_CHAT: dict[str, object] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def _tree(tmp_path: Path, gen: Mapping[str, object], body: Mapping[str, object], launch: str | None = None) -> Path:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "generation_config.json").write_text(json.dumps(gen, indent=1) + "\n")
    (tmp_path / "m" / "config.json").write_text('{"model_type": "llama"}\n')
    (tmp_path / "req.json").write_text(json.dumps(body, indent=1) + "\n")
    if launch is not None:
        (tmp_path / "serve.sh").write_text(f"#!/bin/sh\n{launch}\n")
    return tmp_path


def _served(tmp_path: Path, *, launch: bool, model: bool) -> dict[str, Value]:
    ctx = ([tmp_path / "serve.sh"] if launch else []) + ([f"hf-model:{tmp_path / 'm'}"] if model else [])
    result = api.diff(tmp_path / "m" / "generation_config.json", f"lmdeploy:{tmp_path / 'req.json'}",
                      context=ctx)
    return {k: v for k, v in result.deployed.values.items() if k.startswith("generation.")}


def test_the_api_server_takes_its_defaults_from_the_models_generation_config(tmp_path: Path) -> None:
    tree = _tree(tmp_path, _MODEL_GEN, {**_CHAT, "top_p": 0.8})
    result = api.diff(tree / "m" / "generation_config.json", f"lmdeploy:{tree / 'req.json'}",
                      context=[f"hf-model:{tree / 'm'}"])
    got = result.deployed
    lines = (tree / "m" / "generation_config.json").read_text().splitlines()
    for key, value in (("temperature", 0.6), ("top_k", 20), ("repetition_penalty", 1.05)):
        v = got[f"generation.{key}"]
        assert v.value == value and v.origin.source == "generation_config.json"
        assert v.origin.line is not None and f'"{key}"' in lines[v.origin.line - 1]
    assert got["generation.top_p"].value == 0.8 and got["generation.top_p"].explicit  # the request's wins
    assert "generation.max_new_tokens" not in got.values  # dropped: the session length bounds it
    assert got["generation.do_sample"].value is True
    assert [(f.rule, f.key) for f in result.findings] == [("DG101", "generation.top_p")]


def test_generation_config_lmdeploy_serves_the_class_defaults(tmp_path: Path) -> None:
    _tree(tmp_path, _MODEL_GEN, _CHAT, "lmdeploy serve api_server ./m --generation-config lmdeploy")
    got = _served(tmp_path, launch=True, model=True)
    assert {k: got[f"generation.{k}"].value for k in ("temperature", "top_k", "top_p")} == \
        {"temperature": 0.8, "top_k": 50, "top_p": 1.0}


def test_generation_config_auto_on_a_launch_command_reads_the_model(tmp_path: Path) -> None:
    _tree(tmp_path, _MODEL_GEN, _CHAT, "lmdeploy serve api_server ./m --session-len 4096")
    got = _served(tmp_path, launch=True, model=True)
    assert got["generation.temperature"].value == 0.6


def test_a_hub_model_without_its_files_leaves_the_generation_defaults_unknown(tmp_path: Path) -> None:
    _tree(tmp_path, _MODEL_GEN, _CHAT, "lmdeploy serve api_server internlm/internlm2_5-7b-chat")
    got = _served(tmp_path, launch=True, model=False)
    t = got["generation.temperature"]
    assert t.how == "unresolved" and t.derived_from == ("model.source",)
    assert t.value == "internlm/internlm2_5-7b-chat/generation_config.json"
    assert t.origin.line == 2  # the launch command's line
    result = api.diff(tmp_path / "m" / "generation_config.json", f"lmdeploy:{tmp_path / 'req.json'}",
                      context=[tmp_path / "serve.sh"])
    assert not [f for f in result.findings if f.rule == "DG101"]  # unknown, never lmdeploy's bare 0.8


def test_a_generation_config_folder_elsewhere_is_unknown(tmp_path: Path) -> None:
    _tree(tmp_path, _MODEL_GEN, _CHAT, "lmdeploy serve api_server ./m --generation-config /opt/gen")
    got = _served(tmp_path, launch=True, model=True)
    t = got["generation.top_p"]
    assert t.how == "unresolved" and t.derived_from == ("lmdeploy.generation_config",)


def test_a_value_to_diff_dict_drops_only_with_transformers_4_is_left_unresolved(tmp_path: Path) -> None:
    """temperature 1.0 equals transformers 4.x's class default, so 4.x's to_diff_dict() drops it and lmdeploy's
    0.8 applies, while 5.x (class defaults None) keeps 1.0; top_k 50 is 50 either way (defaults.md §1.3)."""
    tree = _tree(tmp_path, {"do_sample": True, "temperature": 1.0, "top_k": 50, "top_p": 0.95}, _CHAT)
    got = _served(tree, launch=False, model=True)
    t = got["generation.temperature"]
    assert t.how == "unresolved" and isinstance(t.value, str) and "0.8" in t.value and "1" in t.value
    assert got["generation.top_k"].value == 50 and got["generation.top_p"].value == 0.95


def test_a_generate_body_has_its_own_defaults_and_fields(tmp_path: Path) -> None:
    body = tmp_path / "generate.json"
    body.write_text(json.dumps({"prompt": "hi", "seed": 7, "temperature": 0.7}, indent=1))
    cfg = extract(body, "lmdeploy")
    assert cfg.serving == "lmdeploy-generate"
    m = cfg["generation.max_new_tokens"]
    assert m.value == 128 and m.origin.source == "lmdeploy /generate default"
    assert cfg["preprocessing.chat_template_applied"].value is False
    assert cfg["generation.seed"].value is None  # GenerateReqInput has no seed: dropped, reported (DG304)
    assert cfg["lmdeploy.unknown_fields.seed"].value == 7
    completion = tmp_path / "completion.json"
    completion.write_text(json.dumps({"model": "m", "prompt": "hi", "seed": 7}))
    c = extract(completion, "lmdeploy")
    assert c.serving == "lmdeploy-server" and c["generation.seed"].value == 7
    assert "generation.max_new_tokens" not in c.values


@pytest.mark.parametrize(("name", "value", "ok"), [
    ("top_p", 0.0, False), ("top_p", 1.0, True), ("top_k", -1, False), ("top_k", 0, True),
    ("temperature", 2.0, True), ("temperature", 2.5, False), ("max_tokens", 0, False), ("max_tokens", 1, True)])
def test_generate_check_request_ranges(tmp_path: Path, name: str, value: float, ok: bool) -> None:
    body = tmp_path / "generate.json"
    body.write_text(json.dumps({"prompt": "hi", name: value}))
    if ok:
        extract(body, "lmdeploy")
    else:
        with pytest.raises(ExtractionError):
            extract(body, "lmdeploy")
