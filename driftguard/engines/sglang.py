"""SGLang's request paths: the native ``/generate`` endpoint (``GenerateReqInput``: the input as ``text`` or
``input_ids``, a ``sampling_params`` object of ``SamplingParams`` fields) and the OpenAI-compatible
``/v1/chat/completions`` and ``/v1/completions`` (SGLang's extensions beside the OpenAI fields).

Defaults: the sampling fields SGLang takes from the served model's generation_config.json (``--sampling-defaults
model``, the default: repetition_penalty, temperature, top_k, top_p, min_p, read through transformers'
``GenerationConfig.to_dict()``) are the model's, so a side without the model's files leaves them unknown, never
SGLang's fallback constants; the others are SGLang's own (``SamplingParams``: max_new_tokens 128 for
``/generate``; the completions request's max_tokens 16; the penalties 0, min_new_tokens 0, n 1).

Sources (every table below cites its own): sgl-project/sglang@00c17cafcb9e
python/sglang/srt/sampling/sampling_params.py (``SamplingParams``, ``verify``: the ranges, temperature below 1e-6
is greedy top_k 1), @004c82e07d87 python/sglang/srt/entrypoints/openai/protocol.py (``CompletionRequest``,
``ChatCompletionRequest``, ``to_sampling_params``), @001adf564fd3 python/sglang/srt/configs/model_config.py
(``get_default_sampling_params``), @01d4f856c43c docs/docs/basic_usage/sampling_params.mdx (``/generate`` "is the
low-level endpoint": no chat template; "Note on defaults").
"""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.spec import (
    Decision,
    Endpoint,
    EngineSpec,
    Field,
    GenerationConfigUse,
    Layer,
    between,
    ge,
    openai_endpoints,
)
from driftguard.keys import Default
from driftguard.model import Json, Value

_SP = "sgl-project/sglang@00c17cafcb9e python/sglang/srt/sampling/sampling_params.py SamplingParams"
_OAI = "sgl-project/sglang@004c82e07d87 python/sglang/srt/entrypoints/openai/protocol.py"
_MC = "sgl-project/sglang@001adf564fd3 python/sglang/srt/configs/model_config.py get_default_sampling_params"
_DOC = "sgl-project/sglang@01d4f856c43c docs/docs/basic_usage/sampling_params.mdx"

#: SamplingParams' top_k for "the whole vocabulary" (``TOP_K_ALL``; -1 is read as it): off, canonical 0.
TOP_K_ALL = 1 << 30

#: ``SamplingParams`` field -> Field, ranges of ``SamplingParams.verify``.
SAMPLING_FIELDS: dict[str, Field] = {
    "max_new_tokens": Field("generation.max_new_tokens", "int", ge(0.0)),
    "stop": Field("generation.stop", "strs"),
    "temperature": Field("generation.temperature", range=ge(0.0)),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0, low_open=True)),
    "top_k": Field("generation.top_k", "int", replace={-1: 0, TOP_K_ALL: 0}),
    "min_p": Field("generation.min_p", range=between(0.0, 1.0)),
    "frequency_penalty": Field("generation.frequency_penalty", range=between(-2.0, 2.0)),
    "presence_penalty": Field("generation.presence_penalty", range=between(-2.0, 2.0)),
    "repetition_penalty": Field("generation.repetition_penalty", range=between(0.0, 2.0, low_open=True)),
    "min_new_tokens": Field("generation.min_new_tokens", "int", ge(0.0)),
    "n": Field("generation.num_return_sequences", "int", ge(1.0)),
    "sampling_seed": Field("generation.seed", "int"),
}
#: The other ``SamplingParams`` API fields.
SAMPLING_OTHER = frozenset((
    "stop_token_ids", "stop_regex", "json_schema", "regex", "ebnf", "structural_tag", "ignore_eos",
    "skip_special_tokens", "spaces_between_special_tokens", "no_stop_trim", "custom_params", "stream_interval",
    "logit_bias",
))
#: ``GenerateReqInput`` members beside ``sampling_params`` (the docs' table, ``io_struct.py``): the input, what
#: is returned with the text, the LoRA adapter and the custom logit processor.
GENERATE_FIELDS = frozenset((
    "text", "input_ids", "input_embeds", "image_data", "audio_data", "video_data", "sampling_params", "rid",
    "return_logprob", "logprob_start_len", "top_logprobs_num", "token_ids_logprob", "return_text_in_logprobs",
    "stream", "lora_path", "lora_id", "custom_logit_processor", "return_hidden_states", "return_routed_experts",
    "routed_experts_start_len", "session_params", "bootstrap_host", "bootstrap_port", "bootstrap_room",
    "data_parallel_rank", "routed_dp_rank", "priority", "extra_key", "cache_salt", "modalities",
))

