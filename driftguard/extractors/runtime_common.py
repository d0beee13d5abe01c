"""Helpers the serving-engine extractors (vllm, tgi, openai, tensorrt-llm, lmdeploy) share: reading a JSON or
YAML document with a line for every value, cheap content sniffing for ``detect``, numeric coercion with
errors that name the line, and precedence layers that record which source won.

Nothing here knows one engine's vocabulary; each engine module maps its own field names.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, ValueBuilder, load_json, read_text
from driftguard.keys import Default
from driftguard.model import EffectiveConfig, Origin, Value
from driftguard.normalize import normalize_json, normalize_number

#: Largest file ``detect`` parses to look at its content (runtime parameter files are small).
SNIFF_LIMIT = 1 << 20

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Document:
    """A parsed JSON/YAML document plus the 1-based line of every JSON pointer (``/parameters/top_p``)."""

    path: Path
    data: Any
    lines: Mapping[str, int] = field(default_factory=dict)

    def line(self, pointer: str) -> int | None:
        """The line of a pointer, else of its nearest parent that has one."""
        p = pointer
        while p:
            hit = self.lines.get(p)
            if hit is not None:
                return hit
            p = p.rpartition("/")[0]
        return self.lines.get("")


def escape(key: str) -> str:
    """One JSON-pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------

def load_document(path: Path) -> Document:
    """Parse ``path`` as JSON (``.json``) or YAML (anything else); errors carry line and column."""
    if path.suffix.lower() == ".json":
        data, text = load_json(path)
        return Document(path, data, json_pointer_lines(text))
    text = read_text(path)
    return Document(path, *_load_yaml(text, path))


def _load_yaml(text: str, path: Path) -> tuple[Any, dict[str, int]]:
    import yaml

    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        raise ExtractionError(f"invalid YAML: {exc.problem or exc.context or 'syntax error'}", str(path),
                              line, col) from None
    except yaml.YAMLError as exc:
        raise ExtractionError(f"invalid YAML: {exc}", str(path)) from None
    except RecursionError:
        raise ExtractionError("invalid YAML: nested too deeply", str(path)) from None
    lines: dict[str, int] = {}
    if node is not None:
        _yaml_lines(node, "", lines)
    return data, lines


