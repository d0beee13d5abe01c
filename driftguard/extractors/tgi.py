"""Hugging Face TGI: ``/generate`` request bodies ``{"inputs", "parameters": {...}}`` resolved with the
router's defaults (defaults.md §3), SageMaker TGI deployment env files (``models.json``: per model an
``env`` of launcher variables), kept under ``tgi.models.*``, and launcher-args files.

A launcher-args file is a JSON or YAML mapping of ``text-generation-launcher`` arguments with a
``model_id``; each name may be written as the flag (``--dtype``), the argument (``dtype``, ``max-total-tokens``)
or the environment variable the launcher also reads (``DTYPE``, ``QUANTIZE``, ``MODEL_ID``)::

    model_id: /data/summarizer
    dtype: bfloat16          # float16 | bfloat16 -> precision.compute
    quantize: awq            # awq, gptq, bitsandbytes, fp8, ... -> precision.quantization
    max_total_tokens: 2048

``dtype`` and ``quantize`` are checked against the values the launcher accepts; every argument is also kept
under ``tgi.launcher.<name>``. An unset ``dtype`` is left unset here: the server then picks the model's
default (float16 for the flash models on CUDA), which rule DG105 resolves.

A request member outside ``GenerateRequest`` (``inputs``, ``parameters``, ``stream``) or a ``parameters`` member
outside ``GenerateParameters`` (``engines.tgi``: the OpenAPI schema's properties) is kept as
``tgi.unknown_fields.<name>`` with the closest known name (its origin says which level it is at), and rule DG304
reports it: the router's serde structs do not deny unknown fields, so TGI serves the request with its default where
the author meant a value (``max_tokens`` is OpenAI's spelling; TGI's is ``max_new_tokens``).

``truncate`` is ``preprocessing.max_length`` and sets ``preprocessing.truncation_side`` to "left" (TGI keeps the
last tokens); without it nothing is truncated, so neither is recorded.

TGI reads no sampling defaults from generation_config.json (§3), so the layers are ``request`` and
``tgi default``. Sampling happens when ``do_sample`` is set or any warper is (temperature != 1, top_k != 0,
top_p < 1, typical_p < 1), and ``do_sample`` is true when the whole ``parameters`` object is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftguard.engines import tgi as tgi_engine
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    apply_fields,
    endpoint,
    escape,
    fill_layers,
    flag_unknown,
    keep_namespaced,
    load_document,
    number,
    put,
    require_mapping,
    sniff,
    truncation_side,
)
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_json

INFO = KindInfo(
    kind="tgi",
    description=("Hugging Face TGI /generate request body (inputs + parameters), SageMaker TGI models.json env "
                 "or launcher args (model_id, dtype, quantize, ...)"),
    role="deployment",
    rank=70,
    engine="tgi",
    namespaces=("generation",),
    keeps=("tgi",),
    defaults=tgi_engine.TGI_DEFAULTS,
)

_SPEC = tgi_engine.ROUTER
PARAMETERS = _SPEC.fields
LAUNCHER_DTYPES = tgi_engine.LAUNCHER_DTYPES
LAUNCHER_QUANTIZE = tgi_engine.LAUNCHER_QUANTIZE
_REQUEST_KEYS = tgi_engine.REQUEST_FIELDS
#: Launcher arguments only TGI spells so: with a ``model_id``, they make detection claim a mapping as launcher
#: args (``dtype``, ``revision``, ``port`` or ``trust_remote_code`` beside a ``model_id`` are in many servers'
#: configs: too weak to claim a file on).
_TGI_ONLY = ("quantize", "max_input_tokens", "max_input_length", "max_total_tokens", "max_batch_prefill_tokens",
             "max_batch_total_tokens", "max_concurrent_requests", "num_shard", "sharded")
#: Arguments that, with a ``model_id``, make a file named as ``tgi:`` launcher args (not a request body).
_LAUNCHER_MARKERS = (*_TGI_ONLY, "dtype", "kv_cache_dtype", "revision", "trust_remote_code", "port")


def _is_sagemaker_env(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(
        isinstance(m, dict) and isinstance(m.get("env"), dict) and "HF_MODEL_ID" in m["env"]
        for m in data.values())


def launcher_name(raw: str) -> str:
    """One spelling per launcher argument: ``--max-total-tokens``, ``MAX_TOTAL_TOKENS`` -> ``max_total_tokens``."""
    return raw.strip().lstrip("-").replace("-", "_").lower()


def _is_launcher_args(data: Any, markers: tuple[str, ...] = _LAUNCHER_MARKERS) -> bool:
    if not isinstance(data, dict):
        return False
    names = {launcher_name(str(k)) for k in data}
    return "model_id" in names and any(m in names for m in markers)


def detect(path: Path, head: bytes) -> bool:
    data = sniff(path, head)
    if _is_sagemaker_env(data) or _is_launcher_args(data, _TGI_ONLY):
        return True
    return isinstance(data, dict) and "inputs" in data and set(data) <= _REQUEST_KEYS and \
        isinstance(data.get("parameters", {}), dict)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    return extract_document(load_document(path, options.limits), options)


def extract_document(doc: Document, options: ExtractOptions, *, engine_args: bool = False) -> EffectiveConfig:
    """The effective config of an already-read document (``extract`` reads the file; a launch command's parsed
    arguments arrive here as a Document whose pointers' lines are the script's). ``engine_args``: the data
    are ``text-generation-launcher`` arguments (its engine args) whatever they hold, rather than detected from
    their names."""
    path = doc.path
    data = require_mapping(doc, "a TGI /generate request body")
    b = ValueBuilder(INFO.kind, path)
    if not engine_args and _is_sagemaker_env(data):
        keep_namespaced(b, doc, "tgi.models", data, "", ("sample_input",), "deployment env")
        return b.build()
    if engine_args or _is_launcher_args(data):
        b.serving = _SPEC.name
        _launcher(b, doc, data)
        return b.build()
    if "inputs" not in data:
        shown = ", ".join(sorted(map(str, data))[:5])
        raise ExtractionError(f"not a TGI /generate request: no 'inputs' (top-level keys: {shown})",
                              str(path), doc.line("") or 1)
    flag_unknown(b, doc, "tgi", "not a TGI request member (TGI's router drops it)", data, "", _REQUEST_KEYS)
    params = data.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise ExtractionError("parameters must be a mapping", str(path), doc.line("/parameters"))
    if params is None:
        # serde default_parameters(): a request without "parameters" samples (TGI-LIB L436-457).
        b.set("generation.do_sample", True, doc.line(""), "", "tgi default",
              "defaults.md §3 default_parameters(): do_sample true when 'parameters' is missing")
        params = {}
    used = flag_unknown(b, doc, "tgi", _SPEC.ignored_why, params, "/parameters", _SPEC.known)
    used |= apply_fields(b, doc, params, "/parameters", _SPEC, "request")
    truncation_side(b, _SPEC)
    endpoint(b, doc, data, _SPEC)
    keep_namespaced(b, doc, "tgi.parameters", params, "/parameters", used, "request")
    fill_layers(b, _SPEC)
    apply_decoding(b, _SPEC)
    return b.build()


def _launcher(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> None:
    """Launcher args: ``dtype`` -> ``precision.compute``, ``quantize`` -> ``precision.quantization``, every
    other argument as ``tgi.launcher.<name>``, and those naming what is served also as their canonical key
    (``engines.tgi.LAUNCHER_ALSO``: model, context and batch limits, shards, adapters)."""
    for raw_name, raw in data.items():
        name = launcher_name(str(raw_name))
        ptr = f"/{escape(str(raw_name))}"
        if name in ("dtype", "quantize") and raw is not None:
            text = str(raw).strip().lower()
            allowed = LAUNCHER_DTYPES if name == "dtype" else LAUNCHER_QUANTIZE
            if not isinstance(raw, str) or text not in allowed:
                raise ExtractionError(f"{name}: {raw!r} is not a TGI --{name} value (one of: {', '.join(allowed)})",
                                      str(doc.path), doc.line(ptr))
            if name == "dtype":
                put(b, doc, "precision.compute", text, ptr, "launcher args", "TGI --dtype")
            else:
                put(b, doc, "precision.quantization", text, ptr, "launcher args", "TGI --quantize")
        elif isinstance(raw, dict) and raw:
            keep_namespaced(b, doc, f"tgi.launcher.{name}", raw, ptr, (), "launcher args")
        else:
            if name in tgi_engine.LAUNCHER_ALSO and raw is not None:
                _also(b, doc, name, raw, ptr)
            put(b, doc, f"tgi.launcher.{name}", normalize_json(raw), ptr, "launcher args")


def _also(b: ValueBuilder, doc: Document, name: str, raw: Any, ptr: str) -> None:
    """The canonical key a launcher argument also states (``engines.tgi.LAUNCHER_ALSO``); the launcher refuses a
    value of the wrong type, so it is an input error with the line."""
    key, typ = tgi_engine.LAUNCHER_ALSO[name]
    if typ == "int":
        value: Any = number(doc, ptr, raw, integer=True)
    elif typ == "list":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ExtractionError(f"{name} must be a comma-separated list", str(doc.path), doc.line(ptr))
        value = [i.strip() for i in items if i.strip()]
    elif isinstance(raw, (str, int)) and not isinstance(raw, bool):
        value = str(raw)
    else:
        raise ExtractionError(f"{name} must be a string", str(doc.path), doc.line(ptr))
    put(b, doc, key, value, ptr, "launcher args")
