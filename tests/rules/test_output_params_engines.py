"""DG108 tables for lmdeploy and TensorRT-LLM (issue 20, point 7): every field of the engine's request or sampling
class, as the upstream source at a commit lists it, says whether it changes what the model outputs (the expected
values below are read from that source, not from driftguard's tables); one that does has a canonical key or is an
output field of the serving path (``EngineSpec.output_fields``), kept when a request sets it and named by DG108
when the other side states nothing, never dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftguard import api
from driftguard.engines import lmdeploy as lmd
from driftguard.engines import sglang as sgl
from driftguard.engines import tensorrt_llm as trt
from driftguard.engines.spec import EngineSpec

#: field -> (changes the output, a value that is not its default).
Table = dict[str, tuple[bool, Any]]

#: InternLM/lmdeploy@1263d5cd889b lmdeploy/messages.py GenerationConfig, every field.
LMDEPLOY_GENERATION_CONFIG: Table = {
    "n": (True, 2), "max_new_tokens": (True, 64), "do_sample": (True, True), "top_p": (True, 0.5),
    "top_k": (True, 5), "min_p": (True, 0.1), "temperature": (True, 0.5), "repetition_penalty": (True, 1.2),
    "ignore_eos": (True, True), "random_seed": (True, 7), "stop_words": (True, ["###"]),
    "bad_words": (True, ["darn"]), "stop_token_ids": (True, [2]), "bad_token_ids": (True, [3]),
    "min_new_tokens": (True, 4), "skip_special_tokens": (True, False), "spaces_between_special_tokens": (True, False),
    "logprobs": (False, 2),  # returned alongside, the text is the same
    "response_format": (True, {"type": "json_object"}), "logits_processors": (True, ["my.module:Proc"]),
    "output_logits": (False, "all"), "output_last_hidden_state": (False, "all"),
    "include_stop_str_in_output": (True, True), "return_ppl": (False, True),
    "with_cache": (False, True), "preserve_cache": (False, True),  # disaggregated serving's cache hand-over
    "migration_request": (False, {"remote_engine_id": "e"}), "return_routed_experts": (False, True),
    "repetition_ngram_size": (True, 3), "repetition_ngram_threshold": (True, 2),  # early stop on a repeated n-gram
}
#: The api_server's request models (serve/openai/protocol.py ChatCompletionRequest, CompletionRequest,
#: GenerateReqInput) beyond GenerationConfig: serve/core/generation_config.py keeps only GenerationConfig fields,
#: chat_completions/serving.py turns logit_bias into a logits processor and hands tools, reasoning_effort and the
#: template kwargs to the chat template.
LMDEPLOY_REQUEST: Table = {
    "max_tokens": (True, 64), "max_completion_tokens": (True, 64), "stop": (True, ["###"]), "seed": (True, 7),
    "logit_bias": (True, {"50256": -100}), "tools": (True, [{"type": "function", "function": {"name": "f"}}]),
    "tool_choice": (False, "required"),  # acts only with tools, which are judged
    "reasoning_effort": (True, "high"),
    "chat_template_kwargs": (True, {"enable_thinking": False}), "enable_thinking": (True, False),
    "mm_processor_kwargs": (True, {"num_frames": 8}),
    # accepted, never read: not GenerationConfig fields (generation_config.py), or unused by the endpoint
    "presence_penalty": (False, 0.5), "frequency_penalty": (False, 0.5), "echo": (False, True),
    "suffix": (False, "end"),
    "top_logprobs": (False, 3), "stream": (False, True), "user": (False, "u"), "session_id": (False, 3),
    "return_token_ids": (False, True), "return_logprob": (False, True), "parallel_tool_calls": (False, False),
    "media_io_kwargs": (False, {"image": {"mode": "RGB"}}), "stream_options": (False, {"include_usage": True}),
}
#: The native /generate's own request model, every field but the input (InternLM/lmdeploy@1263d5cd889b
#: lmdeploy/serve/openai/protocol.py GenerateReqInput; endpoints/generate.py hands stop as stop_words and
#: return_logprob as logprobs, the rest through build_serving_generation_config).
LMDEPLOY_GENERATE: Table = {
    "session_id": (False, 3), "return_logprob": (False, True), "max_tokens": (True, 64), "stop": (True, ["###"]),
    "stop_token_ids": (True, [2]), "stream": (False, True), "temperature": (True, 0.5),
    "repetition_penalty": (True, 1.2), "ignore_eos": (True, True), "top_p": (True, 0.5), "top_k": (True, 5),
    "min_p": (True, 0.1), "skip_special_tokens": (True, False), "spaces_between_special_tokens": (True, False),
    "include_stop_str_in_output": (True, True), "return_routed_experts": (False, True),
    "repetition_ngram_size": (True, 3), "repetition_ngram_threshold": (True, 2),
    "media_io_kwargs": (False, {"image": {"mode": "RGB"}}), "mm_processor_kwargs": (True, {"num_frames": 8}),
}

#: NVIDIA/TensorRT-LLM@000a01de66f0 tensorrt_llm/sampling_params.py SamplingParams, every init field.
TRT_SAMPLING_PARAMS: Table = {
    "end_id": (True, 2), "pad_id": (False, 0),  # padding only
    "max_tokens": (True, 64), "bad": (True, ["darn"]), "bad_token_ids": (True, [3]), "stop": (True, ["###"]),
    "stop_token_ids": (True, [2]), "include_stop_str_in_output": (True, True), "embedding_bias": (True, [0.0, 1.5]),
    "logits_processor": (True, "my.module:Proc"), "apply_batched_logits_processor": (True, True),
    "n": (True, 2), "best_of": (True, 3), "use_beam_search": (True, True), "top_k": (True, 5), "top_p": (True, 0.5),
    "top_p_min": (True, 0.5), "top_p_reset_ids": (True, 2), "top_p_decay": (True, 0.9), "seed": (True, 7),
    "temperature": (True, 0.5), "min_tokens": (True, 4), "beam_search_diversity_rate": (True, 0.5),
    "repetition_penalty": (True, 1.2), "presence_penalty": (True, 0.5), "frequency_penalty": (True, 0.5),
    "length_penalty": (True, 0.5), "early_stopping": (True, 0), "no_repeat_ngram_size": (True, 3),
    "min_p": (True, 0.1), "beam_width_array": (True, [2, 4]),
    "logprobs": (False, 2), "prompt_logprobs": (False, 2), "return_context_logits": (False, True),
    "return_generation_logits": (False, True), "return_encoder_output": (False, True),
    "return_perf_metrics": (False, True), "additional_model_outputs": (False, [{"name": "h", "gather_context": False}]),
    "exclude_input_from_output": (True, False),  # the prompt returned with the output
    "lookahead_config": (False, {"max_window_size": 4}),  # a lossless speed-up
    "guided_decoding": (True, {"regex": "[a-z]+"}), "ignore_eos": (True, True), "detokenize": (True, False),
    "add_special_tokens": (True, False), "truncate_prompt_tokens": (True, 100), "skip_special_tokens": (True, False),
    "spaces_between_special_tokens": (True, False),
}
#: NVIDIA/TensorRT-LLM@0076e9390e1e tensorrt_llm/serve/openai_protocol.py CompletionRequest and
#: ChatCompletionRequest beyond SamplingParams (to_sampling_params and the chat template's inputs).
TRT_SERVE: Table = {
    "logit_bias": (True, {"50256": -100}), "response_format": (True, {"type": "json_object"}),
    "tools": (True, [{"type": "function", "function": {"name": "f"}}]), "tool_choice": (False, "required"),
    "reasoning_effort": (True, "high"), "thinking": (True, {"type": "enabled"}),
    "thinking_token_budget": (True, 100), "prompt_ignore_length": (True, 5), "echo": (True, True),
    "add_generation_prompt": (True, False), "documents": (True, [{"title": "a", "text": "b"}]),
    "chat_template_kwargs": (True, {"enable_thinking": False}),
    "lora_request": (True, {"lora_name": "a", "lora_int_id": 1, "lora_path": "/p"}),
    "mm_processor_kwargs": (True, {"num_frames": 8}), "media_io_kwargs": (True, {"video": {"num_frames": 8}}),
    "chat_template": (True, "{{ messages }}"), "max_completion_tokens": (True, 64),
    "top_logprobs": (False, 3), "stream": (False, True), "user": (False, "u"), "parallel_tool_calls": (False, False),
    "disaggregated_params": (False, {"request_type": "context_only"}), "cache_salt": (False, "s"),
    "priority": (False, 0.9), "conversation_params": (False, {"conversation_id": "c"}),
    "agent_hierarchy": (False, {"a": "b"}), "suffix": (False, "end"),  # rejected: "suffix is not supported"
}
#: triton-inference-server/tensorrtllm_backend@00abb4936166 all_models/inflight_batcher_llm/tensorrt_llm/
#: config.pbtxt inputs, and the ensemble's own names (ensemble/config.pbtxt), but the input itself.
TRT_TENSORS: Table = {
    "request_output_len": (True, 64), "max_tokens": (True, 64), "draft_acceptance_threshold": (True, 0.5),
    "draft_input_ids": (False, [5, 6]), "draft_logits": (False, [[0.1, 0.2]]),  # the target model verifies them
    "end_id": (True, 2), "pad_id": (False, 0), "stop_words_list": (True, [[13, 14], [2, -1]]),
    "bad_words_list": (True, [[13], [1]]), "embedding_bias": (True, [0.0, 1.5]), "beam_width": (True, 2),
    "temperature": (True, 0.5), "runtime_top_k": (True, 5), "top_k": (True, 5), "runtime_top_p": (True, 0.5),
    "top_p": (True, 0.5), "runtime_top_p_min": (True, 0.5), "runtime_top_p_decay": (True, 0.9),
    "runtime_top_p_reset_ids": (True, 2), "len_penalty": (True, 0.5), "length_penalty": (True, 0.5),
    "early_stopping": (True, 0), "repetition_penalty": (True, 1.2), "min_length": (True, 4), "min_tokens": (True, 4),
    "beam_search_diversity_rate": (True, 0.5), "presence_penalty": (True, 0.5), "frequency_penalty": (True, 0.5),
    "random_seed": (True, 7), "seed": (True, 7), "num_return_sequences": (True, 2),
    "return_log_probs": (False, True), "return_context_logits": (False, True),
    "return_generation_logits": (False, True), "return_perf_metrics": (False, True), "stop": (False, True),
    "streaming": (False, True), "stream": (False, True), "prompt_table_extra_id": (False, 1),
    "prompt_embedding_table": (True, [[0.1, 0.2]]), "prompt_vocab_size": (True, 1), "lora_task_id": (True, 1),
    "lora_weights": (True, [[0.1, 0.2]]), "lora_config": (True, [[0, 0, 8]]), "bad_words": (True, "darn"),
    "stop_words": (True, "###"), "embedding_bias_words": (True, "hello"), "embedding_bias_weights": (True, 2.0),
    "guided_decoding_guide_type": (True, "regex"), "guided_decoding_guide": (True, "[a-z]+"),
    "exclude_input_in_output": (True, False),
    "num_draft_tokens": (False, 4), "use_draft_logits": (False, True),  # the BLS model's speculative decoding
}

#: sgl-project/sglang@00c17cafcb9e python/sglang/srt/sampling/sampling_params.py SamplingParams, every API field.
SGLANG_SAMPLING_PARAMS: Table = {
    "max_new_tokens": (True, 64), "stop": (True, ["###"]), "stop_token_ids": (True, [2]),
    "stop_regex": (True, "\\n\\n"), "temperature": (True, 0.5), "top_p": (True, 0.5), "top_k": (True, 5),
    "min_p": (True, 0.1), "frequency_penalty": (True, 0.5), "presence_penalty": (True, 0.5),
    "repetition_penalty": (True, 1.2), "min_new_tokens": (True, 4), "n": (True, 2),
    "json_schema": (True, '{"type": "object"}'), "regex": (True, "[a-z]+"), "ebnf": (True, "root ::= 'a'"),
    "structural_tag": (True, '{"type": "structural_tag"}'), "ignore_eos": (True, True),
    "skip_special_tokens": (True, False), "spaces_between_special_tokens": (True, False),
    "no_stop_trim": (True, True),  # the stop string kept in the text
    "custom_params": (True, {"token_id": 5}),  # the custom logit processor's parameters
    "stream_interval": (False, 4),  # how often the stream sends, not what it says
    "logit_bias": (True, {"50256": -100}), "sampling_seed": (True, 7),
}
#: The /generate body beside sampling_params (GenerateReqInput; docs/docs/basic_usage/sampling_params.mdx).
SGLANG_GENERATE: Table = {
    "lora_path": (True, "adapters/a"), "custom_logit_processor": (True, "{\"callable\": \"x\"}"),
    "rid": (False, "r1"), "return_logprob": (False, True), "logprob_start_len": (False, 0),
    "top_logprobs_num": (False, 3), "token_ids_logprob": (False, [1]), "return_text_in_logprobs": (False, True),
    "stream": (False, True), "return_hidden_states": (False, True), "return_routed_experts": (False, True),
    "routed_experts_start_len": (False, 0),
}
#: sgl-project/sglang@004c82e07d87 python/sglang/srt/entrypoints/openai/protocol.py CompletionRequest and
#: ChatCompletionRequest: the fields to_sampling_params does not take from SamplingParams' names.
SGLANG_OPENAI: Table = {
    "max_tokens": (True, 64), "max_completion_tokens": (True, 64), "min_tokens": (True, 4), "seed": (True, 7),
    "response_format": (True, {"type": "json_object"}),
    "tools": (True, [{"type": "function", "function": {"name": "f"}}]), "tool_choice": (False, "required"),
    "reasoning_effort": (True, "high"), "chat_template_kwargs": (True, {"enable_thinking": False}),
    "continue_final_message": (True, True), "task": (True, "query"), "lora_path": (True, "adapters/a"),
    "custom_logit_processor": (True, "{\"callable\": \"x\"}"),
    "logprobs": (False, True), "top_logprobs": (False, 3), "stream": (False, True), "user": (False, "u"),
    "parallel_tool_calls": (False, False), "separate_reasoning": (False, False),  # how the reply is split
    "stream_reasoning": (False, False), "return_hidden_states": (False, True), "return_token_ids": (False, True),
    "return_meta_info": (False, True), "rid": (False, "r1"), "priority": (False, 1), "cache_salt": (False, "s"),
}


def _output_field(spec: EngineSpec, name: str) -> bool:
    return name in spec.output_fields


@pytest.mark.parametrize(("spec", "table"), [
    (lmd.SERVER, {**LMDEPLOY_GENERATION_CONFIG, **LMDEPLOY_REQUEST}),
    (lmd.PIPELINE, {**LMDEPLOY_GENERATION_CONFIG, **LMDEPLOY_REQUEST}),  # one vocabulary for both files
    (lmd.GENERATE, LMDEPLOY_GENERATE),
    (trt.LLM_API, TRT_SAMPLING_PARAMS), (trt.SERVE, {**TRT_SAMPLING_PARAMS, **TRT_SERVE}),
    (sgl.GENERATE, SGLANG_SAMPLING_PARAMS),
    (sgl.CHAT, {**{n: SGLANG_SAMPLING_PARAMS[n] for n in sgl.OPENAI_FIELDS if n in SGLANG_SAMPLING_PARAMS},
                **{n: v for n, v in SGLANG_SAMPLING_PARAMS.items() if n in sgl.OPENAI_OTHER}, **SGLANG_OPENAI})],
    ids=["lmdeploy-server", "lmdeploy-pipeline", "lmdeploy-generate", "trtllm-llmapi", "trtllm-serve",
         "sglang-generate", "sglang-chat"])
def test_the_tables_cover_the_paths_fields(spec: EngineSpec, table: Table) -> None:
    """Every field is one the path reads; an output-changing one has a canonical key or is an output field, and
    one that changes nothing is not an output field."""
    for name, (changes, _) in table.items():
        assert name in spec.known, name
        if changes:
            assert name in spec.fields or name == "chat_template" or _output_field(spec, name), name
        else:
            assert name not in spec.output_fields, name
    if spec.engine != "sglang":  # SGLang's list spans the /generate body's and the OpenAI body's fields
        assert set(spec.output_fields) <= set(table)  # no output field the upstream source does not list


def test_the_tensor_table_covers_the_ensembles_generate_inputs() -> None:
    assert trt.ENSEMBLE_INPUTS - {"text_input", "decoder_text_input"} <= set(TRT_TENSORS)


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, (c, v) in TRT_TENSORS.items()
                                             if c and n in trt.ENSEMBLE_INPUTS and n not in trt.TENSORS])
def test_an_ensemble_generate_body_keeps_and_judges_its_output_fields(tmp_path: Path, name: str, value: Any) -> None:
    """The same inputs as JSON members of a Triton generate body for the ensemble."""
    result = _diff(tmp_path, "tensorrt-llm", {"text_input": "hi", "max_tokens": 8, name: value})
    assert result.deployed.serving == "triton-tensorrtllm"
    assert [f.key for f in result.findings if f.rule == "DG108"] == [f"tensorrt_llm.request.{name}"]


def test_the_tensor_table_covers_the_backend_inputs() -> None:
    for name, (changes, _) in TRT_TENSORS.items():
        if changes:
            assert name in trt.TENSORS or f"request.{name}" in trt.TRITON.output_fields, name
        else:
            assert f"request.{name}" not in trt.TRITON.output_fields and name not in trt.TENSORS, name
    assert {n.removeprefix("request.") for n in trt.TRITON.output_fields} <= set(TRT_TENSORS)


def _diff(tmp_path: Path, kind: str, body: dict[str, Any]) -> api.DiffResult:
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    (tmp_path / "request.json").write_text(json.dumps(body, indent=2) + "\n")
    return api.diff(str(tmp_path / "generation_config.json"), f"{kind}:{tmp_path / 'request.json'}")


_CHAT = [{"role": "user", "content": "hi"}]
#: (kind, spec, field, value, body) for every output field of every path: a request setting that one field.
CASES = (
    [("lmdeploy", lmd.SERVER, n, v, {"model": "m", "messages": _CHAT, n: v})
     for n, (c, v) in {**LMDEPLOY_GENERATION_CONFIG, **LMDEPLOY_REQUEST}.items() if n in lmd.OUTPUT_FIELDS]
    + [("lmdeploy", lmd.GENERATE, n, v, {"prompt": "hi", "max_tokens": 8, n: v})
       for n, (c, v) in LMDEPLOY_GENERATE.items() if n in lmd.GENERATE.output_fields]
    + [("lmdeploy", lmd.PIPELINE, n, v, {"max_new_tokens": 8, n: v})
       for n, (c, v) in LMDEPLOY_GENERATION_CONFIG.items() if n in lmd.OUTPUT_FIELDS]
    + [("tensorrt-llm", trt.LLM_API, n, v, {"max_tokens": 8, n: v})
       for n, (c, v) in TRT_SAMPLING_PARAMS.items() if n in trt.SAMPLING_OUTPUT_FIELDS]
    + [("tensorrt-llm", trt.SERVE, n, v, {"model": "m", "messages": _CHAT, n: v})
       for n, (c, v) in {**TRT_SAMPLING_PARAMS, **TRT_SERVE, "add_special_tokens": (True, True)}.items()
       if n in trt.SERVE_OUTPUT_FIELDS]  # a chat request's add_special_tokens defaults to false
    + [("sglang", sgl.GENERATE, n, v, {"text": "hi", "sampling_params": {n: v}})
       for n, (c, v) in SGLANG_SAMPLING_PARAMS.items() if n in sgl.OUTPUT_FIELDS]
    + [("sglang", sgl.GENERATE, n, v, {"text": "hi", "sampling_params": {"max_new_tokens": 8}, n: v})
       for n, (c, v) in SGLANG_GENERATE.items() if n in sgl.OUTPUT_FIELDS]
    + [("sglang", sgl.CHAT, n, v, {"model": "m", "messages": _CHAT, n: v})
       for n, (c, v) in {**SGLANG_SAMPLING_PARAMS, **SGLANG_OPENAI}.items()
       if n in sgl.OUTPUT_FIELDS and n in sgl.CHAT.known]
    + [("tensorrt-llm", trt.TRITON, f"request.{n}", v,
        {"request": [{"name": "input_ids", "data": [[1, 2]]}, {"name": n, "data": [v]}]})
       for n, (c, v) in TRT_TENSORS.items() if f"request.{n}" in trt.TRITON.output_fields]
)


@pytest.mark.parametrize(("kind", "spec", "name", "value", "body"), CASES,
                         ids=[f"{c[1].name}-{c[2]}" for c in CASES])
def test_an_output_changing_field_is_kept_and_judged(tmp_path: Path, kind: str, spec: EngineSpec, name: str,
                                                     value: Any, body: dict[str, Any]) -> None:
    """A request of the path setting one output field, against a training generation config that states none:
    read on that path, kept under the engine's namespace (not an unknown field) and named by DG108."""
    result = _diff(tmp_path, kind, body)
    assert result.deployed.serving == spec.name
    assert not [k for k in result.deployed if ".unknown_fields." in k]
    key = f"{spec.namespace}.{name}"
    assert [f.key for f in result.findings if f.rule == "DG108"] == [key]


