"""TensorRT-LLM: Triton tensorrtllm_backend / FasterTransformer request tensors (``{"request": [{"name",
"data", "dtype"}]}``), LLM-API ``SamplingParams`` dicts and ``model.yaml`` engine configs, and
``trtllm-serve`` (OpenAI protocol) request bodies.

Layers (defaults.md §4, §11), recorded in ``Origin.source``: ``request`` > ``generation_config.json`` (only
with ``generation_config: auto``; eight fields; only values present in the file) > the entry point's
defaults (``llm-api default``: greedy while no sampling field is set, max_tokens 32; ``trtllm-serve default``:
T 1.0, top_p 1.0) > ``trtllm runtime default`` (C++, §4.1). Request tensors go straight to the C++ defaults,
with ``runtime_top_p <= 0`` treated as absent (§4.5).

A SamplingParams dict or trtllm-serve request is validated against those fields: one TensorRT-LLM does not
take (a typo, ``top-p``) is kept as ``tensorrt_llm.unknown_fields.<name>`` with the closest known name (rule
DG304; ``SamplingParams(**d)`` raises on it, trtllm-serve drops or rejects it), and a file with no known field
is an input error. Engine configs (``model``, LLM-API args, ``trtllm-serve --extra_llm_api_options`` YAML) map
``dtype`` to ``precision.compute`` (``auto`` kept as written: the reference documents no TensorRT-LLM rule for
it) and ``quant_config.quant_algo`` to ``precision.quantization`` (lower case; ``W4A16_AWQ`` -> ``awq``,
``W4A16_GPTQ`` -> ``gptq``, ``NO_QUANT``/unset -> ``none``), and keep unmapped fields under ``tensorrt_llm.*``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors import runtime_common as rc
from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.keys import TENSORRT_LLM_DEFAULTS, TENSORRT_LLM_LLMAPI_DEFAULTS, TENSORRT_LLM_SERVE_DEFAULTS
from driftguard.model import EffectiveConfig, Origin, Value
from driftguard.normalize import normalize_dtype, normalize_json, parse_scalar

KIND = "tensorrt-llm"
DESCRIPTION = "TensorRT-LLM request tensors (Triton/FasterTransformer JSON), LLM-API SamplingParams or " \
    "model.yaml, trtllm-serve request"

#: Triton tensorrtllm_backend / FasterTransformer input tensor -> (canonical key, type)
TENSORS: rc.Fields = {
    "runtime_top_k": ("generation.top_k", "int"),
    "runtime_top_p": ("generation.top_p", "float"),
    "temperature": ("generation.temperature", "float"),
    "request_output_len": ("generation.max_new_tokens", "int"),
    "beam_width": ("generation.num_beams", "int"),
    "len_penalty": ("generation.length_penalty", "float"),
    "length_penalty": ("generation.length_penalty", "float"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "presence_penalty": ("generation.presence_penalty", "float"),
    "frequency_penalty": ("generation.frequency_penalty", "float"),
    "random_seed": ("generation.seed", "int"),
    "seed": ("generation.seed", "int"),
    "end_id": ("generation.eos_token_id", "ints"),
    "min_length": ("generation.min_new_tokens", "int"),
    "min_tokens": ("generation.min_new_tokens", "int"),
    "early_stopping": ("generation.early_stopping", "int"),
    "no_repeat_ngram_size": ("generation.no_repeat_ngram_size", "int"),
    "num_return_sequences": ("generation.num_return_sequences", "int"),
}
_DATA_TENSORS = ("input_ids", "input_lengths", "stop_words_list", "bad_words_list", "text_input",
                 "embedding_bias_words", "embedding_bias_weights", "prompt_embedding_table", "image_input")

#: LLM-API SamplingParams / trtllm-serve request field -> (canonical key, type)
SAMPLING: rc.Fields = {
    "temperature": ("generation.temperature", "float"),
    "top_p": ("generation.top_p", "float"),
    "top_k": ("generation.top_k", "int"),
    "min_p": ("generation.min_p", "float"),
    "max_tokens": ("generation.max_new_tokens", "int"),
    "max_completion_tokens": ("generation.max_new_tokens", "int"),
    "min_tokens": ("generation.min_new_tokens", "int"),
    "n": ("generation.num_return_sequences", "int"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "presence_penalty": ("generation.presence_penalty", "float"),
    "frequency_penalty": ("generation.frequency_penalty", "float"),
    "length_penalty": ("generation.length_penalty", "float"),
    "seed": ("generation.seed", "int"),
    "stop": ("generation.stop", "strs"),
    "end_id": ("generation.eos_token_id", "ints"),
    "no_repeat_ngram_size": ("generation.no_repeat_ngram_size", "int"),
}
#: The fields generation_config='auto' honours (PR #17213, TRT-DOC).
GEN_CONFIG_KEYS = ("generation.temperature", "generation.top_p", "generation.top_k", "generation.min_p",
                   "generation.repetition_penalty", "generation.no_repeat_ngram_size",
                   "generation.length_penalty", "generation.early_stopping")
_SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "min_p")
_MARKERS = ("pytorch_backend_config", "triton_config", "build_config", "kv_cache_config")
_NO_REPEAT_OFF = 1 << 30
#: LLM-API arguments that mark a file as an engine config (model.yaml, extra_llm_api_options), not a request.
_LLM_ARGS = ("model", "backend", "tensor_parallel_size", "pipeline_parallel_size", "max_batch_size",
             "max_num_tokens", "max_seq_len", "max_input_len", "max_beam_width", "dtype", "tokenizer",
             "trust_remote_code", "speculative_config", "enable_chunked_prefill", "cuda_graph_config",
             "quant_config", *_MARKERS)
#: The other SamplingParams (TRT-SP) and trtllm-serve request fields.
_SAMPLING_OTHER = frozenset((
    "generation_config", "pad_id", "best_of", "use_beam_search", "beam_width_array", "top_p_min",
    "top_p_reset_ids", "top_p_decay", "beam_search_diversity_rate", "early_stopping", "num_return_sequences",
    "stop_token_ids", "include_stop_str_in_output", "bad", "bad_token_ids", "embedding_bias", "logits_processor",
    "apply_batched_logits_processor", "ignore_eos", "detokenize", "add_special_tokens", "skip_special_tokens",
    "spaces_between_special_tokens", "truncate_prompt_tokens", "logprobs", "prompt_logprobs", "return_log_probs",
    "return_context_logits", "return_generation_logits", "exclude_input_from_output", "return_encoder_output",
    "return_perf_metrics", "additional_model_outputs", "lookahead_config", "guided_decoding", "max_new_tokens",
    # trtllm-serve (OpenAI protocol)
    "model", "messages", "prompt", "stream", "stream_options", "top_logprobs", "user", "response_format",
    "tools", "tool_choice", "echo", "suffix", "logit_bias", "lora_request", "disaggregated_params",
    "chat_template", "chat_template_kwargs", "add_generation_prompt", "documents", "mm_processor_kwargs",
))
_KNOWN_SAMPLING = frozenset(SAMPLING) | _SAMPLING_OTHER
_IGNORED = "not a TensorRT-LLM SamplingParams / trtllm-serve field"
#: LLM-API ``dtype`` values (LLM args: "auto", or a floating type the checkpoint is cast to).
_LLM_DTYPES = ("auto", "float16", "bfloat16", "float32")
#: ``QuantAlgo`` names that are the scheme other engines and HF ``quant_method`` spell in lower case; any other
#: algorithm is kept as its lower-cased name (``w8a16``, ``int8``, ``nvfp4``, ``fp8_block_scales``...).
_QUANT_SCHEMES = {"NO_QUANT": "none", "W4A16_AWQ": "awq", "W4A16_GPTQ": "gptq", "FP8": "fp8"}
_QUANT_ALGO = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _check(name: str, value: Any) -> str | None:
    """SamplingConfig's valid ranges (TRT-SC)."""
    if name in ("top_k", "runtime_top_k") and value < 0:
        return "must be >= 0"
    if name == "top_p" and not 0 < value <= 1:
        return "must be in (0, 1]"
    if name == "temperature" and value < 0:
        return "must be >= 0"
    if name == "repetition_penalty" and value <= 0:
        return "must be > 0"
    if name == "min_p" and not 0 <= value <= 1:
        return "must be in [0, 1]"
    if name in ("beam_width", "n", "max_tokens", "request_output_len") and value < 1:
        return "must be >= 1"
    return None