#: The OpenAI-compatible requests' fields that map to SamplingParams (``to_sampling_params``: max_completion_tokens
#: or max_tokens -> max_new_tokens, min_tokens -> min_new_tokens, seed -> sampling_seed).
OPENAI_FIELDS: dict[str, Field] = {
    **{name: SAMPLING_FIELDS[name] for name in (
        "stop", "temperature", "top_p", "top_k", "min_p", "frequency_penalty", "presence_penalty",
        "repetition_penalty", "n")},
    "max_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "max_completion_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "min_tokens": Field("generation.min_new_tokens", "int", ge(0.0)),
    "seed": Field("generation.seed", "int"),
}
#: The other ``CompletionRequest`` / ``ChatCompletionRequest`` fields.
OPENAI_OTHER = frozenset((
    "model", "messages", "prompt", "best_of", "echo", "logit_bias", "logprobs", "top_logprobs", "stream",
    "stream_options", "suffix", "user", "return_hidden_states", "return_routed_experts", "routed_experts_start_len",
    "return_cached_tokens_details", "return_token_ids", "return_prompt_token_ids", "return_meta_info",
    "json_schema", "regex", "ebnf", "stop_token_ids", "stop_regex", "no_stop_trim", "ignore_eos",
    "skip_special_tokens", "lora_path", "session_id", "session_params", "response_format", "custom_params",
    "custom_logit_processor", "images_config", "bootstrap_host", "bootstrap_port", "bootstrap_room",
    "routed_dp_rank", "disagg_prefill_dp_rank", "data_parallel_rank", "rid", "extra_key", "cache_salt",
    "ngram_corpus_id", "priority", "custom_labels", "tools", "tool_choice", "parallel_tool_calls",
    "reasoning_effort", "reasoning", "task", "continue_final_message", "separate_reasoning", "stream_reasoning",
    "chat_template_kwargs", "max_dynamic_patch", "min_dynamic_patch", "use_audio_in_video", "input_ids",
))

#: Request fields without a canonical key that change the output, with the value that changes nothing (None:
#: unset, null or empty), kept as ``sglang.<name>`` whether a ``/generate`` body's ``sampling_params`` or an
#: OpenAI-compatible body's top level states them (they are the same SamplingParams fields): stop token ids and
#: stop regexes, the grammars the output must follow (json_schema, regex, ebnf, structural_tag, the OpenAI
#: response_format they come from), ignore_eos, the stop string kept (no_stop_trim), special tokens in the text,
#: a logit bias, a custom logit processor and its parameters, a LoRA adapter (``_SP``; ``_OAI``
#: to_sampling_params); the chat template's inputs (tools, reasoning effort, the template kwargs, continuing the
#: last message, DeepSeek-V4's task) and a completion's echoed prompt and suffix (``_OAI``). DG108 judges them;
#: tool_choice acts only with tools (its default follows them: "none" without, "auto" with), which are judged.
OUTPUT_FIELDS: dict[str, Json] = {
    "stop_token_ids": None, "stop_regex": None, "json_schema": None, "regex": None, "ebnf": None,
    "structural_tag": None, "ignore_eos": False, "no_stop_trim": False, "skip_special_tokens": True,
    "spaces_between_special_tokens": True, "logit_bias": None, "custom_params": None,
    "custom_logit_processor": None, "lora_path": None, "response_format": {"type": "text"}, "tools": None,
    "reasoning_effort": None, "reasoning": None, "chat_template_kwargs": None,
    "continue_final_message": False, "task": None, "echo": False, "suffix": None, "best_of": None,
}

