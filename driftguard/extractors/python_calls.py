"""The calls the python kind reads, and how each call's arguments resolve: through the engine kind that reads the
same fields in a file, so ``SamplingParams(temperature=0.7)`` means what ``temperature: 0.7`` means to the vllm
kind, ``GenerationConfig(top_k=5)`` what ``"top_k": 5`` means in a generation_config.json, and
``client.chat.completions.create(max_tokens=64)`` what the openai kind reads from a request body.

A call's keyword arguments (and its named positional ones) become a ``Document`` whose data are the folded values
and whose lines are the arguments' lines; the engine kind resolves it (ranges, defaults, decoding rule). An
argument the file does not fix (``readers.python_ast.Arg.resolved`` False) is kept under the key the engine
would have set (``How.UNRESOLVED``: shown, never compared, reported by DG304); so is a ``**kwargs`` the call
passes (``<namespace>.unresolved_arguments``), except the model inputs a tokenizer call built.

Which calls (``match``): the callee's qualified name comes from the file's imports, never from a bare name:

- vLLM: ``SamplingParams`` (raw class defaults: ``engines.vllm.SAMPLING_PARAMS``), ``LLM``, ``EngineArgs``,
  ``AsyncEngineArgs`` (engine args, ``vllm serve``'s path);
- transformers: ``GenerationConfig(...)``, ``<model>.generate(...)`` (any receiver, when the file imports
  transformers; the model's generation_config.json on the same side is the layer below, as ``generate()``
  merges it), ``pipeline(...)`` and a pipeline object's call, tokenizers' ``from_pretrained(padding_side=,
  truncation_side=, model_max_length=)``, their calls (``max_length`` when it truncates, ``padding_side``) and
  ``tokenizer.padding_side = ...`` assignments;
- TensorRT-LLM's LLM API: ``SamplingParams`` (its defaults: greedy until a sampling field is set, max_tokens 32)
  and ``LLM`` (engine config), through the tensorrt-llm kind; lmdeploy: ``GenerationConfig`` (the pipeline's
  fields and defaults, through the lmdeploy kind), ``pipeline(model_path)``, ``TurbomindEngineConfig`` and
  ``PytorchEngineConfig`` (``tp``, ``session_len``, ``max_batch_size`` under the keys the api_server flags of
  those names have); SGLang's ``Engine(...)`` (its ``ServerArgs`` fields, read as ``sglang.launch_server``'s flags);
- OpenAI client: ``chat.completions.create`` and ``completions.create`` (any client, when the file imports
  openai), and the legacy ``openai.ChatCompletion.create`` / ``openai.Completion.create``;
- HTTP: ``requests``/``httpx`` ``post(url, json={...})`` (or a session's or client's) to a URL the file fixes whose
  path names the endpoint: an OpenAI-compatible ``/chat/completions`` or ``/completions`` body (the openai kind),
  TGI's ``/generate`` with ``inputs`` (the tgi kind), SGLang's ``/generate`` with ``text`` or ``input_ids`` and
  ``sampling_params`` (the sglang kind). A body posted elsewhere, or to a URL built at run time, is
  not read: which server reads it is not known from the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from driftguard.engines import lmdeploy as lmdeploy_engine
from driftguard.engines import lmdeploy_launcher, sglang_launcher
from driftguard.engines import openai as openai_engine
from driftguard.engines import sglang as sglang_requests
from driftguard.engines import tensorrt_llm as trt_engine
from driftguard.engines import tgi as tgi_engine
from driftguard.engines import transformers as transformers_engine
from driftguard.engines import vllm as vllm_engine
from driftguard.engines.launcher import Launcher
from driftguard.errors import ExtractionError
from driftguard.extractors import hf_common, runtime_common
from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.model import EffectiveConfig, How, Json, Origin, Value
from driftguard.normalize import normalize_dtype, normalize_json
from driftguard.readers.documents import Document, escape
from driftguard.readers.python_ast import UNKNOWN, Arg, Call, Source


def _engine_kind(kind: str) -> Callable[..., EffectiveConfig]:
    """The engine kind's ``extract_document`` (through the registry: extractors never import each other)."""
    from driftguard import extractors

    fn: Callable[..., EffectiveConfig] | None = getattr(extractors.get(kind), "extract_document", None)
    if fn is None:
        raise ExtractionError(f"the {kind} kind has no extract_document")
    return fn


@dataclass(frozen=True)
class Resolved:
    """One call site's values (its own kind's resolution, origins at the call's lines) and how it ranks: a
    request (sampling parameters, a generate or client call) is what the engine runs with, so its values win
    over the defaults an engine-args call (``LLM(...)``) fills."""

    call: Call
    shown: str
    config: EffectiveConfig
    request: bool


Handler = Callable[[Call, Path, ExtractOptions], EffectiveConfig]