def _is_tensor_request(data: Any) -> bool:
    req = data.get("request") if isinstance(data, dict) else None
    return isinstance(req, list) and bool(req) and all(isinstance(t, dict) and "name" in t for t in req)


def detect(path: Path, head: bytes) -> bool:
    data = rc.sniff(path, head)
    if _is_tensor_request(data):
        return True
    return isinstance(data, dict) and "model" in data and (
        any(m in data for m in _MARKERS) or data.get("backend") in ("pytorch", "tensorrt", "_autodeploy"))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    doc = rc.load_document(path, options.limits)
    data = rc.require_mapping(doc, "TensorRT-LLM request tensors, SamplingParams or model.yaml")
    b = ValueBuilder(KIND, path)
    if _is_tensor_request(data):
        _tensors(b, doc, data["request"])
        rc.fill_defaults(b, TENSORRT_LLM_DEFAULTS, "trtllm runtime default")
        _derive_greedy(b)
        return b.build()
    if _is_backend_parameters(data):
        _backend_parameters(b, doc, data)
        return b.build()
    if "request" in data:
        raise ExtractionError("request must be a list of named tensors ({'name', 'data', 'dtype'})", str(path),
                              doc.line("/request"))
    serve = "messages" in data or "prompt" in data
    unknown: set[str] = set()
    if serve or not any(name in data for name in _LLM_ARGS):
        rc.require_recognized(doc, KIND, "SamplingParams or trtllm-serve request", data, _KNOWN_SAMPLING)
        unknown = rc.flag_unknown(b, doc, "tensorrt_llm", _IGNORED, data, "", _KNOWN_SAMPLING)
    used = rc.apply_fields(b, doc, data, "", SAMPLING, "request", _check) | unknown
    _engine_config(b, doc, data, used)
    if data.get("generation_config") == "auto":
        _generation_config_layer(b, options)
    any_sampling = any(data.get(f) is not None for f in _SAMPLING_FIELDS)
    if serve:
        rc.fill_defaults(b, TENSORRT_LLM_SERVE_DEFAULTS, "trtllm-serve default")
    else:
        rc.fill_defaults(b, TENSORRT_LLM_LLMAPI_DEFAULTS, "llm-api default")
        if any_sampling or "generation.temperature" in b.values:
            # "Once any sampling parameter is set, the unspecified ones default to top_k 0, top_p 1, min_p 0,
            # temperature 1.0" (TRT-DOC, Torch sampler).
            rc.fill_defaults(b, {k: v for k, v in TENSORRT_LLM_SERVE_DEFAULTS.items()
                                 if k.split(".")[1] in _SAMPLING_FIELDS}, "llm-api default")
    rc.fill_defaults(b, TENSORRT_LLM_DEFAULTS, "trtllm runtime default")
    if not serve and not any_sampling and not _from_gen_config(b):
        rc.greedy_derived(b, True, "generation.temperature",
                          "LLM-API default is greedy while temperature/top_p/top_k are unset (defaults.md §4.2)")
    else:
        _derive_greedy(b)
    return b.build()


