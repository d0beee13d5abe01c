"""DG108 (rules/output_params.py) and the table behind it: every field of vLLM's SamplingParams, as the engine's
source lists it, says whether it changes what the model outputs; one that does has a canonical key or is an
output field of the serving path (``EngineSpec.output_fields``), kept when a request sets it, never dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftguard import api
from driftguard.engines import vllm as vllm_engine
from driftguard.rules.output_params import neutral

#: vllm-project/vllm@db573835d3ef vllm/sampling_params.py SamplingParams fields (the request models' extra fields
#: below): field -> (changes the output, a value that is not its default).
VLLM_SAMPLING_PARAMS: dict[str, tuple[bool, Any]] = {
    "n": (True, 2), "best_of": (True, 3), "presence_penalty": (True, 0.5), "frequency_penalty": (True, 0.5),
    "repetition_penalty": (True, 1.2), "temperature": (True, 0.5), "top_p": (True, 0.5), "top_k": (True, 5),
    "min_p": (True, 0.1), "seed": (True, 7), "stop": (True, ["###"]), "stop_token_ids": (True, [2]),
    "ignore_eos": (True, True), "max_tokens": (True, 64), "min_tokens": (True, 4),
    "logprobs": (False, 2), "prompt_logprobs": (False, 2),  # returned alongside, the text is the same
    "detokenize": (True, False), "skip_special_tokens": (True, False), "spaces_between_special_tokens": (True, False),
    "logits_processors": (True, ["my.module:Proc"]), "include_stop_str_in_output": (True, True),
    "truncate_prompt_tokens": (True, 100), "output_kind": (False, 1),  # how results stream, not what they say
    "guided_decoding": (True, {"json": {"type": "object"}}), "logit_bias": (True, {"50256": -100}),
    "allowed_token_ids": (True, [1, 2, 3]),
    # request-model fields (VLLM-CHAT) that reach SamplingParams or the prompt
    "bad_words": (True, ["darn"]), "response_format": (True, {"type": "json_object"}),
    "guided_json": (True, {"type": "object"}), "guided_regex": (True, "[a-z]+"), "guided_choice": (True, ["a", "b"]),
    "guided_grammar": (True, "root ::= 'a'"), "structured_outputs": (True, {"choice": ["a", "b"]}),
    "structural_tag": (True, "{}"), "use_beam_search": (True, True),
}


def test_the_table_covers_the_paths_fields() -> None:
    """Every output-changing field either maps to a canonical key or is one of the path's output fields."""
    for name, (changes, _) in VLLM_SAMPLING_PARAMS.items():
        assert name in vllm_engine.SERVE.known, name
        if changes:
            assert name in vllm_engine.FIELDS or name in vllm_engine.OUTPUT_FIELDS, name
        else:
            assert name not in vllm_engine.OUTPUT_FIELDS, name


@pytest.mark.parametrize("name", sorted(n for n, (changes, _) in VLLM_SAMPLING_PARAMS.items() if changes))
def test_an_output_changing_field_is_kept_never_dropped(tmp_path: Path, name: str) -> None:
    value = VLLM_SAMPLING_PARAMS[name][1]
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"model": "m", "prompt": "hi", name: value}, indent=2) + "\n")
    cfg = api.extract(f"vllm:{request}")
    field = vllm_engine.FIELDS.get(name)
    if field is not None:
        assert cfg[field.key].explicit
        return
    kept = [k for k in cfg if k == f"vllm.{name}" or k.startswith(f"vllm.{name}.")]
    assert kept and all((cfg[k].origin.line or 0) >= 4 for k in kept), (name, list(cfg))  # at the field or inside it
    assert not [k for k in cfg if ".unknown_fields." in k]
    assert not neutral(value, vllm_engine.OUTPUT_FIELDS[name])


def test_a_real_request_that_ignores_eos_fails_the_check(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False, "max_new_tokens": 256}))
    (tmp_path / "request.json").write_text(json.dumps(
        {"model": "m", "prompt": "hi", "temperature": 0, "max_tokens": 256, "ignore_eos": True,
         "logit_bias": {"50256": -100}}, indent=2) + "\n")
    (tmp_path / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": {"m": {
        "training": [{"path": "generation_config.json"}], "deployment": [{"path": "request.json", "kind": "vllm"}]}}}))
    report = api.check(tmp_path / "driftguard.yaml")
    found = sorted((j.finding.key, j.finding.deployed.origin.line if j.finding.deployed else None)
                   for j in report.findings if j.finding.rule == "DG108")
    assert found == [("vllm.ignore_eos", 6), ("vllm.logit_bias", 8)]  # a mapping kept flattened: its member
    assert not report.ok
    diffed = api.diff(str(tmp_path / "generation_config.json"), f"vllm:{tmp_path / 'request.json'}")
    assert sorted(f.key for f in diffed.findings if f.rule == "DG108") == ["vllm.ignore_eos", "vllm.logit_bias"]


