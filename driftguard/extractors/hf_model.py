"""A Hugging Face model folder: generation_config.json, config.json and tokenizer_config.json merged into one
effective config (kind ``hf-model``), each value keeping the origin of the file it came from.

Precedence, as transformers 4.57.6 ``from_pretrained`` resolves it (defaults.md §1.3):

- ``generation.*``: generation_config.json wins. When the folder has none, transformers builds the generation
  config from config.json (``GenerationConfig.from_model_config``): config.json's generation attributes become
  ``generation.*`` with origin config.json (source ``config.json (from_model_config)``), the ``text_config`` /
  ``decoder`` / ``generator`` sub-configs fill what the top level leaves unset, and the transformers defaults
  fill the rest, but for ``max_length``: its 20 is transformers' model-agnostic fallback (``generate()`` warns
  when it applies), not a length the folder states, and it is not compared with a server's context.
  config.json's own copies stay ``hf.config.*`` either way.
  Not modelled: 4.x ``generate()`` rebuilds the generation config from config.json when generation_config.json
  says ``_from_model_config: true`` and config.json holds non-default generation values; a consistency rule
  comparing ``hf.config.*`` with ``generation.*`` reports that case.
- ``precision.quantization``: config.json's ``quantization_config`` (what transformers reads) over AutoGPTQ's
  ``quantize_config.json``. PEFT ``adapter_config.json`` adds ``hf.adapter.*``.
- Other namespaces do not overlap (``model.*``/``hf.config.*``, ``preprocessing.*``/``hf.tokenizer.*``).

Weights (model.safetensors, pytorch_model.bin) are not read here; name them as their own artifacts.
"""

from __future__ import annotations

from pathlib import Path

from driftguard import extractors as registry
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.hf_common import add_generation_fields, fill_generation_defaults, load_object, sniff_object
from driftguard.model import EffectiveConfig, Value
from driftguard.readers.files import head as read_head

INFO = KindInfo(
    kind="hf-model",
    description="Hugging Face model folder: generation_config.json + config.json + tokenizer_config.json merged",
    role="either",
    rank=25,
    namespaces=("generation", "preprocessing"),
    keeps=("hf",),
    weights="folder",
    engine_loads=True,
)

GENERATION_FILE = "generation_config.json"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer_config.json"
#: (file name, kind), in merge order: later files win on shared keys.
_FILES = (("quantize_config.json", "hf-config"), ("adapter_config.json", "hf-config"),
          (TOKENIZER_FILE, "hf-tokenizer"), (CONFIG_FILE, "hf-config"), (GENERATION_FILE, "hf-generation"))
_SUBCONFIGS = ("text_config", "decoder", "generator")
FROM_MODEL_CONFIG = "config.json (from_model_config)"


def detect(path: Path, head: bytes) -> bool:
    """A folder holding generation_config.json or tokenizer_config.json, or a transformers config.json."""
    if not path.is_dir():
        return False
    if (path / GENERATION_FILE).is_file() or (path / TOKENIZER_FILE).is_file():
        return True
    config = path / CONFIG_FILE
    if not config.is_file():
        return False
    try:
        data = sniff_object(config, read_head(config))
    except ExtractionError:
        return False
    return data is not None and any(k in data for k in ("model_type", "architectures", "transformers_version"))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The merged effective config of a model folder."""
    if not path.is_dir():
        raise ExtractionError("hf-model expects a model folder (with generation_config.json, config.json or "
                              "tokenizer_config.json)", str(path))
    present = [(path / name, kind) for name, kind in _FILES if (path / name).is_file()]
    if not any(p.name in (GENERATION_FILE, CONFIG_FILE, TOKENIZER_FILE) for p, _ in present):
        raise ExtractionError("no generation_config.json, config.json or tokenizer_config.json in this folder",
                              str(path))
    values: dict[str, Value] = {}
    for file, kind in present:
        values.update(registry.extract(file, kind, options).values)  # through the run's cache
    if not (path / GENERATION_FILE).is_file() and (path / CONFIG_FILE).is_file():
        values.update(_from_model_config(path / CONFIG_FILE, options).values)
    return EffectiveConfig(INFO.kind, str(path), values)


def _from_model_config(config: Path, options: ExtractOptions) -> EffectiveConfig:
    """``generation.*`` as transformers builds them from config.json when generation_config.json is absent."""
    doc = load_object(config, options.limits)
    builder = ValueBuilder(INFO.kind, config)
    add_generation_fields(builder, doc, source=FROM_MODEL_CONFIG, keep_unknown=False)
    for sub in _SUBCONFIGS:
        nested = doc.data.get(sub)
        if isinstance(nested, dict):
            add_generation_fields(builder, doc, nested, pointer_prefix=f"/{sub}", line=doc.line(sub),
                                  source=FROM_MODEL_CONFIG, keep_unknown=False, only_missing=True)
    # transformers' max_length 20 is its "model-agnostic default" (generate() warns when it applies): a folder
    # without generation_config.json states no generation length, and 20 is no length to compare with a
    # server's context.
    fill_generation_defaults(builder, skip=("generation.max_length",))
    return builder.build()
