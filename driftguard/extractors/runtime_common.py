"""Helpers the serving-engine extractors (vllm, tgi, openai, tensorrt-llm, lmdeploy) share: reading a JSON or
YAML document with a line for every value, cheap content sniffing for ``detect``, numeric coercion with
errors that name the line, and precedence layers that record which source won.

Nothing here knows one engine's vocabulary; each engine module maps its own field names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from driftguard.engines.spec import EngineSpec, Field
from driftguard.errors import ExtractionError
from driftguard.extractors import base
from driftguard.extractors.base import UNKNOWN_FIELDS, ExtractOptions, ValueBuilder, ignored_note
from driftguard.keys import Default
from driftguard.model import EffectiveConfig, Origin, Value
from driftguard.normalize import normalize_json, normalize_number
from driftguard.readers.documents import (
    SNIFF_LIMIT,
    YAML_SUFFIXES,
    Document,
    escape,
    json_pointer_lines,
    load_document,
    load_json,
    sniff,
)
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits

# Reading lives in readers.documents (bounded JSON/YAML with pointer lines); re-exported for the engines.
__all__ = [
    "SNIFF_LIMIT",
    "UNKNOWN_FIELDS",
    "YAML_SUFFIXES",
    "Document",
    "escape",
    "ignored_note",
    "json_pointer_lines",
    "load_document",
    "load_json",
    "sniff",
]


# ---------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------

def number(doc: Document, pointer: str, raw: Any, *, integer: bool = False) -> int | float:
    """A number from a JSON/YAML value (strings like ``"0.9"`` accepted, as engines' pydantic models do);
    ExtractionError at the value's line otherwise."""
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip()) if not integer else int(raw.strip(), 10)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and not math.isfinite(value)):
        kind = "an integer" if integer else "a number"
        raise ExtractionError(f"{pointer.lstrip('/')} must be {kind}, got {raw!r}", str(doc.path),
                              doc.line(pointer))
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ExtractionError(f"{pointer.lstrip('/')} must be an integer, got {raw!r}", str(doc.path),
                                  doc.line(pointer))
        return int(value)
    try:
        out: int | float = normalize_number(float(value))
    except OverflowError:
        raise ExtractionError(f"{pointer.lstrip('/')} must be a number within the float range, got an integer "
                              f"of about {int(int(value).bit_length() * 0.30103)} digits", str(doc.path),
                              doc.line(pointer)) from None
    return out


def boolean(doc: Document, pointer: str, raw: Any) -> bool:
    """A boolean (``true`` or the string ``"true"`` that Triton model.json files use); error otherwise."""
    from driftguard.normalize import parse_bool

    value = parse_bool(raw) if isinstance(raw, (bool, str)) else None
    if value is None:
        raise ExtractionError(f"{pointer.lstrip('/')} must be a boolean, got {raw!r}", str(doc.path),
                              doc.line(pointer))
    return value


def str_list(doc: Document, pointer: str, raw: Any) -> list[str]:
    """A stop-string list: a string or a list of strings."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return list(raw)
    raise ExtractionError(f"{pointer.lstrip('/')} must be a string or a list of strings", str(doc.path),
                          doc.line(pointer))


def int_list(doc: Document, pointer: str, raw: Any) -> list[int]:
    """A token-id list: an int or a list of ints."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [int(number(doc, f"{pointer}/{i}", v, integer=True)) for i, v in enumerate(items)]


def put(b: ValueBuilder, doc: Document, key: str, value: Any, pointer: str, source: str | None,
        note: str | None = None) -> None:
    """Record an explicit value read at ``pointer`` of ``doc``."""
    b.set(key, value, doc.line(pointer), pointer, source, note)


def keep_namespaced(b: ValueBuilder, doc: Document, namespace: str, data: Mapping[str, Any], pointer: str,
                    used: Iterable[str], source: str | None = None,
                    rename: Callable[[str], str] | None = None) -> None:
    """Keep the members a mapping has and the vocabulary lacks as ``namespace.<name>`` (dicts flattened).

    ``rename`` maps a top-level member's spelling to the name used in the key and matched against ``used``
    (``tensor-parallel-size`` -> ``tensor_parallel_size``); the origin keeps the spelling's own line."""
    skip = set(used)
    for raw_name, raw in data.items():
        name = rename(str(raw_name)) if rename is not None else raw_name
        if name in skip:
            continue
        ptr = f"{pointer}/{escape(str(raw_name))}"
        key = f"{namespace}.{name}"
        if isinstance(raw, dict) and raw:
            keep_namespaced(b, doc, key, raw, ptr, (), source)
        else:
            put(b, doc, key, normalize_json(raw), ptr, source)


