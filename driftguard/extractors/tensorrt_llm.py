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

from driftguard.engines import tensorrt_llm as trt_engine
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    apply_fields,
    boolean,
    context_generation,
    convert,
    endpoint,
    escape,
    fill_layers,
    flag_unknown,
    keep_namespaced,
    load_document,
    number,
    put,
    require_mapping,
    require_recognized,
    sniff,
    truncation_side,
)
from driftguard.keys import chat_template_digest
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype, normalize_json, parse_scalar

INFO = KindInfo(
    kind="tensorrt-llm",
    description=("TensorRT-LLM request tensors (Triton/FasterTransformer JSON), LLM-API SamplingParams or "
                 "model.yaml, trtllm-serve request"),
    role="deployment",
    rank=70,
    engine="tensorrt-llm",
    namespaces=("generation",),
    keeps=("tensorrt_llm",),
    defaults=trt_engine.TENSORRT_LLM_DEFAULTS,
)

#: The input itself (token ids, their lengths, the text, an image): not a setting. Every other tensor is a
#: setting: a canonical key (``TENSORS``) or kept as ``tensorrt_llm.request.<name>``, so an output-changing one
#: (``trt_engine.TENSOR_OUTPUT_FIELDS``: stop and bad words, the embedding bias, p-tuning's prompt table...) is
#: never dropped.
_DATA_TENSORS = ("input_ids", "input_lengths", "text_input", "decoder_text_input", "image_input")
#: FasterTransformer / TensorRT-LLM word lists (``[2, L]`` per row: the words' token ids, then each word's end
#: offset, -1 padding), kept as the words' token ids.
_WORD_LISTS = ("stop_words_list", "bad_words_list")

TENSORS = trt_engine.TENSORS
SAMPLING = trt_engine.SAMPLING
GEN_CONFIG_KEYS = tuple(trt_engine.GEN_CONFIG_FIELDS.values())
_SAMPLING_FIELDS = trt_engine.SAMPLING_FIELDS
_MARKERS = ("pytorch_backend_config", "triton_config", "build_config", "kv_cache_config")
#: LLM-API arguments that mark a file as an engine config (model.yaml, extra_llm_api_options), not a request.
_LLM_ARGS = ("model", "backend", "tensor_parallel_size", "pipeline_parallel_size", "max_batch_size",
             "max_num_tokens", "max_seq_len", "max_input_len", "max_beam_width", "dtype", "tokenizer",
             "trust_remote_code", "speculative_config", "enable_chunked_prefill", "cuda_graph_config",
             "quant_config", *_MARKERS)
_GENERIC_ARGS = ("model", "tokenizer", "trust_remote_code", "dtype")
_KNOWN_SAMPLING = trt_engine.LLM_API.known
_LLM_DTYPES = trt_engine.DTYPES
_QUANT_SCHEMES = trt_engine.QUANT_SCHEMES
_QUANT_ALGO = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _is_tensor_request(data: Any) -> bool:
    req = data.get("request") if isinstance(data, dict) else None
    return isinstance(req, list) and bool(req) and all(isinstance(t, dict) and "name" in t for t in req)


def _is_engine_config(data: dict[str, Any]) -> bool:
    """An engine config: a TensorRT-LLM section (``build_config``...), or ``model`` with an LLM-API argument
    other products' files have too seldom to tell (``tokenizer``, ``trust_remote_code`` and ``dtype`` are in
    vLLM engine args and config.json as well)."""
    if any(m in data for m in _MARKERS) or data.get("backend") in ("pytorch", "tensorrt", "_autodeploy"):
        return True
    return "model" in data and any(name in data for name in _LLM_ARGS if name not in _GENERIC_ARGS)


def detect(path: Path, head: bytes) -> bool:
    data = sniff(path, head)
    if _is_tensor_request(data) or (path.suffix.lower() == ".json" and _is_generate_body(data)):
        return True
    return isinstance(data, dict) and "model" in data and (
        any(m in data for m in _MARKERS) or data.get("backend") in ("pytorch", "tensorrt", "_autodeploy"))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    return extract_document(load_document(path, options.limits), options)


