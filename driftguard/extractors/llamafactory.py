"""LLaMA-Factory YAML: the one file ``llamafactory-cli train|chat|api|webchat|export|eval FILE.yaml`` runs with.

LLaMA-Factory parses the file's top level with transformers' ``HfArgumentParser`` into its argument dataclasses
(``src/llamafactory/hparams/``: ``ModelArguments``, ``DataArguments``, ``FinetuningArguments``,
``GeneratingArguments``, and for ``train`` its ``TrainingArguments``, which extend transformers'
``Seq2SeqTrainingArguments``). What a file configures depends on the command that reads it, which the file's
fields tell (recorded as ``llamafactory.command``, derived): a training field (``do_train``, ``output_dir``,
``learning_rate``, ...) means ``train``; ``export_dir`` means ``export``; ``task`` means ``eval``; otherwise it
is an inference file for ``chat``/``api``/``webchat``, which serve the model with ``infer_backend``: such a file
belongs to the deployment side of a check (``init`` places it by its folder: the kind's role is ``either``).

Canonical keys (defaults: the dataclass field defaults, cited in :data:`DEFAULTS`, defaults.md §20):

* ``model_name_or_path`` -> ``model.source``; ``model_revision`` -> ``model.revision``;
  ``adapter_name_or_path`` -> ``model.adapters`` (comma-separated, as ``ModelArguments.__post_init__`` splits it);
  ``finetuning_type`` (lora/oft/freeze/full) -> ``model.adapter_type``;
* ``template`` -> ``preprocessing.chat_template_name`` and ``preprocessing.chat_template_applied`` (true, but
  for pre-training, ``stage: pt``, which feeds raw text; not stated by an export); ``cutoff_len`` ->
  ``preprocessing.max_length`` for ``train`` (the training truncation; chat/api never read it);
* ``bf16``/``pure_bf16`` -> ``precision.compute`` ``bfloat16``, else ``fp16`` -> ``float16`` (parser.py's
  ``compute_dtype``; neither: LLaMA-Factory infers it from the model and device, so it is left unset);
  ``infer_dtype`` (not ``auto``) -> ``precision.compute`` outside ``train``;
* ``quantization_bit`` with ``quantization_method`` -> ``precision.quantization`` (on-the-fly quantization;
  ``bnb`` is bitsandbytes); without ``quantization_bit`` the model's own config decides (a GPTQ checkpoint);
* ``infer_backend`` vllm: ``vllm_maxlen`` -> ``serving.max_model_len``; sglang: ``sglang_maxlen``;
* ``GeneratingArguments`` -> ``generation.*``, with LLaMA-Factory's own defaults (temperature 0.95, top_p 0.7,
  sampling on: not transformers'). ``max_length`` is dropped by ``GeneratingArguments.to_dict`` whenever
  ``max_new_tokens`` is positive (it is by default), so it is kept as ``llamafactory.max_length`` then.

Every other field is kept as ``llamafactory.<name>``. A field none of LLaMA-Factory's parsers defines (its
``HfArgumentParser`` refuses the file) is kept as ``llamafactory.unknown_fields.<name>`` with the closest known
name (rule DG304). The field list is data (``finetune_fields``, with its source).
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
    escape,
    flag_unknown,
    keep_namespaced,
    load_document,
    number,
    put,
    require_mapping,
    require_recognized,
    sniff,
)
from driftguard.keys import Default
from driftguard.model import EffectiveConfig, Origin
from driftguard.normalize import normalize_dtype, normalize_quantization

_LF = "defaults.md §20 LLaMA-Factory argument dataclasses (LF)"

#: The defaults of every LLaMA-Factory file (dataclass field defaults; LF names the file and commit).
DEFAULTS: dict[str, Default] = {
    "model.adapter_type": Default("lora", _LF + " finetuning_args.py FinetuningArguments.finetuning_type"),
    "model.revision": Default("main", _LF + " model_args.py BaseModelArguments.model_revision"),
    "generation.do_sample": Default(True, _LF + " generating_args.py GeneratingArguments.do_sample"),
    "generation.temperature": Default(0.95, _LF + " generating_args.py GeneratingArguments.temperature"),
    "generation.top_p": Default(0.7, _LF + " generating_args.py GeneratingArguments.top_p"),
    "generation.top_k": Default(50, _LF + " generating_args.py GeneratingArguments.top_k"),
    "generation.num_beams": Default(1, _LF + " generating_args.py GeneratingArguments.num_beams"),
    "generation.max_new_tokens": Default(1024, _LF + " generating_args.py GeneratingArguments.max_new_tokens"),
    "generation.repetition_penalty": Default(1.0, _LF + " generating_args.py GeneratingArguments.repetition_penalty"),
    "generation.length_penalty": Default(1.0, _LF + " generating_args.py GeneratingArguments.length_penalty"),
}

#: Defaults of ``train`` files only: the training truncation.
LLAMAFACTORY_TRAIN_DEFAULTS: dict[str, Default] = {
    "preprocessing.max_length": Default(2048, _LF + " data_args.py DataArguments.cutoff_len"),
}

#: Defaults of inference files served by vLLM (``infer_backend: vllm``): the context vllm_engine.py passes.
LLAMAFACTORY_VLLM_DEFAULTS: dict[str, Default] = {
    "serving.max_model_len": Default(4096, _LF + " model_args.py VllmArguments.vllm_maxlen"),
}

#: Defaults of inference files served by SGLang (``infer_backend: sglang``).
LLAMAFACTORY_SGLANG_DEFAULTS: dict[str, Default] = {
    "serving.max_model_len": Default(4096, _LF + " model_args.py SGLangArguments.sglang_maxlen"),
}

INFO = KindInfo(
    kind="llamafactory",
    description="LLaMA-Factory train/inference/export YAML (llamafactory-cli): model, adapters, template, "
                "cutoff_len, precision, generating arguments",
    role="either",
    rank=50,
    namespaces=("model", "preprocessing", "precision", "generation", "serving"),
    keeps=("llamafactory",),
    defaults=DEFAULTS,
)

#: Every field some LLaMA-Factory parser accepts (its own dataclasses and Seq2SeqTrainingArguments).
KNOWN = finetune_fields.LLAMAFACTORY_FIELDS | finetune_fields.SEQ2SEQ_FIELDS
_UNKNOWN_WHY = ("not a field of LLaMA-Factory's argument dataclasses: its HfArgumentParser refuses the file "
                f"({finetune_fields.LLAMAFACTORY_SOURCE}; {finetune_fields.SEQ2SEQ_SOURCE})")
#: Fields only ``llamafactory-cli train`` reads: transformers' training arguments and LLaMA-Factory's additions.
_TRAIN_ONLY = finetune_fields.SEQ2SEQ_FIELDS - finetune_fields.LLAMAFACTORY_FIELDS - {"seed"}

#: GeneratingArguments field -> (canonical key, type).
GENERATION: dict[str, tuple[str, str]] = {
    "do_sample": ("generation.do_sample", "bool"),
    "temperature": ("generation.temperature", "float"),
    "top_p": ("generation.top_p", "float"),
    "top_k": ("generation.top_k", "int"),
    "num_beams": ("generation.num_beams", "int"),
    "max_new_tokens": ("generation.max_new_tokens", "int"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "length_penalty": ("generation.length_penalty", "float"),
}
_BACKEND_LEN = {"vllm": ("vllm_maxlen", LLAMAFACTORY_VLLM_DEFAULTS),
                "sglang": ("sglang_maxlen", LLAMAFACTORY_SGLANG_DEFAULTS)}
_SOURCE = "llamafactory"


def detect(path: Path, head: bytes) -> bool:
    """A YAML mapping with ``model_name_or_path`` and ``template``, ``stage`` or ``finetuning_type``: the pair
    only LLaMA-Factory files have (``model_name_or_path`` alone is every Hugging Face script's argument)."""
    data = sniff(path, head, (".yaml", ".yml"))
    return isinstance(data, dict) and "model_name_or_path" in data and \
        any(k in data for k in ("template", "stage", "finetuning_type"))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "a LLaMA-Factory config")
    require_recognized(doc, INFO.kind, "LLaMA-Factory argument dataclass", data, KNOWN)
    if data.get("model_name_or_path") is None:  # BaseModelArguments.__post_init__ refuses every command without it
        raise ExtractionError("not a llamafactory file: it has no model_name_or_path, which every LLaMA-Factory "
                              "command requires", str(doc.path), doc.line("") or 1)
    b = ValueBuilder(INFO.kind, path)
    command = _command(b, doc, data)
    used = flag_unknown(b, doc, "llamafactory", _UNKNOWN_WHY, data, "", KNOWN, _SOURCE)
    used |= _model(b, doc, data)
    _chat_template_applied(b, doc, data, command)
    _precision(b, doc, data, command)
    used |= _generation(b, doc, data)
    used |= _serving(b, doc, data, command)
    if command == "train":
        used |= _mapped(b, doc, data, "cutoff_len", "preprocessing.max_length", "int")
        b.fill_defaults(LLAMAFACTORY_TRAIN_DEFAULTS, default_of="llamafactory")
    keep_namespaced(b, doc, "llamafactory", data, "", used, _SOURCE)
    b.fill_defaults(DEFAULTS, default_of="llamafactory")
    return b.build()


