"""Hugging Face ``tokenizer_config.json`` (transformers ``PreTrainedTokenizerBase``).

Canonical keys: ``preprocessing.max_length`` (``model_max_length``, legacy ``max_len``; the VERY_LARGE_INTEGER
sentinel 1000000000000000019884624838656 is kept exact and means "no limit"), ``preprocessing.padding_side``,
``preprocessing.truncation_side``, ``preprocessing.do_lower_case``, ``preprocessing.tokenizer_class``,
``preprocessing.add_bos_token``, ``preprocessing.add_eos_token``, ``preprocessing.model_input_names``.

Special tokens (``bos_token``, ``eos_token``, ``pad_token``...; a string or an AddedToken object) become
``hf.tokenizer.<name>`` holding the token's text, and ``hf.tokenizer.<name>_id`` when ``added_tokens_decoder``
maps that text to an id. ``additional_special_tokens`` is a list of texts. Everything else, ``chat_template``
included, is kept as ``hf.tokenizer.<key>`` (nested objects as one JSON value).

Defaults: ``keys.HF_TOKENIZER_DEFAULTS``; ``padding_side`` defaults to "left" for the tokenizer families whose
fast class says so (``keys.HF_TOKENIZER_LEFT_PADDING_FAMILIES``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.extractors.hf_common import (
    DEFAULT_SOURCE,
    JsonDoc,
    load_object,
    read_bool,
    read_int,
    read_str,
    read_str_list,
    sniff_object,
)
from driftguard.keys import (
    HF_TOKENIZER_DEFAULTS,
    HF_TOKENIZER_LEFT_PADDING,
    HF_TOKENIZER_LEFT_PADDING_FAMILIES,
    HF_VERY_LARGE_INTEGER,
)
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_json

KIND = "hf-tokenizer"
DESCRIPTION = "Hugging Face tokenizer_config.json (max length, padding/truncation side, special tokens)"

FILE_NAME = "tokenizer_config.json"
SPECIAL_TOKENS = ("bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token")
_SIDES = ("left", "right")
_BOOLS = {"do_lower_case": "preprocessing.do_lower_case", "add_bos_token": "preprocessing.add_bos_token",
          "add_eos_token": "preprocessing.add_eos_token"}
_CONTENT_MARKERS = ("tokenizer_class", "model_max_length", "added_tokens_decoder")


def detect(path: Path, head: bytes) -> bool:
    """``tokenizer_config.json`` by name; otherwise a JSON object with tokenizer keys (``tokenizer_class``,
    ``model_max_length`` or ``added_tokens_decoder``) and no model keys."""
    if path.name == FILE_NAME:
        return path.is_file()
    data = sniff_object(path, head)
    return data is not None and "model_type" not in data and any(k in data for k in _CONTENT_MARKERS)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective tokenizer settings of one tokenizer_config.json."""
    doc = load_object(path, options.limits)
    builder = ValueBuilder(KIND, path)
    data = doc.data
    used: set[str] = set()

    def put(key: str, attr: str, value: Any, note: str | None = None) -> None:
        builder.set(key, value, doc.line(attr), f"/{attr}", note=note)
        used.add(attr)

    for attr in ("model_max_length", "max_len"):
        if data.get(attr) is not None:
            length = read_int(doc, attr, data[attr])
            put("preprocessing.max_length", attr, length,
                "VERY_LARGE_INTEGER: no limit" if length == HF_VERY_LARGE_INTEGER else None)
            break
    for attr in ("padding_side", "truncation_side"):
        if data.get(attr) is not None:
            side = read_str(doc, attr, data[attr])
            if side not in _SIDES:
                raise doc.error(attr, f"expected \"left\" or \"right\", got {side!r}")
            put(f"preprocessing.{attr}", attr, side)
    for attr, key in _BOOLS.items():
        if data.get(attr) is not None:
            put(key, attr, read_bool(doc, attr, data[attr]))
    tokenizer_class = data.get("tokenizer_class")
    if tokenizer_class is not None:
        put("preprocessing.tokenizer_class", "tokenizer_class", read_str(doc, "tokenizer_class", tokenizer_class))
    if data.get("model_input_names") is not None:
        put("preprocessing.model_input_names", "model_input_names",
            read_str_list(doc, "model_input_names", data["model_input_names"]))

    ids = _added_token_ids(doc)
    for attr in SPECIAL_TOKENS:
        if attr in data:
            text = _token_text(doc, attr, data[attr])
            put(f"hf.tokenizer.{attr}", attr, text)
            if text is not None and text in ids:
                builder.set(f"hf.tokenizer.{attr}_id", ids[text], doc.line(attr), f"/{attr}",
                            note="resolved through added_tokens_decoder")
    if isinstance(data.get("additional_special_tokens"), list):
        put("hf.tokenizer.additional_special_tokens", "additional_special_tokens",
            [_token_text(doc, "additional_special_tokens", t) for t in data["additional_special_tokens"]])
    for key, raw in data.items():
        if key not in used:
            builder.set(f"hf.tokenizer.{key}", normalize_json(raw), doc.line(key), f"/{key}")

    if isinstance(tokenizer_class, str) and tokenizer_class.removesuffix("Fast") in HF_TOKENIZER_LEFT_PADDING_FAMILIES:
        builder.set_default("preprocessing.padding_side", HF_TOKENIZER_LEFT_PADDING, DEFAULT_SOURCE)
    builder.fill_defaults(HF_TOKENIZER_DEFAULTS, DEFAULT_SOURCE)
    return builder.build()


def _token_text(doc: JsonDoc, attr: str, raw: Any) -> str | None:
    """A special token's text: a string, or the ``content`` of an AddedToken object; None when unset."""
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and isinstance(raw.get("content"), str):
        return str(raw["content"])
    raise doc.error(attr, "expected a token string or an AddedToken object with 'content'")


def _added_token_ids(doc: JsonDoc) -> dict[str, int]:
    """``added_tokens_decoder`` ({"id": {"content": text, ...}}) as text → id; bad entries are skipped."""
    table = doc.data.get("added_tokens_decoder")
    if not isinstance(table, dict):
        return {}
    out: dict[str, int] = {}
    for key, entry in table.items():
        # Token ids are small: a key too long for an id (or for int()) is a bad entry, skipped like the others.
        if isinstance(entry, dict) and isinstance(entry.get("content"), str) and str(key).isdigit() \
                and len(str(key)) <= 18:
            out.setdefault(entry["content"], int(key))
    return out
