"""vLLM's two serving paths: ``vllm serve`` (the OpenAI-compatible server and the offline ``LLM``) and Triton's
vllm_backend. Both build ``SamplingParams`` from the same request fields; they differ in the layers below the
request (shared/reference/defaults.md §2.3, §11, TRI-VLLM):

- ``vllm serve``: request > ``override-generation-config`` > the model's generation_config.json (only with
  ``--generation-config auto``, its default; six fields, through ``to_diff_dict()``) > SamplingParams defaults;
- Triton vllm_backend: request > raw SamplingParams defaults (temperature 1.0, top_k off, max_tokens 16); no
  generation_config.json.
"""

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
from driftguard.model import Json, Value

#: SamplingParams' defaults: the bottom layer of both paths ("vllm default" in Origin.source).
_VLLM_SP = "defaults.md §2.1 vLLM SamplingParams (VLLM-SP)"
VLLM_DEFAULTS: dict[str, Default] = {
    "generation.temperature": Default(1.0, _VLLM_SP + " temperature"),
    "generation.top_p": Default(1.0, _VLLM_SP + " top_p"),
    "generation.top_k": Default(0, _VLLM_SP + " top_k (0, older releases -1: off)"),
    "generation.min_p": Default(0.0, _VLLM_SP + " min_p"),
    "generation.repetition_penalty": Default(1.0, _VLLM_SP + " repetition_penalty"),
    "generation.presence_penalty": Default(0.0, _VLLM_SP + " presence_penalty"),
    "generation.frequency_penalty": Default(0.0, _VLLM_SP + " frequency_penalty"),
    "generation.num_return_sequences": Default(1, _VLLM_SP + " n"),
    "generation.max_new_tokens": Default(16, _VLLM_SP + " max_tokens (raw class default; not the server's)"),
    "generation.min_new_tokens": Default(0, _VLLM_SP + " min_tokens"),
    "generation.seed": Default(None, _VLLM_SP + " seed (None: random)"),
    "generation.stop": Default([], _VLLM_SP + " stop"),
}


#: vLLM _SAMPLING_EPS: a temperature below it is greedy decoding.
GREEDY_EPS = 1e-5

#: Request / SamplingParams field -> Field, with the ranges SamplingParams._verify_args rejects (VLLM-SP).
FIELDS: dict[str, Field] = {
    "temperature": Field("generation.temperature", range=ge(0.0)),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0, low_open=True)),
    "top_k": Field("generation.top_k", "int", ge(-1.0), replace={-1: 0}),  # -1 (older releases) and 0: off
    "min_p": Field("generation.min_p", range=between(0.0, 1.0)),
    "max_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "max_completion_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "min_tokens": Field("generation.min_new_tokens", "int"),
    "repetition_penalty": Field("generation.repetition_penalty", range=gt(0.0)),
    "presence_penalty": Field("generation.presence_penalty", range=between(-2.0, 2.0)),
    "frequency_penalty": Field("generation.frequency_penalty", range=between(-2.0, 2.0)),
    "length_penalty": Field("generation.length_penalty"),
    "seed": Field("generation.seed", "int", replace={-1: None}),  # -1: no seed
    "n": Field("generation.num_return_sequences", "int", ge(1.0)),
    "stop": Field("generation.stop", "strs"),
    "truncate_prompt_tokens": Field("preprocessing.max_length", "int"),
}

#: Engine args (dashed or underscored) with a canonical key.
ENGINE_FIELDS: dict[str, str] = {
    "dtype": "precision.compute",
    "max_model_len": "serving.max_model_len",
    "quantization": "precision.quantization",
}

