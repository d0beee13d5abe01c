"""Every documented default (engines/*.py, extractors/triton.py), pinned as literal values read from
shared/reference/defaults.md.

Extractors fill effective configs from those tables, so a test that compares extraction with that same
table cannot notice a wrong default. These literals were copied from the reference rows cited per engine;
changing a default in its module (or here) without the reference saying so fails. Each value is compared with its
type: ``1`` (TensorRT-LLM early_stopping) is not ``False`` (transformers), and ``values_equal`` keeps them apart.
"""

from __future__ import annotations

from typing import Any

import pytest

from driftguard import extractors, keys
from driftguard.engines import lmdeploy, openai, tensorrt_llm, tgi, vllm
from driftguard.engines import transformers as tf
from driftguard.extractors import triton
from driftguard.keys import Default

# defaults.md §1.1 "Constructor defaults and effective defaults", column "4.57.6 __init__".
HF_GENERATION: dict[str, Any] = {
    "generation.max_length": 20,
    "generation.min_length": 0,
    "generation.do_sample": False,
    "generation.num_beams": 1,
    "generation.temperature": 1.0,
    "generation.top_k": 50,
    "generation.top_p": 1.0,
    "generation.typical_p": 1.0,
    "generation.repetition_penalty": 1.0,
    "generation.length_penalty": 1.0,
    "generation.no_repeat_ngram_size": 0,
    "generation.early_stopping": False,
    "generation.num_return_sequences": 1,
    "generation.use_cache": True,
    "hf.generation.num_beam_groups": 1,  # row "num_beam_groups / diversity_penalty": 1 / 0.0
    "hf.generation.diversity_penalty": 0.0,
}

# defaults.md §9 PreTrainedTokenizerBase: model_max_length VERY_LARGE_INTEGER = int(1e30)
# = 1000000000000000019884624838656 (executed); padding_side "right"; truncation_side "right".
HF_TOKENIZER: dict[str, Any] = {
    "preprocessing.max_length": 1000000000000000019884624838656,
    "preprocessing.padding_side": "right",
    "preprocessing.truncation_side": "right",
}

# defaults.md §7 Triton ModelConfig: max_batch_size proto3 int32 -> 0; scheduling_choice none (no dynamic or
# sequence batcher); model_transaction_policy.decoupled false.
TRITON: dict[str, Any] = {
    "batching.max_batch_size": 0,
    "batching.dynamic": False,
    "batching.sequence": False,
    "serving.decoupled": False,
}

# defaults.md §2.1 vLLM SamplingParams (VLLM-SP): temperature 1.0, top_p 1.0, top_k 0 (older: -1, normalized
# to 0), min_p 0.0, repetition_penalty 1.0 (from_optional row), presence/frequency_penalty 0.0, n 1,
# max_tokens 16, min_tokens 0, seed None, stop None -> [].
VLLM: dict[str, Any] = {
    "generation.temperature": 1.0,
    "generation.top_p": 1.0,
    "generation.top_k": 0,
    "generation.min_p": 0.0,
    "generation.repetition_penalty": 1.0,
    "generation.presence_penalty": 0.0,
    "generation.frequency_penalty": 0.0,
    "generation.num_return_sequences": 1,
    "generation.max_new_tokens": 16,
    "generation.min_new_tokens": 0,
    "generation.seed": None,
    "generation.stop": [],
}

# defaults.md §3 TGI GenerateParameters, column "Effective value in the router": temperature None -> 1.0,
# top_k None -> 0, top_p None -> 1.0, typical_p None -> 1.0, repetition_penalty None -> 1.0,
# frequency_penalty None -> 0.0, best_of None -> 1, seed None -> random, stop [].
TGI: dict[str, Any] = {
    "generation.temperature": 1.0,
    "generation.top_k": 0,
    "generation.top_p": 1.0,
    "generation.typical_p": 1.0,
    "generation.repetition_penalty": 1.0,
    "generation.frequency_penalty": 0.0,
    "generation.num_return_sequences": 1,
    "generation.seed": None,
    "generation.stop": [],
}

# defaults.md §5 OpenAI API, Chat Completions column: temperature 1, top_p 1, n 1, presence/frequency_penalty 0,
# seed no default. Legacy Completions column: max_tokens 16.
OPENAI: dict[str, Any] = {
    "generation.temperature": 1.0,
    "generation.top_p": 1.0,
    "generation.num_return_sequences": 1,
    "generation.presence_penalty": 0.0,
    "generation.frequency_penalty": 0.0,
    "generation.seed": None,
}
OPENAI_COMPLETIONS: dict[str, Any] = {"generation.max_new_tokens": 16}

