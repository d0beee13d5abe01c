"""Hugging Face ``config.json`` (transformers ``PretrainedConfig``), plus its companions PEFT
``adapter_config.json`` and AutoGPTQ ``quantize_config.json``.

Canonical keys: ``model.architecture`` (``architectures[0]``), ``model.type``, ``model.vocab_size``,
``model.hidden_size``, ``model.num_layers``, ``model.num_attention_heads``, ``model.max_position_embeddings``
(each from the first of its aliases present, named in the value's note), ``model.num_labels`` (``num_labels`` or
``len(id2label)``), ``precision.weights`` (``torch_dtype``/``dtype``) and ``precision.quantization``
(``quantization_config.quant_method``).

Everything else is kept as ``hf.config.<top-level key>``, nested objects as one JSON value (normalized numbers),
on the line of their top-level key. That includes the legacy generation keys (``eos_token_id``, ``max_length``,
``num_beams``...): transformers' ``generate()`` uses generation_config.json when it exists, so they are not
``generation.*`` here (``hf-model`` promotes them when generation_config.json is absent, as
``GenerationConfig.from_model_config`` does). ``hf.config.eos_token_id`` is a sorted list like
``generation.eos_token_id``, so a consistency rule can compare the two. No defaults are filled:
``PretrainedConfig``'s defaults are not in the reference.

The field set of a config.json is open (each model class adds its own attributes), so no key is reported as unknown;
but a file must hold at least one attribute every ``PretrainedConfig`` has or one this kind maps
(``engines.transformers_fields.CONFIG_FIELDS``) other than those a generation or tokenizer config holds too (the
legacy generation attributes, ``transformers_version``, ``tokenizer_class``), an adapter config one PEFT field
(``peft_type``, ``r``, ``target_modules``...), a quantize config one AutoGPTQ field (``bits``, ``group_size``...):
anything else is another product's file, an input error.

``adapter_config.json`` keys go to ``hf.adapter.<key>``; ``quantize_config.json`` keys to ``hf.quantize.<key>``
with ``precision.quantization`` from its ``quant_method`` (``gptq`` when the AutoGPTQ file does not say).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftguard.engines.transformers_fields import CONFIG_FIELDS, GENERATION_CONFIG_FIELDS
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.hf_common import (
    JsonDoc,
    load_object,
    read_int,
    read_str,
    read_token_ids,
    require_known,
    sniff_object,
)
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype, normalize_json

INFO = KindInfo(
    kind="hf-config",
    description="Hugging Face config.json (model architecture, sizes, dtype, quantization); adapter/quantize configs",
    role="either",
    rank=20,
    keeps=("hf",),
    engine_loads=True,
    names=("adapter_config.json", "quantize_config.json"),
)

FILE_NAME = "config.json"
ADAPTER_FILE = "adapter_config.json"
QUANTIZE_FILE = "quantize_config.json"

#: canonical key → config.json attributes that spell it, first present wins (model families differ).
_ALIASES: dict[str, tuple[str, ...]] = {
    "model.vocab_size": ("vocab_size",),
    "model.hidden_size": ("hidden_size", "d_model", "n_embd", "dim"),
    "model.num_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "encoder_layers"),
    "model.num_attention_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads",
                                  "encoder_attention_heads"),
    "model.max_position_embeddings": ("max_position_embeddings", "n_positions", "max_target_positions",
                                      "n_ctx", "max_seq_len", "seq_length"),
}
_MARKERS = ("model_type", "architectures", "transformers_version")
#: Attributes other Hugging Face files hold too (tokenizer_config.json's ``tokenizer_class``): with the legacy
#: generation attributes, they do not tell a config.json from a generation or tokenizer config.
_SHARED = frozenset(("tokenizer_class", "_name_or_path", "_commit_hash"))
#: flavor -> (what it is, the fields that show a file is one): PEFT ``PeftConfig``/``LoraConfig`` fields,
#: AutoGPTQ ``BaseQuantizeConfig`` fields.
_RECOGNIZED: dict[str, tuple[str, frozenset[str]]] = {
    "config": ("a transformers PretrainedConfig", CONFIG_FIELDS - GENERATION_CONFIG_FIELDS - _SHARED
               | {"medusa_num_heads", "medusa_num_layers"}),  # a Medusa heads' MedusaConfig (see MEDUSA_HEADS)
    "adapter": ("a PEFT adapter config", frozenset((
        "peft_type", "base_model_name_or_path", "task_type", "inference_mode", "r", "lora_alpha", "lora_dropout",
        "target_modules", "modules_to_save", "bias", "fan_in_fan_out", "revision"))),
    "quantize": ("an AutoGPTQ quantize config", frozenset((
        "bits", "group_size", "desc_act", "sym", "true_sequential", "damp_percent", "static_groups",
        "model_name_or_path", "model_file_base_name", "quant_method", "checkpoint_format"))),
}
#: Top-level member pairs of a TensorRT-LLM engine config.json (kind ``tensorrt-llm-engine``), never a
#: transformers config.
_ENGINE_SHAPES = (("pretrained_config", "build_config"), ("builder_config", "plugin_config"))


def detect(path: Path, head: bytes) -> bool:
    """A JSON object that looks like transformers' config.json (``model_type``, or ``config.json`` with
    ``architectures``/``transformers_version``), a PEFT adapter config (``peft_type``) or an AutoGPTQ quantize
    config (``bits`` and ``group_size``). Triton/vLLM ``model.json`` has none of these, and a TensorRT-LLM engine
    config.json (``pretrained_config`` + ``build_config``, or ``builder_config`` + ``plugin_config``) is not one."""
    data = sniff_object(path, head)
    if data is None or "_from_model_config" in data or any(a in data and b in data for a, b in _ENGINE_SHAPES):
        return False
    if path.name == FILE_NAME and any(k in data for k in _MARKERS):
        return True
    return isinstance(data.get("model_type"), str) or _flavor(path, data) != "config"


def _flavor(path: Path, data: dict[str, Any]) -> str:
    """``adapter``, ``quantize`` or ``config``: by file name, else by content."""
    if path.name == ADAPTER_FILE or ("peft_type" in data and "model_type" not in data):
        return "adapter"
    if path.name == QUANTIZE_FILE or ("bits" in data and "group_size" in data and "model_type" not in data):
        return "quantize"
    return "config"


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective values of one config.json (or adapter_config.json / quantize_config.json)."""
    doc = load_object(path, options.limits)
    builder = ValueBuilder(INFO.kind, path)
    flavor = _flavor(path, doc.data)
    require_known(doc, INFO.kind, *_RECOGNIZED[flavor])
    if flavor == "adapter":
        _base(builder, doc)
        _namespaced(builder, doc, "hf.adapter", set())
    elif flavor == "quantize":
        _quantize(builder, doc)
    else:
        _config(builder, doc)
    return builder.build()