@dataclass(frozen=True)
class Target:
    """A known call: the name shown, its handler, whether it is a request, and its positional parameters."""

    shown: str
    handler: Handler
    request: bool


def _args(call: Call, positional: tuple[str, ...] = ()) -> list[tuple[str, Arg]]:
    """The call's named arguments in order: positional ones named by ``positional``, then keywords."""
    named = list(zip(positional, call.args, strict=False))
    return named + list(call.keywords)


def _document(path: Path, call: Call, args: list[tuple[str, Arg]]) -> Document:
    """The resolved arguments as a Document (pointer ``/name``, the argument's line)."""
    data = {name: a.value for name, a in args if a.resolved}
    lines = {f"/{escape(name)}": a.line for name, a in args if a.resolved}
    lines[""] = call.line
    return Document(path, data, lines)


def _finish(cfg: EffectiveConfig, path: Path, call: Call, args: list[tuple[str, Arg]],
            key_of: Callable[[str], str], namespace: str, *, skip_opaque: bool = False) -> EffectiveConfig:
    """The unresolved arguments under the keys they would set, the folding notes (``MAX = 512 (line 3)``) on
    the values they gave, and the ``**kwargs`` the call passes (``<namespace>.unresolved_arguments``)."""
    values = dict(cfg.values)
    notes = {f"/{escape(name)}": a.note for name, a in args if a.resolved and a.note}
    for key, v in values.items():
        note = notes.get(v.origin.pointer or "") if v.origin.path == str(path) else None
        if note and v.how == How.EXPLICIT:
            values[key] = replace(v, note=note if v.note is None else f"{v.note}; {note}")
    for name, a in args:
        if not a.resolved:
            values[key_of(name)] = Value(a.source, Origin(str(path), a.line, f"/{escape(name)}", "call"),
                                         How.UNRESOLVED, f"{name}={a.source}: computed at run time, not known "
                                                         "from the file")
    opaque = [a for a in call.opaque if not (skip_opaque and a.note and "Tokenizer" in a.note)]
    if opaque:
        values[f"{namespace}.unresolved_arguments"] = Value(
            ", ".join(a.source for a in opaque), Origin(str(path), opaque[0].line, None, "call"), How.UNRESOLVED,
            "arguments passed as *args/**kwargs built at run time: the values they hold are not known from the file")
    return replace(cfg, values=values)


# ---------------------------------------------------------------------------------------------------------
# vLLM
# ---------------------------------------------------------------------------------------------------------

def _vllm_key(name: str) -> str:
    field = vllm_engine.FIELDS.get(name)
    if field is not None:
        return field.key
    also = vllm_engine.ENGINE_ALSO.get(name)
    return vllm_engine.ENGINE_FIELDS.get(name) or (also[0] if also else f"vllm.{name}")


