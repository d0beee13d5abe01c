"""vLLM: sampling parameters (``SamplingParams`` fields), OpenAI-server request bodies, and engine args
(Triton vllm_backend ``model.json``, ``vllm serve --config`` YAML), resolved the way the serving path does.

The serving path decides which layers exist (defaults.md §2.3, §11, TRI-VLLM), and every value's
``Origin.source`` names the layer that supplied it:

- **Triton vllm_backend** (the side holds a Triton config with ``backend: "vllm"``, or the file is, or the
  context holds, a ``model.json``): ``request`` > ``triton vllm_backend default`` (raw ``SamplingParams``
  defaults: temperature 1.0, top_k off, max_tokens 16). The backend builds ``SamplingParams`` from the
  request alone and reads no generation_config.json.
- **vllm serve** (anything else): ``request`` > ``override-generation-config`` > ``generation_config.json``
  (only in ``generation_config: auto``, the default; only six fields, never ``do_sample``) > ``vllm default``.
  The model's generation_config.json comes from ``options.context`` (an hf-generation / hf-model config on the
  same side) or from a local folder named by ``generation_config`` or ``model``.

Request bodies and bare sampling dicts are validated against vLLM's request vocabulary: a field vLLM ignores
(a typo, or a dashed spelling, which only engine args accept) is kept as ``vllm.unknown_fields.<name>`` with
a note naming the closest known field, and rule DG304 reports it; a file with no field vLLM knows is an
input error. Engine-arg files (dashed or underscored) keep unmapped args as ``vllm.<name>``.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors import runtime_common as rc
from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.keys import HF_GENERATION_DEFAULTS, VLLM_DEFAULTS, chat_template_digest
from driftguard.model import EffectiveConfig, Origin, Value
from driftguard.normalize import normalize_dtype
from driftguard.readers.files import confine, is_dir, read_text

KIND = "vllm"
DESCRIPTION = "vLLM sampling params / OpenAI-server request (JSON/YAML) or engine args (model.json, serve config)"

#: request field -> (canonical key, value type)
_REQUEST: dict[str, tuple[str, str]] = {
    "temperature": ("generation.temperature", "float"),
    "top_p": ("generation.top_p", "float"),
    "top_k": ("generation.top_k", "int"),
    "min_p": ("generation.min_p", "float"),
    "max_tokens": ("generation.max_new_tokens", "int"),
    "max_completion_tokens": ("generation.max_new_tokens", "int"),
    "min_tokens": ("generation.min_new_tokens", "int"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "presence_penalty": ("generation.presence_penalty", "float"),
    "frequency_penalty": ("generation.frequency_penalty", "float"),
    "length_penalty": ("generation.length_penalty", "float"),
    "seed": ("generation.seed", "int"),
    "n": ("generation.num_return_sequences", "int"),
    "stop": ("generation.stop", "strs"),
    "truncate_prompt_tokens": ("preprocessing.max_length", "int"),
}

#: engine arg -> canonical key (others are kept as ``vllm.<name>``)
_ENGINE: dict[str, str] = {
    "dtype": "precision.compute",
    "max_model_len": "serving.max_model_len",
    "quantization": "precision.quantization",
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

_ENGINE_MARKERS = ("gpu_memory_utilization", "tensor_parallel_size", "max_model_len", "disable_log_requests",
                   "enforce_eager", "speculative_model", "num_speculative_tokens", "swap_space",
                   "max_num_seqs", "enable_prefix_caching", "override_generation_config")
_TRTLLM_MARKERS = ("pytorch_backend_config", "triton_config", "build_config", "kv_cache_config", "backend")
_SAMPLING_NESTS = ("sampling_params", "sampling_parameters")

#: Fields vLLM's SamplingParams and its OpenAI/Triton request models accept besides the mapped ones (VLLM-SP,
#: VLLM-CHAT; Triton generate-endpoint fields). Anything else in a request is dropped by vLLM with a log line.
_REQUEST_OTHER = frozenset((
    "model", "messages", "prompt", "suffix", "echo", "stream", "stream_options", "user", "logprobs",
    "top_logprobs", "prompt_logprobs", "logit_bias", "allowed_token_ids", "bad_words", "response_format",
    "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "include_reasoning", "detokenize",
    "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output", "logits_processors",
    "output_kind", "guided_decoding", "structured_outputs", "guided_json", "guided_regex", "guided_choice",
    "guided_grammar", "guided_decoding_backend", "guided_whitespace_pattern", "structural_tag", "extra_args",
    "add_generation_prompt", "continue_final_message", "add_special_tokens", "documents", "chat_template",
    "chat_template_kwargs", "mm_processor_kwargs", "priority", "request_id", "return_tokens_as_token_ids",
    "return_token_ids", "cache_salt", "kv_transfer_params", "vllm_xargs", "prompt_embeds", "service_tier",
    "stop_token_ids", "ignore_eos", "best_of", "use_beam_search", "length_penalty",
    # Triton generate endpoint (vllm_backend inputs)
    "text_input", "exclude_input_in_output", "return_finish_reason", "return_cumulative_logprob",
    "return_logprobs", "return_num_input_tokens", "return_num_output_tokens", "id", "parameters",
    *("sampling_params", "sampling_parameters"),
))
#: Engine args (``EngineArgs`` fields, as ``vllm serve --config`` and Triton model.json write them) that mark a
#: file as engine args rather than a request; dashed spellings are canonicalized first.
_ENGINE_ARGS = frozenset((
    "model", "tokenizer", "tokenizer_mode", "revision", "trust_remote_code", "download_dir", "load_format",
    "dtype", "kv_cache_dtype", "max_model_len", "quantization", "served_model_name", "generation_config",
    "pipeline_parallel_size", "max_num_batched_tokens", "enable_chunked_prefill", "block_size", "host", "port",
    "disable_log_stats", "max_logprobs", "max_seq_len_to_capture", "distributed_executor_backend",
    "limit_mm_per_prompt", "enable_lora", "max_loras", "max_lora_rank", "speculative_config", "cpu_offload_gb",
    "tool_call_parser", "enable_auto_tool_choice", "chat_template_content_format", "api_key", "uvicorn_log_level",
))
_GREEDY_EPS = 1e-5  # vLLM _SAMPLING_EPS


def _canon(name: str) -> str:
    return name.replace("-", "_")


def detect(path: Path, head: bytes) -> bool:
    """Engine args (``model`` plus vLLM engine keys). Bare sampling dicts are not claimed: name the kind."""
    data = rc.sniff(path, head)
    if not isinstance(data, dict):
        return False
    names = {_canon(str(k)) for k in data}
    if any(m in names for m in _TRTLLM_MARKERS):
        return False
    return "model" in names and any(m in names for m in _ENGINE_MARKERS)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    doc = rc.load_document(path, options.limits)
    data = rc.require_mapping(doc, "vLLM sampling params, request body or engine args")
    b = ValueBuilder(KIND, path)
    is_request_body = "messages" in data or "prompt" in data
    engine = not is_request_body and (path.name == "model.json" or any(
        _canon(str(k)) in _ENGINE_ARGS or _canon(str(k)) in _ENGINE_MARKERS for k in data))
    triton = _triton_path(path, options)
    used: set[str] = set()

    if engine:
        _request_layer(b, doc, data, "", used, dashed=True)
    else:
        rc.require_recognized(doc, KIND, "vLLM request or SamplingParams", data, _KNOWN_REQUEST)
        used |= rc.flag_unknown(b, doc, KIND, _IGNORED, data, "", _KNOWN_REQUEST)
        _request_layer(b, doc, data, "", used, dashed=False)
    for nest in _SAMPLING_NESTS:
        if nest in data:
            used.add(nest)
            inner, inner_doc, ptr = _nested(doc, data[nest], f"/{nest}")
            unknown = rc.flag_unknown(b, inner_doc, KIND, _IGNORED, inner, ptr, _KNOWN_REQUEST)
            _request_layer(b, inner_doc, {k: v for k, v in inner.items() if k not in unknown}, ptr, set(),
                           dashed=False)
    _preprocessing(b, doc, data, options, engine=engine)
    mode = _engine_args(b, doc, data, used) if engine else "auto"
    _resolve_auto_dtype(b, options)
    args = {_canon(str(k)): k for k in data} if engine else {str(k): k for k in data}

    if not triton:
        if "override_generation_config" in args:
            _override_layer(b, doc, data[args["override_generation_config"]],
                            f"/{rc.escape(str(args['override_generation_config']))}")
        if mode != "vllm":
            _generation_config_layer(b, doc, data, mode, options, args)
    defaults = dict(VLLM_DEFAULTS)
    if is_request_body and not triton:
        # The OpenAI server lets an unset max_tokens run to the end of the context window (§2.2).
        defaults.pop("generation.max_new_tokens")
    rc.fill_defaults(b, defaults, "triton vllm_backend default" if triton else "vllm default")
    _derive_sampling(b)
    used.update(("messages", "prompt", "generation_config"))
    rc.keep_namespaced(b, doc, "vllm", data, "", used, "engine args" if engine else "request",
                       rename=_canon if engine else None)
    if "generation_config" in args:
        mode_ptr = f"/{rc.escape(str(args['generation_config']))}"
        rc.put(b, doc, "vllm.generation_config", mode, mode_ptr, "engine args")
    return b.build()


_IGNORED = "ignored by vLLM"

#: Every field name a request body or sampling dict may carry (underscored: request models take no dashes).
_KNOWN_REQUEST = frozenset(_REQUEST) | _REQUEST_OTHER


def _triton_path(path: Path, options: ExtractOptions) -> bool:
    """True when the side is served by Triton's vllm_backend: the file is a ``model.json``, or the side holds
    a Triton config with ``backend: "vllm"`` or a model.json (TRI-VLLM: no generation_config.json layer)."""
    if path.name == "model.json":
        return True
    for cfg in options.context:
        if cfg.kind == "triton":
            backend = cfg.values.get("serving.backend")
            if backend is not None and backend.value == "vllm":
                return True
        elif cfg.kind == KIND and Path(cfg.path).name == "model.json":
            return True
    return False


def _nested(doc: rc.Document, raw: Any, ptr: str) -> tuple[dict[str, Any], rc.Document, str]:
    """A nested sampling dict, or one written as a JSON string (Triton vllm_backend ``sampling_parameters``)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"{ptr[1:]} is not valid JSON: {exc.msg}", str(doc.path), doc.line(ptr)) from None
        line = doc.line(ptr)
        doc = rc.Document(doc.path, raw, {"": line} if line else {})
        ptr = ""
    if not isinstance(raw, dict):
        raise ExtractionError(f"{ptr[1:] or 'sampling params'} must be a mapping", str(doc.path), doc.line(ptr))
    return raw, doc, ptr