#: The OpenAI request fields (defaults.md §5, OAI) without a canonical key: field -> (changes the output, a value).
OPENAI_FIELDS: dict[str, tuple[bool, Any]] = {
    "logit_bias": (True, {"50256": -100}), "response_format": (True, {"type": "json_object"}),
    "tools": (True, [{"type": "function", "function": {"name": "f"}}]), "tool_choice": (True, "required"),
    "suffix": (True, "end"), "echo": (True, True), "best_of": (True, 3), "reasoning_effort": (True, "high"),
    "verbosity": (True, "low"), "logprobs": (False, True), "top_logprobs": (False, 3), "user": (False, "u"),
    "stream": (False, True), "store": (False, True), "metadata": (False, {"a": "b"}),
    "service_tier": (False, "auto"), "parallel_tool_calls": (False, False),
}
#: TGI's GenerateParameters members without a canonical key (TGI-LIB router/src/lib.rs).
TGI_FIELDS: dict[str, tuple[bool, Any]] = {
    "grammar": (True, {"type": "json", "value": {"type": "object"}}), "watermark": (True, True),
    "adapter_id": (True, "my-lora"), "return_full_text": (True, True), "details": (False, True),
    "decoder_input_details": (False, True), "top_n_tokens": (False, 3),
}


@pytest.mark.parametrize(("kind", "name"), [("openai", n) for n, (c, _) in OPENAI_FIELDS.items() if c]
                         + [("tgi", n) for n, (c, _) in TGI_FIELDS.items() if c])
def test_other_engines_output_fields_are_kept_and_judged(tmp_path: Path, kind: str, name: str) -> None:
    """A request of each engine setting one output-changing field, against a training generation config that
    states none: the field is kept (not an unknown field) and DG108 names it."""
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    if kind == "openai":
        body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                name: OPENAI_FIELDS[name][1]}
        key = f"openai.{name}"
    else:
        body = {"inputs": "hi", "parameters": {"max_new_tokens": 8, name: TGI_FIELDS[name][1]}}
        key = f"tgi.parameters.{name}"
    (tmp_path / "request.json").write_text(json.dumps(body, indent=2) + "\n")
    result = api.diff(str(tmp_path / "generation_config.json"), f"{kind}:{tmp_path / 'request.json'}")
    assert not [k for k in result.deployed if ".unknown_fields." in k]
    assert [f.key for f in result.findings if f.rule == "DG108"] == [key]


@pytest.mark.parametrize(("kind", "fields"), [("openai", OPENAI_FIELDS), ("tgi", TGI_FIELDS)])
def test_fields_that_do_not_change_the_output_are_not_judged(tmp_path: Path, kind: str,
                                                              fields: dict[str, tuple[bool, Any]]) -> None:
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    quiet = {n: v for n, (changes, v) in fields.items() if not changes}
    body: dict[str, Any] = ({"model": "m", "messages": [{"role": "user", "content": "hi"}], **quiet}
                            if kind == "openai" else {"inputs": "hi", "parameters": {"max_new_tokens": 8, **quiet}})
    (tmp_path / "request.json").write_text(json.dumps(body, indent=2) + "\n")
    result = api.diff(str(tmp_path / "generation_config.json"), f"{kind}:{tmp_path / 'request.json'}")
    assert [f for f in result.findings if f.rule == "DG108"] == []


def test_an_engine_call_in_python_is_judged_too(tmp_path: Path) -> None:
    # vLLM's LLM.chat states that the chat template is applied, with no request member to point at
    # (the python kind's call semantics): DG108 still reads the call's SamplingParams
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False, "max_new_tokens": 256}))
    (tmp_path / "serve.py").write_text(
        "from vllm import LLM, SamplingParams\n\nllm = LLM('m')\n"
        "params = SamplingParams(temperature=0, max_tokens=256, ignore_eos=True)\n"
        "out = llm.chat([{'role': 'user', 'content': 'hi'}], params)\n")
    result = api.diff(tmp_path / "generation_config.json", tmp_path / "serve.py")
    assert [(f.rule, f.key, f.deployed and f.deployed.origin.line) for f in result.findings
            if f.rule == "DG108"] == [("DG108", "vllm.ignore_eos", 4)]


def test_a_file_of_no_serving_engine_does_not_end_the_side(tmp_path: Path) -> None:
    # the deployment side's first artifact (an HF generation config) names no serving path; the vLLM request
    # after it is still read
    import yaml

    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False, "max_new_tokens": 256}))
    (tmp_path / "served_generation_config.json").write_text(json.dumps({"do_sample": False}))
    (tmp_path / "request.json").write_text(json.dumps({"model": "m", "prompt": "hi", "temperature": 0,
                                                       "ignore_eos": True}, indent=2) + "\n")
    (tmp_path / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": {"m": {
        "training": [{"path": "generation_config.json"}],
        "deployment": [{"path": "served_generation_config.json", "kind": "hf-generation"},
                       {"path": "request.json", "kind": "vllm"}]}}}))
    report = api.check(tmp_path / "driftguard.yaml")
    assert [j.finding.key for j in report.findings if j.finding.rule == "DG108"] == ["vllm.ignore_eos"]
