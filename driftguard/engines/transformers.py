"""Hugging Face ``generate()`` as a serving path: the GenerationConfig fields and the ranges transformers
validates (``GenerationConfig.validate()`` and the logits warpers), the class defaults (defaults.md §1), and
its decoding rule (``do_sample``; beam search when ``num_beams`` > 1)."""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.spec import Decision, EngineSpec, Field, Layer, Range, between, ge, gt
from driftguard.keys import Default
from driftguard.model import Value

#: The transformers version whose GenerationConfig defaults are encoded (4.x __init__ defaults; 5.x applies
#: the same numbers at generate() time through _get_default_generation_params).
TRANSFORMERS_DEFAULTS_VERSION = "4.57.6"

_HF_GEN = "defaults.md §1.1 GenerationConfig (TF-4.57.6 __init__; TF-5.24.0 _get_default_generation_params)"
_HF_TOK = "defaults.md §9 PreTrainedTokenizerBase (TF-4.57.6)"

HF_GENERATION_DEFAULTS: dict[str, Default] = {
    "generation.max_length": Default(20, _HF_GEN),
    "generation.min_length": Default(0, _HF_GEN),
    "generation.do_sample": Default(False, _HF_GEN),
    "generation.num_beams": Default(1, _HF_GEN),
    "generation.temperature": Default(1.0, _HF_GEN),
    "generation.top_k": Default(50, _HF_GEN),
    "generation.top_p": Default(1.0, _HF_GEN),
    "generation.typical_p": Default(1.0, _HF_GEN),
    "generation.repetition_penalty": Default(1.0, _HF_GEN),
    "generation.length_penalty": Default(1.0, _HF_GEN),
    "generation.no_repeat_ngram_size": Default(0, _HF_GEN),
    "generation.early_stopping": Default(False, _HF_GEN),
    "generation.num_return_sequences": Default(1, _HF_GEN),
    "generation.use_cache": Default(True, _HF_GEN),
    "hf.generation.num_beam_groups": Default(1, _HF_GEN),
    "hf.generation.diversity_penalty": Default(0.0, _HF_GEN),
}

#: transformers' VERY_LARGE_INTEGER = int(1e30): "no limit" for model_max_length (defaults.md §9).
HF_VERY_LARGE_INTEGER = int(1e30)

HF_TOKENIZER_DEFAULTS: dict[str, Default] = {
    "preprocessing.max_length": Default(HF_VERY_LARGE_INTEGER, _HF_TOK + " model_max_length"),
    "preprocessing.padding_side": Default("right", _HF_TOK + " padding_side"),
    "preprocessing.truncation_side": Default("right", _HF_TOK + " truncation_side"),
}

#: Tokenizer families whose (fast) class sets padding_side "left" (defaults.md §9 subclass overrides). The slow
#: LlamaTokenizer keeps "right" in 4.57.6, but AutoTokenizer loads the fast class by default (use_fast=True),
#: and 5.x's LlamaTokenizer is "left".
HF_TOKENIZER_LEFT_PADDING_FAMILIES = ("LlamaTokenizer", "CodeLlamaTokenizer", "GemmaTokenizer", "CohereTokenizer",
                                      "XLNetTokenizer")
HF_TOKENIZER_LEFT_PADDING = Default("left", "defaults.md §9 padding_side, subclass overrides (TF-4.57.6 *Fast)")


#: GenerationConfig attribute -> Field (its reader type). Attributes not listed are kept as ``hf.generation.*``.
FIELDS: dict[str, Field] = {
    "do_sample": Field("generation.do_sample", "bool"),
    "temperature": Field("generation.temperature", range=ge(0.0)),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0, low_open=True)),
    "top_k": Field("generation.top_k", "int", ge(0.0)),
    "min_p": Field("generation.min_p", range=between(0.0, 1.0)),
    "typical_p": Field("generation.typical_p", range=between(0.0, 1.0, low_open=True)),
    "max_new_tokens": Field("generation.max_new_tokens", "int", gt(0.0)),
    "max_length": Field("generation.max_length", "int", gt(0.0)),
    "min_length": Field("generation.min_length", "int", ge(0.0)),
    "min_new_tokens": Field("generation.min_new_tokens", "int", ge(0.0)),
    "num_beams": Field("generation.num_beams", "int", ge(1.0)),
    "repetition_penalty": Field("generation.repetition_penalty", range=gt(0.0)),
    "length_penalty": Field("generation.length_penalty"),
    "no_repeat_ngram_size": Field("generation.no_repeat_ngram_size", "int", ge(0.0)),
    "early_stopping": Field("generation.early_stopping", "early_stopping"),
    "num_return_sequences": Field("generation.num_return_sequences", "int", ge(1.0)),
    "eos_token_id": Field("generation.eos_token_id", "ids"),
    "bos_token_id": Field("generation.bos_token_id", "id"),
    "pad_token_id": Field("generation.pad_token_id", "id"),
    "decoder_start_token_id": Field("generation.decoder_start_token_id", "id"),
    "stop_strings": Field("generation.stop", "stop"),
    "use_cache": Field("generation.use_cache", "bool"),
}


def decoding(values: Mapping[str, Value]) -> Decision | None:
    """``generate()`` samples exactly when ``do_sample`` is true (the warpers apply only then)."""
    ds = values.get("generation.do_sample")
    if ds is None or not isinstance(ds.value, bool):
        return None
    return Decision(ds.value, "generation.do_sample", "transformers samples only with do_sample true (§1)",
                    ("generation.do_sample",))


GENERATE = EngineSpec(
    name="transformers", engine="transformers", label="transformers generate()", namespace="hf.generation",
    fields=FIELDS, layers=(Layer("transformers", HF_GENERATION_DEFAULTS),), decoding=decoding,
    generation_config_eos="generate() stops on the generation config's eos_token_id (defaults.md §1, eos_token_id)",
)

#: The ranges the model-serving config validates (Triton ModelConfig, defaults.md §7), and the context lengths.
SERVING_RANGES: dict[str, Range] = {
    "batching.max_batch_size": ge(0.0),
    "batching.max_queue_delay_us": ge(0.0),
    "batching.preferred_batch_sizes": Range(1.0, each=True),
    "serving.instance_count": ge(0.0),
    "serving.max_model_len": gt(0.0),
    "preprocessing.max_length": gt(0.0),
    "model.max_position_embeddings": gt(0.0),
}

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (GENERATE,)
EXTRACTOR: str | None = None  # its generation_config.json is a model file (hf-generation), not a request kind