def _request_layer(b: ValueBuilder, doc: rc.Document, data: dict[str, Any], base: str, used: set[str], *,
                   dashed: bool) -> None:
    """The request fields of ``data``; ``dashed``: engine-arg spellings (``top-p``) count too."""
    for raw_name, raw in data.items():
        name = _canon(str(raw_name)) if dashed else str(raw_name)
        if name in used:
            continue
        if name in _REQUEST:
            used.add(name)
            if raw is None:
                continue  # an explicit null is "unset" in vLLM's request models
            key, typ = _REQUEST[name]
            ptr = f"{base}/{rc.escape(str(raw_name))}"
            value: Any = rc.str_list(doc, ptr, raw) if typ == "strs" else \
                rc.number(doc, ptr, raw, integer=typ == "int")
            value = _validate(doc, ptr, name, value)
            rc.put(b, doc, key, value, ptr, "request")
        elif name in ("stop_token_ids", "ignore_eos", "best_of", "use_beam_search"):
            used.add(name)
            ptr = f"{base}/{rc.escape(str(raw_name))}"
            if name == "stop_token_ids":
                rc.put(b, doc, "vllm.stop_token_ids", rc.int_list(doc, ptr, raw), ptr, "request")
            elif name == "best_of":
                if raw is not None:
                    rc.put(b, doc, "vllm.best_of", rc.number(doc, ptr, raw, integer=True), ptr, "request")
            else:
                rc.put(b, doc, f"vllm.{name}", rc.boolean(doc, ptr, raw), ptr, "request")