# defaults.md §4.1 TensorRT-LLM C++ runtime (TRT-DDP, TRT-SP): beam_width 1, temperature 1.0f, top_k 0,
# top_p 0.0f, min_p 0.0, repetition_penalty 1.0f, presence/frequency_penalty 0.0f, min_tokens 1, seed 0,
# length_penalty 0.0f, early_stopping 1. no_repeat_ngram_size: the reference gives 1 << 30 (= disabled);
# keys.py writes the canonical "off", 0 (HF's spelling of disabled), a deliberate translation.
TENSORRT_LLM: dict[str, Any] = {
    "generation.num_beams": 1,
    "generation.temperature": 1.0,
    "generation.top_k": 0,
    "generation.top_p": 0.0,
    "generation.min_p": 0.0,
    "generation.repetition_penalty": 1.0,
    "generation.presence_penalty": 0.0,
    "generation.frequency_penalty": 0.0,
    "generation.min_new_tokens": 1,
    "generation.seed": 0,
    "generation.length_penalty": 0.0,
    "generation.early_stopping": 1,
    "generation.no_repeat_ngram_size": 0,
}
# defaults.md §4.2 LLM API SamplingParams: max_tokens 32, n 1.
TENSORRT_LLM_LLMAPI: dict[str, Any] = {"generation.max_new_tokens": 32, "generation.num_return_sequences": 1}
# defaults.md §4.3 trtllm-serve: temperature None -> 1.0, top_p None -> 1.0, top_k 0, min_p 0.0, n 1,
# min_tokens 0.
TENSORRT_LLM_SERVE: dict[str, Any] = {
    "generation.temperature": 1.0,
    "generation.top_p": 1.0,
    "generation.top_k": 0,
    "generation.min_p": 0.0,
    "generation.num_return_sequences": 1,
    "generation.min_new_tokens": 0,
}

# defaults.md §6 lmdeploy GenerationConfig (LMD): n 1, max_new_tokens 512, do_sample False, top_p 1.0,
# top_k 50, min_p 0.0, temperature 0.8, repetition_penalty 1.0, random_seed None.
LMDEPLOY: dict[str, Any] = {
    "generation.num_return_sequences": 1,
    "generation.max_new_tokens": 512,
    "generation.do_sample": False,
    "generation.top_p": 1.0,
    "generation.top_k": 50,
    "generation.min_p": 0.0,
    "generation.temperature": 0.8,
    "generation.repetition_penalty": 1.0,
    "generation.seed": None,
}

#: (table in its engine or extractor module, literals above, the defaults.md section its rows must cite)
TABLES: dict[str, tuple[dict[str, Default], dict[str, Any], str]] = {
    "HF_GENERATION_DEFAULTS": (tf.HF_GENERATION_DEFAULTS, HF_GENERATION, "§1.1"),
    "HF_TOKENIZER_DEFAULTS": (tf.HF_TOKENIZER_DEFAULTS, HF_TOKENIZER, "§9"),
    "TRITON_DEFAULTS": (triton.TRITON_DEFAULTS, TRITON, "§7"),
    "VLLM_DEFAULTS": (vllm.VLLM_DEFAULTS, VLLM, "§2.1"),
    "TGI_DEFAULTS": (tgi.TGI_DEFAULTS, TGI, "§3"),
    "OPENAI_DEFAULTS": (openai.OPENAI_DEFAULTS, OPENAI, "§5"),
    "OPENAI_COMPLETIONS_DEFAULTS": (openai.OPENAI_COMPLETIONS_DEFAULTS, OPENAI_COMPLETIONS, "§5"),
    "TENSORRT_LLM_DEFAULTS": (tensorrt_llm.TENSORRT_LLM_DEFAULTS, TENSORRT_LLM, "§4.1"),
    "TENSORRT_LLM_LLMAPI_DEFAULTS": (tensorrt_llm.TENSORRT_LLM_LLMAPI_DEFAULTS, TENSORRT_LLM_LLMAPI, "§4.2"),
    "TENSORRT_LLM_SERVE_DEFAULTS": (tensorrt_llm.TENSORRT_LLM_SERVE_DEFAULTS, TENSORRT_LLM_SERVE, "§4.3"),
    "LMDEPLOY_DEFAULTS": (lmdeploy.LMDEPLOY_DEFAULTS, LMDEPLOY, "§6"),
}


