"""TensorRT-LLM's serving paths (defaults.md §4, §11): Triton's tensorrtllm_backend (request tensors straight to
the C++ runtime defaults, §4.1, §4.5), the LLM API (``SamplingParams``: greedy while no sampling field is set,
§4.2) and ``trtllm-serve`` (OpenAI protocol, §4.3); the LLM API and trtllm-serve apply the model's
generation_config.json with ``generation_config: auto`` (eight fields, only values present, §4.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from driftguard.engines.spec import (
    Decision,
    Endpoint,
    EngineSpec,
    Field,
    GenerationConfigUse,
    Layer,
    between,
    ge,
    gt,
    openai_endpoints,
)
from driftguard.keys import Default
from driftguard.model import How, Json, Value

#: The C++ runtime's defaults: the bottom layer of every path ("trtllm runtime default").
_TRT = "defaults.md §4.1 TensorRT-LLM C++ runtime (TRT-DDP, TRT-SP)"
TENSORRT_LLM_DEFAULTS: dict[str, Default] = {
    "generation.num_beams": Default(1, _TRT + " beam_width"),
    "generation.temperature": Default(1.0, _TRT + " temperature"),
    "generation.top_k": Default(0, _TRT + " top_k"),
    "generation.top_p": Default(0.0, _TRT + " top_p"),
    "generation.min_p": Default(0.0, _TRT + " min_p"),
    "generation.repetition_penalty": Default(1.0, _TRT + " repetition_penalty"),
    "generation.presence_penalty": Default(0.0, _TRT + " presence_penalty"),
    "generation.frequency_penalty": Default(0.0, _TRT + " frequency_penalty"),
    "generation.min_new_tokens": Default(1, _TRT + " min_tokens"),
    "generation.seed": Default(0, _TRT + " seed"),
    "generation.length_penalty": Default(0.0, _TRT + " length_penalty"),
    "generation.early_stopping": Default(1, _TRT + " early_stopping"),
    "generation.no_repeat_ngram_size": Default(0, _TRT + " no_repeat_ngram_size (1 << 30: off, written 0)"),
}
#: LLM-API SamplingParams (§4.2): max_tokens 32; greedy while no sampling field is set.
TENSORRT_LLM_LLMAPI_DEFAULTS: dict[str, Default] = {
    "generation.max_new_tokens": Default(32, "defaults.md §4.2 TensorRT-LLM LLM API SamplingParams max_tokens"),
    "generation.num_return_sequences": Default(1, "defaults.md §4.2 TensorRT-LLM LLM API SamplingParams n"),
}
#: trtllm-serve OpenAI protocol (§4.3): random sampling at T=1.
TENSORRT_LLM_SERVE_DEFAULTS: dict[str, Default] = {
    "generation.temperature": Default(1.0, "defaults.md §4.3 trtllm-serve temperature"),
    "generation.top_p": Default(1.0, "defaults.md §4.3 trtllm-serve top_p"),
    "generation.top_k": Default(0, "defaults.md §4.3 trtllm-serve top_k"),
    "generation.min_p": Default(0.0, "defaults.md §4.3 trtllm-serve min_p"),
    "generation.num_return_sequences": Default(1, "defaults.md §4.3 trtllm-serve n"),
    "generation.min_new_tokens": Default(0, "defaults.md §4.3 trtllm-serve min_tokens"),
}


#: No-repeat-ngram "off" as the runtime spells it (1 << 30).
NO_REPEAT_OFF = 1 << 30

#: Triton tensorrtllm_backend / FasterTransformer input tensor -> Field, ranges of SamplingConfig (TRT-SC).
TENSORS: dict[str, Field] = {
    "runtime_top_k": Field("generation.top_k", "int", ge(0.0)),
    "runtime_top_p": Field("generation.top_p"),  # <= 0 is "unset" (§4.5), so no range
    "temperature": Field("generation.temperature", range=ge(0.0)),
    "request_output_len": Field("generation.max_new_tokens", "int", ge(1.0)),
    "beam_width": Field("generation.num_beams", "int", ge(1.0)),
    "len_penalty": Field("generation.length_penalty"),
    "length_penalty": Field("generation.length_penalty"),
    "repetition_penalty": Field("generation.repetition_penalty", range=gt(0.0)),
    "presence_penalty": Field("generation.presence_penalty"),
    "frequency_penalty": Field("generation.frequency_penalty"),
    "random_seed": Field("generation.seed", "int"),
    "seed": Field("generation.seed", "int"),
    "end_id": Field("generation.eos_token_id", "ints"),
    "min_length": Field("generation.min_new_tokens", "int"),
    "min_tokens": Field("generation.min_new_tokens", "int"),
    "early_stopping": Field("generation.early_stopping", "int"),
    "no_repeat_ngram_size": Field("generation.no_repeat_ngram_size", "int", replace={NO_REPEAT_OFF: 0}),
    "num_return_sequences": Field("generation.num_return_sequences", "int"),
    # the ensemble's names for the same tensors (triton-inference-server/tensorrtllm_backend@00abb4936166
    # all_models/inflight_batcher_llm/ensemble/config.pbtxt: max_tokens -> request_output_len, top_k ->
    # runtime_top_k, top_p -> runtime_top_p)
    "max_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "top_k": Field("generation.top_k", "int", ge(0.0)),
    "top_p": Field("generation.top_p"),  # runtime_top_p's: <= 0 is "unset" (§4.5)
}
#: Request tensors without a canonical key that change the output, kept as ``tensorrt_llm.request.<name>`` (word
#: lists as their words' token ids), with the value that changes nothing (None: absent or empty):
#: triton-inference-server/tensorrtllm_backend@00abb4936166 all_models/inflight_batcher_llm/tensorrt_llm/
#: config.pbtxt inputs (stop and bad word lists, the embedding bias, the top-p decay, beam diversity, p-tuning's
#: prompt table, LoRA weights, a draft's acceptance threshold) and ensemble/config.pbtxt (the word lists and the
#: embedding bias as words, guided decoding). pad_id, return_* and streaming change nothing in the text.
#: The C++ runtime's own values change nothing (NVIDIA/TensorRT-LLM@1020a8d799d0 cpp/tensorrt_llm/layers/
#: defaultDecodingParams.h: top-p min 1e-6, decay 1.0, reset id -1, beam diversity 0).
TENSOR_OUTPUT_FIELDS: dict[str, Json] = {
    **{f"request.{name}": None for name in (
        "stop_words_list", "bad_words_list", "stop_words", "bad_words", "embedding_bias", "embedding_bias_words",
        "embedding_bias_weights", "prompt_embedding_table", "prompt_vocab_size", "lora_task_id", "lora_weights",
        "lora_config", "guided_decoding_guide_type", "guided_decoding_guide", "draft_acceptance_threshold",
        # the prompt kept in the returned ids or not: the backend's exclude_input_in_output parameter decides
        # when the request does not, so any value a request states is its own
        "exclude_input_in_output")},
    "request.runtime_top_p_min": 1.0e-6, "request.runtime_top_p_decay": 1.0, "request.runtime_top_p_reset_ids": -1,
    "request.beam_search_diversity_rate": 0.0,
}
#: The inputs of tensorrtllm_backend's ensemble and BLS models (all_models/inflight_batcher_llm/ensemble/
#: config.pbtxt, tensorrt_llm_bls/config.pbtxt): a Triton generate body names them as JSON members.
ENSEMBLE_INPUTS = frozenset((
    "text_input", "decoder_text_input", "max_tokens", "num_return_sequences", "bad_words", "stop_words",
    "exclude_input_in_output", "end_id", "pad_id", "top_k", "top_p", "temperature", "length_penalty",
    "repetition_penalty", "min_tokens", "presence_penalty", "frequency_penalty", "seed", "return_log_probs",
    "return_context_logits", "return_generation_logits", "return_perf_metrics", "beam_width", "stream",
    "prompt_embedding_table", "prompt_table_extra_id", "prompt_vocab_size", "embedding_bias_words",
    "embedding_bias_weights", "lora_task_id", "lora_weights", "lora_config", "guided_decoding_guide_type",
    "guided_decoding_guide", "num_draft_tokens", "use_draft_logits",
))
#: The ensemble's input text goes through the preprocessing model's ``tokenizer.encode``: no chat template.
TENSOR_ENDPOINT = Endpoint(
    "/v2/models/{model}/infer", "text_input", False,
    "tensorrtllm_backend's preprocessing model tokenizes text_input as given, no chat template "
    "(triton-inference-server/tensorrtllm_backend@04d96ce8e635 all_models/inflight_batcher_llm/preprocessing/1/"
    "model.py execute, _create_request)")

#: LLM-API SamplingParams / trtllm-serve request field -> Field (TRT-SP, TRT-SC ranges).
SAMPLING: dict[str, Field] = {
    "temperature": Field("generation.temperature", range=ge(0.0)),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0, low_open=True)),
    "top_k": Field("generation.top_k", "int", ge(0.0)),
    "min_p": Field("generation.min_p", range=between(0.0, 1.0)),
    "max_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "max_completion_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "min_tokens": Field("generation.min_new_tokens", "int"),
    "n": Field("generation.num_return_sequences", "int", ge(1.0)),
    "repetition_penalty": Field("generation.repetition_penalty", range=gt(0.0)),
    "presence_penalty": Field("generation.presence_penalty"),
    "frequency_penalty": Field("generation.frequency_penalty"),
    "length_penalty": Field("generation.length_penalty"),
    "seed": Field("generation.seed", "int"),
    "stop": Field("generation.stop", "strs"),
    "end_id": Field("generation.eos_token_id", "ints"),
    "no_repeat_ngram_size": Field("generation.no_repeat_ngram_size", "int"),
    "truncate_prompt_tokens": Field("preprocessing.max_length", "int", ge(1.0)),
}
#: The other SamplingParams (TRT-SP) and trtllm-serve request fields.
OTHER_FIELDS = frozenset((
    "generation_config", "pad_id", "best_of", "use_beam_search", "beam_width_array", "top_p_min",
    "top_p_reset_ids", "top_p_decay", "beam_search_diversity_rate", "early_stopping", "num_return_sequences",
    "stop_token_ids", "include_stop_str_in_output", "bad", "bad_token_ids", "embedding_bias", "logits_processor",
    "apply_batched_logits_processor", "ignore_eos", "detokenize", "add_special_tokens", "skip_special_tokens",
    "spaces_between_special_tokens", "logprobs", "prompt_logprobs", "return_log_probs",
    "return_context_logits", "return_generation_logits", "exclude_input_from_output", "return_encoder_output",
    "return_perf_metrics", "additional_model_outputs", "lookahead_config", "guided_decoding", "max_new_tokens",
    # trtllm-serve (OpenAI protocol)
    "model", "messages", "prompt", "stream", "stream_options", "top_logprobs", "user", "response_format",
    "tools", "tool_choice", "echo", "suffix", "logit_bias", "lora_request", "disaggregated_params",
    "chat_template", "chat_template_kwargs", "add_generation_prompt", "documents", "mm_processor_kwargs",
    "parallel_tool_calls", "reasoning_effort", "thinking", "thinking_token_budget", "prompt_ignore_length",
    "media_io_kwargs", "cache_salt", "priority", "conversation_params", "agent_hierarchy", "prompt_token_ids",
))
#: SamplingParams fields without a canonical key that change the output, with the value that changes nothing
#: (None: unset, null or empty), kept as ``tensorrt_llm.<name>`` (NVIDIA/TensorRT-LLM@000a01de66f0
#: tensorrt_llm/sampling_params.py SamplingParams: the bad and stop words and ids, the embedding bias and logits
#: processors, best_of and beam search, top-p decay, beam diversity and early stopping, guided decoding,
#: ignore_eos, the prompt's special tokens and the output's rendering; the runtime's own values, defaultDecodingParams.h
#: as above, change nothing). DG108 judges them. logprobs,
#: return_* and additional_model_outputs add to the result; lookahead_config is a lossless speedup; pad_id pads.
SAMPLING_OUTPUT_FIELDS: dict[str, Json] = {
    "bad": None, "bad_token_ids": None, "stop_token_ids": None, "include_stop_str_in_output": False,
    "embedding_bias": None, "logits_processor": None, "apply_batched_logits_processor": False, "best_of": None,
    "use_beam_search": False, "top_p_min": 1.0e-6, "top_p_reset_ids": -1, "top_p_decay": 1.0,
    "beam_search_diversity_rate": 0.0, "early_stopping": 1, "beam_width_array": None,
    "exclude_input_from_output": True, "guided_decoding": None, "ignore_eos": False, "detokenize": True,
    "add_special_tokens": True, "skip_special_tokens": True, "spaces_between_special_tokens": True,
}
#: trtllm-serve's request fields on top (NVIDIA/TensorRT-LLM@0076e9390e1e tensorrt_llm/serve/openai_protocol.py
#: CompletionRequest / ChatCompletionRequest and to_sampling_params: logit_bias becomes the embedding bias,
#: response_format guided decoding; tools, reasoning_effort, thinking, documents, add_generation_prompt and the
#: template kwargs reach the chat template; echo prepends the last message; lora_request loads an adapter; top_p_min
#: 0 is unset; early_stopping true is the runtime's 1; tool_choice acts only with tools, which are judged). A chat
#: request's add_special_tokens defaults to false (the template adds them), a completion's to true.
SERVE_OUTPUT_FIELDS: dict[str, Json] = {
    **SAMPLING_OUTPUT_FIELDS, "top_p_min": 0.0, "early_stopping": True, "logit_bias": None,
    "response_format": {"type": "text"}, "tools": None, "reasoning_effort": "low",
    "thinking": None, "thinking_token_budget": None, "prompt_ignore_length": 0, "echo": False,
    "add_generation_prompt": True, "documents": None, "chat_template_kwargs": None, "lora_request": None,
    "mm_processor_kwargs": None, "media_io_kwargs": None,
}
_TRT_OAI = "NVIDIA/TensorRT-LLM@0076e9390e1e tensorrt_llm/serve/openai_protocol.py"
#: trtllm-serve's endpoints: the chat request's messages go through the chat template (``chat_template``: "If
#: this is not passed, the model's default chat template will be used"), a completion's prompt is tokenized as
#: given; their add_special_tokens defaults differ.
_CHAT, _COMPLETIONS = openai_endpoints(
    f"trtllm-serve renders the messages with the chat template ({_TRT_OAI} ChatCompletionRequest.chat_template, "
    "add_generation_prompt)",
    f"trtllm-serve tokenizes the prompt as given, no chat template ({_TRT_OAI} CompletionRequest.prompt, "
    "add_special_tokens)")
SERVE_ENDPOINTS = (replace(_CHAT, neutral={"add_special_tokens": False}),
                   replace(_COMPLETIONS, neutral={"add_special_tokens": True}))
#: The fields generation_config='auto' honours (PR #17213, TRT-DOC): HF name -> canonical key.
GEN_CONFIG_FIELDS: dict[str, str] = {name: f"generation.{name}" for name in (
    "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "no_repeat_ngram_size", "length_penalty",
    "early_stopping")}
#: The LLM-API fields whose presence switches the LLM API from greedy to sampling (§4.2).
SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "min_p")
#: LLM-API ``dtype`` values (LLM args: "auto", or a floating type the checkpoint is cast to).
DTYPES = ("auto", "float16", "bfloat16", "float32")
#: ``QuantAlgo`` names that are the scheme other engines and HF ``quant_method`` spell in lower case; any other
#: algorithm is kept as its lower-cased name (``w8a16``, ``int8``, ``nvfp4``, ``fp8_block_scales``...).
QUANT_SCHEMES = {"NO_QUANT": "none", "W4A16_AWQ": "awq", "W4A16_GPTQ": "gptq", "FP8": "fp8"}

_WHY = ("TensorRT-LLM decodes greedily when top_k == 1, top_k == 0 with top_p == 0, or temperature == 0; beam "
        "search when beam_width > 1 (defaults.md §4.1)")


def decoding(values: Mapping[str, Value]) -> Decision | None:
    """Greedy when beam_width == 1 and top_k == 1, or top_k == 0 with top_p == 0, or temperature == 0 (§4.1);
    no decision when batch rows disagree."""
    def get(name: str, default: object) -> object:
        v = values.get(f"generation.{name}")
        return default if v is None else v.value

    beams, top_k, top_p, temp = get("num_beams", 1), get("top_k", 0), get("top_p", 0.0), get("temperature", 1.0)
    if any(isinstance(x, list) for x in (beams, top_k, top_p, temp)):
        return None
    # tensorrtllm_backend resets a runtime_top_p <= 0 to unset, the runtime's 0.0 (§4.5): greedy with top_k 0
    top_p_off = isinstance(top_p, (int, float)) and top_p <= 0
    greedy = beams != 1 or top_k == 1 or (top_k == 0 and top_p_off) or temp == 0
    return Decision(not greedy, "generation.top_k", _WHY,
                    ("generation.top_k", "generation.top_p", "generation.temperature", "generation.num_beams"))


def llm_api_decoding(values: Mapping[str, Value]) -> Decision | None:
    """The LLM API is greedy while no sampling field is set (and none came from generation_config.json)."""
    if not any((v := values.get(f"generation.{f}")) is not None and v.how in (How.EXPLICIT, How.INHERITED)
               for f in SAMPLING_FIELDS):
        return Decision(False, "generation.temperature",
                        "LLM-API default is greedy while temperature/top_p/top_k are unset (defaults.md §4.2)",
                        tuple(f"generation.{f}" for f in SAMPLING_FIELDS))
    return decoding(values)


#: TRT-SP: "truncate_prompt_tokens (int, optional): If set to an integer k, will use only the last k tokens from
#: the prompt (i.e., left truncation)".
_TRUNCATION_WHY = ("TensorRT-LLM truncate_prompt_tokens keeps the last k prompt tokens: left truncation (TRT-SP "
                   "SamplingParams.truncate_prompt_tokens)")

_GEN_CONFIG = GenerationConfigUse(GEN_CONFIG_FIELDS, "generation_config: auto",
                                  why="defaults.md §4.4 generation_config='auto'")
_RUNTIME = Layer("trtllm runtime", TENSORRT_LLM_DEFAULTS)

TRITON = EngineSpec(
    name="triton-tensorrtllm", engine="tensorrt-llm", label="Triton tensorrtllm_backend",
    namespace="tensorrt_llm", fields=TENSORS, rejects="", layers=(_RUNTIME,), decoding=decoding,
    endpoints=(replace(TENSOR_ENDPOINT, path="/v2/models/{model}/generate"), TENSOR_ENDPOINT),
    output_fields=TENSOR_OUTPUT_FIELDS,
)
LLM_API = EngineSpec(
    name="trtllm-llmapi", engine="tensorrt-llm", label="TensorRT-LLM LLM API", namespace="tensorrt_llm",
    fields=SAMPLING, other_fields=OTHER_FIELDS,
    ignored_why="not a TensorRT-LLM SamplingParams / trtllm-serve field",
    layers=(Layer("llm-api", TENSORRT_LLM_LLMAPI_DEFAULTS), _RUNTIME), generation_config=_GEN_CONFIG,
    decoding=llm_api_decoding, dtypes=DTYPES, truncation_side="left", truncation_why=_TRUNCATION_WHY,
    output_fields=SAMPLING_OUTPUT_FIELDS,
)
SERVE = EngineSpec(
    name="trtllm-serve", engine="tensorrt-llm", label="trtllm-serve", namespace="tensorrt_llm",
    fields=SAMPLING, other_fields=OTHER_FIELDS, ignored_why=LLM_API.ignored_why,
    layers=(Layer("trtllm-serve", TENSORRT_LLM_SERVE_DEFAULTS), _RUNTIME), generation_config=_GEN_CONFIG,
    decoding=decoding, dtypes=DTYPES, truncation_side="left", truncation_why=_TRUNCATION_WHY,
    endpoints=SERVE_ENDPOINTS, output_fields=SERVE_OUTPUT_FIELDS,
)

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (TRITON, LLM_API, SERVE)
EXTRACTOR: str | None = "driftguard.extractors.tensorrt_llm"
