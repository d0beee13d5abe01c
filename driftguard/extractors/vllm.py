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

from driftguard.engines import vllm as vllm_engine
from driftguard.engines.transformers import HF_GENERATION_DEFAULTS
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    boolean,
    context_generation,
    endpoint,
    escape,
    field_value,
    fill_layers,
    flag_unknown,
    int_list,
    keep_namespaced,
    load_document,
    model_files,
    number,
    put,
    read_generation_config_json,
    require_mapping,
    require_recognized,
    sniff,
    truncation_side,
)
from driftguard.keys import chat_template_digest
from driftguard.model import EffectiveConfig, How, Origin, Value
from driftguard.normalize import normalize_dtype
from driftguard.readers.files import confine, is_dir, read_text


def is_engine_args(path: Path) -> bool:
    """A Triton vllm_backend ``model.json`` or a file vLLM's detection claims (``model`` plus engine keys): it
    configures the engine, so the side's requests are read with it as context (``KindInfo.engine_args``)."""
    from driftguard.readers.documents import sniffing
    from driftguard.readers.files import head

    if path.name == "model.json":
        return True
    try:
        first = head(path)
        with sniffing(path, first):  # a small file is parsed from its head, not opened again
            return detect(path, first)
    except (OSError, ValueError):
        return False


INFO = KindInfo(
    kind="vllm",
    description="vLLM sampling params / OpenAI-server request (JSON/YAML) or engine args (model.json, serve config)",
    role="deployment",
    rank=70,
    engine="vllm",
    namespaces=("generation",),
    keeps=("vllm",),
    defaults=vllm_engine.VLLM_DEFAULTS,
    engine_args=is_engine_args,
)

#: The serving paths (fields, ranges, defaults, the generation_config.json layer, decoding and dtype rules).
_SERVE, _TRITON = vllm_engine.SERVE, vllm_engine.TRITON
_REQUEST = vllm_engine.FIELDS
_ENGINE = vllm_engine.ENGINE_FIELDS
GEN_CONFIG_FIELDS = vllm_engine.GEN_CONFIG_FIELDS

#: Engine args only vLLM has (``tensor_parallel_size`` is TensorRT-LLM's and others' too: it is in _ENGINE_ARGS).
_ENGINE_MARKERS = ("gpu_memory_utilization", "max_model_len", "disable_log_requests",
                   "enforce_eager", "speculative_model", "num_speculative_tokens", "swap_space",
                   "max_num_seqs", "enable_prefix_caching", "override_generation_config")
_TRTLLM_MARKERS = ("pytorch_backend_config", "triton_config", "build_config", "kv_cache_config", "backend")
_SAMPLING_NESTS = ("sampling_params", "sampling_parameters")

#: Engine args (``EngineArgs`` fields, as ``vllm serve --config`` and Triton model.json write them) that mark a
#: file as engine args rather than a request; dashed spellings are canonicalized first.
_ENGINE_ARGS = frozenset((
    "model", "tokenizer", "tokenizer_mode", "revision", "trust_remote_code", "download_dir", "load_format",
    "dtype", "kv_cache_dtype", "max_model_len", "quantization", "served_model_name", "generation_config",
    "tensor_parallel_size", "pipeline_parallel_size",
    "max_num_batched_tokens", "enable_chunked_prefill", "block_size", "host", "port",
    "disable_log_stats", "max_logprobs", "max_seq_len_to_capture", "distributed_executor_backend",
    "limit_mm_per_prompt", "enable_lora", "max_loras", "max_lora_rank", "speculative_config", "cpu_offload_gb",
    "tool_call_parser", "enable_auto_tool_choice", "chat_template_content_format", "api_key", "uvicorn_log_level",
))


def _canon(name: str) -> str:
    return name.replace("-", "_")


def _is_engine_args_file(data: dict[str, Any]) -> bool:
    """Engine args: a vLLM-only engine key, or ``model`` with any engine arg (a lone ``trust_remote_code`` is in
    many products' files: a tokenizer_config.json is no vLLM config)."""
    names = {_canon(str(k)) for k in data}
    if any(m in names for m in _TRTLLM_MARKERS):
        return False  # TensorRT-LLM's model.yaml shares model, tensor_parallel_size...
    return any(m in names for m in _ENGINE_MARKERS) or "generation_config" in names or \
        ("model" in names and bool(names & _ENGINE_ARGS - {"model"}))


