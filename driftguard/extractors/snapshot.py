"""Snapshots of a live server (``driftguard snapshot URL -o FILE``): the config a running server reports,
captured with its URL, time and server version, read back as an artifact of the deployment side.

The file (``*.snapshot.json``, JSON, schema version ``VERSION``)::

    {
      "format": "driftguard-snapshot",      # what the file is (detection reads it)
      "version": 1,                          # this schema's version
      "captured_at": "2026-12-07T13:00:00+00:00",
      "url": "http://triton:8000",           # the base URL the user named
      "server": "triton",                    # triton | tgi | vllm | llama-cpp | sglang (SERVERS)
      "server_version": "2.52.0",            # as the server reports it (null: it did not say)
      "model": "summarizer",                 # the model asked for (Triton), else null
      "responses": [                         # one per endpoint read, in order
        {"endpoint": "model_config", "request": "GET http://triton:8000/v2/models/summarizer/config",
         "body": { ... the JSON the server sent, unchanged ... }}
      ]
    }

Every value's origin is the snapshot file and the line of the field in it, and its source the request that
returned it (``GET http://triton:8000/v2/models/summarizer/config``). What each server's endpoints hold, and
where that is defined (``ENDPOINTS``; the capture reads the same table):

* **Triton** ``GET /v2/models/{name}/config``: the model's configuration after auto-complete, the protobuf
  ``ModelConfig``'s JSON form with field names as in the schema, primitive fields printed even at their default,
  and int64 fields as numbers (triton-inference-server/core@73aad7c3348d src/model_config_utils.cc
  ``ModelConfigToJson``; served by triton-inference-server/server@e1db8a603d86 src/http_server.cc
  ``HandleModelConfig``; docs/protocol/extension_model_configuration.md). It is parsed with protobuf's
  ``json_format`` into tritonclient's ``ModelConfig`` and mapped by the ``triton`` kind's own mapping
  (``triton.from_parsed``), so a served config and its config.pbtxt mean the same keys; a field that schema
  lacks is kept as ``triton.unknown_fields.<path>``. ``GET /v2``: server metadata ``name``, ``version``,
  ``extensions`` (core src/tritonserver.cc ``TRITONSERVER_ServerMetadata``).
* **TGI** ``GET /info``: the router's ``Info`` (huggingface/text-generation-inference@db931fcf42da
  router/src/lib.rs ``Info``, docs/openapi.json); older routers also report ``model_dtype``,
  ``model_device_type``, ``max_batch_total_tokens``, ``max_waiting_tokens``, ``max_batch_size`` and
  ``waiting_served_ratio`` (as at @53aec2732893), and ``max_input_length`` for ``max_input_tokens`` (as at
  @fec0167a123e). ``model_id`` -> ``model.source``, ``model_sha`` -> ``model.revision``, ``model_dtype`` ->
  ``precision.compute``, ``max_input_tokens``/``max_input_length`` -> ``serving.max_input_length``,
  ``max_total_tokens`` -> ``serving.max_model_len``, ``max_batch_size`` -> ``batching.max_batch_size`` (as
  ``engines.tgi.LAUNCHER_ALSO`` maps the launcher's arguments); every field is also kept as ``tgi.info.<name>``,
  one outside ``Info`` as ``tgi.info.unknown_fields.<name>``.
* **vLLM** (OpenAI server) ``GET /v1/models``: a ``ModelList`` of ``ModelCard`` (vllm-project/vllm@ec3b890c14b0
  vllm/entrypoints/openai/protocol.py ``ModelCard``: ``id``, ``root``, ``parent``, ``max_model_len``...): the
  base model's card (``parent`` null) gives ``model.source`` (its ``root``, the path or hub id loaded),
  ``serving.max_model_len`` and ``vllm.served_model_name`` (the ids); a LoRA adapter's card (``parent`` set)
  gives ``model.adapters`` as ``name=path``, the spelling of ``--lora-modules``. ``GET /version``:
  ``{"version": ...}`` (vllm-project/vllm@048027fbbdb8 vllm/entrypoints/openai/api_server.py ``show_version``).
* **llama.cpp** ``llama-server`` ``GET /props`` (ggml-org/llama.cpp@00dc8057ab28 tools/server/README.md "GET
  /props"): ``default_generation_settings`` is a slot's settings, which every request starts from (the sampling
  flags as the server resolved them, GGUF ``general.sampling.*`` included: ``engines.llama_cpp_launcher``):
  ``n_ctx`` (one slot's context) -> ``serving.max_model_len``, ``params`` -> ``generation.*`` (``temperature``,
  ``top_k``, ``top_p``, ``min_p``, ``typical_p``, ``repeat_penalty`` -> ``repetition_penalty``, the penalties,
  ``n_predict`` -> ``max_new_tokens`` (unless -1: no limit), ``seed`` (4294967295, ``LLAMA_DEFAULT_SEED``:
  random, null), ``stop``), its floats read back as the float32 the server holds (0.800000011920929 -> 0.8),
  and ``generation.do_sample`` derived from the temperature (greedy at <= 0, as the Ollama kind does);
  ``total_slots`` -> ``batching.max_batch_size``; ``model_path`` -> ``model.source``; ``build_info`` is the
  version. Everything is also kept as ``llama_cpp.props.*`` (the chat template there is the model's own, not
  necessarily the one applied, so it is not ``preprocessing.chat_template``).
* **SGLang** ``GET /server_info`` (``/get_server_info`` before it, which the server still answers but calls
  deprecated; both are the same handler: sgl-project/sglang python/sglang/srt/entrypoints/http_server.py
  ``get_server_info``, documented with a recorded response in docs/basic_usage/native_api.ipynb): the server's
  ``ServerArgs`` as the launcher resolved them, merged with the scheduler's figures and ``version``. Each
  argument means what the same ``--flag`` of ``sglang.launch_server`` means (``engines.sglang_launcher``:
  ``model_path`` -> ``model.source``, ``revision``, ``dtype`` (``auto`` stays for rule DG105), ``quantization``,
  ``tp_size``, ``max_running_requests`` -> ``batching.max_batch_size``, ``lora_paths`` -> ``model.adapters``,
  ``context_length`` -> ``serving.max_model_len`` when set: null means the model's own, which the server does
  not report here); ``chat_template`` -> ``preprocessing.chat_template_name`` when it names a built-in template
  (a path on the server's disk is kept as written); ``max_req_input_len`` (the longest prompt the scheduler
  admits) -> ``serving.max_input_length``. Everything is also kept as ``sglang.server_info.*`` except
  ``internal_states`` (each data-parallel scheduler's copy of the same arguments with live load figures).

A snapshot states what the server reported, so it has no defaults of its own (a Triton config's mapping
still fills the ModelConfig defaults for fields the server left out, as for a config.pbtxt).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from driftguard.engines import transformers as transformers_engine
from driftguard.engines import vllm as vllm_engine
from driftguard.errors import ExtractionError
from driftguard.extractors import hf_common
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    apply_fields,
    escape,
    flag_unknown,
    keep_namespaced,
    load_document,
    number,
    put,
    require_mapping,
    sniff,
)
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype, normalize_json

#: The value of ``format`` that makes a JSON file a snapshot, and the schema version this module reads.
FORMAT = "driftguard-snapshot"
VERSION = 1

#: Per server, the endpoints a snapshot reads: (endpoint name, path under the base URL; ``{model}`` is the model
#: asked for, URL-quoted), and the endpoint and member that hold the server's version.
ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "triton": (("server_metadata", "/v2"), ("model_config", "/v2/models/{model}/config")),
    "tgi": (("info", "/info"),),
    "vllm": (("version", "/version"), ("models", "/v1/models")),
    "llama-cpp": (("props", "/props"),),
    "sglang": (("server_info", "/server_info"),),
}
#: Older paths of an endpoint, asked when the current one is not found (SGLang before ``/server_info``).
FALLBACKS: dict[str, tuple[str, ...]] = {"/server_info": ("/get_server_info",)}
SERVERS = tuple(ENDPOINTS)
#: The server name of a snapshot ``driftguard.capture`` wrote of a running Python program, and the calls it records.
CAPTURE_SERVER = "capture"
CAPTURED = ("generate", "tokenizer", "vllm-generate", "vllm-chat")
VERSION_AT: dict[str, tuple[str, str]] = {
    "triton": ("server_metadata", "version"),
    "tgi": ("info", "version"),
    "vllm": ("version", "version"),
    "llama-cpp": ("props", "build_info"),
    "sglang": ("server_info", "version"),
}
#: Servers whose endpoints name a model (``{model}``).
NEEDS_MODEL = frozenset(s for s, eps in ENDPOINTS.items() if any("{model}" in p for _, p in eps))

INFO = KindInfo(
    kind="snapshot",
    description=("a live server's config captured by `driftguard snapshot` (Triton, TGI, vLLM, llama.cpp, "
                 "SGLang), "
                 "*.snapshot.json"),
    role="deployment",
    # Above the model files the server loaded (what it reports about them is what it runs), below the files that
    # configure an engine (``KindInfo.runtime``, 70): a launch script or request in the change under review is
    # what will run, a snapshot what ran when it was taken.
    rank=65,
    namespaces=("model", "serving", "batching", "precision", "io", "generation", "preprocessing"),
    keeps=("snapshot", "triton", "tgi", "vllm", "llama_cpp", "sglang", "hf"),
    names=("*.snapshot.json",),
)

_TOP = ("format", "version", "captured_at", "url", "server", "server_version", "model", "responses")

#: TGI ``Info`` fields (router/src/lib.rs at db931fcf42da, and the 2.2 fields dropped since: module docstring).
TGI_INFO_FIELDS = frozenset((
    "model_id", "model_sha", "model_pipeline_tag", "max_concurrent_requests", "max_best_of", "max_stop_sequences",
    "max_input_tokens", "max_total_tokens", "validation_workers", "max_client_batch_size", "router", "version",
    "sha", "docker_label",
    "model_dtype", "model_device_type", "waiting_served_ratio", "max_batch_total_tokens", "max_waiting_tokens",
    "max_batch_size", "max_input_length",
))
_TGI_ALSO: dict[str, tuple[str, str]] = {
    "model_id": ("model.source", "str"),
    "model_sha": ("model.revision", "str"),
    "max_input_tokens": ("serving.max_input_length", "int"),
    "max_input_length": ("serving.max_input_length", "int"),
    "max_total_tokens": ("serving.max_model_len", "int"),
    "max_batch_size": ("batching.max_batch_size", "int"),
}
#: vLLM ``ModelCard`` fields (protocol.py at ec3b890c14b0); ``created`` and ``permission`` say nothing about the
#: served config (a timestamp, OpenAI's permission objects) and are not kept.
VLLM_CARD_FIELDS = frozenset(("id", "object", "created", "owned_by", "root", "parent", "max_model_len",
                              "permission"))


def detect(path: Path, head: bytes) -> bool:
    """A JSON file whose ``format`` is ``driftguard-snapshot`` (the capture writes it first)."""
    if FORMAT.encode() not in head:
        return False
    data = sniff(path, head, (".json",))
    return isinstance(data, dict) and data.get("format") == FORMAT


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective config a snapshot file records (ExtractionError naming the file and line when it is not
    one, is of another schema version, or a response is not what its server sends)."""
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "a driftguard snapshot")
    _check_header(doc, data)
    server = str(data["server"])
    b = ValueBuilder(INFO.kind, path)
    put(b, doc, "snapshot.server", server, "/server", None)
    if data.get("server_version") is not None:
        put(b, doc, "snapshot.server_version", str(data["server_version"]), "/server_version", None)
    responses = data["responses"]
    known = _ENDPOINT_NAMES[server]
    for i, response in enumerate(responses):
        ptr = f"/responses/{i}"
        if not isinstance(response, dict) or not isinstance(response.get("request"), str) \
                or "body" not in response:
            raise ExtractionError("each response is an object with endpoint, request and body", str(path),
                                  doc.line(ptr))
        endpoint = response.get("endpoint")
        if not isinstance(endpoint, str) or endpoint not in known:
            raise ExtractionError(f"unknown {server} endpoint {endpoint!r}; a snapshot of {server} reads "
                                  f"{', '.join(known)}", str(path), doc.line(f"{ptr}/endpoint"))
        _MAPPERS[(server, str(endpoint))](b, doc, response["body"], f"{ptr}/body", response["request"])
    return b.build()


