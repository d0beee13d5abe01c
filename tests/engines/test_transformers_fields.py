"""The transformers field sets committed as data (``engines.transformers_fields``): hand-checked members, and,
where transformers 4.57.6 itself is installed, the exact sets it defines."""

from __future__ import annotations

import pytest

from driftguard.engines import transformers_fields as tf
from driftguard.engines.transformers import TRANSFORMERS_DEFAULTS_VERSION


def test_hand_checked_members() -> None:
    assert {"top_p", "top_k", "max_new_tokens", "do_sample", "transformers_version", "_from_model_config",
            "suppress_tokens"} <= tf.GENERATION_CONFIG_FIELDS
    assert not {"top_P", "max_new_token", "max_tokens", "model", "search"} & tf.GENERATION_CONFIG_FIELDS
    assert {"lang_to_id", "forced_decoder_ids", "no_timestamps_token_id"} <= tf.MODEL_GENERATION_FIELDS  # Whisper
    assert {"architectures", "model_type", "id2label", "torch_dtype", "quantization_config"} <= tf.CONFIG_FIELDS
    assert {"model_max_length", "padding_side", "chat_template", "eos_token"} <= tf.TOKENIZER_CONFIG_FIELDS


def test_sets_match_the_pinned_transformers() -> None:
    transformers = pytest.importorskip("transformers")
    if transformers.__version__ != TRANSFORMERS_DEFAULTS_VERSION:
        pytest.skip(f"transformers {transformers.__version__} installed; the sets are "
                    f"{TRANSFORMERS_DEFAULTS_VERSION}'s")
    from transformers import GenerationConfig, PretrainedConfig

    assert set(GenerationConfig().__dict__) == tf.GENERATION_CONFIG_FIELDS
    assert set(PretrainedConfig().__dict__) <= tf.CONFIG_FIELDS