def _validate(doc: rc.Document, ptr: str, name: str, value: Any) -> Any:
    """vLLM's own checks (VLLM-SP ``_verify_args``) for the fields whose bad values it rejects."""
    def bad(msg: str) -> ExtractionError:
        return ExtractionError(f"{name} {msg}, got {value!r} (vLLM rejects it)", str(doc.path), doc.line(ptr))

    if name == "top_k":
        if value < -1:
            raise bad("must be -1 or 0 (off) or at least 1")
        return 0 if value == -1 else value  # -1 (older releases) and 0 both mean off
    if name == "seed" and value == -1:
        return None
    if name == "top_p" and not 0 < value <= 1:
        raise bad("must be in (0, 1]")
    if name == "temperature" and value < 0:
        raise bad("must be non-negative")
    if name == "min_p" and not 0 <= value <= 1:
        raise bad("must be in [0, 1]")
    if name in ("presence_penalty", "frequency_penalty") and not -2 <= value <= 2:
        raise bad("must be in [-2, 2]")
    if name == "repetition_penalty" and value <= 0:
        raise bad("must be greater than zero")
    if name in ("n", "max_tokens", "max_completion_tokens") and value < 1:
        raise bad("must be at least 1")
    return value


#: vLLM ``dtype: auto`` (defaults.md §8, VLLM-MC): FP16 for FP32 and FP16 models, BF16 for BF16 models.
_AUTO_DTYPE = {"float32": "float16", "float16": "float16", "bfloat16": "bfloat16"}