def _yaml_lines(node: Any, pointer: str, lines: dict[str, int]) -> None:
    import yaml

    lines.setdefault(pointer, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            ptr = f"{pointer}/{escape(str(key_node.value))}"
            lines.setdefault(ptr, key_node.start_mark.line + 1)
            _yaml_lines(value_node, ptr, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, f"{pointer}/{i}", lines)


def json_pointer_lines(text: str) -> dict[str, int]:
    """Line of every member and element of an already-valid JSON text, by JSON pointer.

    Extends ``base.json_key_lines`` to nested objects and arrays: the json module's own scanner
    (``raw_decode``) reads keys and scalars, so we only walk the punctuation between them.
    """
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    decoder = json.JSONDecoder()
    lines: dict[str, int] = {}
    n = len(text)

    def line_at(i: int) -> int:
        return bisect_right(newlines, i - 1) + 1

    def skip(i: int) -> int:
        while i < n and text[i] in " \t\r\n":
            i += 1
        return i

    def value(i: int, ptr: str) -> int:
        i = skip(i)
        lines.setdefault(ptr, line_at(i))
        c = text[i]
        if c == "{":
            i = skip(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, end = decoder.raw_decode(text, i)
                kptr = f"{ptr}/{escape(str(key))}"
                lines.setdefault(kptr, line_at(i))
                i = skip(end) + 1  # past ':'
                i = skip(value(i, kptr))
                if text[i] == "}":
                    return i + 1
                i = skip(i + 1)  # past ','
        if c == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            k = 0
            while True:
                i = skip(value(i, f"{ptr}/{k}"))
                k += 1
                if text[i] == "]":
                    return i + 1
                i = skip(i + 1)
        _, end = decoder.raw_decode(text, i)
        return int(end)

    with suppress(ValueError, IndexError, RecursionError):  # lines are a convenience: partial beats none
        value(0, "")
    return lines


def sniff(path: Path, head: bytes, suffixes: Iterable[str] = (".json", ".yaml", ".yml")) -> Any:
    """The parsed content of a small JSON/YAML file for ``detect``; None when it cannot be read. Never raises."""
    try:
        suffix = path.suffix.lower()
        if suffix not in tuple(suffixes) or not path.is_file() or path.stat().st_size > SNIFF_LIMIT:
            return None
        text = path.read_bytes().decode("utf-8-sig")
        if suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception:  # detect must never raise; extract reports the real error
        return None


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
    out: int | float = normalize_number(float(value))
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
                    used: Iterable[str], source: str | None = None) -> None:
    """Keep the members a mapping has and the vocabulary lacks as ``namespace.<name>`` (dicts flattened)."""
    skip = set(used)
    for name, raw in data.items():
        if name in skip:
            continue
        ptr = f"{pointer}/{escape(str(name))}"
        key = f"{namespace}.{name}"
        if isinstance(raw, dict) and raw:
            keep_namespaced(b, doc, key, raw, ptr, (), source)
        else:
            put(b, doc, key, normalize_json(raw), ptr, source)


def take_layer(b: ValueBuilder, values: Mapping[str, Value], source: str) -> None:
    """Fill keys still unset from a lower-precedence layer, marking the layer in ``Origin.source``."""
    for key, v in values.items():
        if key not in b.values:
            o = v.origin
            b.values[key] = Value(v.value, Origin(o.path, o.line, o.pointer, source), v.explicit, v.note)


def fill_defaults(b: ValueBuilder, defaults: Mapping[str, Default], source: str) -> None:
    """The engine's documented defaults for every key still unset."""
    b.fill_defaults(defaults, source)


def context_generation(options: ExtractOptions, kinds: tuple[str, ...] = ("hf-generation", "hf-model",
                                                                           "hf-config")) -> EffectiveConfig | None:
    """The first same-side config (in ``kinds`` order) holding explicit ``generation.*`` values."""
    for kind in kinds:
        for cfg in options.context:
            if cfg.kind == kind and any(k.startswith("generation.") and cfg.values[k].explicit for k in cfg.values):
                return cfg
    return None


def read_generation_config_json(folder: Path, keys: Mapping[str, str]) -> dict[str, Value]:
    """The ``keys`` (HF name -> canonical key) a local model folder's generation_config.json sets.

    Plain json: extractors never import each other. Invalid JSON raises ExtractionError with line:column.
    """
    path = folder / "generation_config.json"
    data, text = load_json(path)
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


#: A field table: the engine's name -> (canonical key, type: float | int | bool | strs | ints).
Fields = Mapping[str, tuple[str, str]]


def convert(doc: Document, pointer: str, raw: Any, typ: str) -> Any:
    """One raw value to the table's type, errors at the value's line."""
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


def apply_fields(b: ValueBuilder, doc: Document, data: Mapping[str, Any], base: str, table: Fields,
                 source: str, check: Any = None) -> set[str]:
    """Record every member of ``data`` that ``table`` names (nulls are "unset"); return the names used.

    ``check(name, value) -> str | None`` returns a rejection message (the engine's own validation)."""
    used: set[str] = set()
    for name, raw in data.items():
        if name not in table:
            continue
        used.add(name)
        if raw is None:
            continue
        key, typ = table[name]
        ptr = f"{base}/{escape(str(name))}"
        value = convert(doc, ptr, raw, typ)
        if check is not None:
            msg = check(name, value)
            if msg:
                raise ExtractionError(f"{name} {msg}, got {raw!r}", str(doc.path), doc.line(ptr))
        put(b, doc, key, value, ptr, source)
    return used


def greedy_derived(b: ValueBuilder, greedy: bool, anchor: str, why: str) -> None:
    """Record the effective ``generation.do_sample`` an engine derives (not a field it reads)."""
    v = b.values.get(anchor)
    origin = v.origin if v is not None else Origin(b.path)
    b.values["generation.do_sample"] = Value(not greedy, origin, False, f"derived: {why}")