def detect(path: Path, head: bytes) -> bool:
    """Engine args (``model`` plus vLLM engine keys). Bare sampling dicts are not claimed: name the kind."""
    data = sniff(path, head)
    if not isinstance(data, dict):
        return False
    names = {_canon(str(k)) for k in data}
    if any(m in names for m in _TRTLLM_MARKERS):
        return False
    return "model" in names and any(m in names for m in _ENGINE_MARKERS)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    return extract_document(load_document(path, options.limits), options)


def extract_document(doc: Document, options: ExtractOptions, *, engine_args: bool = False,
                     sampling_params: bool = False) -> EffectiveConfig:
    """The effective config of an already-read document (``extract`` reads the file; a launch command's parsed
    arguments arrive here as a Document whose pointers' lines are the script's). ``engine_args``: the data are
    engine args whatever they hold (``vllm serve`` flags), rather than detected from their names.
    ``sampling_params``: the data are a ``SamplingParams(...)`` built in code (the python kind): raw class
    defaults below them, no generation_config.json layer (``engines.vllm.SAMPLING_PARAMS``)."""
    path = doc.path
    data = require_mapping(doc, "vLLM sampling params, request body or engine args")
    b = ValueBuilder(INFO.kind, path)
    is_request_body = "messages" in data or "prompt" in data
    engine = engine_args or (not is_request_body and (path.name == "model.json" or _is_engine_args_file(data)))
    triton = sampling_params or _triton_path(path, options)
    used: set[str] = set()

    if engine:
        _request_layer(b, doc, data, "", used, dashed=True)
    else:
        require_recognized(doc, INFO.kind, "vLLM request or SamplingParams", data,
                           _KNOWN_REQUEST - {"model"})  # every request and engine config names a model
        used |= flag_unknown(b, doc, INFO.kind, _IGNORED, data, "", _KNOWN_REQUEST)
        _request_layer(b, doc, data, "", used, dashed=False)
    for nest in _SAMPLING_NESTS:
        if nest in data:
            used.add(nest)
            inner, inner_doc, ptr = _nested(doc, data[nest], f"/{nest}")
            unknown = flag_unknown(b, inner_doc, INFO.kind, _IGNORED, inner, ptr, _KNOWN_REQUEST)
            _request_layer(b, inner_doc, {k: v for k, v in inner.items() if k not in unknown}, ptr, set(),
                           dashed=False)
    _preprocessing(b, doc, data, options, engine=engine)
    if not engine:
        endpoint(b, doc, data, vllm_engine.SAMPLING_PARAMS if sampling_params else _TRITON if triton else _SERVE)
    mode = _engine_args(b, doc, data, used) if engine else "auto"
    _resolve_auto_dtype(b, options)
    args = {_canon(str(k)): k for k in data} if engine else {str(k): k for k in data}

    if not triton:
        if "override_generation_config" in args:
            _override_layer(b, doc, data[args["override_generation_config"]],
                            f"/{escape(str(args['override_generation_config']))}")
        if mode != "vllm":
            _generation_config_layer(b, doc, data, mode, options, args, engine=engine)
    spec = vllm_engine.SAMPLING_PARAMS if sampling_params else _TRITON if triton else _SERVE
    # The OpenAI server lets an unset max_tokens run to the end of the context window (§2.2); engine args state
    # no request, and SamplingParams' max_tokens 16 is a request-level class default the server never applies.
    fill_layers(b, spec, skip=("generation.max_new_tokens",) if (is_request_body or engine) and not triton else ())
    apply_decoding(b, spec)
    used.update(("messages", "prompt", "generation_config"))
    keep_namespaced(b, doc, "vllm", data, "", used, "engine args" if engine else "request",
                       rename=_canon if engine else None)
    if "generation_config" in args:
        mode_ptr = f"/{escape(str(args['generation_config']))}"
        put(b, doc, "vllm.generation_config", mode, mode_ptr, "engine args")
    return b.build()


_IGNORED = _SERVE.ignored_why

#: Every field name a request body or sampling dict may carry (underscored: request models take no dashes).
_KNOWN_REQUEST = _SERVE.known


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
        elif cfg.kind == INFO.kind and Path(cfg.path).name == "model.json":
            return True
    return False


