"""lmdeploy: TurboMind INI files (``[request]`` section: request_output_len, top_k, top_p, temperature...,
read with configparser, inline ``;`` comments) and ``GenerationConfig`` YAML/JSON, resolved with the class
defaults of defaults.md §6 (T 0.8, top_k 50, max_new_tokens 512, do_sample false).

The pipeline path is greedy when ``do_sample`` is false: top_k 1, temperature 1.0, repetition_penalty 1.0
(``_determine_gen_config``). An api_server request (``messages``/``prompt``, v0.15+) always samples. INI files
carry the C++ example's explicit values only (the reference documents no defaults for them); other sections,
such as a FasterTransformer config.ini (an HF config dumped to INI), are kept under ``lmdeploy.<section>.*``.

YAML/JSON files are validated against ``GenerationConfig``'s and the api_server request's fields: another
field (a typo, ``top-p``) is kept as ``lmdeploy.unknown_fields.<name>`` with the closest known name (rule
DG304; ``GenerationConfig(**d)`` raises on it, the api_server drops it), and a file with no known field is an
input error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from driftguard.engines import lmdeploy as lmdeploy_engine
from driftguard.engines.spec import EngineSpec
from driftguard.engines.transformers import HF_GENERATION_DEFAULTS
from driftguard.errors import ExtractionError, LimitError
from driftguard.extractors import base as extractor_base
from driftguard.extractors.base import UNKNOWN_FIELDS, ExtractOptions, KindInfo, ValueBuilder, read_text
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    apply_fields,
    context_generation,
    endpoint,
    escape,
    fill_layers,
    flag_unknown,
    keep_namespaced,
    load_document,
    model_files,
    put,
    require_mapping,
    require_recognized,
)
from driftguard.model import EffectiveConfig, How, Origin, Value
from driftguard.normalize import int_digits, is_int_literal, normalize_dtype, normalize_json, parse_scalar
from driftguard.readers.limits import Limits

INFO = KindInfo(
    kind="lmdeploy",
    description="lmdeploy TurboMind INI ([request] section) or GenerationConfig YAML/JSON",
    role="deployment",
    rank=70,
    engine="lmdeploy",
    namespaces=("generation",),
    keeps=("lmdeploy",),
    defaults=lmdeploy_engine.LMDEPLOY_DEFAULTS,
)

GEN_FIELDS = lmdeploy_engine.FIELDS
INI_REQUEST = lmdeploy_engine.INI_REQUEST
_INI_MARKERS = ("request", "ft_instance_hyperparameter")
_KNOWN = lmdeploy_engine.PIPELINE.known
_IGNORED = lmdeploy_engine.PIPELINE.ignored_why
#: The fields that show a file is lmdeploy's: every known one but ``model``, which every request and engine
#: config has (a vLLM model.json is no lmdeploy GenerationConfig).
_RECOGNIZED = _KNOWN - {"model"}
_HEADER = re.compile(r"^\s*\[([^\]]+)\]")
_OPTION = re.compile(r"^\s*([^=:;#\s][^=:]*?)\s*[=:]")


def detect(path: Path, head: bytes) -> bool:
    """INI files with a TurboMind ``[request]`` or ``[ft_instance_hyperparameter]`` section."""
    if path.suffix.lower() not in (".ini", ".cfg"):
        return False
    text = head.decode("utf-8", "replace")
    return any(m.group(1).strip() in _INI_MARKERS for m in map(_HEADER.match, text.splitlines()) if m)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    if path.suffix.lower() in (".ini", ".cfg"):
        return _extract_ini(path, options.limits)
    return extract_document(load_document(path, options.limits), options)


def extract_document(doc: Document, options: ExtractOptions) -> EffectiveConfig:
    """The effective config of an already-read GenerationConfig or api_server request (the python kind hands a
    ``GenerationConfig(...)`` call's arguments here as a Document whose lines are the call's)."""
    path = doc.path
    data = require_mapping(doc, "an lmdeploy GenerationConfig")
    b = ValueBuilder(INFO.kind, path)
    server = any(m in data for m in ("messages", "prompt", "input_ids"))
    require_recognized(doc, INFO.kind, "GenerationConfig or api_server request", data, _RECOGNIZED)
    source = "request" if server else "generation config"
    spec = _server_path(data) if server else lmdeploy_engine.PIPELINE
    known, ignored = (spec.known, spec.ignored_why) if spec is lmdeploy_engine.GENERATE else (_KNOWN, _IGNORED)
    unknown = flag_unknown(b, doc, "lmdeploy", ignored, data, "", known, source)
    if server:
        unknown |= _ignored_by_server(b, doc, data)
    used = apply_fields(b, doc, data, "", spec, source) | unknown
    endpoint(b, doc, data, spec)
    keep_namespaced(b, doc, "lmdeploy", data, "", used | {"messages", "prompt", "input_ids"})
    if server:
        _server_generation_config(b, options)
    fill_layers(b, spec)
    apply_decoding(b, spec)  # the api_server samples; the pipeline's do_sample false forces greedy values
    return b.build()


def _server_path(data: dict[str, Any]) -> EngineSpec:
    """The api_server endpoint a body is for: chat messages or a completion's prompt with the ``model`` both
    OpenAI request models require; a prompt or ``input_ids`` without one is the native ``/generate``, whose
    request model has no ``model`` member (``GenerateReqInput``)."""
    if "messages" in data or "model" in data:
        return lmdeploy_engine.SERVER
    return lmdeploy_engine.GENERATE


def _server_generation_config(b: ValueBuilder, options: ExtractOptions) -> None:
    """The api_server's defaults below the request (``--generation-config``, on a launch command of the side;
    ``auto`` when none says): the model's generation_config.json as ``to_diff_dict()`` gives it, where the side
    holds the model's files; unknown (never the class defaults) where the side's launch command names a model
    whose files the side lacks, or another folder; nothing with ``lmdeploy``."""
    gc = lmdeploy_engine.SERVER.generation_config
    assert gc is not None
    launch = next((c for c in options.context if c.serving == lmdeploy_engine.SERVER.name), None)
    mode_v = launch.values.get("lmdeploy.generation_config") if launch is not None else None
    mode = mode_v.value if mode_v is not None and isinstance(mode_v.value, str) else "auto"
    if mode == "lmdeploy":
        return
    ctx = context_generation(options)
    if mode == "auto" and ctx is not None:
        for key in gc.fields.values():
            v = ctx.get(key)
            if v is None or not v.explicit or v.value is None or key in b.values:
                continue
            hf_default = HF_GENERATION_DEFAULTS.get(key)
            if gc.drop_hf_defaults and hf_default is not None and v.value == hf_default.value:
                _version_dependent(b, key, v, hf_default.value)
            else:
                b.inherit(key, v, "generation_config.json", gc.why)
        return
    model = launch.values.get("model.source") if launch is not None else None
    if mode == "auto" and (model is None or model_files(options)):
        return  # a request alone: the model it reaches is not known here
    anchor = mode_v if mode != "auto" and mode_v is not None else model
    assert anchor is not None
    where = f"{mode}/generation_config.json" if mode != "auto" else f"{anchor.value}/generation_config.json"
    for key in dict.fromkeys(gc.fields.values()):
        if key not in b.values:
            b.values[key] = Value(where, anchor.origin, How.UNRESOLVED,
                                  f"lmdeploy's api_server takes it from {where} (--generation-config {mode}), "
                                  "which is not on this side",
                                  derived_from=("model.source",) if mode == "auto" else
                                  ("lmdeploy.generation_config",))


def _version_dependent(b: ValueBuilder, key: str, v: Value, hf_default: Any) -> None:
    """A generation_config.json value equal to transformers 4.x's class default: ``to_diff_dict()`` drops it with
    4.x (lmdeploy's own default then applies) and keeps it with 5.x, whose class defaults are all None
    (defaults.md §1.3); lmdeploy accepts both majors. Where the two agree the value is certain; otherwise it
    depends on the server's transformers and is left unresolved, naming both."""
    own = lmdeploy_engine.LMDEPLOY_DEFAULTS.get(key)
    gc = lmdeploy_engine.SERVER.generation_config
    assert gc is not None
    if own is None or own.value == v.value:
        b.inherit(key, v, "generation_config.json", gc.why)
        return
    o = v.origin
    b.values[key] = Value(f"{v.value} or {own.value}", Origin(o.path, o.line, o.pointer, "generation_config.json"),
                          How.UNRESOLVED,
                          f"{v.value} with transformers 5.x on the server, lmdeploy's default {own.value} with 4.x, "
                          f"whose GenerationConfig.to_diff_dict() drops a value equal to its default {hf_default} "
                          f"(defaults.md §1.3, §6): state it in the request", derived_from=(key,))


def _ignored_by_server(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> set[str]:
    """Request fields the api_server takes and never reads (``SERVER_IGNORED``), set to anything that asks for
    something, as ``lmdeploy.unknown_fields.<name>`` (DG304: served without it); their names."""
    out: set[str] = set()
    for name, unchanged in lmdeploy_engine.SERVER_IGNORED.items():
        raw = data.get(name)
        if raw is None or raw == unchanged or raw in ("", [], {}):
            continue
        put(b, doc, f"lmdeploy.{UNKNOWN_FIELDS}.{name}", normalize_json(raw), f"/{escape(name)}", "request",
            lmdeploy_engine.SERVER_IGNORED_WHY)
        out.add(name)
    return out


def _extract_ini(path: Path, limits: Limits) -> EffectiveConfig:
    import configparser  # here, not at the top: detection imports every kind's module

    text = read_text(path, limits)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep option names' case
    try:
        parser.read_string(text, str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise ExtractionError("invalid INI: a value before any [section]", str(path), exc.lineno) from None
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if exc.errors else None
        raise ExtractionError("invalid INI: line is neither 'key = value' nor a [section]", str(path),
                              line) from None
    except (configparser.DuplicateOptionError, configparser.DuplicateSectionError) as exc:
        raise ExtractionError(f"invalid INI: {exc.message.split(':')[-1].strip()}", str(path), exc.lineno) \
            from None
    except configparser.Error as exc:
        raise ExtractionError(f"invalid INI: {exc.message}", str(path)) from None
    doc = Document(path, None, _ini_lines(text))
    extractor_base.require_recognized(path, INFO.kind, "a TurboMind INI ([request], [ft_instance_hyperparameter])",
                                      parser.sections(), _INI_MARKERS)
    b = ValueBuilder(INFO.kind, path)
    for section in parser.sections():
        items = dict(parser.items(section))
        base = f"/{escape(section)}"
        _check_int_digits(doc, base, items, limits)
        used: set[str] = set()
        if section == "request":
            used = apply_fields(b, doc, {k: parse_scalar(v) for k, v in items.items()}, base,
                                   lmdeploy_engine.TURBOMIND, "request")
        elif section == "ft_instance_hyperparameter" and "data_type" in items:
            # "auto" stays as written: rule DG105 resolves it from the model files the way lmdeploy does
            # (fp32/fp16 -> fp16, bf16 -> bf16; defaults.md §8, TurbomindEngineConfig in messages.py).
            auto = items["data_type"].strip().lower() == "auto"
            dtype = "auto" if auto else normalize_dtype(items["data_type"])
            if dtype is None:
                raise ExtractionError(f"data_type: unknown element type {items['data_type']!r}", str(path),
                                      doc.line(f"{base}/data_type"))
            put(b, doc, "precision.compute", dtype, f"{base}/data_type", "engine config")
            used = {"data_type"}
        keep_namespaced(b, doc, f"lmdeploy.{section}", {k: parse_scalar(v) for k, v in items.items()}, base, used)
    apply_decoding(b, lmdeploy_engine.TURBOMIND)
    return b.build()


def _check_int_digits(doc: Document, base: str, items: dict[str, str], limits: Limits) -> None:
    """An integer value longer than ``limits.int_digits`` digits is refused at its line (TurboMind would read
    it into an int64 anyway; huge literals only cost time)."""
    for name, raw in items.items():
        if is_int_literal(raw) and int_digits(raw) > limits.int_digits:
            raise LimitError("int_digits", limits.int_digits, f"{name}: integer of {int_digits(raw)} digits",
                             str(doc.path), doc.line(f"{base}/{escape(name)}"))


def _ini_lines(text: str) -> dict[str, int]:
    """``/section/option`` -> line, for origins only (configparser has already validated the file)."""
    lines: dict[str, int] = {}
    section = ""
    for n, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            section = f"/{escape(m.group(1).strip())}"
            lines.setdefault(section, n)
            continue
        m = _OPTION.match(line)
        if m and section:
            lines.setdefault(f"{section}/{escape(m.group(1).strip())}", n)
    return lines