def _from_gen_config(b: ValueBuilder) -> bool:
    return any(b.values[k].origin.source == "generation_config.json" for k in GEN_CONFIG_KEYS
               if k in b.values and k.split(".")[1] in _SAMPLING_FIELDS)


def _tensors(b: ValueBuilder, doc: rc.Document, tensors: list[Any]) -> None:
    """One value per tensor: every batch row's value when they agree, else the list of them."""
    for i, t in enumerate(tensors):
        name = str(t["name"])
        ptr = f"/request/{i}/data"
        if name in _DATA_TENSORS:
            continue
        if "data" not in t:
            raise ExtractionError(f"tensor '{name}' has no data", str(doc.path), doc.line(f"/request/{i}"))
        flat = _flatten(t["data"])
        if name not in TENSORS:
            rc.put(b, doc, f"tensorrt_llm.request.{name}", normalize_json(flat[0] if len(set(map(repr, flat)))
                                                                         == 1 else flat), ptr, "request")
            continue
        key, typ = TENSORS[name]
        conv = [rc.convert(doc, ptr, v, "int" if typ == "ints" else typ) for v in flat]
        for v in conv:
            msg = _check(name, v)
            if msg:
                raise ExtractionError(f"{name} {msg}, got {v!r}", str(doc.path), doc.line(ptr))
        if name == "runtime_top_p" and all(v <= 0 for v in conv):
            # tensorrtllm_backend resets top_p <= 0 to nullopt: the C++ default applies (§4.5).
            continue
        if not conv:
            raise ExtractionError(f"{name} holds no value", str(doc.path), doc.line(ptr))
        value: Any = conv[0] if all(v == conv[0] for v in conv) else conv
        if typ == "ints":
            value = sorted(set(conv))
        if key == "generation.no_repeat_ngram_size" and value == _NO_REPEAT_OFF:
            value = 0
        note = None if not isinstance(value, list) or typ == "ints" else "differs per batch row"
        rc.put(b, doc, key, value, ptr, "request", note)