#: Engine args that also state a canonical key of what is served, kept as well under ``vllm.<name>`` as written
#: (arg -> (key, type)): the model and revision loaded (``model.source`` is identity, not compared as a value),
#: the scheduler's batch and step-token limits, tensor parallelism, and the LoRA modules served
#: (``--lora-modules name=path ...``, or JSON objects with ``name`` and ``path``: kept as ``name=path``)
#: (vllm-project/vllm@001999d2f360 vllm/engine/arg_utils.py EngineArgs; vllm/entrypoints/openai/cli_args.py
#: LoRAParserAction).
ENGINE_ALSO: dict[str, tuple[str, str]] = {
    "model": ("model.source", "str"),
    "revision": ("model.revision", "str"),
    "max_num_seqs": ("batching.max_batch_size", "int"),
    "max_num_batched_tokens": ("serving.max_num_tokens", "int"),
    "tensor_parallel_size": ("serving.tensor_parallel_size", "int"),
    "lora_modules": ("model.adapters", "adapters"),
    # Speculative decoding: the older flags and the --speculative-config JSON whose ``model`` and
    # ``num_speculative_tokens`` they became (vllm-project/vllm@f19b16d95e43 vllm/config/speculative.py
    # SpeculativeConfig.model, .num_speculative_tokens; Medusa proposes one token per head).
    "speculative_model": ("model.speculative.model", "str"),
    "num_speculative_tokens": ("model.speculative.num_heads", "int"),
    "speculative_config": ("model.speculative", "speculative"),
}

#: The members of ``speculative_config`` with a canonical key (SpeculativeConfig fields, as above).
SPECULATIVE_FIELDS: dict[str, tuple[str, str]] = {
    "model": ("model.speculative.model", "str"),
    "num_speculative_tokens": ("model.speculative.num_heads", "int"),
}

#: Fields vLLM's SamplingParams and its OpenAI/Triton request models accept besides the mapped ones (VLLM-SP,
#: VLLM-CHAT; Triton generate-endpoint fields). Anything else in a request is dropped by vLLM with a log line.
OTHER_FIELDS = frozenset((
    "model", "messages", "prompt", "suffix", "echo", "stream", "stream_options", "user", "logprobs",
    "top_logprobs", "prompt_logprobs", "logit_bias", "allowed_token_ids", "bad_words", "response_format",
    "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "include_reasoning", "detokenize",
    "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output", "logits_processors",
    "output_kind", "guided_decoding", "structured_outputs", "guided_json", "guided_regex", "guided_choice",
    "guided_grammar", "guided_decoding_backend", "guided_whitespace_pattern", "structural_tag", "extra_args",
    "add_generation_prompt", "continue_final_message", "add_special_tokens", "documents", "chat_template",
    "chat_template_kwargs", "mm_processor_kwargs", "priority", "request_id", "return_tokens_as_token_ids",
    "return_token_ids", "cache_salt", "kv_transfer_params", "vllm_xargs", "prompt_embeds", "service_tier",
    "stop_token_ids", "ignore_eos", "best_of", "use_beam_search",
    # Triton generate endpoint (vllm_backend inputs)
    "text_input", "exclude_input_in_output", "return_finish_reason", "return_cumulative_logprob",
    "return_logprobs", "return_num_input_tokens", "return_num_output_tokens", "id", "parameters",
    "sampling_params", "sampling_parameters",
))

#: Request / SamplingParams fields without a canonical key that change the output, with the value that changes
#: nothing (None: unset, null or empty): what the engine constrains, biases, keeps going past or renders
#: differently (vllm-project/vllm@db573835d3ef vllm/sampling_params.py SamplingParams: ignore_eos,
#: stop_token_ids, best_of, logits_processors, include_stop_str_in_output, skip_special_tokens,
#: spaces_between_special_tokens, detokenize, guided_decoding, logit_bias, allowed_token_ids; the request models'
#: bad_words, response_format, guided_* and structured_outputs, use_beam_search). DG108 judges them.
OUTPUT_FIELDS: dict[str, Json] = {
    "ignore_eos": False, "stop_token_ids": None, "best_of": None, "use_beam_search": False,
    "logits_processors": None, "include_stop_str_in_output": False, "skip_special_tokens": True,
    "spaces_between_special_tokens": True, "detokenize": True, "guided_decoding": None, "logit_bias": None,
    "allowed_token_ids": None, "bad_words": None, "response_format": {"type": "text"}, "structured_outputs": None,
    "guided_json": None, "guided_regex": None, "guided_choice": None, "guided_grammar": None,
    "structural_tag": None,
}

#: The fields get_diff_sampling_param() takes from generation_config.json / the override (VLLM-MC).
GEN_CONFIG_FIELDS: dict[str, str] = {
    "repetition_penalty": "generation.repetition_penalty",
    "temperature": "generation.temperature",
    "top_k": "generation.top_k",
    "top_p": "generation.top_p",
    "min_p": "generation.min_p",
    "max_new_tokens": "generation.max_new_tokens",
}

