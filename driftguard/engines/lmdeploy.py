"""lmdeploy's serving paths (defaults.md §6, LMD): the pipeline (``GenerationConfig``; ``do_sample`` false is
greedy and forces top_k 1, temperature 1.0, repetition_penalty 1.0 in ``_determine_gen_config``), the
api_server (v0.15+: always samples; an unset max_tokens runs to the session length) and TurboMind's INI
``[request]`` section (the C++ example's explicit values; TurboMind samples unless top_k == 1)."""

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
)
from driftguard.keys import Default
from driftguard.model import Json, Value

#: GenerationConfig's defaults ("lmdeploy default" in Origin.source).
_LMD = "defaults.md §6 lmdeploy GenerationConfig (LMD)"
LMDEPLOY_DEFAULTS: dict[str, Default] = {
    "generation.num_return_sequences": Default(1, _LMD + " n"),
    "generation.max_new_tokens": Default(512, _LMD + " max_new_tokens"),
    "generation.do_sample": Default(False, _LMD + " do_sample"),
    "generation.top_p": Default(1.0, _LMD + " top_p"),
    "generation.top_k": Default(50, _LMD + " top_k"),
    "generation.min_p": Default(0.0, _LMD + " min_p"),
    "generation.temperature": Default(0.8, _LMD + " temperature"),
    "generation.repetition_penalty": Default(1.0, _LMD + " repetition_penalty"),
    "generation.seed": Default(None, _LMD + " random_seed"),
}


#: ``GenerationConfig`` / api_server field -> Field, ranges of ``GenerationConfig.__post_init__`` (LMD).
FIELDS: dict[str, Field] = {
    "n": Field("generation.num_return_sequences", "int"),
    "max_new_tokens": Field("generation.max_new_tokens", "int"),
    "max_tokens": Field("generation.max_new_tokens", "int"),
    "max_completion_tokens": Field("generation.max_new_tokens", "int"),
    "min_new_tokens": Field("generation.min_new_tokens", "int"),
    "do_sample": Field("generation.do_sample", "bool"),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0)),
    "top_k": Field("generation.top_k", "int", ge(0.0)),
    "min_p": Field("generation.min_p", range=between(0.0, 1.0)),
    "temperature": Field("generation.temperature", range=between(0.0, 2.0)),
    "repetition_penalty": Field("generation.repetition_penalty"),
    "random_seed": Field("generation.seed", "int"),
    "seed": Field("generation.seed", "int"),
    "stop_words": Field("generation.stop", "strs"),
    "stop": Field("generation.stop", "strs"),
}
#: TurboMind INI ``[request]`` option -> Field.
INI_REQUEST: dict[str, Field] = {
    "request_output_len": Field("generation.max_new_tokens", "int"),
    "beam_width": Field("generation.num_beams", "int"),
    "top_k": Field("generation.top_k", "int"),
    "top_p": Field("generation.top_p"),
    "temperature": Field("generation.temperature"),
    "repetition_penalty": Field("generation.repetition_penalty"),
    "presence_penalty": Field("generation.presence_penalty"),
    "len_penalty": Field("generation.length_penalty"),
    "random_seed": Field("generation.seed", "int"),
    "end_id": Field("generation.eos_token_id", "ints"),
}
#: The other GenerationConfig (LMD) and api_server request fields.
OTHER_FIELDS = frozenset((
    "ignore_eos", "bad_words", "stop_token_ids", "bad_token_ids", "skip_special_tokens",
    "spaces_between_special_tokens", "logprobs", "response_format", "logits_processors", "output_logits",
    "output_last_hidden_state", "include_stop_str_in_output", "with_cache", "preserve_cache",
    "migration_request", "return_routed_experts", "return_ppl", "repetition_ngram_size",
    "repetition_ngram_threshold",
    # api_server (OpenAI protocol and /generate)
    "model", "messages", "prompt", "stream", "stream_options", "top_logprobs", "logit_bias", "user", "tools",
    "tool_choice", "session_id", "interactive_mode", "echo", "suffix", "best_of", "presence_penalty",
    "frequency_penalty", "enable_thinking", "chat_template_kwargs", "do_preprocess", "adapter_name",
    "reasoning_effort", "parallel_tool_calls", "image_url", "return_token_ids", "return_logprob",
    "media_io_kwargs", "mm_processor_kwargs", "input_ids", "image_data",
))
#: GenerationConfig and api_server request fields without a canonical key that change the output, with the value
#: that changes nothing (None: unset, null or empty), kept as ``lmdeploy.<name>`` (InternLM/lmdeploy@1263d5cd889b
#: lmdeploy/messages.py GenerationConfig: ignore_eos, stop_token_ids, bad_words, bad_token_ids, the special-token
#: rendering, response_format, logits_processors, include_stop_str_in_output, the repetition n-gram early stop;
#: serve/openai/chat_completions/serving.py: logit_bias becomes a logits processor, tools, reasoning_effort,
#: chat_template_kwargs and enable_thinking reach the chat template; serve/openai/protocol.py: the request models'
#: defaults). DG108 judges them; tool_choice changes the output only with tools, which are judged.
#: presence_penalty, frequency_penalty, echo and suffix change nothing on this path (``SERVER_IGNORED``).
OUTPUT_FIELDS: dict[str, Json] = {
    "ignore_eos": False, "stop_token_ids": None, "bad_words": None, "bad_token_ids": None,
    "skip_special_tokens": True, "spaces_between_special_tokens": True, "response_format": {"type": "text"},
    "logits_processors": None, "include_stop_str_in_output": False, "repetition_ngram_size": 0,
    "repetition_ngram_threshold": 0, "logit_bias": None, "tools": None,
    "reasoning_effort": None, "chat_template_kwargs": None, "enable_thinking": None, "mm_processor_kwargs": None,
}
#: api_server request fields lmdeploy accepts and never reads, with the value that asks for nothing: the request
#: model takes them (serve/openai/protocol.py), build_serving_generation_config keeps only GenerationConfig's
#: fields (serve/core/generation_config.py extract_request_gen_config), and /v1/completions reads no echo or
#: suffix (serve/openai/endpoints/completions.py). A request asking for one is served without it (DG304).
SERVER_IGNORED: dict[str, Json] = {"presence_penalty": 0.0, "frequency_penalty": 0.0, "echo": False, "suffix": None}
SERVER_IGNORED_WHY = ("accepted by lmdeploy's api_server and never read (InternLM/lmdeploy@1263d5cd889b "
                      "serve/core/generation_config.py keeps GenerationConfig fields only): served without it")