def keep_unread(b: ValueBuilder, doc: Document, namespace: str, data: Mapping[str, Any], pointer: str,
                read: set[str]) -> None:
    """Keep every member whose JSON pointer ``read`` lacks as ``namespace.<path>`` (objects walked, arrays kept
    whole), for readers that map members at any depth (``genai_config.json``, an engine's ``config.json``)."""
    for name, raw in data.items():
        ptr = f"{pointer}/{escape(str(name))}"
        if ptr in read:
            continue
        if isinstance(raw, dict) and raw:
            keep_unread(b, doc, namespace, raw, ptr, read)
        else:
            key = namespace + "".join("." + p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:])
            b.set(key, normalize_json(raw), doc.line(ptr), ptr)


def flag_unknown(b: ValueBuilder, doc: Document, namespace: str, why: str, data: Mapping[str, Any],
                 pointer: str, known: Iterable[str], source: str | None = "request") -> set[str]:
    """Record every member of ``data`` that ``known`` lacks as ``namespace.unknown_fields.<name>`` (the raw
    value; the note is ``why`` plus the closest known field) and return their names, so that they are not also
    kept as ordinary ``namespace.<name>`` values. A request the engine would run while silently dropping a
    field (a typo, a dashed spelling only engine args accept) is reported, not read as if it worked."""
    vocab = set(known)
    out: set[str] = set()
    for name, raw in data.items():
        name = str(name)
        if name in vocab:
            continue
        out.add(name)
        ptr = f"{pointer}/{escape(name)}"
        put(b, doc, f"{namespace}.{UNKNOWN_FIELDS}.{name}", normalize_json(raw), ptr, source,
            ignored_note(why, name, vocab))
    return out


def require_recognized(doc: Document, kind: str, what: str, data: Mapping[str, Any], known: Iterable[str]) -> None:
    """``base.require_recognized`` for a mapping read from ``doc``: the file is another product's (a TGI
    payload read as ``vllm:``), and reading it as pure engine defaults would hide that."""
    base.require_recognized(doc.path, kind, f"a {what}", data, set(known), doc.line("") or 1)


def fill_defaults(b: ValueBuilder, defaults: Mapping[str, Default], source: str) -> None:
    """The engine's documented defaults for every key still unset."""
    b.fill_defaults(defaults, source)


#: Kinds that hold a model's own files: on a side with one of them, an engine's model-dependent values are read there.
MODEL_KINDS = ("hf-generation", "hf-model", "hf-config")


def model_files(options: ExtractOptions) -> bool:
    """True when the side holds the model's files (its generation_config.json, config.json or folder)."""
    return any(cfg.kind in MODEL_KINDS for cfg in options.context)


def context_generation(options: ExtractOptions, kinds: tuple[str, ...] = MODEL_KINDS) -> EffectiveConfig | None:
    """The first same-side config (in ``kinds`` order) holding explicit ``generation.*`` values."""
    for kind in kinds:
        for cfg in options.context:
            if cfg.kind == kind and any(k.startswith("generation.") and cfg.values[k].explicit for k in cfg.values):
                return cfg
    return None


def read_generation_config_json(folder: Path, keys: Mapping[str, str],
                                limits: Limits = DEFAULT_LIMITS) -> dict[str, Value]:
    """The ``keys`` (HF name -> canonical key) a local model folder's generation_config.json sets.

    Plain json: extractors never import each other. Invalid JSON raises ExtractionError with line:column.
    """
    path = folder / "generation_config.json"
    data, text = load_json(path, limits)
    if not isinstance(data, dict):
        raise ExtractionError("generation_config.json must hold a JSON object", str(path), 1)
    doc = Document(path, data, json_pointer_lines(text))
    out: dict[str, Value] = {}
    for name, key in keys.items():
        if name in data and data[name] is not None:
            ptr = f"/{escape(name)}"
            integer = key in ("generation.top_k", "generation.max_new_tokens")
            out[key] = Value(number(doc, ptr, data[name], integer=integer),
                             Origin(str(path), doc.line(ptr), ptr))
    return out


def require_mapping(doc: Document, what: str) -> dict[str, Any]:
    """The document's top level as a dict; a one-line error naming what was expected otherwise."""
    if not isinstance(doc.data, dict):
        got = "empty" if doc.data is None else type(doc.data).__name__
        raise ExtractionError(f"expected {what} (a mapping), got {got}", str(doc.path), doc.line("") or 1)
    return doc.data


def convert(doc: Document, pointer: str, raw: Any, typ: str) -> Any:
    """One raw value to a field's type (``float``, ``int``, ``bool``, ``strs``, ``ints``), errors at the value's
    line; other types are kept as normalized JSON."""
    if typ == "float":
        return number(doc, pointer, raw)
    if typ == "int":
        return number(doc, pointer, raw, integer=True)
    if typ == "bool":
        return boolean(doc, pointer, raw)
    if typ == "strs":
        return str_list(doc, pointer, raw)
    if typ == "ints":
        return int_list(doc, pointer, raw)
    return normalize_json(raw)