def _nested(doc: Document, raw: Any, ptr: str) -> tuple[dict[str, Any], Document, str]:
    """A nested sampling dict, or one written as a JSON string (Triton vllm_backend ``sampling_parameters``)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"{ptr[1:]} is not valid JSON: {exc.msg}", str(doc.path), doc.line(ptr)) from None
        line = doc.line(ptr)
        doc = Document(doc.path, raw, {"": line} if line else {})
        ptr = ""
    if not isinstance(raw, dict):
        raise ExtractionError(f"{ptr[1:] or 'sampling params'} must be a mapping", str(doc.path), doc.line(ptr))
    return raw, doc, ptr


def _request_layer(b: ValueBuilder, doc: Document, data: dict[str, Any], base: str, used: set[str], *,
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
            ptr = f"{base}/{escape(str(raw_name))}"
            put(b, doc, _REQUEST[name].key, field_value(_SERVE, doc, ptr, name, raw), ptr, "request")
        elif name in ("stop_token_ids", "ignore_eos", "best_of", "use_beam_search"):
            used.add(name)
            ptr = f"{base}/{escape(str(raw_name))}"
            if name == "stop_token_ids":
                put(b, doc, "vllm.stop_token_ids", int_list(doc, ptr, raw), ptr, "request")
            elif name == "best_of":
                if raw is not None:
                    put(b, doc, "vllm.best_of", number(doc, ptr, raw, integer=True), ptr, "request")
            else:
                put(b, doc, f"vllm.{name}", boolean(doc, ptr, raw), ptr, "request")


def _resolve_auto_dtype(b: ValueBuilder, options: ExtractOptions) -> None:
    """``dtype: auto`` as vLLM resolves it, from the model files on the same side (their weight precision);
    left as ``auto`` when the side has none (DG105 then resolves it against the training side)."""
    v = b.values.get("precision.compute")
    if v is None or v.value != "auto":
        return
    for cfg in options.context:
        w = cfg.get("precision.weights")
        if w is not None and w.value in _SERVE.dtype_auto:
            resolved = _SERVE.dtype_auto[w.value]
            b.resolve("precision.compute", resolved,
                      f"dtype auto: {w.value} model ({w.origin.location()}) is served in {resolved} "
                      "(defaults.md §8, VLLM-MC)", ("precision.weights",))
            return


def _engine_args(b: ValueBuilder, doc: Document, data: dict[str, Any], used: set[str]) -> str:
    """Map engine args; return the generation_config mode (``auto`` unless the file says otherwise)."""
    for raw_name, raw in data.items():
        name = _canon(str(raw_name))
        ptr = f"/{escape(str(raw_name))}"
        if name in _ENGINE and raw is not None:
            used.add(name)
            if name == "dtype":
                value: Any = "auto" if str(raw) == "auto" else normalize_dtype(raw)
                if value is None:
                    raise ExtractionError(f"dtype: unknown element type {raw!r}", str(doc.path), doc.line(ptr))
            elif name == "quantization":
                value = str(raw).lower()
            else:
                value = number(doc, ptr, raw, integer=True)
            put(b, doc, _ENGINE[name], value, ptr, "engine args")
        elif isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            used.add(name)  # Triton model.json writes booleans as strings
            put(b, doc, f"vllm.{name}", raw.strip().lower() == "true", ptr, "engine args")
    _engine_also(b, doc, data)
    used.add("override_generation_config")
    spelled = next((k for k in data if _canon(str(k)) == "generation_config"), None)
    mode = "auto" if spelled is None else data[spelled]
    if mode is None:
        return "auto"
    if not isinstance(mode, str):
        raise ExtractionError("generation_config must be 'auto', 'vllm' or a folder", str(doc.path),
                              doc.line(f"/{escape(str(spelled))}"))
    return mode


def _engine_also(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> None:
    """The canonical keys engine args also state (``engines.vllm.ENGINE_ALSO``); the args stay under ``vllm.*``
    too, as written. Values of the wrong shape are input errors with the line, as vLLM's parser refuses them."""
    for raw_name, raw in data.items():
        name = _canon(str(raw_name))
        also = vllm_engine.ENGINE_ALSO.get(name)
        if also is None or raw is None:
            continue
        key, typ = also
        ptr = f"/{escape(str(raw_name))}"
        if typ == "int":
            value: Any = number(doc, ptr, raw, integer=True)
        elif typ == "adapters":
            value = _adapters(doc, ptr, raw)
        elif typ == "speculative":
            _speculative(b, doc, ptr, raw)
            continue
        elif isinstance(raw, (str, int)) and not isinstance(raw, bool):
            value = str(raw)
        else:
            raise ExtractionError(f"{name} must be a string", str(doc.path), doc.line(ptr))
        put(b, doc, key, value, ptr, "engine args")


