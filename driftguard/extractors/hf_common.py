"""What the Hugging Face JSON extractors share: loading a JSON object with key lines, typed readers that fail
with the key and line, sniffing content for ``detect``, and the GenerationConfig field map (used by
``hf-generation`` for generation_config.json and by ``hf-model`` when it rebuilds the generation config from
config.json, as transformers' ``GenerationConfig.from_model_config`` does)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftguard.engines import transformers as transformers_engine
from driftguard.engines.transformers import HF_GENERATION_DEFAULTS, TRANSFORMERS_DEFAULTS_VERSION
from driftguard.engines.transformers_fields import GENERATION_CONFIG_FIELDS, MODEL_GENERATION_FIELDS
from driftguard.errors import DriftguardError, ExtractionError
from driftguard.extractors.base import (
    UNKNOWN_FIELDS,
    ValueBuilder,
    ignored_note,
    json_key_lines,
    load_json,
    require_recognized,
)
from driftguard.normalize import normalize_json, normalize_number
from driftguard.readers import documents
from driftguard.readers.limits import DEFAULT, Limits, capped

#: Whose default a filled transformers default is (``Origin.default_of``; ``Origin.source`` is ``<it> default``).
DEFAULT_OWNER = f"transformers {TRANSFORMERS_DEFAULTS_VERSION}"

#: Files larger than this are not parsed by ``sniff_object`` (detection must stay cheap).
_SNIFF_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class JsonDoc:
    """A parsed JSON object with the line of each top-level key."""

    path: Path
    data: dict[str, Any]
    lines: dict[str, int]

    def line(self, key: str) -> int | None:
        return self.lines.get(key)

    def error(self, key: str, message: str) -> ExtractionError:
        """An ExtractionError naming the key and its line."""
        return ExtractionError(f"'{key}': {message}", str(self.path), self.line(key))


def load_object(path: Path, limits: Limits = DEFAULT) -> JsonDoc:
    """Parse a JSON file (within ``limits``) whose top level must be an object; ExtractionError (file, line,
    column) or LimitError otherwise."""
    data, text = load_json(path, limits)
    if not isinstance(data, dict):
        stripped = text.lstrip("\ufeff \t\r\n")
        offset = len(text) - len(stripped)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise ExtractionError(f"top level must be a JSON object, got {_json_type(data)}", str(path), line, column)
    return JsonDoc(path, data, json_key_lines(text))


def sniff_object(path: Path, head: bytes, limits: Limits = DEFAULT) -> dict[str, Any] | None:
    """The JSON object in a small ``.json`` file, for content detection; None when it is anything else.

    Never raises for bad input: detection must not fail on it (extraction reports it with a line). The read is
    bounded like any other (``readers.documents``), and by ``_SNIFF_LIMIT`` bytes.
    """
    if path.suffix.lower() != ".json" or not head.lstrip().startswith((b"{", b"\xef")):
        return None
    small = capped(limits, "file_bytes", _SNIFF_LIMIT)
    return documents.sniffed(("object", str(path), small, len(head) < 4096), lambda: _sniff_object(path, head, small))


def _sniff_object(path: Path, head: bytes, small: Limits) -> dict[str, Any] | None:
    try:
        if len(head) < 4096:
            data = documents.loads_json(head.decode("utf-8-sig"), str(path), small)
        else:
            data, _ = documents.load_json(path, small)
    except (DriftguardError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def require_known(doc: JsonDoc, kind: str, what: str, known: frozenset[str]) -> None:
    """``base.require_recognized`` for a Hugging Face JSON object: one of its keys must be in ``known``."""
    require_recognized(doc.path, kind, what, doc.data, known, 1)


def _json_type(raw: Any) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, (int, float)):
        return "a number"
    if isinstance(raw, str):
        return "a string"
    if isinstance(raw, list):
        return "an array"
    return "an object"


def _shown(raw: Any) -> str:
    text = json.dumps(raw)
    return text if len(text) <= 40 else text[:37] + "..."


# --- typed readers: each returns the normalized value or raises naming the key and line ------------------

def read_float(doc: JsonDoc, key: str, raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise doc.error(key, f"expected a number, got {_json_type(raw)} {_shown(raw)}")
    return normalize_number(raw)  # 1.0 and 1 are one spelling


def read_int(doc: JsonDoc, key: str, raw: Any) -> int:
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise doc.error(key, f"expected an integer, got {_json_type(raw)} {_shown(raw)}")
    return raw


def read_bool(doc: JsonDoc, key: str, raw: Any) -> bool:
    # A string such as "false" is truthy in Python, so transformers would treat it as True: refuse it.
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    raise doc.error(key, f"expected true or false, got {_json_type(raw)} {_shown(raw)}")


def read_str(doc: JsonDoc, key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise doc.error(key, f"expected a string, got {_json_type(raw)} {_shown(raw)}")
    return raw


def read_token_ids(doc: JsonDoc, key: str, raw: Any) -> list[int]:
    """An int or list of ints (``eos_token_id``) as a sorted list without duplicates: the ids form a set."""
    items = raw if isinstance(raw, list) else [raw]
    ids = {read_int(doc, key, item) for item in items}
    return sorted(ids)


def read_token_id(doc: JsonDoc, key: str, raw: Any) -> int | list[int]:
    """A single token id; a list (multilingual ``decoder_start_token_id``) is kept as a list of ints."""
    if isinstance(raw, list):
        return [read_int(doc, key, item) for item in raw]
    return read_int(doc, key, raw)


def read_str_list(doc: JsonDoc, key: str, raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    return [read_str(doc, key, item) for item in items]


def read_early_stopping(doc: JsonDoc, key: str, raw: Any) -> bool | str:
    if raw == "never":
        return "never"
    if isinstance(raw, bool):
        return raw
    raise doc.error(key, f"expected true, false or \"never\", got {_json_type(raw)} {_shown(raw)}")


def read_stop_strings(doc: JsonDoc, key: str, raw: Any) -> list[str]:
    return sorted(set(read_str_list(doc, key, raw)))


_READERS = {
    "float": read_float, "int": read_int, "bool": read_bool, "ids": read_token_ids, "id": read_token_id,
    "early_stopping": read_early_stopping, "stop": read_stop_strings,
}

#: GenerationConfig attribute → (canonical key, reader), from the transformers spec (``engines.transformers``).
#: Attributes not listed are kept as ``hf.generation.*``.
GENERATION_FIELDS: dict[str, tuple[str, str]] = {
    name: (f.key, f.type) for name, f in transformers_engine.FIELDS.items()}

#: Every key a generation_config.json may hold that transformers 4.57.6 reads: GenerationConfig's own attributes
#: and those a model's own ``generate()`` reads (Whisper's ``lang_to_id``...); ``engines.transformers_fields``.
KNOWN_GENERATION_FIELDS = GENERATION_CONFIG_FIELDS | MODEL_GENERATION_FIELDS
#: Why a key outside ``KNOWN_GENERATION_FIELDS`` is reported (DG304).
IGNORED_WHY = ("not a GenerationConfig field (transformers 4.57.6 keeps it as an attribute generate() never "
               "reads)")

#: What ``null`` means where it differs from "unset": transformers 4.x disables top-k when it is None.
_NULL_MEANS = {"top_k": (0, "null: top-k disabled (transformers 4.57.6 skips top-k when None; 5.x would fill 50)")}


def read_generation_field(doc: JsonDoc, key: str, raw: Any) -> Any:
    """The normalized value of one GenerationConfig attribute (``key`` must be in GENERATION_FIELDS)."""
    kind = GENERATION_FIELDS[key][1]
    value = _READERS[kind](doc, key, raw)
    if key == "top_k" and isinstance(value, int) and value < 0:
        value = 0  # a negative top_k disables it like 0 (vLLM's -1 convention); one spelling
    return value


def add_generation_fields(builder: ValueBuilder, doc: JsonDoc, data: dict[str, Any] | None = None,
                          pointer_prefix: str = "", line: int | None = None, source: str | None = None,
                          keep_unknown: bool = True, only_missing: bool = False) -> None:
    """Map GenerationConfig attributes of ``data`` (default: the document) onto ``generation.*`` keys.

    ``null`` means unset (the default applies), except where ``_NULL_MEANS`` says otherwise. Attributes
    outside the vocabulary go to ``hf.generation.<key>`` when ``keep_unknown``. ``only_missing`` leaves keys
    already set alone (used for config.json's ``text_config``/``decoder`` fallback). ``line`` overrides the
    per-key line (for nested objects, whose keys have no line of their own).
    """
    items = doc.data if data is None else data
    for key, raw in items.items():
        at = line if line is not None else doc.line(key)
        pointer = f"{pointer_prefix}/{key}"
        field_ = GENERATION_FIELDS.get(key)
        if field_ is None:
            if keep_unknown and key in KNOWN_GENERATION_FIELDS:
                builder.set(f"hf.generation.{key}", normalize_json(raw), at, pointer, source)
            elif keep_unknown:
                builder.set(f"hf.generation.{UNKNOWN_FIELDS}.{key}", normalize_json(raw), at, pointer, source,
                            ignored_note(IGNORED_WHY, key, KNOWN_GENERATION_FIELDS))
            continue
        canonical = field_[0]
        if only_missing and canonical in builder.values:
            continue
        if raw is None:
            if key in _NULL_MEANS:
                value, note = _NULL_MEANS[key]
                builder.set(canonical, value, at, pointer, source, note)
            elif canonical in HF_GENERATION_DEFAULTS:
                default = HF_GENERATION_DEFAULTS[canonical]
                builder.values.pop(canonical, None)  # null after a value: the last member wins, as json does
                builder.set_default(canonical, default, source, line=at, pointer=pointer,
                                    note=f"null: unset, the default applies; {default.source}")
            continue
        builder.set(canonical, read_generation_field(doc, key, raw), at, pointer, source)


def fill_generation_defaults(builder: ValueBuilder, skip: tuple[str, ...] = ()) -> None:
    """Fill the documented transformers GenerationConfig defaults for keys still unset (but ``skip``)."""
    builder.fill_defaults({k: d for k, d in HF_GENERATION_DEFAULTS.items() if k not in skip}, default_of=DEFAULT_OWNER)