#: ``dtype: auto`` (defaults.md §8, VLLM-MC): FP16 for FP32 and FP16 models, BF16 for BF16 models.
DTYPE_AUTO: dict[str, str] = {"float32": "float16", "float16": "float16", "bfloat16": "bfloat16"}

#: The sampling limits greedy decoding neutralizes (VLLM-SP: temperature < eps sets top_p 1, top_k 0, min_p 0).
GREEDY_NEUTRAL: dict[str, object] = {"generation.top_p": 1.0, "generation.top_k": 0, "generation.min_p": 0.0}


def decoding(values: Mapping[str, Value]) -> Decision | None:
    """vLLM samples unless temperature < 1e-5, which is greedy and neutralizes top_p/top_k/min_p (VLLM-SP)."""
    t = values.get("generation.temperature")
    if t is None or isinstance(t.value, bool) or not isinstance(t.value, (int, float)):
        return None
    greedy = t.value < GREEDY_EPS
    return Decision(not greedy, "generation.temperature",
                    "vLLM samples unless temperature < 1e-5 (defaults.md §2.1; do_sample is not a vLLM field)",
                    ("generation.temperature",), GREEDY_NEUTRAL if greedy else {},
                    "vLLM greedy (temperature < 1e-5)")


#: vllm serve's endpoints: chat messages rendered with the chat template, a completion's prompt as given
#: (vllm-project/vllm@5e918640d7b6 vllm/entrypoints/openai/chat_completion/serving.py; @cc139d8ea6ff
#: vllm/entrypoints/openai/completion/serving.py).
SERVE_ENDPOINTS = openai_endpoints(
    "vLLM's /v1/chat/completions renders the messages with the model's chat template",
    "vLLM's /v1/completions tokenizes the prompt as given, no chat template")

SERVE = EngineSpec(
    name="vllm-serve", engine="vllm", label="vllm serve", namespace="vllm", fields=FIELDS,
    other_fields=OTHER_FIELDS, ignored_why="ignored by vLLM", rejects="vLLM rejects it",
    layers=(Layer("vllm", VLLM_DEFAULTS),),
    generation_config=GenerationConfigUse(
        GEN_CONFIG_FIELDS, "--generation-config auto (the default)", drop_hf_defaults=True,
        why="vllm serve applies the model's generation_config.json (defaults.md §2.3 get_diff_sampling_param, "
            "generation_config auto)"),
    decoding=decoding, dtypes=("auto", "float16", "bfloat16", "float32"), dtype_auto=DTYPE_AUTO,
    truncation_side="left", endpoints=SERVE_ENDPOINTS, output_fields=OUTPUT_FIELDS,
    generation_config_eos="vLLM adds the generation config's eos_token_ids to every request's stop ids, even "
                          "when it takes no sampling default from it (defaults.md §2.3 EOS, VLLM-SP "
                          "update_from_generation_config)",
    truncation_why="vLLM truncate_prompt_tokens keeps the last k prompt tokens: left truncation (VLLM-SP "
                   "SamplingParams.truncate_prompt_tokens)",
)

#: Triton's vllm_backend: the same request fields, raw SamplingParams defaults, no generation_config.json.
TRITON = replace(SERVE, name="triton-vllm", label="Triton vllm_backend", generation_config=None,
                 layers=(Layer("triton vllm_backend", VLLM_DEFAULTS),),
                 endpoints=(Endpoint("/v2/models/{model}/generate", "text_input", False,
                                     "Triton's vllm_backend passes text_input to the engine as the prompt, no chat "
                                     "template (TRI-VLLM src/utils/request.py)"), *SERVE_ENDPOINTS))

#: A ``SamplingParams`` object built in code (``LLM.generate(prompts, SamplingParams(...))``): used as built, its
#: unset fields the raw class defaults; vLLM applies the model's generation_config.json only when no SamplingParams
#: is given (vllm-project/vllm vllm/entrypoints/llm.py LLM.generate: ``if sampling_params is None: sampling_params =
#: self.get_default_sampling_params()``).
SAMPLING_PARAMS = replace(SERVE, name="vllm-sampling-params", label="vLLM SamplingParams", generation_config=None,
                          layers=(Layer("vllm SamplingParams", VLLM_DEFAULTS),), endpoints=())

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (SERVE, TRITON, SAMPLING_PARAMS)
EXTRACTOR: str | None = "driftguard.extractors.vllm"
