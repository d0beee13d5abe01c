"""Endpoint semantics (issue 20, point 6): a request names or implies its endpoint, and the endpoint decides
whether the model's input is built by the chat template (``preprocessing.chat_template_applied``). Compared with
the training side like any other key: a fine-tune formatted with a chat template and served through a raw-text
endpoint is one DG101 finding naming both files; equivalent endpoints across engines give none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api

KEY = "preprocessing.chat_template_applied"
FINETUNE = Path(__file__).resolve().parents[1] / "corpus" / "finetune"
#: A real LLaMA-Factory LoRA SFT config (template: qwen): its examples are formatted with the chat template.
SFT = FINETUNE / "QwenLM__Qwen2.5__examples__llama-factory__qwen2-7b-lora-sft.yaml"

#: (kind, file name, body, chat template applied, endpoint) per engine's endpoint.
REQUESTS = [
    ("vllm", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, True,
     "/v1/chat/completions"),
    ("vllm", "completion.json", {"model": "m", "prompt": "hi", "max_tokens": 8}, False, "/v1/completions"),
    ("openai", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, True,
     "/v1/chat/completions"),
    ("openai", "completion.json", {"model": "m", "prompt": "hi", "max_tokens": 8}, False, "/v1/completions"),
    ("tgi", "generate.json", {"inputs": "hi", "parameters": {"max_new_tokens": 8}}, False, "/generate"),
    ("vllm", "model.json", None, None, None),  # engine args name no endpoint
]


def _write(tmp_path: Path, name: str, body: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


@pytest.mark.parametrize(("kind", "name", "body", "applied", "endpoint"), [r for r in REQUESTS if r[2] is not None],
                         ids=[f"{r[0]}-{r[4]}" for r in REQUESTS if r[2] is not None])
def test_each_endpoint_says_whether_the_chat_template_is_applied(
        tmp_path: Path, kind: str, name: str, body: object, applied: bool, endpoint: str) -> None:
    path = _write(tmp_path, name, body)
    v = api.extract(f"{kind}:{path}")[KEY]
    assert v.value is applied and v.explicit
    field = (v.origin.pointer or "").lstrip("/")
    assert field in ("messages", "prompt", "inputs")
    lines = path.read_text().splitlines()  # at the line of the member that names the endpoint
    assert v.origin.line is not None and lines[v.origin.line - 1].lstrip().startswith(f'"{field}"')
    assert v.note is not None and v.note.startswith(endpoint)


def test_tritons_generate_endpoint_takes_raw_text(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text('{"model": "facebook/opt-125m", "gpu_memory_utilization": 0.5}\n')
    request = _write(tmp_path, "request.json", {"text_input": "hi", "parameters": {"temperature": 0.2}})
    cfg = api.diff(str(SFT), f"vllm:{request}", context=[f"vllm:{tmp_path / 'model.json'}"]).deployed
    assert cfg[KEY].value is False and cfg[KEY].note is not None and "text_input" in cfg[KEY].note


def test_engine_args_name_no_endpoint(tmp_path: Path) -> None:
    serve = tmp_path / "serve.yaml"
    serve.write_text("model: ./m\nmax_model_len: 4096\ngpu_memory_utilization: 0.9\n")
    (tmp_path / "m").mkdir()
    assert KEY not in api.extract(f"vllm:{serve}")


def test_a_real_sft_config_formats_with_its_template() -> None:
    v = api.extract(f"llamafactory:{SFT}")[KEY]
    assert v.value is True and v.origin.pointer == "/template"


@pytest.mark.parametrize(("kind", "name", "body", "applied", "endpoint"), [r for r in REQUESTS if r[2] is not None],
                         ids=[f"{r[0]}-{r[4]}" for r in REQUESTS if r[2] is not None])
def test_a_chat_fine_tune_served_through_raw_text_is_drift(
        tmp_path: Path, kind: str, name: str, body: object, applied: bool, endpoint: str) -> None:
    found = [f for f in api.diff(str(SFT), f"{kind}:{_write(tmp_path, name, body)}").findings if f.key == KEY]
    if applied:
        assert found == []
    else:
        assert [f.rule for f in found] == ["DG101"]
        assert found[0].training is not None and found[0].training.origin.path == str(SFT)
        assert found[0].deployed is not None and found[0].deployed.origin.path.endswith(name)


@pytest.mark.parametrize(("a", "b"), [(0, 2), (1, 3), (1, 4), (3, 4)])
def test_equivalent_endpoints_across_engines_give_no_finding(tmp_path: Path, a: int, b: int) -> None:
    """vLLM's and OpenAI's chat endpoints both apply the template; vLLM's and OpenAI's completions and TGI's
    /generate all take raw text: no finding on the key between them."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ka, na, ba, _, _ = REQUESTS[a]
    kb, nb, bb, _, _ = REQUESTS[b]
    result = api.diff(f"{ka}:{_write(tmp_path / 'a', na, ba)}", f"{kb}:{_write(tmp_path / 'b', nb, bb)}")
    assert result.training[KEY].value == result.deployed[KEY].value
    assert [f for f in result.findings if f.key == KEY] == []