def _config(builder: ValueBuilder, doc: JsonDoc) -> None:
    data = doc.data
    used: set[str] = set()

    def put(key: str, attr: str, value: Any, note: str | None = None) -> None:
        builder.set(key, value, doc.line(attr), f"/{attr}", note=note)
        used.add(attr)

    archs = data.get("architectures")
    if archs is not None:
        if not isinstance(archs, list) or not all(isinstance(a, str) for a in archs):
            raise doc.error("architectures", "expected a list of class names")
        if archs:
            builder.set("model.architecture", archs[0], doc.line("architectures"), "/architectures/0")
        if len(archs) <= 1:
            used.add("architectures")
    if data.get("model_type") is not None:
        put("model.type", "model_type", read_str(doc, "model_type", data["model_type"]))
    for key, aliases in _ALIASES.items():
        for attr in aliases:
            if data.get(attr) is not None:
                put(key, attr, read_int(doc, attr, data[attr]), None if attr == aliases[0] else f"from '{attr}'")
                break
    if data.get("num_labels") is not None:
        put("model.num_labels", "num_labels", read_int(doc, "num_labels", data["num_labels"]))
    elif isinstance(data.get("id2label"), dict):
        builder.set("model.num_labels", len(data["id2label"]), doc.line("id2label"), "/id2label",
                    note="len(id2label)")
    for attr in ("torch_dtype", "dtype"):
        raw = data.get(attr)
        if raw is not None:
            dtype = normalize_dtype(read_str(doc, attr, raw))
            if dtype is None:
                if raw == "auto":
                    break  # "auto": the dtype of the checkpoint; nothing to state here
                raise doc.error(attr, f"unknown dtype {raw!r}")
            put("precision.weights", attr, dtype)
            break
    quant = data.get("quantization_config")
    if isinstance(quant, dict) and quant.get("quant_method") is not None:
        method = read_str(doc, "quantization_config", quant["quant_method"]).lower()
        builder.set("precision.quantization", method, doc.line("quantization_config"),
                    "/quantization_config/quant_method")
    if data.get("eos_token_id") is not None:
        put("hf.config.eos_token_id", "eos_token_id", read_token_ids(doc, "eos_token_id", data["eos_token_id"]))
    if data.get(MEDUSA_HEADS) is not None:  # Medusa heads: MedusaConfig(PretrainedConfig)
        put("model.speculative.num_heads", MEDUSA_HEADS, read_int(doc, MEDUSA_HEADS, data[MEDUSA_HEADS]))
        _base(builder, doc)
    _namespaced(builder, doc, "hf.config", used)


def _quantize(builder: ValueBuilder, doc: JsonDoc) -> None:
    raw = doc.data.get("quant_method")
    method = read_str(doc, "quant_method", raw).lower() if raw is not None else "gptq"
    builder.set("precision.quantization", method, doc.line("quant_method") or 1, "/quant_method",
                note=None if raw is not None else "AutoGPTQ quantize_config.json without quant_method: gptq")
    _namespaced(builder, doc, "hf.quantize", set())


#: The heads a Medusa config.json adds and the base they were trained on (FasterDecoding/Medusa@60eeab92e98a
#: medusa/model/medusa_model.py MedusaConfig: medusa_num_heads, base_model_name_or_path).
MEDUSA_HEADS = "medusa_num_heads"
#: The base checkpoint a PEFT adapter (PeftConfig.base_model_name_or_path) or Medusa heads were trained on.
BASE_MODEL = "base_model_name_or_path"


def _base(builder: ValueBuilder, doc: JsonDoc) -> None:
    """``model.base``: what the adapter or heads were trained on, as written (the field stays under ``hf.*``)."""
    raw = doc.data.get(BASE_MODEL)
    if isinstance(raw, str) and raw.strip():
        builder.set("model.base", raw, doc.line(BASE_MODEL), f"/{BASE_MODEL}")


def _namespaced(builder: ValueBuilder, doc: JsonDoc, namespace: str, used: set[str]) -> None:
    for key, raw in doc.data.items():
        if key not in used:
            builder.set(f"{namespace}.{key}", normalize_json(raw), doc.line(key), f"/{key}")