_LMD_SERVE = "InternLM/lmdeploy@1263d5cd889b lmdeploy/serve/openai"
#: The api_server's endpoints: chat messages through the chat template unless ``do_preprocess`` is false or the
#: messages are one string; a completion's prompt and ``/generate``'s prompt as given (``do_preprocess=False``).
SERVER_ENDPOINTS = (
    Endpoint("/v1/chat/completions", "messages", True,
             f"lmdeploy's chat endpoint renders the messages with the chat template ({_LMD_SERVE}/chat_completions/"
             "serving.py chat_completions_v1: do_preprocess=request.do_preprocess, default true in protocol.py)",
             switch="do_preprocess", string_is_raw=True,
             raw_why=f"lmdeploy takes the input as given, no chat template ({_LMD_SERVE}/chat_completions/serving.py "
                     "chat_completions_v1: do_preprocess False for a string or when the request says so)"),
    Endpoint("/v1/completions", "prompt", False,
             f"lmdeploy's /v1/completions and /generate take the prompt as raw text ({_LMD_SERVE}/endpoints/"
             "completions.py, endpoints/generate.py: preprocess(..., do_preprocess=False))"),
)
#: ``auto`` (TurbomindEngineConfig, defaults.md §8): fp32 and fp16 models in fp16, bf16 in bf16.
DTYPE_AUTO = {"float32": "float16", "float16": "float16", "bfloat16": "bfloat16"}
#: What ``do_sample: false`` forces in the pipeline (``_determine_gen_config``).
PIPELINE_GREEDY: dict[str, object] = {"generation.top_k": 1, "generation.temperature": 1.0,
                                      "generation.repetition_penalty": 1.0}


def pipeline_decoding(values: Mapping[str, Value]) -> Decision | None:
    ds = values.get("generation.do_sample")
    if ds is None or not isinstance(ds.value, bool):
        return None
    return Decision(ds.value, "generation.do_sample", "lmdeploy pipeline: do_sample (§6)",
                    ("generation.do_sample",), {} if ds.value else PIPELINE_GREEDY,
                    "lmdeploy pipeline greedy (do_sample false, §6)")