def _speculative(b: ValueBuilder, doc: Document, ptr: str, raw: Any) -> None:
    """``speculative_config``: a mapping (or its JSON, as ``--speculative-config`` takes it) whose ``model`` and
    ``num_speculative_tokens`` name the draft model or heads and how many tokens they propose
    (``engines.vllm.SPECULATIVE_FIELDS``); its other members stay under ``vllm.speculative_config``."""
    inner, inner_doc, base = _nested(doc, raw, ptr)
    for name, (key, typ) in vllm_engine.SPECULATIVE_FIELDS.items():
        value = inner.get(name)
        if value is None:
            continue
        p = f"{base}/{name}"
        if typ == "int":
            put(b, inner_doc, key, number(inner_doc, p, value, integer=True), p, "engine args")
        elif isinstance(value, str):
            put(b, inner_doc, key, value, p, "engine args")
        else:
            raise ExtractionError(f"speculative_config.{name} must be a string", str(doc.path), inner_doc.line(p))


def _adapters(doc: Document, ptr: str, raw: Any) -> list[str]:
    """``lora_modules`` as vLLM's LoRAParserAction takes them: ``name=path`` words, or objects with ``name`` and
    ``path`` (JSON, or a mapping in a config file); each kept as ``name=path``."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if isinstance(item, str) and item.lstrip().startswith("{"):
            try:
                item = json.loads(item)
            except json.JSONDecodeError as exc:
                raise ExtractionError(f"lora_modules: invalid JSON ({exc.msg})", str(doc.path), doc.line(ptr)) from None
        if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("path"), str):
            out.append(f"{item['name']}={item['path']}")
        elif isinstance(item, str) and "=" in item:
            out.append(item.strip())
        else:
            raise ExtractionError("lora_modules: each module is name=path or an object with name and path",
                                  str(doc.path), doc.line(ptr))
    return out


def _override_layer(b: ValueBuilder, doc: Document, raw: Any, ptr: str) -> None:
    inner, inner_doc, base = _nested(doc, raw, ptr)
    for name, key in GEN_CONFIG_FIELDS.items():
        if inner.get(name) is not None and key not in b.values:
            p = f"{base}/{name}"
            value = number(inner_doc, p, inner[name], integer=key in ("generation.top_k",
                                                                        "generation.max_new_tokens"))
            if key == "generation.top_k" and value == -1:
                value = 0
            put(b, inner_doc, key, value, p, "override-generation-config")  # an explicit engine arg


def _generation_config_layer(b: ValueBuilder, doc: Document, data: dict[str, Any], mode: str,
                             options: ExtractOptions, args: dict[str, Any], *, engine: bool) -> None:
    """The model's generation_config.json as ``vllm serve`` sees it through ``to_diff_dict()``: the six fields,
    minus values equal to transformers 4.x class defaults (defaults.md §1.3, §2.3 consequence 2).
    ``args``: canonical name -> the spelling the file uses (for lines)."""
    values: dict[str, Value] = {}
    mode_ptr = f"/{escape(str(args.get('generation_config', 'generation_config')))}"
    model_ptr = f"/{escape(str(args.get('model', 'model')))}"
    folder = _local_folder(doc.path, mode if mode != "auto" else data.get(args.get("model", "model")))
    if folder is not None:
        # A path the file names is read only inside the tree being checked (the manifest's folder).
        field = mode_ptr if mode != "auto" else model_ptr
        confine(folder, options.root_for(doc.path), "folder", origin=str(doc.path), line=doc.line(field))
    ctx = context_generation(options)
    if mode == "auto" and folder is None and ctx is None and not model_files(options):
        if engine:
            _from_unseen_model(b, doc, data.get(args.get("model", "model")), model_ptr)
        else:  # a request to a server whose engine args name a model the side holds no files of
            for key, v in _unseen_in_context(options).items():
                b.values.setdefault(key, v)
        if any(_unseen(v) for v in b.values.values()):
            return
    if mode != "auto" and folder is None:
        raise ExtractionError(f"generation_config: folder {mode!r} not found", str(doc.path),
                              doc.line(mode_ptr))
    if ctx is not None and mode == "auto":
        for key in GEN_CONFIG_FIELDS.values():
            got = ctx.get(key)
            if got is not None and got.explicit and got.value is not None:
                values[key] = got
    elif folder is not None and (folder / "generation_config.json").is_file():
        values = read_generation_config_json(folder, GEN_CONFIG_FIELDS, options.limits)
    gc = _SERVE.generation_config
    assert gc is not None
    for key, v in values.items():
        hf_default = HF_GENERATION_DEFAULTS.get(key)
        if gc.drop_hf_defaults and hf_default is not None and v.value == hf_default.value:
            continue  # to_diff_dict() drops it (equals the transformers 4.x default): vLLM never sees it
        b.inherit(key, v, "generation_config.json", gc.why)


def _from_unseen_model(b: ValueBuilder, doc: Document, model: Any, model_ptr: str) -> None:
    """The model is a hub id (or a folder outside the side) and the side holds none of its files: the six fields
    ``vllm serve`` takes from its generation_config.json are unknown, not vLLM's bare defaults. Each is kept as
    an unresolved value that depends on ``model.source`` (never compared; DG304 reports them as one warning
    naming the model, telling the user to add its folder to the side)."""
    if not isinstance(model, str) or not model.strip():
        return
    origin = Origin(str(doc.path), doc.line(model_ptr), model_ptr, "from the model")
    for key in dict.fromkeys(GEN_CONFIG_FIELDS.values()):
        if key not in b.values:
            b.values[key] = Value(f"{model}/generation_config.json", origin, How.UNRESOLVED,
                                  "vllm serve takes it from the model's generation_config.json (generation_config "
                                  "auto), which is not on this side", derived_from=("model.source",))


def _unseen(v: Value) -> bool:
    """A value ``_from_unseen_model`` kept: unresolved, depending on ``model.source``."""
    return v.how == How.UNRESOLVED and v.derived_from == ("model.source",)


def _unseen_in_context(options: ExtractOptions) -> dict[str, Value]:
    """The model-dependent values the side's engine args (a serve config, a launch command) left unknown."""
    out: dict[str, Value] = {}
    for cfg in options.context:
        if cfg.serving == _SERVE.name:
            out.update({k: v for k, v in cfg.values.items() if _unseen(v)})
    return out


