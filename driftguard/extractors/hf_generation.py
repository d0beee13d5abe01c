"""Hugging Face ``generation_config.json`` (transformers ``GenerationConfig``).

Every GenerationConfig attribute in the vocabulary becomes a ``generation.*`` key; the other fields transformers
reads (``transformers_version``, ``_from_model_config``, ``suppress_tokens``, Whisper's ``forced_decoder_ids``...)
are kept as ``hf.generation.<key>``, never dropped. The field set is closed (``engines.transformers_fields``:
``GenerationConfig().__dict__`` at transformers 4.57.6, plus what a model's own ``generate()`` reads), so a key
outside it is kept as ``hf.generation.unknown_fields.<key>`` with the closest known name, and rule DG304 reports
it: GenerationConfig keeps it as an attribute ``generate()`` never reads (a ``top_P`` or ``max_new_token`` does
nothing). A file with no known key at all (an ONNX Runtime GenAI ``genai_config.json`` named as this kind) is an
input error. Keys the file leaves unset take the documented transformers defaults
(``engines.transformers.HF_GENERATION_DEFAULTS``, transformers
``engines.transformers.TRANSFORMERS_DEFAULTS_VERSION``), marked ``how`` default (``Origin.default_of``: that
transformers version); ``save_pretrained`` in 4.x writes only non-default values, so an absent ``top_k`` means 50.

Normalization: integral floats become ints; ``eos_token_id`` is always a sorted list of ints (the ids form a
set); ``null`` means unset, except ``top_k: null``, which disables top-k (0) in transformers 4.x; a negative
``top_k`` is 0 as well. Wrong types (``"top_p": "high"``, ``"do_sample": "false"``) are errors naming key and line.
"""

from __future__ import annotations

from pathlib import Path

from driftguard.engines import transformers as transformers_engine
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.hf_common import (
    GENERATION_FIELDS,
    KNOWN_GENERATION_FIELDS,
    add_generation_fields,
    fill_generation_defaults,
    load_object,
    require_known,
    sniff_object,
)
from driftguard.model import EffectiveConfig

INFO = KindInfo(
    kind="hf-generation",
    description="Hugging Face generation_config.json (GenerationConfig), transformers defaults filled",
    role="either",
    rank=40,
    keeps=("hf",),
    defaults=transformers_engine.HF_GENERATION_DEFAULTS,
    names=("generation_config.json",),
)

FILE_NAME = "generation_config.json"
_CONFIG_MARKERS = ("model_type", "architectures")


def detect(path: Path, head: bytes) -> bool:
    """``generation_config.json`` by name; otherwise a JSON object that transformers wrote for generation
    (``_from_model_config``, or ``transformers_version`` with generation keys and no model keys)."""
    if path.name == FILE_NAME:
        return path.is_file()
    data = sniff_object(path, head)
    if data is None or any(k in data for k in _CONFIG_MARKERS):
        return False
    if "_from_model_config" in data:
        return True
    return "transformers_version" in data and any(k in data for k in GENERATION_FIELDS)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective GenerationConfig of one generation_config.json."""
    doc = load_object(path, options.limits)
    require_known(doc, INFO.kind, "a GenerationConfig", KNOWN_GENERATION_FIELDS)
    builder = ValueBuilder(INFO.kind, path)
    add_generation_fields(builder, doc)
    fill_generation_defaults(builder)
    return builder.build()