@pytest.mark.parametrize(("kind", "body"), [
    ("lmdeploy", {"model": "m", "messages": _CHAT, **{n: v for n, (c, v) in LMDEPLOY_REQUEST.items() if not c}}),
    ("lmdeploy", {"max_new_tokens": 8, **{n: v for n, (c, v) in LMDEPLOY_GENERATION_CONFIG.items() if not c}}),
    ("lmdeploy", {"prompt": "hi", "max_tokens": 8, **{n: v for n, (c, v) in LMDEPLOY_GENERATE.items() if not c}}),
    ("tensorrt-llm", {"max_tokens": 8, **{n: v for n, (c, v) in TRT_SAMPLING_PARAMS.items() if not c}}),
    ("tensorrt-llm", {"model": "m", "messages": _CHAT,
                      **{n: v for n, (c, v) in TRT_SERVE.items() if not c and n != "suffix"}}),
    ("tensorrt-llm", {"request": [{"name": "input_ids", "data": [[1, 2]]},
                                  *({"name": n, "data": [v]} for n, (c, v) in TRT_TENSORS.items() if not c)]}),
    ("sglang", {"text": "hi", "sampling_params": {n: v for n, (c, v) in SGLANG_SAMPLING_PARAMS.items() if not c},
                **{n: v for n, (c, v) in SGLANG_GENERATE.items() if not c}}),
    ("sglang", {"model": "m", "messages": _CHAT, **{n: v for n, (c, v) in SGLANG_OPENAI.items() if not c}}),
], ids=["lmdeploy-server", "lmdeploy-pipeline", "lmdeploy-generate", "trtllm-llmapi", "trtllm-serve",
        "triton-tensorrtllm", "sglang-generate", "sglang-chat"])