#: vLLM load_chat_template: a --chat-template value without these characters is a file path.
_JINJA_CHARS = "{}\n"


def _preprocessing(b: ValueBuilder, doc: Document, data: dict[str, Any], options: ExtractOptions, *,
                   engine: bool) -> None:
    """``preprocessing.truncation_side`` ("left" wherever ``truncate_prompt_tokens`` is set; unset, vLLM does
    not truncate) and ``preprocessing.chat_template`` (the digest of the request's ``chat_template`` or of
    the server's ``--chat-template``; unset, vLLM applies the tokenizer's own, so nothing is recorded)."""
    truncation_side(b, _SERVE)
    spelled = next((k for k in data if (_canon(str(k)) if engine else str(k)) == "chat_template"), None)
    raw = None if spelled is None else data[spelled]
    if raw is None:
        return
    ptr = f"/{escape(str(spelled))}"
    if not isinstance(raw, str):
        raise ExtractionError("chat_template must be a string (a template, or a file path for the server)",
                              str(doc.path), doc.line(ptr))
    if not engine:
        put(b, doc, "preprocessing.chat_template", chat_template_digest(raw), ptr, "request",
               "sha256 of the request's chat_template (it replaces the tokenizer's)")
        put(b, doc, "preprocessing.chat_template_text", raw, ptr, "request")
    elif any(c in raw for c in _JINJA_CHARS):
        # load_chat_template: not a file, so a literal, with backslash escapes decoded as the CLI does
        try:
            text = codecs.decode(raw, "unicode_escape")
        except UnicodeError as exc:
            raise ExtractionError(f"chat_template: vLLM cannot decode this inline template ({exc})",
                                  str(doc.path), doc.line(ptr)) from None
        put(b, doc, "preprocessing.chat_template", chat_template_digest(text), ptr, "engine args",
               "sha256 of the inline --chat-template (it replaces the tokenizer's)")
        put(b, doc, "preprocessing.chat_template_text", text, ptr, "engine args")
    else:
        file = Path(raw) if Path(raw).is_absolute() else doc.path.parent / raw
        # A path the file names is read only inside the tree being checked (the manifest's folder).
        confine(file, options.root_for(doc.path), "chat template", origin=str(doc.path), line=doc.line(ptr))
        text = read_text(file, options.limits, "chat template")
        put(b, doc, "preprocessing.chat_template", chat_template_digest(text), ptr, "engine args",
               f"sha256 of --chat-template {raw} (it replaces the tokenizer's)")
        put(b, doc, "preprocessing.chat_template_text", text, ptr, "engine args")


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