def _resolve_auto_dtype(b: ValueBuilder, options: ExtractOptions) -> None:
    """``dtype: auto`` as vLLM resolves it, from the model files on the same side (their weight precision);
    left as ``auto`` when the side has none (DG105 then resolves it against the training side)."""
    v = b.values.get("precision.compute")
    if v is None or v.value != "auto":
        return
    for cfg in options.context:
        w = cfg.get("precision.weights")
        if w is not None and w.value in _AUTO_DTYPE:
            resolved = _AUTO_DTYPE[w.value]
            b.values["precision.compute"] = Value(
                resolved, v.origin, v.explicit,
                f"dtype auto: {w.value} model ({w.origin.location()}) is served in {resolved} "
                "(defaults.md §8, VLLM-MC)")
            return


def _engine_args(b: ValueBuilder, doc: rc.Document, data: dict[str, Any], used: set[str]) -> str:
    """Map engine args; return the generation_config mode (``auto`` unless the file says otherwise)."""
    for raw_name, raw in data.items():
        name = _canon(str(raw_name))
        ptr = f"/{rc.escape(str(raw_name))}"
        if name in _ENGINE and raw is not None:
            used.add(name)
            if name == "dtype":
                value: Any = "auto" if str(raw) == "auto" else normalize_dtype(raw)
                if value is None:
                    raise ExtractionError(f"dtype: unknown element type {raw!r}", str(doc.path), doc.line(ptr))
            elif name == "quantization":
                value = str(raw).lower()
            else:
                value = rc.number(doc, ptr, raw, integer=True)
            rc.put(b, doc, _ENGINE[name], value, ptr, "engine args")
        elif isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            used.add(name)  # Triton model.json writes booleans as strings
            rc.put(b, doc, f"vllm.{name}", raw.strip().lower() == "true", ptr, "engine args")
    used.add("override_generation_config")
    spelled = next((k for k in data if _canon(str(k)) == "generation_config"), None)
    mode = "auto" if spelled is None else data[spelled]
    if mode is None:
        return "auto"
    if not isinstance(mode, str):
        raise ExtractionError("generation_config must be 'auto', 'vllm' or a folder", str(doc.path),
                              doc.line(f"/{rc.escape(str(spelled))}"))
    return mode