def test_fields_that_do_not_change_the_output_are_not_judged(tmp_path: Path, kind: str, body: dict[str, Any]) -> None:
    assert [f.key for f in _diff(tmp_path, kind, body).findings if f.rule == "DG108"] == []


@pytest.mark.parametrize(("kind", "body"), [
    ("lmdeploy", {"model": "m", "messages": _CHAT, "ignore_eos": False, "skip_special_tokens": True,
                  "response_format": {"type": "text"}, "repetition_ngram_size": 0, "stop_token_ids": [],
                  "logit_bias": None, "tool_choice": "auto"}),
    ("tensorrt-llm", {"max_tokens": 8, "top_p_min": 1e-6, "top_p_decay": 1.0, "top_p_reset_ids": -1,
                      "beam_search_diversity_rate": 0.0, "early_stopping": 1, "exclude_input_from_output": True,
                      "add_special_tokens": True, "bad": []}),
    ("tensorrt-llm", {"model": "m", "messages": _CHAT, "top_p_min": 0.0, "early_stopping": True,
                      "stop_token_ids": [], "tool_choice": "none", "reasoning_effort": "low",
                      "add_generation_prompt": True, "response_format": {"type": "text"}}),
    # the FasterTransformer sample's word lists: [[0], [-1]] is no word at all
    ("tensorrt-llm", {"request": [{"name": "input_ids", "data": [[1, 2]]},
                                  {"name": "stop_words_list", "data": [[[0], [-1]], [[0], [-1]]]},
                                  {"name": "beam_search_diversity_rate", "data": [[0.0]]},
                                  {"name": "runtime_top_p_decay", "data": [[1.0]]}]}),
    ("sglang", {"text": "hi", "sampling_params": {"ignore_eos": False, "skip_special_tokens": True,
                                                  "no_stop_trim": False, "stop_token_ids": [], "regex": None}}),
    ("sglang", {"model": "m", "messages": _CHAT, "response_format": {"type": "text"}, "tools": None,
                "continue_final_message": False}),
], ids=["lmdeploy", "trtllm-llmapi", "trtllm-serve", "triton-tensorrtllm", "sglang-generate", "sglang-chat"])
def test_neutral_values_change_nothing(tmp_path: Path, kind: str, body: dict[str, Any]) -> None:
    """The engines' own defaults (the source's field defaults; the C++ runtime's defaultDecodingParams.h) and
    empty lists are no finding."""
    assert [f.key for f in _diff(tmp_path, kind, body).findings if f.rule == "DG108"] == []