#: SGLang's own defaults, the same whatever the model ("sglang default" in Origin.source; defaults.md §22 and its
#: source key SGL name the files and commits above).
_SGL = "defaults.md §22 SGLang SamplingParams (SGL)"
SGLANG_DEFAULTS: dict[str, Default] = {
    "generation.frequency_penalty": Default(0.0, _SGL + " frequency_penalty"),
    "generation.presence_penalty": Default(0.0, _SGL + " presence_penalty"),
    "generation.min_new_tokens": Default(0, _SGL + " min_new_tokens"),
    "generation.num_return_sequences": Default(1, _SGL + " n"),
}
#: ``/generate``: SamplingParams' max_new_tokens.
GENERATE_DEFAULTS: dict[str, Default] = {
    "generation.max_new_tokens": Default(128, _SGL + " max_new_tokens"),
}
#: ``/v1/completions``: CompletionRequest's max_tokens (a chat request without one runs to the context).
COMPLETIONS_DEFAULTS: dict[str, Default] = {
    "generation.max_new_tokens": Default(16, "defaults.md §22 SGLang CompletionRequest (SGL) max_tokens"),
}
#: The fields ``--sampling-defaults model`` takes from the model's generation_config.json: HF name -> key.
GEN_CONFIG_FIELDS: dict[str, str] = {name: f"generation.{name}" for name in (
    "repetition_penalty", "temperature", "top_k", "top_p", "min_p")}
_GEN_CONFIG = GenerationConfigUse(
    GEN_CONFIG_FIELDS, "--sampling-defaults model",
    why=f"SGLang takes them from the model's generation_config.json ({_MC}; {_DOC} Note on defaults)")


def decoding(values: Mapping[str, Value]) -> Decision | None:
    """Greedy when temperature is below 1e-6 (SamplingParams makes it top_k 1) or top_k is 1; sampling otherwise;
    no decision while the temperature is the model's and unknown."""
    temp, top_k = values.get("generation.temperature"), values.get("generation.top_k")
    if top_k is not None and top_k.value == 1:
        return Decision(False, "generation.top_k", f"SGLang top_k 1 is greedy ({_SP})", ("generation.top_k",))
    if temp is None or not isinstance(temp.value, (int, float)) or isinstance(temp.value, bool):
        return None
    greedy = 0 <= temp.value < 1e-6
    return Decision(not greedy, "generation.temperature",
                    f"SGLang temperature below 1e-6 is greedy (top_k 1), otherwise it samples ({_SP} __post_init__)",
                    ("generation.temperature", "generation.top_k"))


_LAYERS = Layer("sglang", SGLANG_DEFAULTS)
_RAW = ("SGLang's /generate is the low-level endpoint: it tokenizes the input as given, no chat template "
        f"({_DOC})")

GENERATE = EngineSpec(
    name="sglang-generate", engine="sglang", label="SGLang /generate", namespace="sglang", fields=SAMPLING_FIELDS,
    other_fields=SAMPLING_OTHER, ignored_why="not an SGLang SamplingParams field",
    rejects="SGLang rejects it", layers=(Layer("sglang", GENERATE_DEFAULTS), _LAYERS), generation_config=_GEN_CONFIG,
    decoding=decoding, endpoints=(Endpoint("/generate", "text", False, _RAW),
                                  Endpoint("/generate", "input_ids", False, _RAW)),
    output_fields=OUTPUT_FIELDS,
)
_CHAT, _COMPLETION = openai_endpoints(
    f"SGLang's /v1/chat/completions renders the messages with the chat template ({_OAI} ChatCompletionRequest)",
    f"SGLang's /v1/completions takes the prompt as raw text ({_OAI} CompletionRequest)")
CHAT = EngineSpec(
    name="sglang-chat", engine="sglang", label="SGLang chat completions", namespace="sglang", fields=OPENAI_FIELDS,
    other_fields=OPENAI_OTHER, ignored_why="not an SGLang ChatCompletionRequest field (SGLang drops it)",
    rejects="SGLang rejects it", layers=(_LAYERS,), generation_config=_GEN_CONFIG, decoding=decoding,
    # input_ids "bypasses chat template tokenization entirely" (ChatCompletionRequest.input_ids)
    endpoints=(Endpoint("/v1/chat/completions", "input_ids", False,
                        f"SGLang takes the request's input_ids as the prompt, no chat template ({_OAI} "
                        "ChatCompletionRequest.input_ids)"), _CHAT),
    output_fields=OUTPUT_FIELDS,
)
COMPLETIONS = EngineSpec(
    name="sglang-completions", engine="sglang", label="SGLang completions", namespace="sglang",
    fields=OPENAI_FIELDS, other_fields=OPENAI_OTHER, ignored_why=CHAT.ignored_why, rejects=CHAT.rejects,
    layers=(Layer("sglang", COMPLETIONS_DEFAULTS), _LAYERS), generation_config=_GEN_CONFIG, decoding=decoding,
    endpoints=(_COMPLETION,), output_fields=OUTPUT_FIELDS,
)

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (GENERATE, CHAT, COMPLETIONS)
EXTRACTOR: str | None = "driftguard.extractors.sglang"