#: Per server, the endpoint names a snapshot of it may hold: the live servers' and the capture's.
_ENDPOINT_NAMES: dict[str, tuple[str, ...]] = {
    **{server: tuple(name for name, _ in eps) for server, eps in ENDPOINTS.items()}, CAPTURE_SERVER: CAPTURED}


def _check_header(doc: Document, data: Mapping[str, Any]) -> None:
    """The top-level fields: this format, a version this module reads, a known server, a list of responses."""
    path = str(doc.path)
    if data.get("format") != FORMAT:
        raise ExtractionError(f"not a driftguard snapshot: its \"format\" is not \"{FORMAT}\"", path,
                              doc.line("/format") or 1)
    if data.get("version") != VERSION:
        raise ExtractionError(f"snapshot schema version {json.dumps(data.get('version'))} is not one this "
                              f"driftguard reads ({VERSION})", path, doc.line("/version") or 1)
    if not isinstance(data.get("server"), str) or data["server"] not in _ENDPOINT_NAMES:
        raise ExtractionError(f"unknown server {json.dumps(data.get('server'))}; one of "
                              f"{', '.join(_ENDPOINT_NAMES)}", path, doc.line("/server") or 1)
    if not isinstance(data.get("responses"), list) or not data["responses"]:
        raise ExtractionError("a snapshot holds a non-empty list of responses", path, doc.line("/responses") or 1)
    extra = sorted(set(data) - set(_TOP))
    if extra:
        raise ExtractionError(f"unknown snapshot field(s) {', '.join(extra)}; version {VERSION} has "
                              f"{', '.join(_TOP)}", path, doc.line(f"/{escape(extra[0])}"))