#: lmdeploy's api_server and TensorRT-LLM's endpoints (kind, file name, body, chat template applied, the member
#: the value is read at, endpoint): lmdeploy@1263d5cd889b chat_completions/serving.py (do_preprocess, a string
#: messages), endpoints/completions.py and endpoints/generate.py (do_preprocess=False); TensorRT-LLM@0076e9390e1e
#: serve/openai_protocol.py; tensorrtllm_backend@04d96ce8e635 preprocessing/1/model.py (text_input tokenized as
#: given).
MORE_REQUESTS = [
    ("lmdeploy", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, True, "messages",
     "/v1/chat/completions"),
    ("lmdeploy", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}], "do_preprocess": False},
     False, "do_preprocess", "/v1/chat/completions"),
    ("lmdeploy", "chat.json", {"model": "m", "messages": "hi"}, False, "messages", "/v1/chat/completions"),
    ("lmdeploy", "completion.json", {"model": "m", "prompt": "hi", "max_tokens": 8}, False, "prompt",
     "/v1/completions"),
    # GenerateReqInput has no model member, both OpenAI request models require one (protocol.py)
    ("lmdeploy", "generate.json", {"prompt": "hi", "max_tokens": 8}, False, "prompt", "/generate"),
    ("tensorrt-llm", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, True, "messages",
     "/v1/chat/completions"),
    ("tensorrt-llm", "completion.json", {"model": "m", "prompt": "hi", "max_tokens": 8}, False, "prompt",
     "/v1/completions"),
    ("tensorrt-llm", "infer.json", {"request": [{"name": "text_input", "data": [["hi"]]},
                                                {"name": "max_tokens", "data": [[8]]}]}, False, "name",
     "/v2/models/{model}/infer"),
    # SGLang (sgl-project/sglang@01d4f856c43c docs/docs/basic_usage/sampling_params.mdx: /generate is the
    # low-level endpoint; @004c82e07d87 entrypoints/openai/protocol.py: input_ids bypasses the chat template)
    ("sglang", "generate.json", {"text": "hi", "sampling_params": {"max_new_tokens": 8}}, False, "text",
     "/generate"),
    ("sglang", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, True, "messages",
     "/v1/chat/completions"),
    ("sglang", "completion.json", {"model": "m", "prompt": "hi"}, False, "prompt", "/v1/completions"),
    ("sglang", "chat.json", {"model": "m", "messages": [{"role": "user", "content": "hi"}], "input_ids": [1, 2]},
     False, "input_ids", "/v1/chat/completions"),
    # the tensorrtllm_backend ensemble's Triton generate body: its inputs as JSON members
    ("tensorrt-llm", "generate.json", {"text_input": "hi", "max_tokens": 20, "bad_words": "", "stop_words": ""},
     False, "text_input", "/v2/models/{model}/generate"),
    ("lmdeploy", "generate.json", {"input_ids": [1, 2], "max_tokens": 8}, False, "input_ids", "/generate"),
]
_IDS = [f"{r[0]}-{r[5]}-{r[4]}" for r in MORE_REQUESTS]


@pytest.mark.parametrize(("kind", "name", "body", "applied", "member", "endpoint"), MORE_REQUESTS, ids=_IDS)
def test_lmdeploy_and_tensorrt_llm_endpoints(tmp_path: Path, kind: str, name: str, body: object, applied: bool,
                                             member: str, endpoint: str) -> None:
    path = _write(tmp_path, name, body)
    v = api.extract(f"{kind}:{path}")[KEY]
    assert v.value is applied and v.explicit
    assert (v.origin.pointer or "").split("/")[-1] == member
    lines = path.read_text().splitlines()
    assert v.origin.line is not None and f'"{member}"' in lines[v.origin.line - 1]
    assert v.note is not None and v.note.startswith(endpoint)


@pytest.mark.parametrize(("kind", "name", "body", "applied", "member", "endpoint"), MORE_REQUESTS, ids=_IDS)
def test_a_chat_fine_tune_served_raw_by_lmdeploy_or_tensorrt_llm_is_drift(
        tmp_path: Path, kind: str, name: str, body: object, applied: bool, member: str, endpoint: str) -> None:
    found = [f for f in api.diff(str(SFT), f"{kind}:{_write(tmp_path, name, body)}").findings if f.key == KEY]
    assert [f.rule for f in found] == ([] if applied else ["DG101"])


@pytest.mark.parametrize(("a", "b"), [(0, 0), (2, 5), (3, 1), (1, 2), (1, 3), (3, 4), (4, 6), (4, 7), (4, 8),
                                      (0, 9), (3, 10), (1, 11), (4, 12)])
def test_equivalent_endpoints_across_more_engines_give_no_finding(tmp_path: Path, a: int, b: int) -> None:
    """vLLM's, lmdeploy's, trtllm-serve's and SGLang's chat endpoints all apply the template; lmdeploy's
    completions, /generate, do_preprocess false and string messages, trtllm-serve's completions, TGI's /generate,
    the tensorrtllm_backend ensemble's text_input, SGLang's /generate, completions and a chat request's input_ids
    all take raw text: no finding on the key between them."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ka, na, ba, _, _ = REQUESTS[a]
    kb, nb, bb, *_ = MORE_REQUESTS[b]
    result = api.diff(f"{ka}:{_write(tmp_path / 'a', na, ba)}", f"{kb}:{_write(tmp_path / 'b', nb, bb)}")
    assert result.training[KEY].value == result.deployed[KEY].value
    assert [f for f in result.findings if f.key == KEY] == []