def vllm_sampling(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``SamplingParams(...)``: the vllm kind's sampling fields, raw SamplingParams defaults below them."""
    args = _args(call)
    doc = _document(path, call, args)
    if doc.data:
        cfg = _engine_kind("vllm")(doc, options, sampling_params=True)
    else:  # SamplingParams(): every field its default (the vllm kind refuses a document with no field)
        b = ValueBuilder("vllm", path)
        runtime_common.fill_layers(b, vllm_engine.SAMPLING_PARAMS)
        runtime_common.apply_decoding(b, vllm_engine.SAMPLING_PARAMS)
        cfg = b.build()
    return _finish(cfg, path, call, args, _vllm_key, "vllm")


def vllm_engine_args(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``LLM(model, ...)``, ``EngineArgs(...)``, ``AsyncEngineArgs(...)``: engine args (``vllm serve``'s path)."""
    args = _args(call, ("model",))
    cfg = _engine_kind("vllm")(_document(path, call, args), options, engine_args=True)
    return _finish(cfg, path, call, args, _vllm_key, "vllm")


# ---------------------------------------------------------------------------------------------------------
# transformers
# ---------------------------------------------------------------------------------------------------------

def _hf_key(name: str) -> str:
    field = transformers_engine.FIELDS.get(name)
    return field.key if field is not None else f"hf.generation.{name}"


def _json_doc(path: Path, call: Call, args: list[tuple[str, Arg]]) -> hf_common.JsonDoc:
    return hf_common.JsonDoc(path, {n: a.value for n, a in args if a.resolved},
                             {n: a.line for n, a in args if a.resolved})


def hf_generation_config(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``GenerationConfig(...)``: what the same fields give in a generation_config.json (transformers
    defaults below)."""
    args = _args(call)
    doc = _json_doc(path, call, args)
    b = ValueBuilder("hf-generation", path)
    hf_common.add_generation_fields(b, doc)
    hf_common.fill_generation_defaults(b)
    runtime_common.apply_decoding(b, transformers_engine.GENERATE)
    return _finish(b.build(), path, call, args, _hf_key, "hf.generation")


def hf_generate(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``model.generate(...)`` or a pipeline object's call: the GenerationConfig fields it passes, over the
    model's generation_config.json on the same side (``generate()`` merges the kwargs into it), over the
    transformers defaults. Other keywords are model inputs (``input_ids``, ``attention_mask``): a resolved one
    is kept as ``hf.generate.<name>``, an unresolved one is data, not configuration, and is left out."""
    gen = [(n, a) for n, a in call.keywords if n in hf_common.GENERATION_FIELDS]
    b = ValueBuilder("hf-generation", path)
    hf_common.add_generation_fields(b, _json_doc(path, call, gen), keep_unknown=False)
    for name, a in call.keywords:
        if a.resolved and name not in hf_common.GENERATION_FIELDS and name != "generation_config":
            b.set(f"hf.generate.{name}", normalize_json(a.value), a.line, f"/{escape(name)}", "call")
    _inherit_generation(b, options)
    hf_common.fill_generation_defaults(b)
    runtime_common.apply_decoding(b, transformers_engine.GENERATE)
    return _finish(b.build(), path, call, gen, _hf_key, "hf.generation", skip_opaque=True)


def _inherit_generation(b: ValueBuilder, options: ExtractOptions) -> None:
    model = runtime_common.context_generation(options)
    if model is None:
        return
    for key, v in model.values.items():
        if key.startswith("generation.") and v.explicit:
            b.inherit(key, v, "generation_config.json (generate() merges the call's kwargs into it)")


def hf_pipeline(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``pipeline(task, model, ...)``: the model and revision it loads, its dtype, the generation fields it
    forwards to ``generate()``; other resolved arguments as ``hf.pipeline.<name>``."""
    return _loads(call, _args(call, ("task", "model")), path, "hf.pipeline")


def hf_model_load(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """A model class's ``from_pretrained(name, ...)``: the model and revision it loads and its dtype; other
    resolved arguments as ``hf.from_pretrained.<name>``."""
    return _loads(call, _args(call, ("model",)), path, "hf.from_pretrained")


def _loads(call: Call, args: list[tuple[str, Arg]], path: Path, namespace: str) -> EffectiveConfig:
    """The model a call loads (``model``, ``revision``, ``torch_dtype``/``dtype``, also inside a resolved
    ``model_kwargs`` dict, at its line), the generation fields it forwards, other resolved arguments as
    ``<namespace>.<name>``."""
    args = [item for name, a in args for item in _model_kwargs(name, a)]
    b = ValueBuilder("hf-generation", path)
    gen = [(n, a) for n, a in args if n in hf_common.GENERATION_FIELDS]
    hf_common.add_generation_fields(b, _json_doc(path, call, gen), keep_unknown=False)
    for name, a in args:
        if not a.resolved or name in hf_common.GENERATION_FIELDS:
            continue
        key = _PIPELINE_KEYS.get(name, f"{namespace}.{name}")
        b.set(key, _pipeline_value(key, a, path), a.line, f"/{escape(name)}", "call")
    return _finish(b.build(), path, call, args, lambda n: _PIPELINE_KEYS.get(n, _hf_key(n)), namespace)


def _model_kwargs(name: str, a: Arg) -> list[tuple[str, Arg]]:
    """``model_kwargs={"torch_dtype": ...}`` as the arguments it passes to ``from_pretrained``."""
    if name != "model_kwargs" or not a.resolved or not isinstance(a.value, dict):
        return [(name, a)]
    return [(str(k), Arg(v, f"{a.source}[{k!r}]", a.line, True, a.note)) for k, v in a.value.items()]


_PIPELINE_KEYS = {"model": "model.source", "revision": "model.revision", "torch_dtype": "precision.compute",
                  "dtype": "precision.compute"}


def _pipeline_value(key: str, a: Arg, path: Path) -> Json:
    if key != "precision.compute" or a.value == "auto":
        return normalize_json(a.value)
    dtype = normalize_dtype(a.value) if isinstance(a.value, str) else None
    if dtype is None:
        raise ExtractionError(f"dtype: unknown element type {a.source}", str(path), a.line)
    return dtype


#: Tokenizer arguments with a canonical key (``from_pretrained`` and calls alike).
_TOKENIZER_KEYS = {"padding_side": "preprocessing.padding_side", "truncation_side": "preprocessing.truncation_side",
                   "model_max_length": "preprocessing.max_length"}


def hf_tokenizer(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """A tokenizer's ``from_pretrained(...)``, call, or attribute assignment: ``padding_side``,
    ``truncation_side``, ``model_max_length`` (the truncation length), and a call's ``max_length`` when the call
    truncates: ``truncation`` true, or unset with no ``padding`` (transformers then truncates to
    ``max_length``, ``longest_first``). Other resolved arguments as ``hf.tokenizer.<name>``; no defaults
    (those are the tokenizer_config.json's, a model file)."""
    if call.name.endswith("="):
        args = [(call.name.rsplit(".", 1)[1][:-1], call.args[0])]
    else:
        args = [(n, a) for n, a in _args(call) if n not in ("text", "text_pair", "return_tensors")]
    b = ValueBuilder("hf-tokenizer", path)
    named = dict(args)
    for name, a in args:
        if not a.resolved:
            continue
        key = _TOKENIZER_KEYS.get(name) or ("preprocessing.max_length" if name == "max_length" and
                                            _truncates(named) else f"hf.tokenizer.{name}")
        b.set(key, normalize_json(a.value), a.line, f"/{escape(name)}", "call")
    return _finish(b.build(), path, call, args, lambda n: _TOKENIZER_KEYS.get(n, f"hf.tokenizer.{n}"),
                   "hf.tokenizer", skip_opaque=True)


def _truncates(named: Mapping[str, Arg]) -> bool:
    t, p = named.get("truncation"), named.get("padding")
    if t is not None:
        return t.resolved and t.value not in (False, "do_not_truncate", None)
    return p is None or (p.resolved and p.value in (False, "do_not_pad"))


# ---------------------------------------------------------------------------------------------------------
# OpenAI client
# ---------------------------------------------------------------------------------------------------------

def _openai_key(name: str) -> str:
    field = openai_engine.FIELDS.get(name)
    return field.key if field is not None else f"openai.{name}"


def openai_create(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``chat.completions.create(...)`` / ``completions.create(...)``: the openai kind's request fields and
    defaults (chat, or completions for ``prompt``), ``extra_body`` merged into the body as the client does (its
    ``top_k`` is a field the OpenAI API lacks: ``openai.unknown_fields.top_k``, DG304). The messages or prompt
    are data, not configuration."""
    args = [item for n, a in _args(call) if n not in _CLIENT_OPTIONS for item in _extra_body(n, a)]
    doc = _document(path, call, [(n, a) for n, a in args if n not in ("messages", "prompt")])
    data: dict[str, Any] = dict(doc.data)
    data["prompt" if _completions(call) else "messages"] = [] if not _completions(call) else ""
    cfg = _engine_kind("openai")(Document(path, data, doc.lines), options)
    kept = [(n, a) for n, a in args if n not in ("messages", "prompt")]
    return _finish(cfg, path, call, kept, _openai_key, "openai")


#: The client's own options of a create call (``openai-python``'s ``extra_headers``, ``extra_query``, ``timeout``):
#: not sent in the body.
_CLIENT_OPTIONS = frozenset(("extra_headers", "extra_query", "timeout"))


def _extra_body(name: str, a: Arg) -> list[tuple[str, Arg]]:
    """``extra_body={...}``: the client merges its members into the request body (an OpenAI-compatible server's
    extensions, ``top_k``), so they are body fields at the ``extra_body`` line."""
    if name != "extra_body" or not a.resolved or not isinstance(a.value, dict):
        return [(name, a)]
    return [(str(k), Arg(v, f"{a.source}[{k!r}]", a.line, True, a.note)) for k, v in a.value.items()]


def _completions(call: Call) -> bool:
    return not call.name.endswith("chat.completions.create") and not call.name.endswith("ChatCompletion.create")


# ---------------------------------------------------------------------------------------------------------
# TensorRT-LLM LLM API, lmdeploy
# ---------------------------------------------------------------------------------------------------------

def _trt_key(name: str) -> str:
    field = trt_engine.LLM_API.fields.get(name)
    return field.key if field is not None else f"tensorrt_llm.{name}"


def trtllm_sampling(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """TensorRT-LLM's ``SamplingParams(...)``: the tensorrt-llm kind's LLM-API sampling fields and defaults."""
    args = _args(call)
    if not any(a.resolved for _, a in args):  # SamplingParams(): the LLM API's defaults alone
        b = ValueBuilder("tensorrt-llm", path)
        runtime_common.fill_layers(b, trt_engine.LLM_API)
        runtime_common.apply_decoding(b, trt_engine.LLM_API)
        return _finish(b.build(), path, call, args, _trt_key, "tensorrt_llm")
    return _finish(_engine_kind("tensorrt-llm")(_document(path, call, args), options), path, call, args, _trt_key,
                   "tensorrt_llm")


def trtllm_engine_args(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """TensorRT-LLM's ``LLM(model, ...)``: an LLM-API engine config (dtype, quant_config, ...)."""
    args = _args(call, ("model",))
    cfg = _engine_kind("tensorrt-llm")(_document(path, call, args), options, engine_args=True)
    return _finish(cfg, path, call, args, _trt_key, "tensorrt_llm")


def _lmdeploy_key(name: str) -> str:
    field = lmdeploy_engine.PIPELINE.fields.get(name)
    return field.key if field is not None else f"lmdeploy.{name}"


def lmdeploy_generation_config(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """lmdeploy's ``GenerationConfig(...)``: the lmdeploy kind's pipeline fields and defaults (greedy unless
    ``do_sample``)."""
    args = _args(call)
    if not any(a.resolved for _, a in args):
        b = ValueBuilder("lmdeploy", path)
        runtime_common.fill_layers(b, lmdeploy_engine.PIPELINE)
        runtime_common.apply_decoding(b, lmdeploy_engine.PIPELINE)
        return _finish(b.build(), path, call, args, _lmdeploy_key, "lmdeploy")
    return _finish(_engine_kind("lmdeploy")(_document(path, call, args), options), path, call, args,
                   _lmdeploy_key, "lmdeploy")


def lmdeploy_engine_config(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``pipeline(model_path, ...)`` (the model), ``TurbomindEngineConfig(...)`` / ``PytorchEngineConfig(...)``
    (``tp``, ``session_len``, ``max_batch_size``...): as ``lmdeploy serve api_server``'s flags of those names."""
    positional = ("model_path",) if call.name.endswith("pipeline") else ()
    return _launcher_config(call, path, lmdeploy_launcher.API_SERVER, positional,
                            {"model_path": "model.source"}, ("backend_config", "gen_config", "chat_template_config"),
                            lmdeploy_engine.PIPELINE.name)


def sglang_engine(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """SGLang's ``Engine(model_path=..., ...)``: its keyword arguments are ``ServerArgs`` fields, the options of
    ``python -m sglang.launch_server`` (``engines.sglang_launcher``), read as those flags are."""
    launcher = sglang_launcher.LAUNCH_SERVER
    return _launcher_config(call, path, launcher, (), {}, (), launcher.serving)


def _launcher_config(call: Call, path: Path, launcher: Launcher, positional: tuple[str, ...],
                     keys: Mapping[str, str], skip: tuple[str, ...], serving: str | None) -> EffectiveConfig:
    """Each resolved argument under the key the launcher's flag of that dest has (``keys`` first), else
    ``<namespace>.<dest>``; then the launcher's rule for what they mean together (``Launcher.derive``, given the
    numbers as the command line would spell them)."""
    args = [(n, a) for n, a in _args(call, positional) if n not in skip]
    flags = launcher.by_dest()

    def key_of(name: str) -> str:
        flag = flags.get(name)
        return keys.get(name) or (flag.key if flag is not None and flag.key else f"{launcher.namespace}.{name}")

    b = ValueBuilder(launcher.kind or "python", path)
    b.serving = serving
    for name, a in args:
        if a.resolved:
            b.set(key_of(name), normalize_json(a.value), a.line, f"/{escape(name)}", "call")
    if launcher.derive is not None:
        given = {n: str(a.value) if isinstance(a.value, (int, float)) and not isinstance(a.value, bool) else a.value
                 for n, a in args if a.resolved}
        for d in launcher.derive(given):
            anchor = next((a for n, a in args if n in d.sources and a.resolved), None)
            b.derive(d.key, d.value, Origin(str(path), anchor.line if anchor else call.line, None, "call"), d.why,
                     tuple(key_of(n) for n in d.sources), explicit=True)
    return _finish(b.build(), path, call, args, key_of, launcher.namespace)


# ---------------------------------------------------------------------------------------------------------
# HTTP request bodies
# ---------------------------------------------------------------------------------------------------------

#: The endpoint a posted body goes to, from the URL's path (never from the body alone): the request shape and the
#: kind that reads it.
_ENDPOINTS = (("/chat/completions", "openai"), ("/completions", "openai"), ("/generate_stream", "tgi"),
              ("/generate", "tgi"))


def _body(call: Call) -> list[tuple[str, Arg]] | None:
    """The members of the ``json=`` body a call posts, each with its line (None when the body is not a dict the
    file writes out)."""
    body = call.keyword("json")
    if body is None:
        return None
    if body.items:
        return list(body.items)
    if body.resolved and isinstance(body.value, dict):
        return [(str(k), Arg(v, body.source, body.line, True, body.note)) for k, v in body.value.items()]
    return None


def _endpoint(call: Call) -> str | None:
    """The kind reading the body ``call`` posts, from its URL (first argument or ``url=``): an OpenAI-compatible
    ``.../chat/completions`` or ``.../completions``, TGI's ``.../generate`` (with ``inputs``); None when the URL is
    not a literal the file fixes, or names another endpoint."""
    url = call.args[0] if call.args else call.keyword("url")
    body = _body(call)
    if url is None or body is None or not url.resolved or not isinstance(url.value, str):
        return None
    path = url.value.split("?", 1)[0].rstrip("/")
    kind = next((k for suffix, k in _ENDPOINTS if path.endswith(suffix)), None)
    names = dict(body)
    if kind == "tgi" and path.endswith("/generate") and "sampling_params" in names and \
            ("text" in names or "input_ids" in names):
        return "sglang"  # SGLang's native /generate (text or input_ids with sampling_params)
    return None if kind == "tgi" and "inputs" not in names else kind


#: The members of a request body that are its data (the prompt), not configuration.
_DATA = {"openai": ("messages", "prompt"), "tgi": ("inputs",), "sglang": ("text", "input_ids")}


def http_post(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """``requests.post(url, json={...})`` / ``httpx.post(...)`` (or a session's or client's ``post``): the body
    read by the kind its URL names (``_endpoint``), each member at its own line; TGI's ``parameters`` one level
    down, so that a parameter built at run time leaves the others readable."""
    kind = _endpoint(call)
    body = _body(call)
    assert kind is not None and body is not None
    if kind == "sglang":
        return _sglang_body(call, path, options, body)
    data, lines, kept = _split(call, body, kind)
    if kind == "openai":
        data.setdefault("prompt" if "prompt" in dict(body) else "messages", "" if "prompt" in dict(body) else [])
        cfg = _engine_kind("openai")(Document(path, data, lines), options)
        return _finish(cfg, path, call, kept, _openai_key, "openai")
    kept = _nested_params(body, "parameters", data, lines, kept)
    cfg = _engine_kind("tgi")(Document(path, data, lines), options)
    return _finish(cfg, path, call, kept, _tgi_key, "tgi")


def _nested_params(body: list[tuple[str, Arg]], nest: str, data: dict[str, Any], lines: dict[str, int],
                   kept: list[tuple[str, Arg]]) -> list[tuple[str, Arg]]:
    """The members of the body's ``nest`` object (TGI's ``parameters``, SGLang's ``sampling_params``) at their own
    lines; where one is built at run time, the others stay readable and it is kept as unresolved."""
    params = dict(body).get(nest)
    if params is None or not params.items:
        return kept
    lines.update({f"/{nest}/{escape(n)}": a.line for n, a in params.items})
    if params.resolved:
        return kept
    data[nest] = {n: a.value for n, a in params.items if a.resolved}
    return [(n, a) for n, a in kept if n != nest] + list(params.items)


def _split(call: Call, body: list[tuple[str, Arg]], kind: str) -> tuple[dict[str, Any], dict[str, int],
                                                                       list[tuple[str, Arg]]]:
    """A body's resolved members (its data members, the prompt, emptied: data, not configuration), each member's
    line, and the members that are configuration."""
    data: dict[str, Any] = {n: ("" if n in ("prompt", "text") else []) if n in _DATA[kind] else a.value
                            for n, a in body if a.resolved or n in _DATA[kind]}
    lines = {f"/{escape(n)}": a.line for n, a in body}
    lines[""] = call.line
    return data, lines, [(n, a) for n, a in body if n not in _DATA[kind]]


def _sglang_body(call: Call, path: Path, options: ExtractOptions, body: list[tuple[str, Arg]]) -> EffectiveConfig:
    """A ``/generate`` body (``GenerateReqInput``, ``body`` its members) read by the sglang kind."""
    data, lines, kept = _split(call, body, "sglang")
    kept = _nested_params(body, "sampling_params", data, lines, kept)
    data.setdefault("text", "")
    lines.setdefault("/text", call.line)
    cfg = _engine_kind("sglang")(Document(path, data, lines), options)
    return _finish(cfg, path, call, kept, _sglang_key, "sglang")


# ---------------------------------------------------------------------------------------------------------
# Offline engine calls given prompts: whether the engine builds the model's input with the chat template
# ---------------------------------------------------------------------------------------------------------

_VLLM_LLM = "vllm-project/vllm@0012cf691b7e vllm/entrypoints/llm.py"
_VLLM_GENERATE_WHY = f"vLLM's LLM.generate takes the prompts as given, no chat template ({_VLLM_LLM} LLM.generate)"
_VLLM_CHAT_WHY = (f"vLLM's LLM.chat renders the messages with the tokenizer's chat template ({_VLLM_LLM} LLM.chat: "
                  "apply_hf_chat_template)")
_LMDEPLOY_INFER_WHY = ("lmdeploy's pipeline renders each prompt with the model's chat template unless do_preprocess "
                       "is false (InternLM/lmdeploy@1263d5cd889b lmdeploy/pipeline.py Pipeline.__call__, infer, "
                       "stream_infer: do_preprocess=True)")


def _prompt_call(applied: bool, why: str, switch: str | None = None) -> Handler:
    """A call that hands an engine its prompts: ``preprocessing.chat_template_applied`` as the engine decides it
    for that call, at the call's line; ``switch``: a keyword that, false, makes the engine take the prompts as
    given (at its own line; built at run time, unresolved)."""
    def handler(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
        b = ValueBuilder("python", path)
        arg = call.keyword(switch) if switch is not None else None
        key = "preprocessing.chat_template_applied"
        if arg is not None and not arg.resolved:
            b.values[key] = Value(arg.source, Origin(str(path), arg.line, f"/{switch}", "call"), How.UNRESOLVED,
                                  f"{switch}={arg.source}: computed at run time; {why}")
        elif arg is not None and arg.value is False:
            b.set(key, False, arg.line, f"/{switch}", "call", f"{switch}=False: {why}")
        else:
            b.set(key, applied, call.line, None, "call", why)
        return b.build()
    return handler


def _raw_prompts(handler: Handler, names: tuple[str, ...]) -> Handler:
    """A call whose engine takes the prompts as given: no chat template is applied only where the file fixes
    the prompts (a literal, a constant); prompts built at run time may have been rendered by the program itself
    (``tokenizer.apply_chat_template(..., tokenize=False)`` before ``LLM.generate``, a hand-written prompt
    template), so ``false`` becomes unresolved there, naming the call (never a finding either way). ``names``:
    the prompt parameter (positional first) and its alternatives (token ids)."""
    def wrapped(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
        cfg = handler(call, path, options)
        key = "preprocessing.chat_template_applied"
        v = cfg.values.get(key)
        given = [a for n, a in _args(call, names[:1]) if n in names]
        if v is None or v.value is not False or (given and all(a.resolved for a in given)):
            return cfg
        what = given[0].source if given else "none given"
        note = (f"{v.note}; the prompts ({what}) are built at run time, so whether the program rendered them with "
                "a chat template (apply_chat_template, a prompt format) is not known from the file")
        return replace(cfg, values={**cfg.values, key: Value(what, v.origin, How.UNRESOLVED, note)})
    return wrapped


def sglang_generate(call: Call, path: Path, options: ExtractOptions) -> EffectiveConfig:
    """SGLang's ``Engine(...).generate(prompt, sampling_params, ...)``: its arguments are ``GenerateReqInput``'s
    (sgl-project/sglang@001067fffe33 python/sglang/srt/entrypoints/engine.py Engine.generate), read as a
    ``/generate`` body by the sglang kind (the prompt as given, no chat template; ``sampling_params`` its
    SamplingParams)."""
    args = [("text" if n == "prompt" else n, a) for n, a in _args(call, ("prompt", "sampling_params", "input_ids"))]
    return _sglang_body(call, path, options, args)


def _sglang_key(name: str) -> str:
    field = sglang_requests.SAMPLING_FIELDS.get(name)
    return field.key if field is not None else f"sglang.{name}"


def _tgi_key(name: str) -> str:
    field = tgi_engine.FIELDS.get(name)
    return field.key if field is not None else f"tgi.{name}"


_HTTP_CLIENTS = ("requests", "httpx", "requests.Session()", "requests.sessions.Session()", "httpx.Client()",
                 "httpx.AsyncClient()")

# ---------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------

_VLLM_SAMPLING = Target("SamplingParams", vllm_sampling, True)
_EXACT: dict[str, Target] = {
    "vllm.SamplingParams": _VLLM_SAMPLING,
    "vllm.sampling_params.SamplingParams": _VLLM_SAMPLING,
    **{f"{m}.{c}": Target(c, vllm_engine_args, False)
       for m, c in (("vllm", "LLM"), ("vllm.entrypoints.llm", "LLM"), ("vllm", "EngineArgs"),
                    ("vllm", "AsyncEngineArgs"), ("vllm.engine.arg_utils", "EngineArgs"),
                    ("vllm.engine.arg_utils", "AsyncEngineArgs"))},
    **{f"{m}.GenerationConfig": Target("GenerationConfig", hf_generation_config, True)
       for m in ("transformers", "transformers.generation", "transformers.generation.configuration_utils")},
    **{f"{m}.pipeline": Target("pipeline", hf_pipeline, True) for m in ("transformers", "transformers.pipelines")},
    **{f"{m}.SamplingParams": Target("SamplingParams", trtllm_sampling, True)
       for m in ("tensorrt_llm", "tensorrt_llm.llmapi", "tensorrt_llm.sampling_params")},
    **{f"{m}.LLM": Target("LLM", trtllm_engine_args, False) for m in ("tensorrt_llm", "tensorrt_llm.llmapi")},
    **{f"{m}.GenerationConfig": Target("GenerationConfig", lmdeploy_generation_config, True)
       for m in ("lmdeploy", "lmdeploy.messages")},
    **{f"{m}.{c}": Target(c, lmdeploy_engine_config, False)
       for m in ("lmdeploy", "lmdeploy.messages") for c in ("TurbomindEngineConfig", "PytorchEngineConfig")},
    "lmdeploy.pipeline": Target("pipeline", lmdeploy_engine_config, False),
    **{f"{m}.Engine": Target("Engine", sglang_engine, False)
       for m in ("sglang", "sglang.srt.entrypoints.engine", "sglang.api")},
    "openai.ChatCompletion.create": Target("ChatCompletion.create", openai_create, True),
    "openai.Completion.create": Target("Completion.create", openai_create, True),
}
#: Offline engine calls given the prompts (on an object the file builds with the engine's class): what the engine
#: does with them.
_PROMPT_CALLS: dict[str, Target] = {
    **{f"{m}.LLM().generate": Target("LLM.generate", _raw_prompts(_prompt_call(False, _VLLM_GENERATE_WHY),
                                                                  ("prompts", "prompt_token_ids")), True)
       for m in ("vllm", "vllm.entrypoints.llm")},
    **{f"{m}.LLM().chat": Target("LLM.chat", _prompt_call(True, _VLLM_CHAT_WHY), True)
       for m in ("vllm", "vllm.entrypoints.llm")},
    **{f"lmdeploy.pipeline(){method}": Target(f"pipeline{method or '()'}",
                                              _prompt_call(True, _LMDEPLOY_INFER_WHY, "do_preprocess"), True)
       for method in ("", ".infer", ".stream_infer", ".batch_infer")},
    **{f"{m}.Engine().generate": Target("Engine.generate", _raw_prompts(sglang_generate, ("prompt", "input_ids")),
                                        True)
       for m in ("sglang", "sglang.srt.entrypoints.engine", "sglang.api")},
}
_TOKENIZER_METHODS = ("", ".encode", ".encode_plus", ".batch_encode_plus", ".__call__", ".apply_chat_template")


def match(call: Call, source: Source) -> Target | None:
    """The known call ``call`` is (see the module docstring), None for any other."""
    name = call.name
    hit = _EXACT.get(name)
    if hit is not None:
        return hit
    if name.endswith(".post") and name[:-5] in _HTTP_CLIENTS and _endpoint(call) is not None:
        return Target(f"{name.split('.', 1)[0]}.post {_endpoint(call)} request", http_post, True)
    generates = any(n in hf_common.GENERATION_FIELDS for n, _ in call.keywords)
    if name.startswith("transformers.") and source.imported("transformers"):
        return _transformers(name, generates)
    if name.endswith(".generate") and name.startswith(f"{UNKNOWN}.") and source.imported("transformers") and generates:
        # a receiver the file does not tell: a transformers generate() only when it passes GenerationConfig fields
        return Target("generate", hf_generate, True)
    prompt = _PROMPT_CALLS.get(name)
    if prompt is not None:
        return prompt
    if (name.endswith(".chat.completions.create") or name.endswith(".completions.create")) and \
            (name.startswith("openai.") or (name.startswith(f"{UNKNOWN}.") and source.imported("openai"))):
        return Target(".".join(name.split(".")[-3 if "chat" in name else -2:]), openai_create, True)
    return None


def _transformers(name: str, generates: bool) -> Target | None:
    """Calls on what transformers built: a model's ``generate``, a pipeline object (``generates``: the call passes
    GenerationConfig fields), a tokenizer."""
    if name.endswith(".generate"):
        return Target("generate", hf_generate, True)
    if name.startswith(("transformers.pipeline()", "transformers.pipelines.pipeline()")) and name.endswith("()"):
        # a pipeline's task is not known from the object: a generation pipeline when the call passes generate() fields
        return Target("pipeline call", hf_generate, True) if generates else None
    head, _, rest = name.partition(".from_pretrained")
    cls = head.rsplit(".", 1)[-1]
    if "Tokenizer" not in cls and "Processor" not in cls:
        model = cls.startswith("AutoModel") or "For" in cls
        return Target(f"{cls}.from_pretrained", hf_model_load, False) if model and rest == "" else None
    if rest == "":
        return Target(f"{cls}.from_pretrained", hf_tokenizer, False)
    if rest.startswith("()") and (rest[2:] in _TOKENIZER_METHODS or
                                  (rest[2:].endswith("=") and rest[3:-1] in _TOKENIZER_KEYS)):
        return Target("tokenizer" + rest[2:], hf_tokenizer, False)
    return None


def resolve(call: Call, source: Source, path: Path, options: ExtractOptions) -> Resolved | None:
    """The call's values when it is a known call, else None."""
    target = match(call, source)
    if target is None:
        return None
    return Resolved(call, target.shown, target.handler(call, path, options), target.request)


__all__ = ["Resolved", "Target", "match", "resolve"]
