"""ChatGLM/GLM fine-tune YAML: the config of THUDM's ``finetune_demo/finetune_hf.py`` (ChatGLM3) and
``finetune/finetune.py`` (GLM-4), ``python finetune.py DATA_DIR MODEL_DIR CONFIG.yaml``.

The script builds its ``FinetuningConfig`` dataclass from the file (``FinetuningConfig(**yaml)``: another
top-level field is a TypeError, so it is kept as ``glm_finetune.unknown_fields.<name>`` for DG304), with
``training_args`` as transformers' ``Seq2SeqTrainingArguments`` and ``peft_config`` through peft's
``get_peft_config``. The fields have no defaults (``max_input_length`` and ``max_output_length`` are required);
the model is the script's MODEL_DIR argument, not in the file. Canonical keys:

* ``preprocessing.max_length``: derived, ``max_input_length + max_output_length + 1``: ``process_batch``
  cuts each training example (prompt and answer) to that many tokens, keeping the first;
* ``generation.max_new_tokens``: ``training_args.generation_config.max_new_tokens`` (the evaluation generation
  of ``predict_with_generate``), with ``max_input_length`` kept: evaluation prompts are cut to it;
* ``model.adapter_type``: ``peft_config.peft_type`` in lower case (``lora``, ``prefix_tuning``); no
  ``peft_config``: the whole model is trained (``none``);
* ``precision.compute``: ``training_args.bf16``/``fp16`` (mixed precision), as for ``training-args``.

Every field is kept under ``glm_finetune.*``. ``training_args`` field names are not checked: which ones
transformers accepts depends on the version each repository pins (ChatGLM3's configs use the old
``evaluation_strategy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
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
from driftguard.model import EffectiveConfig, Origin

INFO = KindInfo(
    kind="glm-finetune",
    description="ChatGLM3/GLM-4 fine-tune YAML (finetune_hf.py, finetune.py): training truncation, adapter type, "
                "evaluation generation, precision",
    role="training",
    rank=50,
    namespaces=("model", "preprocessing", "precision", "generation"),
    keeps=("glm_finetune",),
)

#: FinetuningConfig's fields: THUDM/ChatGLM3@732294f42e26 finetune_demo/finetune_hf.py and
#: THUDM/GLM-4@3f79b543647b finetune/finetune.py (which adds combine, freezeV, swanlab).
FIELDS = frozenset({"data_config", "max_input_length", "max_output_length", "training_args", "peft_config",
                    "combine", "freezeV", "swanlab"})
_UNKNOWN_WHY = ("not a field of FinetuningConfig (ChatGLM3 finetune_hf.py, GLM-4 finetune.py): "
                "FinetuningConfig(**config) refuses the file")
_SOURCE = "glm finetune"
#: FinetuningConfig's fields without a default: FinetuningConfig(**config) refuses a file without them.
_REQUIRED = ("data_config", "max_input_length", "max_output_length")


def detect(path: Path, head: bytes) -> bool:
    """A YAML mapping with ``max_input_length``, ``max_output_length`` and ``training_args``."""
    data = sniff(path, head, (".yaml", ".yml"))
    return isinstance(data, dict) and all(k in data for k in ("max_input_length", "max_output_length",
                                                              "training_args"))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "a GLM fine-tune config")
    require_recognized(doc, INFO.kind, "GLM FinetuningConfig", data, FIELDS)
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise ExtractionError(f"not a glm-finetune file: it has no {' or '.join(missing)}, which FinetuningConfig "
                              "requires", str(doc.path), doc.line("") or 1)
    b = ValueBuilder(INFO.kind, path)
    used = flag_unknown(b, doc, "glm_finetune", _UNKNOWN_WHY, data, "", FIELDS, _SOURCE)
    _lengths(b, doc, data)
    args = _mapping(doc, data, "training_args")
    _training_args(b, doc, args)
    peft = _mapping(doc, data, "peft_config")
    if peft.get("peft_type") is not None:
        put(b, doc, "model.adapter_type", str(peft["peft_type"]).lower(), "/peft_config/peft_type", _SOURCE)
    elif "peft_config" not in data or data["peft_config"] is None:
        b.derive("model.adapter_type", "none", Origin(str(path), doc.line("") or 1, None, _SOURCE),
                 "no peft_config: finetune.py trains the whole model")
    keep_namespaced(b, doc, "glm_finetune", data, "", used, _SOURCE)
    return b.build()


def _lengths(b: ValueBuilder, doc: Document, data: Mapping[str, Any]) -> None:
    lengths = {name: int(number(doc, f"/{name}", data[name], integer=True))
               for name in ("max_input_length", "max_output_length") if data.get(name) is not None}
    if len(lengths) == 2:
        total = lengths["max_input_length"] + lengths["max_output_length"] + 1
        b.derive("preprocessing.max_length", total, Origin(str(doc.path), doc.line("/max_input_length"),
                                                           "/max_input_length", _SOURCE),
                 "max_input_length + max_output_length + 1: process_batch cuts each training example to it",
                 ("glm_finetune.max_input_length", "glm_finetune.max_output_length"), explicit=True)


def _training_args(b: ValueBuilder, doc: Document, args: Mapping[str, Any]) -> None:
    for name, dtype in (("bf16", "bfloat16"), ("fp16", "float16")):
        if args.get(name) is not None and boolean(doc, f"/training_args/{name}", args[name]):
            put(b, doc, "precision.compute", dtype, f"/training_args/{name}", _SOURCE,
                f"training_args.{name}: true: {dtype} mixed precision")
            break
    gen = args.get("generation_config")
    if isinstance(gen, dict) and gen.get("max_new_tokens") is not None:
        ptr = "/training_args/generation_config/max_new_tokens"
        put(b, doc, "generation.max_new_tokens", int(number(doc, ptr, gen["max_new_tokens"], integer=True)), ptr,
            _SOURCE)


def _mapping(doc: Document, data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    raw = data.get(name)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ExtractionError(f"{name} must be a mapping, got {type(raw).__name__}", str(doc.path),
                              doc.line(f"/{name}"))
    return raw