def extract_document(doc: Document, options: ExtractOptions, *, engine_args: bool = False) -> EffectiveConfig:
    """The effective config of an already-read document (the python kind hands an LLM-API ``SamplingParams(...)``
    or ``LLM(...)`` call's arguments here as a Document whose lines are the call's). ``engine_args``: the data
    are ``LLM(...)`` arguments whatever they hold (``model`` alone is an engine config too)."""
    path = doc.path
    data = require_mapping(doc, "TensorRT-LLM request tensors, SamplingParams or model.yaml")
    b = ValueBuilder(INFO.kind, path)
    if _is_tensor_request(data) or _is_generate_body(data):
        if _is_tensor_request(data):
            _tensors(b, doc, data["request"])
        else:
            _generate_body(b, doc, data)
        fill_layers(b, trt_engine.TRITON)
        apply_decoding(b, trt_engine.TRITON)
        return b.build()
    if _is_backend_parameters(data):
        _backend_parameters(b, doc, data)
        return b.build()
    if "request" in data:
        raise ExtractionError("request must be a list of named tensors ({'name', 'data', 'dtype'})", str(path),
                              doc.line("/request"))
    serve = "messages" in data or "prompt" in data
    spec = trt_engine.SERVE if serve else trt_engine.LLM_API
    unknown: set[str] = set()
    if serve or not (engine_args or _is_engine_config(data)):
        require_recognized(doc, INFO.kind, "SamplingParams or trtllm-serve request", data,
                           _KNOWN_SAMPLING - {"model"})  # every request and engine config names a model
        unknown = flag_unknown(b, doc, "tensorrt_llm", spec.ignored_why, data, "", _KNOWN_SAMPLING)
    used = apply_fields(b, doc, data, "", spec, "request") | unknown
    truncation_side(b, spec)
    if serve:
        used |= _chat_template(b, doc, data)
        endpoint(b, doc, data, spec)
    _engine_config(b, doc, data, used)
    if data.get("generation_config") == "auto":
        _generation_config_layer(b, options)
    any_sampling = any(data.get(f) is not None for f in _SAMPLING_FIELDS)
    if not serve and (any_sampling or "generation.temperature" in b.values):
        # "Once any sampling parameter is set, the unspecified ones default to top_k 0, top_p 1, min_p 0,
        # temperature 1.0" (TRT-DOC, Torch sampler).
        b.fill_defaults({k: v for k, v in trt_engine.TENSORRT_LLM_SERVE_DEFAULTS.items()
                         if k.split(".")[1] in _SAMPLING_FIELDS}, default_of="llm-api")
    fill_layers(b, spec)
    apply_decoding(b, spec)
    return b.build()


def _chat_template(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> set[str]:
    """A trtllm-serve request's ``chat_template`` (OpenAI protocol extension: it replaces the tokenizer's) as
    ``preprocessing.chat_template`` (its digest) and ``preprocessing.chat_template_text``."""
    raw = data.get("chat_template")
    if raw is None:
        return set()
    if not isinstance(raw, str):
        raise ExtractionError("chat_template must be a string (a Jinja template)", str(doc.path),
                              doc.line("/chat_template"))
    put(b, doc, "preprocessing.chat_template", chat_template_digest(raw), "/chat_template", "request",
           "sha256 of the request's chat_template (it replaces the tokenizer's)")
    put(b, doc, "preprocessing.chat_template_text", raw, "/chat_template", "request")
    return {"chat_template"}


def _tensors(b: ValueBuilder, doc: Document, tensors: list[Any]) -> None:
    """One value per tensor: every batch row's value when they agree, else the list of them."""
    for i, t in enumerate(tensors):
        name = str(t["name"])
        if name == trt_engine.TENSOR_ENDPOINT.field:
            e = trt_engine.TENSOR_ENDPOINT
            put(b, doc, "preprocessing.chat_template_applied", e.chat_template, f"/request/{i}/name", "request",
                f"{e.path}: {e.why}")
        if name in _DATA_TENSORS:
            continue
        if "data" not in t:
            raise ExtractionError(f"tensor '{name}' has no data", str(doc.path), doc.line(f"/request/{i}"))
        _tensor(b, doc, name, t["data"], f"/request/{i}/data")


def _is_generate_body(data: Any) -> bool:
    """A Triton ``/v2/models/{model}/generate`` body for the tensorrtllm_backend ensemble (or its BLS model): the
    input text and the ensemble's inputs as JSON members (Triton's generate extension makes each a tensor),
    at least one that only the ensemble has (vllm_backend's body takes ``parameters`` instead)."""
    if not isinstance(data, dict) or not isinstance(data.get("text_input"), (str, list)):
        return False
    names = set(map(str, data))
    return names <= trt_engine.ENSEMBLE_INPUTS and bool(names - _NOT_ENSEMBLE_ONLY)


#: Inputs vllm_backend's generate body shares with the ensemble's: they say nothing about which it is.
_NOT_ENSEMBLE_ONLY = frozenset(("text_input", "stream", "exclude_input_in_output"))


def _generate_body(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> None:
    """Each member as the tensor of its name; ``text_input`` names the endpoint (raw text)."""
    endpoint(b, doc, data, trt_engine.TRITON)
    for name, raw in data.items():
        if name not in _DATA_TENSORS:
            _tensor(b, doc, str(name), raw, f"/{escape(str(name))}")


def _tensor(b: ValueBuilder, doc: Document, name: str, data: Any, ptr: str) -> None:
    """One tensor's value: a canonical key (``TENSORS``) or ``tensorrt_llm.request.<name>``."""
    if name in _WORD_LISTS:
        put(b, doc, f"tensorrt_llm.request.{name}", _word_list(doc, ptr, data), ptr, "request")
        return
    flat = _flatten(data)
    if name not in TENSORS:
        put(b, doc, f"tensorrt_llm.request.{name}", normalize_json(flat[0] if len(set(map(repr, flat)))
                                                                     == 1 else flat), ptr, "request")
        return
    key, typ = TENSORS[name].key, TENSORS[name].type
    conv = [convert(doc, ptr, v, "int" if typ == "ints" else typ) for v in flat]
    for v in conv:
        msg = trt_engine.TRITON.check(name, v)
        if msg:
            raise ExtractionError(f"{name} {msg}, got {v!r}", str(doc.path), doc.line(ptr))
    if name in ("runtime_top_p", "top_p") and all(v <= 0 for v in conv):
        # tensorrtllm_backend resets top_p <= 0 to nullopt: the C++ default applies (§4.5).
        return
    if not conv:
        raise ExtractionError(f"{name} holds no value", str(doc.path), doc.line(ptr))
    value: Any = conv[0] if all(v == conv[0] for v in conv) else conv
    if typ == "ints":
        value = sorted(set(conv))
    value = trt_engine.TRITON.canonical(name, value)
    note = None if not isinstance(value, list) or typ == "ints" else "differs per batch row"
    put(b, doc, key, value, ptr, "request", note)


def _word_list(doc: Document, pointer: str, data: Any) -> Any:
    """A word-list tensor as its words' token ids, ``[[ids of word 1], [ids of word 2], ...]``: one row
    (``[ids, offsets]``) or every batch row's when they agree, else one such list per row; offsets of -1 pad, so
    ``[[0], [-1]]`` is no word at all. Data of another shape is kept as written."""
    def row(r: Any) -> list[list[int]] | None:
        if not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, list) for x in r)
                and all(isinstance(v, int) and not isinstance(v, bool) for x in r for v in x)):
            return None
        ids, offsets = r
        words, start = [], 0
        for end in offsets:
            if end < 0:
                break
            words.append(ids[start:end])
            start = end
        return words
    single = row(data)
    if single is not None:
        return single
    rows = [row(r) for r in data] if isinstance(data, list) and data else [None]
    if any(r is None for r in rows):
        return normalize_json(data)
    return rows[0] if all(r == rows[0] for r in rows) else rows


