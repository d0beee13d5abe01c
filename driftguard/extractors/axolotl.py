"""axolotl YAML: the config ``axolotl train FILE.yml`` (``accelerate launch -m axolotl.cli.train``) runs with.

axolotl validates the file with its pydantic schema (``src/axolotl/utils/schemas/``: ``AxolotlInputConfig``)
and resolves the dtype in ``utils/config/__init__.py`` (``resolve_dtype``). Canonical keys (defaults: the
schema's field defaults, cited in :data:`DEFAULTS`, defaults.md §21):

* ``base_model`` -> ``model.source``; ``revision_of_model`` -> ``model.revision``; ``lora_model_dir`` ->
  ``model.adapters`` (the adapter training starts from); ``adapter`` (lora/qlora; unset: the whole model is
  trained) -> ``model.adapter_type`` (``none`` when unset);
* ``sequence_len`` -> ``preprocessing.max_length`` (default 512);
* ``chat_template`` -> ``preprocessing.chat_template_name``; ``chat_template_jinja`` holding a template's text ->
  ``preprocessing.chat_template`` (its digest) and ``preprocessing.chat_template_text`` (a file name there is
  a path axolotl opens from its working directory: kept, not read);
* ``precision.compute`` as ``resolve_dtype`` decides: ``bf16: true`` or ``bfloat16`` -> bfloat16; else ``fp16``,
  ``float16`` or ``load_in_8bit`` -> float16; else float32. ``bf16: auto`` (the default) means bfloat16 when the
  training GPU supports it (``is_torch_bf16_gpu_available``), else float16: it depends on the machine, so the
  key is left unset rather than guessed, unless ``fp16: true`` decides it. ``tf32`` only lets float32 matmuls
  use TF32; it is kept as ``axolotl.tf32``;
* ``load_in_4bit``/``load_in_8bit`` -> ``precision.quantization`` bitsandbytes; ``gptq: true`` -> gptq.

axolotl's schema has no Medusa field (``medusa_num_heads`` was a fork's), so such a field is unknown. Every other
field is kept as ``axolotl.<name>``; a top-level field neither the schema nor a bundled integration declares
(pydantic drops it silently) is kept as ``axolotl.unknown_fields.<name>`` with the closest known name (DG304).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors import finetune_fields
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    boolean,
    flag_unknown,
    keep_namespaced,
    load_document,
    number,
    put,
    require_mapping,
    require_recognized,
    sniff,
)
from driftguard.keys import Default, chat_template_digest
from driftguard.model import EffectiveConfig

_AXO = "defaults.md §21 axolotl config schema (AXO)"

#: The schema defaults every axolotl config gets (AXO names the files and commit).
DEFAULTS: dict[str, Default] = {
    "preprocessing.max_length": Default(512, _AXO + " schemas/config.py AxolotlInputConfig.sequence_len"),
    "model.adapter_type": Default("none", _AXO + " schemas/peft.py LoraConfig.adapter (None: no adapter)"),
}

INFO = KindInfo(
    kind="axolotl",
    description="axolotl training YAML: base model, adapter, sequence_len, precision, quantization, chat template",
    role="training",
    rank=50,
    namespaces=("model", "preprocessing", "precision"),
    keeps=("axolotl",),
    defaults=DEFAULTS,
)

KNOWN = finetune_fields.AXOLOTL_FIELDS | finetune_fields.AXOLOTL_PLUGIN_FIELDS
_UNKNOWN_WHY = ("not a field of axolotl's config schema or of a bundled integration: pydantic drops it "
                f"({finetune_fields.AXOLOTL_SOURCE})")
_SOURCE = "axolotl"
#: Template text, not a file name: axolotl reads a file only when the string names an existing one.
_JINJA_MARKS = ("{%", "{{", "\n")


def detect(path: Path, head: bytes) -> bool:
    """A YAML mapping with ``base_model`` and ``datasets``, ``sequence_len`` or ``adapter``."""
    data = sniff(path, head, (".yaml", ".yml"))
    return isinstance(data, dict) and "base_model" in data and \
        any(k in data for k in ("datasets", "sequence_len", "adapter"))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "an axolotl config")
    require_recognized(doc, INFO.kind, "axolotl config schema", data, KNOWN)
    if data.get("base_model") is None:  # a required field of the schema (ModelInputConfig.base_model)
        raise ExtractionError("not an axolotl file: it has no base_model, which axolotl's schema requires",
                              str(doc.path), doc.line("") or 1)
    b = ValueBuilder(INFO.kind, path)
    used = flag_unknown(b, doc, "axolotl", _UNKNOWN_WHY, data, "", KNOWN, _SOURCE)
    used |= _model(b, doc, data)
    used |= _template(b, doc, data)
    if data.get("sequence_len") is not None:
        put(b, doc, "preprocessing.max_length", number(doc, "/sequence_len", data["sequence_len"], integer=True),
            "/sequence_len", _SOURCE)
    used.add("sequence_len")
    _compute(b, doc, data)
    _quantization(b, doc, data)
    keep_namespaced(b, doc, "axolotl", data, "", used, _SOURCE)
    b.fill_defaults(DEFAULTS, default_of="axolotl")
    return b.build()


def _model(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> set[str]:
    for name, key in (("base_model", "model.source"), ("revision_of_model", "model.revision"),
                      ("adapter", "model.adapter_type")):
        if data.get(name) is not None:
            put(b, doc, key, _text(doc, name, data[name]), f"/{name}", _SOURCE)
    if data.get("lora_model_dir") is not None:
        put(b, doc, "model.adapters", [_text(doc, "lora_model_dir", data["lora_model_dir"])], "/lora_model_dir",
            _SOURCE)
    return {"base_model", "revision_of_model", "adapter", "lora_model_dir"}


def _template(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> set[str]:
    """The chat template: a name, or the text of ``chat_template_jinja`` (digest and text)."""
    name = data.get("chat_template")
    if name is not None and name != "jinja":
        put(b, doc, "preprocessing.chat_template_name", _text(doc, "chat_template", name), "/chat_template", _SOURCE)
    jinja = data.get("chat_template_jinja")
    if isinstance(jinja, str) and name in (None, "jinja") and any(m in jinja for m in _JINJA_MARKS):
        put(b, doc, "preprocessing.chat_template", chat_template_digest(jinja), "/chat_template_jinja", _SOURCE,
            "chat_template_jinja: the template's text")
        put(b, doc, "preprocessing.chat_template_text", jinja, "/chat_template_jinja", _SOURCE)
        return {"chat_template", "chat_template_jinja"}
    return {"chat_template"}


def _compute(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> None:
    """``precision.compute`` as ``resolve_dtype`` decides it, where the file alone decides it."""
    bf16 = data.get("bf16", "auto")
    flags = {name: bool(_flag(doc, name, data.get(name))) for name in ("fp16", "bfloat16", "float16", "load_in_8bit")}
    if bf16 is not None and bf16 != "auto":
        bf16 = _flag(doc, "bf16", bf16)
    if bf16 is True or flags["bfloat16"]:
        name = "bf16" if bf16 is True else "bfloat16"
        put(b, doc, "precision.compute", "bfloat16", f"/{name}", _SOURCE, f"{name}: true (resolve_dtype)")
        return
    if bf16 == "auto" and not flags["fp16"]:
        return  # the GPU decides: bfloat16 where supported, else float16
    for name in ("fp16", "float16", "load_in_8bit"):
        if flags[name]:
            put(b, doc, "precision.compute", "float16", f"/{name}", _SOURCE, f"{name}: true (resolve_dtype)")
            return
    anchor = "/bf16" if "bf16" in data else "/fp16" if "fp16" in data else ""
    put(b, doc, "precision.compute", "float32", anchor, _SOURCE,
        "bf16, fp16, bfloat16, float16 and load_in_8bit all off: float32 (resolve_dtype)")


def _quantization(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> None:
    for name, scheme in (("gptq", "gptq"), ("load_in_4bit", "bitsandbytes"), ("load_in_8bit", "bitsandbytes")):
        if _flag(doc, name, data.get(name)):
            put(b, doc, "precision.quantization", scheme, f"/{name}", _SOURCE, f"{name}: true")
            return


def _flag(doc: Document, name: str, raw: Any) -> bool | None:
    return None if raw is None else boolean(doc, f"/{name}", raw)


def _text(doc: Document, name: str, raw: Any) -> str:
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise ExtractionError(f"{name} must be a string, got {raw!r}", str(doc.path), doc.line(f"/{name}"))
    return str(raw)