def _command(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> str:
    """Which ``llamafactory-cli`` command the file is for, from the fields only that command's parser has."""
    train = [str(k) for k in data if k in _TRAIN_ONLY]
    if train:
        command, why, anchor = "train", f"training arguments ({', '.join(train[:3])}): llamafactory-cli train", \
            train[0]
    elif data.get("export_dir") is not None:
        command, why, anchor = "export", "export_dir: llamafactory-cli export", "export_dir"
    elif data.get("task") is not None:
        command, why, anchor = "eval", "task: llamafactory-cli eval", "task"
    else:
        command, why, anchor = "chat", "no training, export or eval field: llamafactory-cli chat/api/webchat, " \
            "which serve the model (the deployment side)", ""
    b.derive("llamafactory.command", command, _origin(doc, anchor), why)
    return command


def _origin(doc: Document, name: str) -> Origin:
    ptr = f"/{escape(name)}" if name else ""
    return Origin(str(doc.path), doc.line(ptr) or 1, ptr or None, _SOURCE)


def _model(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> set[str]:
    used = _mapped(b, doc, data, "model_name_or_path", "model.source", "str")
    used |= _mapped(b, doc, data, "model_revision", "model.revision", "str")
    used |= _mapped(b, doc, data, "finetuning_type", "model.adapter_type", "str")
    used |= _mapped(b, doc, data, "template", "preprocessing.chat_template_name", "str")
    raw = data.get("adapter_name_or_path")
    if raw is not None:
        ptr = "/adapter_name_or_path"
        if not isinstance(raw, str):
            raise ExtractionError(f"adapter_name_or_path must be a string (comma-separated paths), got {raw!r}",
                                  str(doc.path), doc.line(ptr))
        put(b, doc, "model.adapters", [p.strip() for p in raw.split(",")], ptr, _SOURCE)
        used.add("adapter_name_or_path")
    return used


def _chat_template_applied(b: ValueBuilder, doc: Document, data: Mapping[str, Any], command: str) -> None:
    """``preprocessing.chat_template_applied`` true where a ``template`` formats the model's input: every
    supervised stage's examples and every chat/api message (LLaMA-Factory's ``get_template_and_fix_tokenizer``);
    pre-training (``stage: pt``) feeds raw text whatever the template; an export formats nothing."""
    if not isinstance(data.get("template"), str):
        return
    if command == "export":
        return  # an export formats nothing (it writes the template into the tokenizer)
    pretraining = command == "train" and data.get("stage") == "pt"
    put(b, doc, "preprocessing.chat_template_applied", not pretraining, "/stage" if pretraining else "/template",
        _SOURCE, "stage pt trains on raw text" if pretraining else f"examples are formatted with the "
        f"'{data['template']}' template")


def _precision(b: ValueBuilder, doc: Document, data: Mapping[str, Any], command: str) -> None:
    """``precision.compute`` and ``precision.quantization``; the fields stay under ``llamafactory.*`` too."""
    if command == "train":
        flags = {name: boolean(doc, f"/{name}", data[name]) for name in ("pure_bf16", "bf16", "fp16")
                 if data.get(name) is not None}
        for name, dtype in (("pure_bf16", "bfloat16"), ("bf16", "bfloat16"), ("fp16", "float16")):
            if flags.get(name):
                put(b, doc, "precision.compute", dtype, f"/{name}", _SOURCE,
                    f"{name}: true: compute dtype {dtype} (parser.py _verify_model_args)")
                break
    else:
        raw = data.get("infer_dtype")
        if raw is not None and str(raw).lower() != "auto":
            infer = normalize_dtype(raw)
            if infer is None:
                raise ExtractionError(f"infer_dtype must be auto, float16, bfloat16 or float32, got {raw!r}",
                                      str(doc.path), doc.line("/infer_dtype"))
            put(b, doc, "precision.compute", infer, "/infer_dtype", _SOURCE)
    bits = data.get("quantization_bit")
    if bits is not None:
        number(doc, "/quantization_bit", bits, integer=True)
        method = data.get("quantization_method", "bnb")
        ptr = "/quantization_method" if "quantization_method" in data else "/quantization_bit"
        put(b, doc, "precision.quantization", normalize_quantization(str(method)), ptr, _SOURCE,
            f"quantization_bit {bits}: on-the-fly quantization with {method}"
            + ("" if "quantization_method" in data else " (QuantizationArguments.quantization_method default)"))


def _generation(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> set[str]:
    used: set[str] = set()
    for name, (key, typ) in GENERATION.items():
        used |= _mapped(b, doc, data, name, key, typ)
    temperature = b.values.get("generation.temperature")
    if temperature is not None and temperature.explicit and temperature.value == 0:
        b.derive("generation.do_sample", False, temperature, "temperature 0 turns sampling off (hf_engine.py)",
                 ("generation.temperature",), explicit=True)
    new_tokens = b.values.get("generation.max_new_tokens")
    if data.get("max_length") is not None and new_tokens is not None and new_tokens.value <= 0:
        used |= _mapped(b, doc, data, "max_length", "generation.max_length", "int")
    return used


def _serving(b: ValueBuilder, doc: Document, data: Mapping[str, Any], command: str) -> set[str]:
    backend = str(data.get("infer_backend") or "huggingface")
    if command != "chat" or backend not in _BACKEND_LEN:
        return set()
    name, defaults = _BACKEND_LEN[backend]
    used = _mapped(b, doc, data, name, "serving.max_model_len", "int")
    b.fill_defaults(defaults, default_of="llamafactory")
    return used


def _mapped(b: ValueBuilder, doc: Document, data: Mapping[str, Any], name: str, key: str, typ: str) -> set[str]:
    """Record field ``name`` as ``key`` (null: unset), converted to ``typ``; the names used."""
    if name not in data:
        return set()
    raw = data[name]
    if raw is None:
        return {name}
    ptr = f"/{escape(name)}"
    value: Any
    if typ == "bool":
        value = boolean(doc, ptr, raw)
    elif typ in ("int", "float"):
        value = number(doc, ptr, raw, integer=typ == "int")
    elif isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        value = str(raw)
    else:
        raise ExtractionError(f"{name} must be a string, got {raw!r}", str(doc.path), doc.line(ptr))
    put(b, doc, key, value, ptr, _SOURCE)
    return {name}