def _is_backend_parameters(data: dict[str, Any]) -> bool:
    """A tensorrtllm_backend model-config override in JSON: ``{"parameters": {name: {"string_value"}}}``."""
    params = data.get("parameters")
    return isinstance(params, dict) and bool(params) and "model" not in data and all(
        isinstance(p, dict) and "string_value" in p for p in params.values())


def _backend_parameters(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> None:
    """Backend parameters (strings, as Triton writes them) under ``tensorrt_llm.parameters.*``."""
    for name, p in data["parameters"].items():
        ptr = f"/parameters/{escape(str(name))}/string_value"
        put(b, doc, f"tensorrt_llm.parameters.{name}", parse_scalar(str(p["string_value"])), ptr,
               "backend parameters")
    policy = data.get("model_transaction_policy")
    if isinstance(policy, dict) and "decoupled" in policy:
        ptr = "/model_transaction_policy/decoupled"
        put(b, doc, "serving.decoupled", boolean(doc, ptr, policy["decoupled"]), ptr, "backend parameters")


def _flatten(data: Any) -> list[Any]:
    if isinstance(data, list):
        out: list[Any] = []
        for d in data:
            out.extend(_flatten(d))
        return out
    return [data]


def _engine_config(b: ValueBuilder, doc: Document, data: dict[str, Any], used: set[str]) -> None:
    """model.yaml: the Triton overrides map to canonical keys, the rest stays under ``tensorrt_llm.*``."""
    tc = data.get("triton_config")
    if isinstance(tc, dict):
        if tc.get("max_batch_size") is not None:
            put(b, doc, "batching.max_batch_size",
                   number(doc, "/triton_config/max_batch_size", tc["max_batch_size"], integer=True),
                   "/triton_config/max_batch_size", "engine config")
        if tc.get("decoupled") is not None:
            put(b, doc, "serving.decoupled", boolean(doc, "/triton_config/decoupled", tc["decoupled"]),
                   "/triton_config/decoupled", "engine config")
    used = used | _precision(b, doc, {k: v for k, v in data.items() if k not in used})
    keep_namespaced(b, doc, "tensorrt_llm", data, "", used | {"messages", "prompt"}, "engine config")


def _precision(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> set[str]:
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
        put(b, doc, "precision.compute", dtype, "/dtype", "engine config", "TensorRT-LLM LLM-API dtype")
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
        put(b, doc, "precision.quantization", scheme, ptr, "engine config",
               f"TensorRT-LLM quant_algo {name}" if algo is not None else "quant_config sets no quant_algo")
    elif qc is not None:
        raise ExtractionError("quant_config must be a mapping (QuantConfig fields)", str(doc.path),
                              doc.line("/quant_config"))
    return used


def _generation_config_layer(b: ValueBuilder, options: ExtractOptions) -> None:
    """Values present in the model's generation_config.json, for the eight honoured fields (§4.4).
    Absent fields do not take Hugging Face's synthesized defaults."""
    ctx = context_generation(options)
    if ctx is None:
        return
    for key in GEN_CONFIG_KEYS:
        v = ctx.get(key)
        if v is not None and v.explicit and v.value is not None:
            b.inherit(key, v, "generation_config.json", "defaults.md §4.4 generation_config='auto'")
