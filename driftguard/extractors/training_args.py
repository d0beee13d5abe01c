"""Hugging Face ``training_args.bin``: the ``TrainingArguments`` dataclass the Trainer pickles with torch.save.

Rebuilt as a plain dict of its fields through :mod:`checkpoint_common`, without importing transformers or torch:
the class and its enums are allowlisted *names* whose stand-ins only collect the pickled state, so no
transformers code runs. Every field is kept under ``hparams.*``; these map onto canonical keys:

* ``generation_max_length`` -> ``generation.max_length``, ``generation_num_beams`` -> ``generation.num_beams``
  (Seq2SeqTrainingArguments' evaluation decoding; unset (None) means the model's generation config decides,
  so nothing is recorded);
* ``max_seq_length`` (TRL SFTConfig, older) / ``max_length`` (TRL SFTConfig, newer) -> ``preprocessing.max_length``;
* ``fp16``/``bf16`` -> ``precision.compute`` (``float16``/``bfloat16`` mixed precision; both off: ``float32``).

``seed`` stays ``hparams.seed``: it seeds training, not generation, so it is not ``generation.seed``.
"""

from __future__ import annotations

from pathlib import Path

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.model import EffectiveConfig

INFO = KindInfo(
    kind="training-args",
    description="Hugging Face training_args.bin (TrainingArguments): evaluation generation, precision, hparams",
    role="training",
    rank=50,
    keeps=("hf", "hparams"),
    names=("training_args.bin",),
)

FIELD_KEYS: dict[str, str] = {
    "generation_max_length": "generation.max_length",
    "generation_num_beams": "generation.num_beams",
    "max_seq_length": "preprocessing.max_length",
    "max_length": "preprocessing.max_length",
}


def detect(path: Path, head: bytes) -> bool:
    if path.name != "training_args.bin" and path.suffix.lower() not in (".bin", ".pt"):
        return False
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import checkpoint_common as pr

    if path.name == "training_args.bin":
        return pr.is_zip(head) or pr.is_legacy(head)
    return path.suffix.lower() in (".bin", ".pt") and pr.peek_kind(path, head) == "training-args"


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    from driftguard.extractors import checkpoint_common as pr

    top = pr.load_checkpoint(path, options.limits)
    if not isinstance(top, pr.RecordedObject):
        raise ExtractionError(f"not a training_args.bin: holds a {type(pr.to_plain(top)).__name__}, expected "
                              "a pickled TrainingArguments", str(path))
    fields = top.fields()
    vb = ValueBuilder(INFO.kind, path)
    vb.set("hf.training_args.class", type(top).recorded_name, pointer="/")
    fp16, bf16 = fields.get("fp16"), fields.get("bf16")
    if bf16 is True:
        vb.set("precision.compute", "bfloat16", pointer="/bf16", note="bf16=True: bfloat16 mixed precision")
    elif fp16 is True:
        vb.set("precision.compute", "float16", pointer="/fp16", note="fp16=True: float16 mixed precision")
    elif fp16 is False and bf16 is False:
        vb.set("precision.compute", "float32", pointer="/fp16", note="fp16=False and bf16=False: full precision")
    # Only the top-level fields are TrainingArguments settings; nested ones (accelerator_config...) stay hparams.
    top_level = {k: v for k, v in fields.items() if k in FIELD_KEYS}
    pr.add_hparams(vb, top_level, "hparams", "", FIELD_KEYS)
    pr.add_hparams(vb, fields, "hparams", "", {})
    return vb.build()