def field_value(spec: EngineSpec, doc: Document, pointer: str, name: str, raw: Any) -> Any:
    """The value of field ``name`` (in ``spec.fields``) as the engine reads it: converted to the field's type,
    rejected at its line when the engine rejects it (``spec.check``), then canonicalized (vLLM top_k -1 -> 0)."""
    value = convert(doc, pointer, raw, spec.fields[name].type)
    for item in value if isinstance(value, list) and spec.fields[name].type not in ("strs", "ints") else [value]:
        msg = spec.check(name, item)
        if msg:
            raise ExtractionError(f"{name} {msg}, got {raw!r}", str(doc.path), doc.line(pointer))
    return spec.canonical(name, value)


def apply_fields(b: ValueBuilder, doc: Document, data: Mapping[str, Any], base: str, spec: EngineSpec,
                 source: str, fields: Mapping[str, Field] | None = None) -> set[str]:
    """Record every member of ``data`` that the spec's fields (or ``fields``) name (nulls are "unset"), as the
    engine reads it; return the names used."""
    table = spec.fields if fields is None else fields
    used: set[str] = set()
    for name, raw in data.items():
        if name not in table:
            continue
        used.add(name)
        if raw is None:
            continue
        ptr = f"{base}/{escape(str(name))}"
        value = field_value(spec, doc, ptr, name, raw) if fields is None else convert(doc, ptr, raw, table[name].type)
        put(b, doc, table[name].key, value, ptr, source)
    return used


def fill_layers(b: ValueBuilder, spec: EngineSpec, skip: Iterable[str] = ()) -> None:
    """The serving path's documented default layers, highest first, for every key still unset (``skip``: keys
    the path leaves unbounded in this case)."""
    skipped = set(skip)
    b.serving = spec.name
    for layer in spec.layers:
        b.fill_defaults({k: d for k, d in layer.defaults.items() if k not in skipped}, default_of=layer.owner)


def apply_decoding(b: ValueBuilder, spec: EngineSpec) -> None:
    """The serving path's decoding rule: ``generation.do_sample`` as the engine derives it (unless the file
    states it and the rule agrees), and the values the rule forces (vLLM greedy neutralizes top_p/top_k/min_p;
    the lmdeploy pipeline forces top_k 1)."""
    b.serving = spec.name
    if spec.decoding is None:
        return
    decision = spec.decoding(b.values)
    if decision is None:
        return
    ds = b.values.get("generation.do_sample")
    if ds is None or ds.value is not decision.samples:
        b.derive("generation.do_sample", decision.samples, b.values.get(decision.anchor), decision.why,
                 decision.derived_from)
    for key, value in decision.forced.items():
        b.force(key, value, decision.anchor, decision.force_rule)


def endpoint(b: ValueBuilder, doc: Document, data: Mapping[str, Any], spec: EngineSpec, base: str = "") -> None:
    """``preprocessing.chat_template_applied`` from the endpoint the body implies: the first of the path's
    endpoints (``EngineSpec.endpoints``) whose input member the body holds, at that member's line; false where
    the body turns the endpoint's template off (``Endpoint.switch`` false, at that member) or gives a message
    list as one string where the engine takes that as raw text (``Endpoint.string_is_raw``)."""
    for e in spec.endpoints:
        if e.field not in data:
            continue
        if e.chat_template and e.switch and data.get(e.switch) is False:
            put(b, doc, "preprocessing.chat_template_applied", False, f"{base}/{escape(e.switch)}", "request",
                f"{e.path}: {e.switch} false: {e.raw_why}")
        elif e.chat_template and e.string_is_raw and isinstance(data[e.field], str):
            put(b, doc, "preprocessing.chat_template_applied", False, f"{base}/{escape(e.field)}", "request",
                f"{e.path}: {e.field} given as one string: {e.raw_why}")
        else:
            put(b, doc, "preprocessing.chat_template_applied", e.chat_template, f"{base}/{escape(e.field)}",
                "request", f"{e.path}: {e.why}")
        return


def truncation_side(b: ValueBuilder, spec: EngineSpec) -> None:
    """``preprocessing.truncation_side`` where the request sets a truncation length (the path's side); unset,
    the engine does not truncate, so nothing is recorded."""
    cut = b.values.get("preprocessing.max_length")
    if cut is not None and spec.truncation_side is not None:
        b.derive("preprocessing.truncation_side", spec.truncation_side, cut, spec.truncation_why,
                 ("preprocessing.max_length",), explicit=True)