def server_decoding(values: Mapping[str, Value]) -> Decision | None:
    return Decision(True, "generation.do_sample", "lmdeploy api_server v0.15+ always samples (§6)")


def turbomind_decoding(values: Mapping[str, Value]) -> Decision | None:
    top_k, top_p = values.get("generation.top_k"), values.get("generation.top_p")
    if top_k is None and top_p is None:
        return None
    greedy = (top_k is not None and top_k.value == 1) or \
        (top_p is not None and top_p.value == 0 and (top_k is None or top_k.value == 0))
    return Decision(not greedy, "generation.top_k", "TurboMind samples unless top_k == 1 (or top_k 0 with top_p 0)",
                    ("generation.top_k", "generation.top_p"))


_COMMON_IGNORED = "not an lmdeploy GenerationConfig / api_server field"
_GEN_CONFIG_EOS = ("lmdeploy takes eos_token_id from the model's generation_config.json (defaults.md §6, LMD "
                   "messages.py GenerationConfig.update_from_hf_gen_cfg)")
PIPELINE = EngineSpec(
    name="lmdeploy-pipeline", engine="lmdeploy", label="lmdeploy pipeline", namespace="lmdeploy", fields=FIELDS,
    other_fields=OTHER_FIELDS, ignored_why=_COMMON_IGNORED, layers=(Layer("lmdeploy", LMDEPLOY_DEFAULTS),),
    decoding=pipeline_decoding, dtypes=("auto", "float16", "bfloat16"), dtype_auto=DTYPE_AUTO,
    generation_config_eos=_GEN_CONFIG_EOS, output_fields=OUTPUT_FIELDS,
)
#: The api_server's sampling defaults below the request (v0.15+, PR #4708; defaults.md §6, LMD): the generation
#: config ``--generation-config`` names (``auto``, the default: the model's generation_config.json; ``lmdeploy``:
#: none; else a folder), read with transformers' ``GenerationConfig.to_diff_dict()`` and kept to the fields
#: lmdeploy's ``GenerationConfig`` has (``_filter_gen_config``), whose ``max_new_tokens`` and ``do_sample``
#: ``build_generation_config`` then drops (InternLM/lmdeploy@1263d5cd889b lmdeploy/serve/core/
#: generation_config.py). HF name -> canonical key: the fields both classes have.
SERVER_GEN_CONFIG_FIELDS: dict[str, str] = {
    "temperature": "generation.temperature",
    "top_p": "generation.top_p",
    "top_k": "generation.top_k",
    "min_p": "generation.min_p",
    "repetition_penalty": "generation.repetition_penalty",
    "min_new_tokens": "generation.min_new_tokens",
}
SERVER_GEN_CONFIG_WHY = ("lmdeploy's api_server takes its sampling defaults from the model's generation_config.json "
                         "(--generation-config auto, the default since v0.15; defaults.md §6 LMD, "
                         "InternLM/lmdeploy@1263d5cd889b lmdeploy/serve/core/generation_config.py "
                         "resolve_default_gen_config, merge_gen_config)")
_SERVER_LAYER = Layer("lmdeploy", {k: d for k, d in LMDEPLOY_DEFAULTS.items()
                                   if k != "generation.max_new_tokens"})  # session_len - prompt_len
#: The api_server's fields: GenerationConfig's, but top_p in (0, 1], as every endpoint's request check says
#: (InternLM/lmdeploy@1263d5cd889b serve/openai/chat_completions/validation.py, endpoints/completions.py,
#: endpoints/generate.py: "The top_p ... must be in (0, 1]").
SERVER_FIELDS: dict[str, Field] = {**FIELDS, "top_p": Field("generation.top_p", range=between(0.0, 1.0, low_open=True))}
SERVER = EngineSpec(
    name="lmdeploy-server", engine="lmdeploy", label="lmdeploy api_server", namespace="lmdeploy", fields=SERVER_FIELDS,
    other_fields=OTHER_FIELDS, ignored_why=_COMMON_IGNORED, layers=(_SERVER_LAYER,),
    generation_config=GenerationConfigUse(SERVER_GEN_CONFIG_FIELDS, "--generation-config auto (the default)",
                                          drop_hf_defaults=True, why=SERVER_GEN_CONFIG_WHY),
    decoding=server_decoding, dtypes=PIPELINE.dtypes, dtype_auto=DTYPE_AUTO, generation_config_eos=_GEN_CONFIG_EOS,
    endpoints=SERVER_ENDPOINTS, output_fields=OUTPUT_FIELDS,
)