def _body(doc: Document, body: Any, ptr: str, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ExtractionError(f"the {what} response is not a JSON object", str(doc.path), doc.line(ptr))
    return body


# -- Triton ------------------------------------------------------------------------------------------------

_Mapper = Callable[[Path, Any], EffectiveConfig]


def _triton_mapping() -> _Mapper:
    """The ``triton`` kind's mapping of a parsed ModelConfig, reached through the registry (no extractor
    imports another)."""
    from driftguard import extractors as registry

    mapper = getattr(registry.get("triton"), "from_parsed", None)
    if not callable(mapper):
        raise ExtractionError("the registered 'triton' kind has no from_parsed mapping to read a served config")
    return cast(_Mapper, mapper)


def _triton_config(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """A served ModelConfig: parsed with protobuf's JSON parser, mapped by the triton kind, every value's line
    the line of its field in the snapshot."""
    from google.protobuf import json_format

    from driftguard.extractors.triton_parse import Parsed, model_config_pb2

    config = _body(doc, body, ptr, "Triton model configuration")
    message = model_config_pb2().ModelConfig()
    try:
        json_format.ParseDict(config, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise ExtractionError(f"not a Triton model configuration: {str(exc)[:300]}", str(doc.path),
                              doc.line(ptr)) from None
    lines: dict[str, int] = {}
    unknown: list[tuple[str, str]] = []
    _field_lines(doc, config, message.DESCRIPTOR, ptr, "", lines, unknown)
    mapped = _triton_mapping()(Path(b.path), Parsed(message, lines, {}))
    for key, value in mapped.values.items():
        b.values[key] = replace(value, origin=replace(value.origin, source=request)) if value.explicit else value
    for dotted, jp in unknown:
        put(b, doc, f"triton.unknown_fields.{dotted}", normalize_json(_at(config, jp, ptr)), jp, request,
            "not a field of the ModelConfig schema this driftguard knows (tritonclient's model_config.proto)")


def _field_lines(doc: Document, data: Mapping[str, Any], descriptor: Any, jptr: str, prefix: str,
                 lines: dict[str, int], unknown: list[tuple[str, str]]) -> None:
    """Record the snapshot line of every field path the triton mapping asks for (``input[0].dims``,
    ``parameters[name].value.string_value``: the paths ``triton_parse`` records for a config.pbtxt), and the
    members the schema lacks."""
    for name, raw in data.items():
        field = descriptor.fields_by_name.get(name) or descriptor.fields_by_camelcase_name.get(name)
        jp = f"{jptr}/{escape(str(name))}"
        if field is None:
            unknown.append((prefix + str(name), jp))
            continue
        path = prefix + field.name
        lines[path] = doc.line(jp) or 1
        sub = field.message_type
        if sub is not None and sub.GetOptions().map_entry:
            value_type = sub.fields_by_name["value"].message_type
            for key, item in (raw.items() if isinstance(raw, dict) else ()):
                kp, kjp = f"{path}[{key}]", f"{jp}/{escape(str(key))}"
                lines[kp] = lines[f"{kp}.value"] = doc.line(kjp) or 1
                if value_type is not None and isinstance(item, dict):
                    _field_lines(doc, item, value_type, kjp, f"{kp}.value.", lines, unknown)
        elif field.is_repeated and isinstance(raw, list):
            for i, item in enumerate(raw):
                lines[f"{path}[{i}]"] = doc.line(f"{jp}/{i}") or 1
                if sub is not None and isinstance(item, dict):
                    _field_lines(doc, item, sub, f"{jp}/{i}", f"{path}[{i}].", lines, unknown)
        elif sub is not None and isinstance(raw, dict):
            _field_lines(doc, raw, sub, jp, path + ".", lines, unknown)


def _at(data: Any, jp: str, base: str) -> Any:
    """The value at JSON pointer ``jp`` (below ``base``, the pointer of ``data``)."""
    for segment in jp[len(base):].split("/")[1:]:
        key = segment.replace("~1", "/").replace("~0", "~")
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


def _triton_metadata(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """Server metadata: name, version and extensions, kept as ``triton.server.*``."""
    keep_namespaced(b, doc, "triton.server", _body(doc, body, ptr, "Triton server metadata"), ptr, (), request)


# -- TGI ---------------------------------------------------------------------------------------------------

def _tgi_info(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """``/info``: the canonical keys ``_TGI_ALSO`` names and ``model_dtype``, every field kept as ``tgi.info.*``."""
    info = _body(doc, body, ptr, "TGI /info")
    for name, (key, typ) in _TGI_ALSO.items():
        raw = info.get(name)
        if raw is not None:
            at = f"{ptr}/{name}"
            put(b, doc, key, number(doc, at, raw, integer=True) if typ == "int" else str(raw), at, request)
    dtype = info.get("model_dtype")
    if isinstance(dtype, str):
        put(b, doc, "precision.compute", normalize_dtype(dtype) or dtype, f"{ptr}/model_dtype", request,
            f"model_dtype {dtype}")
    skip = flag_unknown(b, doc, "tgi.info", "not a field of TGI's Info", info, ptr, TGI_INFO_FIELDS, request)
    keep_namespaced(b, doc, "tgi.info", info, ptr, skip, request)


# -- vLLM --------------------------------------------------------------------------------------------------

def _vllm_version(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """``/version``: kept as ``vllm.version`` (the snapshot's ``server_version`` says it too)."""
    keep_namespaced(b, doc, "vllm", _body(doc, body, ptr, "vLLM /version"), ptr, (), request)


def _vllm_models(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """``/v1/models``: the base model's card and the LoRA adapters' cards (``parent`` set)."""
    listing = _body(doc, body, ptr, "vLLM /v1/models")
    cards = listing.get("data")
    if not isinstance(cards, list) or not all(isinstance(c, dict) for c in cards):
        raise ExtractionError("the vLLM /v1/models response has no list of model cards (\"data\")",
                              str(doc.path), doc.line(ptr))
    base = [(i, c) for i, c in enumerate(cards) if c.get("parent") is None]
    adapters = [(i, c) for i, c in enumerate(cards) if c.get("parent") is not None]
    if not base:
        raise ExtractionError("the vLLM /v1/models response lists no base model (a card without parent)",
                              str(doc.path), doc.line(f"{ptr}/data"))
    for i, card in enumerate(cards):
        flag_unknown(b, doc, "vllm.models", "not a field of vLLM's ModelCard", card, f"{ptr}/data/{i}",
                     VLLM_CARD_FIELDS, request)
    first, card = base[0]
    at = f"{ptr}/data/{first}"
    roots = {str(c.get("root") or c.get("id")) for _, c in base}
    if len(roots) > 1:
        raise ExtractionError(f"the vLLM /v1/models response lists several base models ({', '.join(sorted(roots))})",
                              str(doc.path), doc.line(f"{ptr}/data"))
    put(b, doc, "model.source", roots.pop(), f"{at}/root" if card.get("root") else f"{at}/id", request)
    put(b, doc, "vllm.served_model_name", sorted(str(c.get("id")) for _, c in base), f"{at}/id", request)
    if card.get("max_model_len") is not None:
        put(b, doc, "serving.max_model_len", number(doc, f"{at}/max_model_len", card["max_model_len"],
                                                    integer=True), f"{at}/max_model_len", request)
    if card.get("owned_by") is not None:
        put(b, doc, "vllm.owned_by", str(card["owned_by"]), f"{at}/owned_by", request)
    if adapters:
        names = sorted(f"{c.get('id')}={c.get('root')}" for _, c in adapters)
        put(b, doc, "model.adapters", names, f"{ptr}/data/{adapters[0][0]}", request, "LoRA cards (parent set)")


# -- llama.cpp ---------------------------------------------------------------------------------------------

#: ``default_generation_settings.params`` members that state a canonical key.
_LLAMA_PARAMS = {
    "temperature": "generation.temperature", "top_k": "generation.top_k", "top_p": "generation.top_p",
    "min_p": "generation.min_p", "typical_p": "generation.typical_p",
    "repeat_penalty": "generation.repetition_penalty", "presence_penalty": "generation.presence_penalty",
    "frequency_penalty": "generation.frequency_penalty", "n_predict": "generation.max_new_tokens",
}
#: ``n_predict`` -1: no limit, which no canonical value says (kept as ``llama_cpp.props...n_predict`` only).
_NO_LIMIT = -1
#: common/common.h ``LLAMA_DEFAULT_SEED`` (0xFFFFFFFF): a random seed each time.
_RANDOM_SEED = 0xFFFFFFFF


def _float32(x: float) -> float:
    """The shortest decimal that is the same float32 as ``x`` (llama-server prints its float32 fields as
    doubles: 0.800000011920929 is the 0.8 the command line gave)."""
    try:
        held = struct.pack("<f", x)
    except OverflowError:  # past float32's range: the server cannot hold it, show what it printed
        return x
    for digits in range(1, 10):
        short = float(f"{x:.{digits}g}")
        if struct.pack("<f", short) == held:
            return short
    return x


def _llama_props(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """``/props``: the slot settings every request starts from, the slots, the model (module docstring)."""
    props = _body(doc, body, ptr, "llama-server /props")
    settings = props.get("default_generation_settings")
    if not isinstance(settings, dict):
        raise ExtractionError("the llama-server /props response has no default_generation_settings object",
                              str(doc.path), doc.line(ptr))
    at = f"{ptr}/default_generation_settings"
    if settings.get("n_ctx") is not None:
        put(b, doc, "serving.max_model_len", number(doc, f"{at}/n_ctx", settings["n_ctx"], integer=True),
            f"{at}/n_ctx", request, "one slot's context")
    params = settings.get("params")
    if isinstance(params, dict):
        _llama_params(b, doc, params, f"{at}/params", request)
    if props.get("total_slots") is not None:
        put(b, doc, "batching.max_batch_size", number(doc, f"{ptr}/total_slots", props["total_slots"],
                                                      integer=True), f"{ptr}/total_slots", request)
    if isinstance(props.get("model_path"), str):
        put(b, doc, "model.source", props["model_path"], f"{ptr}/model_path", request)
    keep_namespaced(b, doc, "llama_cpp.props", props, ptr, (), request)


def _llama_params(b: ValueBuilder, doc: Document, params: Mapping[str, Any], at: str, request: str) -> None:
    for name, key in _LLAMA_PARAMS.items():
        raw = params.get(name)
        if raw is None:
            continue
        ptr = f"{at}/{name}"
        value = number(doc, ptr, raw, integer=isinstance(raw, int) and not isinstance(raw, bool))
        if name == "n_predict" and value == _NO_LIMIT:
            continue
        put(b, doc, key, _float32(value) if isinstance(value, float) else value, ptr, request)
    temperature = b.values.get("generation.temperature")
    if temperature is not None:
        b.derive("generation.do_sample", float(temperature.value) > 0, temperature,
                 "llama.cpp keeps only the most likely token at a temperature <= 0 (src/llama-sampling.cpp "
                 "llama_sampler_temp_impl)", ("generation.temperature",), explicit=True)
    seed = params.get("seed")
    if seed is not None:
        seed = number(doc, f"{at}/seed", seed, integer=True)
        put(b, doc, "generation.seed", None if seed == _RANDOM_SEED else seed, f"{at}/seed", request,
            "LLAMA_DEFAULT_SEED: a random seed" if seed == _RANDOM_SEED else None)
    stop = params.get("stop")
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        put(b, doc, "generation.stop", list(stop), f"{at}/stop", request)


# -- SGLang -----------------------------------------------------------------------------------------------

#: ``/server_info`` members that are not server arguments and state a canonical key.
_SGLANG_LIMITS = {"max_req_input_len": ("serving.max_input_length", "the longest prompt the scheduler admits")}
#: Members not kept: each data-parallel scheduler's copy of the arguments, with live load figures.
_SGLANG_SKIP = frozenset(("internal_states",))
#: A chat template value naming a file (kept as written: the file is on the server's disk, not in the tree).
_TEMPLATE_FILE = (".jinja", ".jinja2", ".j2", ".json")


def _sglang_server_info(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """``/server_info``: each server argument under the key its launcher flag states, the scheduler's input
    limit, everything kept as ``sglang.server_info.*`` (module docstring)."""
    from driftguard.engines import sglang_launcher

    info = _body(doc, body, ptr, "SGLang /server_info")
    if not isinstance(info.get("model_path"), str):
        raise ExtractionError("the SGLang /server_info response has no model_path", str(doc.path), doc.line(ptr))
    flags = sglang_launcher.LAUNCH_SERVER.by_dest()
    for name, raw in info.items():
        flag = flags.get(str(name))
        if raw is None or flag is None or not flag.key:
            continue
        at = f"{ptr}/{escape(str(name))}"
        if flag.key == "preprocessing.chat_template":
            if isinstance(raw, str) and "/" not in raw and not raw.endswith(_TEMPLATE_FILE) \
                    and not any(c in raw for c in "{}\n"):
                put(b, doc, "preprocessing.chat_template_name", raw, at, request, "a built-in template's name")
            continue
        if flag.type == "int":
            raw = number(doc, at, raw, integer=True)
        elif flag.key == "precision.compute" and isinstance(raw, str) and raw.strip().lower() != "auto":
            raw = normalize_dtype(raw) or raw
        put(b, doc, flag.key, normalize_json(raw), at, request)
    context = info.get("context_length")
    if context is not None:
        at = f"{ptr}/context_length"
        n = sglang_launcher.human_readable_int(context) if isinstance(context, str) else \
            number(doc, at, context, integer=True)
        if n is None:
            raise ExtractionError(f"context_length must be a number of tokens, got {context!r}", str(doc.path),
                                  doc.line(at))
        put(b, doc, "serving.max_model_len", n, at, request)
    for name, (key, note) in _SGLANG_LIMITS.items():
        if info.get(name) is not None:
            at = f"{ptr}/{name}"
            put(b, doc, key, number(doc, at, info[name], integer=True), at, request, note)
    keep_namespaced(b, doc, "sglang.server_info", info, ptr, _SGLANG_SKIP, request)


# -- runtime capture (driftguard.capture) ------------------------------------------------------------------

def _captured_generate(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """A ``generate()`` record: the GenerationConfig it ran with, mapped as the same members of a
    generation_config.json are, ``generation.do_sample`` as generate() derives it; members the transformers
    that ran knows and this driftguard's table lacks kept as ``hf.generation.<name>`` (they are that version's
    fields, not typos). No defaults: the record holds every member that was set."""
    config = _body(doc, body, ptr, "captured generate()")
    known = {k: v for k, v in config.items() if k in hf_common.KNOWN_GENERATION_FIELDS}
    lines = {k: doc.line(f"{ptr}/{escape(k)}") or 1 for k in known}
    one = ValueBuilder(b.kind, Path(b.path))
    hf_common.add_generation_fields(one, hf_common.JsonDoc(Path(b.path), known, lines), pointer_prefix=ptr,
                                    source=request)
    apply_decoding(one, transformers_engine.GENERATE)
    keep_namespaced(one, doc, "hf.generation", config, ptr, known, request)
    _merge_captured(b, doc, one, request)


def _captured_tokenizer(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """A tokenizer call's record: ``padding_side`` and ``truncation_side`` as ``preprocessing.*``, ``max_length``
    as ``preprocessing.max_length`` when the call truncated (the length it cut to; with padding alone it is the
    length padded to), every other setting as ``hf.tokenizer.<name>`` (the strategies transformers resolved,
    ``longest_first``, under their own names: a call's ``truncation=True`` argument is another spelling)."""
    settings = _body(doc, body, ptr, "captured tokenizer call")
    truncates = settings.get("truncation_strategy") not in (None, "do_not_truncate")
    one = ValueBuilder(b.kind, Path(b.path))
    for name, raw in settings.items():
        at = f"{ptr}/{escape(str(name))}"
        if name in ("padding_side", "truncation_side") and isinstance(raw, str):
            put(one, doc, f"preprocessing.{name}", raw, at, request)
        elif name == "max_length" and truncates and raw is not None:
            put(one, doc, "preprocessing.max_length", number(doc, at, raw, integer=True), at, request,
                "the length the call truncated to")
        else:
            put(one, doc, f"hf.tokenizer.{name}", normalize_json(raw), at, request)
    _merge_captured(b, doc, one, request)


def _captured_vllm(b: ValueBuilder, doc: Document, body: Any, ptr: str, request: str) -> None:
    """An offline vLLM request's record: the ``SamplingParams`` it ran with, read as the same members of a
    ``SamplingParams(...)`` call are (``serving`` ``vllm-sampling-params``: its ranges, ``top_k: -1`` as off,
    greedy below temperature 1e-5), members driftguard's table lacks kept as ``vllm.<name>``; an ``LLM.chat``
    record's messages went through the chat template. No defaults: the record holds every member that was set."""
    params = _body(doc, body, ptr, "captured LLM.generate()")
    spec = vllm_engine.SAMPLING_PARAMS
    one = ValueBuilder(b.kind, Path(b.path))
    used = apply_fields(one, doc, params, ptr, spec, request) | {"engine"}
    keep_namespaced(one, doc, spec.namespace, params, ptr, used, request)
    engine = params.get("engine")
    if engine is not None:
        _captured_engine(one, doc, _body(doc, engine, f"{ptr}/engine", "captured LLM engine"), f"{ptr}/engine",
                         request)
    apply_decoding(one, spec)
    if request.startswith("LLM.chat()"):
        put(one, doc, "preprocessing.chat_template_applied", True, ptr, request,
            "vLLM's LLM.chat renders the messages with the tokenizer's chat template (vllm-project/vllm@0012cf691b7e "
            "vllm/entrypoints/llm.py LLM.chat)")
    _merge_captured(b, doc, one, request)


def _captured_engine(b: ValueBuilder, doc: Document, engine: dict[str, Any], ptr: str, request: str) -> None:
    """The LLM's resolved ModelConfig: ``model`` -> ``model.source``, ``max_model_len`` (the model's own when the
    program set none) -> ``serving.max_model_len``, ``dtype`` (``auto`` resolved) -> ``precision.compute``."""
    if isinstance(engine.get("model"), str):
        put(b, doc, "model.source", engine["model"], f"{ptr}/model", request)
    if engine.get("max_model_len") is not None:
        put(b, doc, "serving.max_model_len", number(doc, f"{ptr}/max_model_len", engine["max_model_len"], integer=True),
            f"{ptr}/max_model_len", request, "as vLLM resolved it (from the model when the program set none)")
    dtype = normalize_dtype(str(engine["dtype"])) if engine.get("dtype") is not None else None
    if dtype is not None:
        put(b, doc, "precision.compute", dtype, f"{ptr}/dtype", request, "as vLLM resolved it")


def _merge_captured(b: ValueBuilder, doc: Document, one: ValueBuilder, request: str) -> None:
    """One record's values into the snapshot's; two records that set a key differently are an input error
    naming both calls (the program ran with both: which one the gate should compare is not the snapshot's to
    choose)."""
    for key, value in one.values.items():
        have = b.values.get(key)
        if have is not None and have.value != value.value:
            raise ExtractionError(
                f"captured calls set {key} differently: {json.dumps(have.value)} ({have.origin.source}, line "
                f"{have.origin.line}) vs {json.dumps(value.value)} ({request}); capture one configuration per "
                "snapshot", str(doc.path), value.origin.line)
        b.values.setdefault(key, value)
    b.serving = b.serving or one.serving


_Map = Callable[[ValueBuilder, Document, Any, str, str], None]
_MAPPERS: dict[tuple[str, str], _Map] = {
    ("triton", "server_metadata"): _triton_metadata,
    ("triton", "model_config"): _triton_config,
    ("tgi", "info"): _tgi_info,
    ("vllm", "version"): _vllm_version,
    ("vllm", "models"): _vllm_models,
    ("llama-cpp", "props"): _llama_props,
    ("sglang", "server_info"): _sglang_server_info,
    (CAPTURE_SERVER, "generate"): _captured_generate,
    (CAPTURE_SERVER, "tokenizer"): _captured_tokenizer,
    (CAPTURE_SERVER, "vllm-generate"): _captured_vllm,
    (CAPTURE_SERVER, "vllm-chat"): _captured_vllm,
}