def _override_layer(b: ValueBuilder, doc: rc.Document, raw: Any, ptr: str) -> None:
    inner, inner_doc, base = _nested(doc, raw, ptr)
    for name, key in GEN_CONFIG_FIELDS.items():
        if inner.get(name) is not None and key not in b.values:
            p = f"{base}/{name}"
            value = rc.number(inner_doc, p, inner[name], integer=key in ("generation.top_k",
                                                                        "generation.max_new_tokens"))
            if key == "generation.top_k" and value == -1:
                value = 0
            rc.put(b, inner_doc, key, value, p, "override-generation-config")


def _generation_config_layer(b: ValueBuilder, doc: rc.Document, data: dict[str, Any], mode: str,
                             options: ExtractOptions, args: dict[str, Any]) -> None:
    """The model's generation_config.json as ``vllm serve`` sees it through ``to_diff_dict()``: the six fields,
    minus values equal to transformers 4.x class defaults (defaults.md §1.3, §2.3 consequence 2).
    ``args``: canonical name -> the spelling the file uses (for lines)."""
    values: dict[str, Value] = {}
    mode_ptr = f"/{rc.escape(str(args.get('generation_config', 'generation_config')))}"
    model_ptr = f"/{rc.escape(str(args.get('model', 'model')))}"
    folder = _local_folder(doc.path, mode if mode != "auto" else data.get(args.get("model", "model")))
    if folder is not None:
        # A path the file names is read only inside the tree being checked (the manifest's folder).
        field = mode_ptr if mode != "auto" else model_ptr
        confine(folder, options.root_for(doc.path), "folder", origin=str(doc.path), line=doc.line(field))
    ctx = rc.context_generation(options)
    if mode != "auto" and folder is None:
        raise ExtractionError(f"generation_config: folder {mode!r} not found", str(doc.path),
                              doc.line(mode_ptr))
    if ctx is not None and mode == "auto":
        for key in GEN_CONFIG_FIELDS.values():
            v = ctx.get(key)
            if v is not None and v.explicit and v.value is not None:
                values[key] = v
    elif folder is not None and (folder / "generation_config.json").is_file():
        values = rc.read_generation_config_json(folder, GEN_CONFIG_FIELDS, options.limits)
    for key, v in values.items():
        hf_default = HF_GENERATION_DEFAULTS.get(key)
        if hf_default is not None and v.value == hf_default.value:
            continue  # to_diff_dict() drops it (equals the transformers 4.x default): vLLM never sees it
        if key not in b.values:
            o = v.origin
            b.values[key] = Value(v.value, Origin(o.path, o.line, o.pointer, "generation_config.json"), True,
                                  "vllm serve applies the model's generation_config.json (defaults.md §2.3 "
                                  "get_diff_sampling_param, generation_config auto)")


_LEFT_TRUNCATION = ("vLLM truncate_prompt_tokens keeps the last k prompt tokens: left truncation (VLLM-SP "
                    "SamplingParams.truncate_prompt_tokens)")
#: vLLM load_chat_template: a --chat-template value without these characters is a file path.
_JINJA_CHARS = "{}\n"