#: The api_server's native ``/generate`` (InternLM/lmdeploy@1263d5cd889b lmdeploy/serve/openai/protocol.py
#: ``GenerateReqInput``, endpoints/generate.py): its own request model, so its own fields, ranges and defaults.
#: ``max_tokens`` defaults to 128 there (the OpenAI endpoints' unset max_tokens runs to the session length); no
#: ``model`` member (both OpenAI request models require one, so a body without it is a /generate body); the
#: prompt (or ``input_ids``) as given, no chat template (``preprocess(..., do_preprocess=False)``). The other
#: sampling values come as on the OpenAI endpoints (``build_serving_generation_config``).
SERVER_GENERATE_DEFAULTS: dict[str, Default] = {
    "generation.max_new_tokens": Default(128, "defaults.md §6 lmdeploy api_server /generate GenerateReqInput (LMD, "
                                              "lmdeploy/serve/openai/protocol.py) max_tokens"),
}
#: GenerateReqInput's fields with a canonical key, and the ranges ``check_request`` enforces (endpoints/
#: generate.py: max_tokens > 0, top_p in (0, 1], top_k >= 0, temperature in [0, 2]).
GENERATE_FIELDS: dict[str, Field] = {
    "max_tokens": Field("generation.max_new_tokens", "int", gt(0.0)),
    "temperature": Field("generation.temperature", range=between(0.0, 2.0)),
    "top_p": SERVER_FIELDS["top_p"],
    "top_k": Field("generation.top_k", "int", ge(0.0)),
    "min_p": FIELDS["min_p"],
    "repetition_penalty": FIELDS["repetition_penalty"],
    "stop": FIELDS["stop"],
}
#: GenerateReqInput's other fields (``session_id`` and the media kwargs included).
GENERATE_OTHER = frozenset((
    "session_id", "prompt", "input_ids", "image_data", "return_logprob", "stop_token_ids", "stream", "ignore_eos",
    "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output", "return_routed_experts",
    "repetition_ngram_size", "repetition_ngram_threshold", "media_io_kwargs", "mm_processor_kwargs",
))
_GENERATE_RAW = (f"lmdeploy's /generate takes the prompt (or input_ids) as given, no chat template "
                 f"({_LMD_SERVE}/endpoints/generate.py: preprocess(..., do_preprocess=False))")
GENERATE = replace(
    SERVER, name="lmdeploy-generate", label="lmdeploy api_server /generate", fields=GENERATE_FIELDS,
    other_fields=GENERATE_OTHER,
    ignored_why="not a field of lmdeploy's /generate request (GenerateReqInput), which drops it",
    layers=(Layer("lmdeploy /generate", SERVER_GENERATE_DEFAULTS), _SERVER_LAYER),
    endpoints=(Endpoint("/generate", "prompt", False, _GENERATE_RAW),
               Endpoint("/generate", "input_ids", False, _GENERATE_RAW)),
    output_fields={n: v for n, v in OUTPUT_FIELDS.items() if n in GENERATE_OTHER},
)
#: The TurboMind INI ``[request]`` options without a canonical key that change the output (InternLM/lmdeploy@
#: 1263d5cd889b examples/cpp/llama/llama_config.ini: beam_search_diversity_rate, 0.0 there and in the C++
#: runtime's defaults, which change nothing), kept as ``lmdeploy.request.<name>``; request_batch_size and
#: max_input_len size the example's batch, start_id starts an empty prompt.
TURBOMIND_OUTPUT_FIELDS: dict[str, Json] = {"request.beam_search_diversity_rate": 0.0}
TURBOMIND = EngineSpec(
    name="turbomind", engine="lmdeploy", label="TurboMind", namespace="lmdeploy", fields=INI_REQUEST,
    decoding=turbomind_decoding, dtypes=PIPELINE.dtypes, dtype_auto=DTYPE_AUTO,
    output_fields=TURBOMIND_OUTPUT_FIELDS,
)

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (PIPELINE, SERVER, TURBOMIND, GENERATE)
EXTRACTOR: str | None = "driftguard.extractors.lmdeploy"
