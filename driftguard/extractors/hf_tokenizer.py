"""Hugging Face ``tokenizer_config.json`` (transformers ``PreTrainedTokenizerBase``).

Canonical keys: ``preprocessing.max_length`` (``model_max_length``, legacy ``max_len``; the VERY_LARGE_INTEGER
sentinel 1000000000000000019884624838656 is kept exact and means "no limit"), ``preprocessing.padding_side``,
``preprocessing.truncation_side``, ``preprocessing.do_lower_case``, ``preprocessing.tokenizer_class``,
``preprocessing.add_bos_token``, ``preprocessing.add_eos_token``, ``preprocessing.model_input_names``.

Special tokens (``bos_token``, ``eos_token``, ``pad_token``...; a string or an AddedToken object) become
``hf.tokenizer.<name>`` holding the token's text, and ``hf.tokenizer.<name>_id`` when ``added_tokens_decoder``
maps that text to an id. ``additional_special_tokens`` is a list of texts. Everything else is kept as
``hf.tokenizer.<key>`` (nested objects as one JSON value).

The chat template: ``preprocessing.chat_template`` is ``keys.chat_template_digest`` of the template text
transformers uses: a ``chat_template.jinja`` beside ``tokenizer_config.json`` (it takes priority over the
config's entry in ``from_pretrained``), else the config's ``chat_template`` string, else, for named templates (a
list of ``{name, template}``), the one named ``default`` (what ``apply_chat_template`` uses without a name; none
without one). The text itself is kept as ``hf.tokenizer.chat_template`` (not compared: the digest is). Named
templates besides ``default`` and an ``additional_chat_templates/`` folder are not modelled.

No key is reported as unknown: tokenizer_config.json holds the tokenizer class's ``__init__`` arguments, and each
class takes its own (``BertTokenizer``'s ``tokenize_chinese_chars``, ``LlamaTokenizer``'s ``legacy``...), so no
closed set of fields exists to check a typo against without the class's code. A file must hold at least one key
``PreTrainedTokenizerBase`` reads or most tokenizer classes share (``engines.transformers_fields
.TOKENIZER_CONFIG_FIELDS``) besides ``tokenizer_class``, which config.json may hold too: anything else is another
product's file, an input error.

Defaults: ``engines.transformers.HF_TOKENIZER_DEFAULTS``; ``padding_side`` defaults to "left" for the tokenizer
families whose fast class says so (``engines.transformers.HF_TOKENIZER_LEFT_PADDING_FAMILIES``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftguard.engines.transformers import (
    HF_TOKENIZER_DEFAULTS,
    HF_TOKENIZER_LEFT_PADDING,
    HF_TOKENIZER_LEFT_PADDING_FAMILIES,
    HF_VERY_LARGE_INTEGER,
)
from driftguard.engines.transformers_fields import TOKENIZER_CONFIG_FIELDS
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.hf_common import (
    DEFAULT_OWNER,
    JsonDoc,
    load_object,
    read_bool,
    read_int,
    read_str,
    read_str_list,
    require_known,
    sniff_object,
)
from driftguard.keys import chat_template_digest
from driftguard.model import EffectiveConfig, Origin
from driftguard.normalize import normalize_json
from driftguard.readers import files

INFO = KindInfo(
    kind="hf-tokenizer",
    description="Hugging Face tokenizer_config.json (max length, padding/truncation side, special tokens)",
    role="either",
    rank=30,
    keeps=("hf",),
    defaults=HF_TOKENIZER_DEFAULTS,
    names=("tokenizer_config.json",),
)

FILE_NAME = "tokenizer_config.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
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
    require_known(doc, INFO.kind, "a tokenizer config", TOKENIZER_CONFIG_FIELDS - {"tokenizer_class"})
    builder = ValueBuilder(INFO.kind, path)
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

    _chat_template(builder, doc, path, options, used)

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
        builder.set_default("preprocessing.padding_side", HF_TOKENIZER_LEFT_PADDING,
                            default_of=DEFAULT_OWNER)
    builder.fill_defaults(HF_TOKENIZER_DEFAULTS, default_of=DEFAULT_OWNER)
    return builder.build()


def _chat_template(builder: ValueBuilder, doc: JsonDoc, path: Path, options: ExtractOptions,
                   used: set[str]) -> None:
    """``preprocessing.chat_template`` (the digest) and ``hf.tokenizer.chat_template`` (the text) from
    ``chat_template.jinja`` beside the config, or from the config's ``chat_template``."""
    jinja = path.parent / CHAT_TEMPLATE_FILE
    if path.name == FILE_NAME and files.exists(jinja) and not files.is_dir(jinja):
        files.confine(jinja, options.root_for(path), "chat template", origin=str(path))
        text = files.read_text(jinja, options.limits, "chat template")
        origin = Origin(str(jinja), 1, None, CHAT_TEMPLATE_FILE)
        note = f"{CHAT_TEMPLATE_FILE} beside {FILE_NAME} (transformers reads it over the config's chat_template)"
        builder.set_at("preprocessing.chat_template", chat_template_digest(text), origin, f"sha256 of {note}")
        builder.set_at("hf.tokenizer.chat_template", text, origin, note)
        builder.set_at("preprocessing.chat_template_text", text, origin, note)
        used.add("chat_template")
        return
    raw = doc.data.get("chat_template")
    template = raw if isinstance(raw, str) else _default_template(raw)
    if template is not None:
        builder.set("preprocessing.chat_template", chat_template_digest(template), doc.line("chat_template"),
                    "/chat_template", note="sha256 of the chat_template text" if isinstance(raw, str) else
                    "sha256 of the chat_template named 'default'")
        builder.set("preprocessing.chat_template_text", template, doc.line("chat_template"), "/chat_template")


def _default_template(raw: Any) -> str | None:
    """The ``default`` template of a named-template list (``[{"name", "template"}]``); None without one."""
    if not isinstance(raw, list):
        return None
    for entry in raw:
        if isinstance(entry, dict) and entry.get("name") == "default" and isinstance(entry.get("template"), str):
            return str(entry["template"])
    return None


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