def _preprocessing(b: ValueBuilder, doc: rc.Document, data: dict[str, Any], options: ExtractOptions, *,
                   engine: bool) -> None:
    """``preprocessing.truncation_side`` ("left" wherever ``truncate_prompt_tokens`` is set; unset, vLLM does
    not truncate) and ``preprocessing.chat_template`` (the digest of the request's ``chat_template`` or of
    the server's ``--chat-template``; unset, vLLM applies the tokenizer's own, so nothing is recorded)."""
    cut = b.values.get("preprocessing.max_length")
    if cut is not None:
        b.values["preprocessing.truncation_side"] = Value("left", cut.origin, True, _LEFT_TRUNCATION)
    spelled = next((k for k in data if (_canon(str(k)) if engine else str(k)) == "chat_template"), None)
    raw = None if spelled is None else data[spelled]
    if raw is None:
        return
    ptr = f"/{rc.escape(str(spelled))}"
    if not isinstance(raw, str):
        raise ExtractionError("chat_template must be a string (a template, or a file path for the server)",
                              str(doc.path), doc.line(ptr))
    if not engine:
        rc.put(b, doc, "preprocessing.chat_template", chat_template_digest(raw), ptr, "request",
               "sha256 of the request's chat_template (it replaces the tokenizer's)")
        rc.put(b, doc, "preprocessing.chat_template_text", raw, ptr, "request")
    elif any(c in raw for c in _JINJA_CHARS):
        # load_chat_template: not a file, so a literal, with backslash escapes decoded as the CLI does
        try:
            text = codecs.decode(raw, "unicode_escape")
        except UnicodeError as exc:
            raise ExtractionError(f"chat_template: vLLM cannot decode this inline template ({exc})",
                                  str(doc.path), doc.line(ptr)) from None
        rc.put(b, doc, "preprocessing.chat_template", chat_template_digest(text), ptr, "engine args",
               "sha256 of the inline --chat-template (it replaces the tokenizer's)")
        rc.put(b, doc, "preprocessing.chat_template_text", text, ptr, "engine args")
    else:
        file = Path(raw) if Path(raw).is_absolute() else doc.path.parent / raw
        # A path the file names is read only inside the tree being checked (the manifest's folder).
        confine(file, options.root_for(doc.path), "chat template", origin=str(doc.path), line=doc.line(ptr))
        text = read_text(file, options.limits, "chat template")
        rc.put(b, doc, "preprocessing.chat_template", chat_template_digest(text), ptr, "engine args",
               f"sha256 of --chat-template {raw} (it replaces the tokenizer's)")
        rc.put(b, doc, "preprocessing.chat_template_text", text, ptr, "engine args")


def _local_folder(base: Path, raw: Any) -> Path | None:
    if not isinstance(raw, str) or raw in ("auto", "vllm") or not raw.strip():
        return None
    p = Path(raw)
    if not p.is_absolute():
        p = base.parent / p
    try:
        return p if is_dir(p) else None
    except ExtractionError:  # a name no folder can have (a hub id of 300 characters): not a local folder
        return None


def _derive_sampling(b: ValueBuilder) -> None:
    """vLLM samples unless temperature < 1e-5, which is greedy and neutralizes top_p/top_k/min_p (VLLM-SP)."""
    t = b.values["generation.temperature"]
    greedy = t.value < _GREEDY_EPS
    b.values["generation.do_sample"] = Value(
        not greedy, t.origin, False,
        "derived: vLLM samples unless temperature < 1e-5 (defaults.md §2.1; do_sample is not a vLLM field)")
    if greedy:
        # The neutral value comes from the engine rule, not from the file that held the raw one: the origin
        # is the temperature that triggered it, the note keeps what it replaced.
        for key, neutral in (("generation.top_p", 1.0), ("generation.top_k", 0), ("generation.min_p", 0.0)):
            v = b.values[key]
            if v.value != neutral:
                raw = v.origin.location() if v.explicit else v.origin.source or "a default"
                rule = Origin(t.origin.path, t.origin.line, t.origin.pointer,
                              "forced: vLLM greedy (temperature < 1e-5)")
                b.values[key] = Value(neutral, rule, v.explicit, f"forced from {json.dumps(v.value)} ({raw})")