def _typed(values: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {k: (type(v).__name__, v) for k, v in values.items()}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_defaults_are_the_reference_values(name: str) -> None:
    table, literal, _ = TABLES[name]
    assert _typed({k: d.value for k, d in table.items()}) == _typed(literal)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_default_cites_its_reference_section(name: str) -> None:
    table, _, section = TABLES[name]
    for key, default in table.items():
        assert default.source.startswith(f"defaults.md {section} "), (key, default.source)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_defaulted_key_is_canonical_or_namespaced(name: str) -> None:
    for key in TABLES[name][0]:
        assert keys.is_canonical(key) or key.split(".", 1)[0] in extractors.format_namespaces(), key


def test_defaults_by_kind() -> None:
    """Each kind declares its documented defaults (``KindInfo.defaults``): the table of its format or engine."""
    expected = {"hf-generation": tf.HF_GENERATION_DEFAULTS, "hf-tokenizer": tf.HF_TOKENIZER_DEFAULTS,
                "triton": triton.TRITON_DEFAULTS, "vllm": vllm.VLLM_DEFAULTS, "tgi": tgi.TGI_DEFAULTS,
                "openai": openai.OPENAI_DEFAULTS, "tensorrt-llm": tensorrt_llm.TENSORRT_LLM_DEFAULTS,
                "lmdeploy": lmdeploy.LMDEPLOY_DEFAULTS}
    declared = {k: extractors.info(k).defaults for k in extractors.available_kinds() if extractors.info(k).defaults}
    assert set(expected) <= set(declared)  # a new engine's kind adds its own table
    assert all(declared[kind] is table for kind, table in expected.items())
    assert extractors.info("onnx").defaults == {}
    assert extractors.info("tgi").defaults["generation.repetition_penalty"].value == 1.0


def test_keys_is_the_vocabulary_only() -> None:
    """No table of defaults is left in keys.py: they live with the engine or format that documents them."""
    tables = [n for n, v in vars(keys).items() if isinstance(v, (dict, Default))
              and (isinstance(v, Default) or any(isinstance(d, Default) for d in v.values()))]
    assert tables == []


def test_hf_constants() -> None:
    # defaults.md §1.1 (TF-4.57.6 read and executed) and §9.
    assert tf.TRANSFORMERS_DEFAULTS_VERSION == "4.57.6"
    assert tf.HF_VERY_LARGE_INTEGER == 1000000000000000019884624838656
    # §9 "padding_side, subclass overrides": LlamaTokenizerFast, CodeLlamaTokenizerFast, GemmaTokenizerFast,
    # CohereTokenizerFast, XLNetTokenizer(Fast) are "left".
    assert tf.HF_TOKENIZER_LEFT_PADDING_FAMILIES == ("LlamaTokenizer", "CodeLlamaTokenizer", "GemmaTokenizer",
                                                       "CohereTokenizer", "XLNetTokenizer")
    assert tf.HF_TOKENIZER_LEFT_PADDING.value == "left"


def test_same_parameter_different_engines() -> None:
    """defaults.md §10 (cross-engine summary), the differences that make drift: if two of these ever agree,
    one of the tables changed."""
    assert tf.HF_GENERATION_DEFAULTS["generation.top_k"].value == 50
    assert vllm.VLLM_DEFAULTS["generation.top_k"].value == 0
    assert lmdeploy.LMDEPLOY_DEFAULTS["generation.temperature"].value == 0.8
    assert tensorrt_llm.TENSORRT_LLM_DEFAULTS["generation.top_p"].value == 0.0
    assert tensorrt_llm.TENSORRT_LLM_DEFAULTS["generation.length_penalty"].value == 0.0
    assert tf.HF_GENERATION_DEFAULTS["generation.length_penalty"].value == 1.0
    assert tensorrt_llm.TENSORRT_LLM_DEFAULTS["generation.seed"].value == 0
    assert vllm.VLLM_DEFAULTS["generation.max_new_tokens"].value == 16
    assert tensorrt_llm.TENSORRT_LLM_LLMAPI_DEFAULTS["generation.max_new_tokens"].value == 32
    assert lmdeploy.LMDEPLOY_DEFAULTS["generation.max_new_tokens"].value == 512