def _is_backend_parameters(data: dict[str, Any]) -> bool:
    """A tensorrtllm_backend model-config override in JSON: ``{"parameters": {name: {"string_value"}}}``."""
    params = data.get("parameters")
    return isinstance(params, dict) and bool(params) and "model" not in data and all(
        isinstance(p, dict) and "string_value" in p for p in params.values())


def _backend_parameters(b: ValueBuilder, doc: rc.Document, data: dict[str, Any]) -> None:
    """Backend parameters (strings, as Triton writes them) under ``tensorrt_llm.parameters.*``."""
    for name, p in data["parameters"].items():
        ptr = f"/parameters/{rc.escape(str(name))}/string_value"
        rc.put(b, doc, f"tensorrt_llm.parameters.{name}", parse_scalar(str(p["string_value"])), ptr,
               "backend parameters")
    policy = data.get("model_transaction_policy")
    if isinstance(policy, dict) and "decoupled" in policy:
        ptr = "/model_transaction_policy/decoupled"
        rc.put(b, doc, "serving.decoupled", rc.boolean(doc, ptr, policy["decoupled"]), ptr, "backend parameters")


def _flatten(data: Any) -> list[Any]:
    if isinstance(data, list):
        out: list[Any] = []
        for d in data:
            out.extend(_flatten(d))
        return out
    return [data]


def _engine_config(b: ValueBuilder, doc: rc.Document, data: dict[str, Any], used: set[str]) -> None:
    """model.yaml: the Triton overrides map to canonical keys, the rest stays under ``tensorrt_llm.*``."""
    tc = data.get("triton_config")
    if isinstance(tc, dict):
        if tc.get("max_batch_size") is not None:
            rc.put(b, doc, "batching.max_batch_size",
                   rc.number(doc, "/triton_config/max_batch_size", tc["max_batch_size"], integer=True),
                   "/triton_config/max_batch_size", "engine config")
        if tc.get("decoupled") is not None:
            rc.put(b, doc, "serving.decoupled", rc.boolean(doc, "/triton_config/decoupled", tc["decoupled"]),
                   "/triton_config/decoupled", "engine config")
    used = used | _precision(b, doc, {k: v for k, v in data.items() if k not in used})
    rc.keep_namespaced(b, doc, "tensorrt_llm", data, "", used | {"messages", "prompt"}, "engine config")