@pytest.mark.parametrize(("member", "value", "found"), [
    ("messages", False, False), ("messages", True, True), ("prompt", True, False), ("prompt", False, True)])
def test_trtllm_serves_add_special_tokens_default_is_the_endpoints(tmp_path: Path, member: str, value: bool,
                                                                   found: bool) -> None:
    """trtllm-serve's chat request defaults add_special_tokens to false (the chat template adds them), a
    completion to true (TRT-OAI ChatCompletionRequest / CompletionRequest): only the other value is a setting."""
    body = {"model": "m", member: _CHAT if member == "messages" else "hi", "add_special_tokens": value}
    keys = [f.key for f in _diff(tmp_path, "tensorrt-llm", body).findings if f.rule == "DG108"]
    assert keys == (["tensorrt_llm.add_special_tokens"] if found else [])


def test_word_lists_are_read_as_their_words(tmp_path: Path) -> None:
    """A ``[2, L]`` word list (token ids, then each word's end offset, -1 padding) is kept as the words' ids; the
    same list in every batch row is one value."""
    body = {"request": [{"name": "input_ids", "data": [[1, 2], [3, 4]]},
                        {"name": "bad_words_list", "data": [[[13, 14, 15], [2, 3, -1]], [[13, 14, 15], [2, 3, -1]]]},
                        {"name": "stop_words_list", "data": [[[7], [1]], [[8], [1]]]}]}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body, indent=2) + "\n")
    cfg = api.extract(f"tensorrt-llm:{path}")
    assert cfg["tensorrt_llm.request.bad_words_list"].value == [[13, 14], [15]]
    assert cfg["tensorrt_llm.request.stop_words_list"].value == [[[7]], [[8]]]  # rows differ: one list per row


def test_the_generate_bodys_own_fields_are_known_and_the_output_changing_ones_judged() -> None:
    for name, (changes, _) in SGLANG_GENERATE.items():
        assert name in sgl.GENERATE_FIELDS, name
        assert (name in sgl.OUTPUT_FIELDS) is changes, name


def test_a_turbomind_ini_request_section_judges_beam_diversity(tmp_path: Path) -> None:
    """The C++ example's [request] options (lmdeploy@1263d5cd889b examples/cpp/llama/llama_config.ini): the
    example's beam_search_diversity_rate 0.0 changes nothing, another value is a setting the other side lacks."""
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    for rate, found in (("0.0", []), ("0.5", ["lmdeploy.request.beam_search_diversity_rate"])):
        ini = tmp_path / "llama_config.ini"
        ini.write_text(f"[request]\nrequest_output_len=64\ntop_k=1\nbeam_search_diversity_rate={rate}\n")
        result = api.diff(str(tmp_path / "generation_config.json"), f"lmdeploy:{ini}")
        assert result.deployed.serving == "turbomind"
        assert [f.key for f in result.findings if f.rule == "DG108"] == found