def _precision(b: ValueBuilder, doc: rc.Document, data: dict[str, Any]) -> set[str]:
    """LLM-API ``dtype`` -> ``precision.compute`` (``auto`` kept: defaults.md documents no TensorRT-LLM rule
    for it, so DG105 leaves it unresolved) and ``quant_config.quant_algo`` -> ``precision.quantization``
    (``none`` when the config sets no algorithm). Returns the top-level fields consumed; ``quant_config``
    stays under ``tensorrt_llm.quant_config.*`` too (its KV-cache algorithm included)."""
    used: set[str] = set()
    if data.get("dtype") is not None:
        raw = data["dtype"]
        text = str(raw).strip().lower() if isinstance(raw, str) else ""
        dtype = "auto" if text == "auto" else normalize_dtype(text) if text else None
        if dtype not in _LLM_DTYPES:
            raise ExtractionError(f"dtype: {raw!r} is not a TensorRT-LLM dtype (one of: {', '.join(_LLM_DTYPES)})",
                                  str(doc.path), doc.line("/dtype"))
        rc.put(b, doc, "precision.compute", dtype, "/dtype", "engine config", "TensorRT-LLM LLM-API dtype")
        used.add("dtype")
    qc = data.get("quant_config")
    if isinstance(qc, dict):
        algo = qc.get("quant_algo")
        ptr = "/quant_config/quant_algo" if "quant_algo" in qc else "/quant_config"
        if algo is not None and (not isinstance(algo, str) or not _QUANT_ALGO.fullmatch(algo.strip())):
            raise ExtractionError(f"quant_config.quant_algo: {algo!r} is not a TensorRT-LLM QuantAlgo name",
                                  str(doc.path), doc.line(ptr))
        name = "NO_QUANT" if algo is None else algo.strip().upper()
        scheme = _QUANT_SCHEMES.get(name, name.lower())
        rc.put(b, doc, "precision.quantization", scheme, ptr, "engine config",
               f"TensorRT-LLM quant_algo {name}" if algo is not None else "quant_config sets no quant_algo")
    elif qc is not None:
        raise ExtractionError("quant_config must be a mapping (QuantConfig fields)", str(doc.path),
                              doc.line("/quant_config"))
    return used


def _generation_config_layer(b: ValueBuilder, options: ExtractOptions) -> None:
    """Values present in the model's generation_config.json, for the eight honoured fields (§4.4).
    Absent fields do not take Hugging Face's synthesized defaults."""
    ctx = rc.context_generation(options)
    if ctx is None:
        return
    for key in GEN_CONFIG_KEYS:
        v = ctx.get(key)
        if v is not None and v.explicit and v.value is not None and key not in b.values:
            o = v.origin
            b.values[key] = Value(v.value, Origin(o.path, o.line, o.pointer, "generation_config.json"), True,
                                  "defaults.md §4.4 generation_config='auto'")


def _derive_greedy(b: ValueBuilder) -> None:
    """Greedy when beam_width == 1 and top_k == 1, or top_k == 0 with top_p == 0, or temperature == 0 (§4.1)."""
    v = {k.split(".")[1]: b.values[k].value for k in b.values if k.startswith("generation.")}
    beams = v.get("num_beams", 1)
    top_k, top_p, temp = v.get("top_k", 0), v.get("top_p", 0.0), v.get("temperature", 1.0)
    if isinstance(top_k, list) or isinstance(top_p, list) or isinstance(temp, list):
        return  # rows disagree: no single answer
    greedy = beams != 1 or top_k == 1 or (top_k == 0 and top_p == 0) or temp == 0
    rc.greedy_derived(b, bool(greedy), "generation.top_k",
                      "TensorRT-LLM decodes greedily when top_k == 1, top_k == 0 with top_p == 0, or "
                      "temperature == 0; beam search when beam_width > 1 (defaults.md §4.1)")
