"""hf-tokenizer: tokenizer_config.json to preprocessing.* and hf.tokenizer.*."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard.engines.transformers import HF_VERY_LARGE_INTEGER
from driftguard.errors import ExtractionError
from driftguard.extractors import hf_tokenizer
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf-tokenizer"
LLAMA2 = FIXTURES / "good" / "llama2" / "tokenizer_config.json"


def extract(path: Path) -> EffectiveConfig:
    return hf_tokenizer.extract(path, ExtractOptions())


def test_llama2_sentinel_kept_exact() -> None:
    cfg = extract(LLAMA2)
    max_length = cfg["preprocessing.max_length"]
    assert max_length.value == 1000000000000000019884624838656 == HF_VERY_LARGE_INTEGER
    assert type(max_length.value) is int and max_length.explicit and max_length.note
    assert cfg["preprocessing.padding_side"].value == "right"
    assert cfg["preprocessing.add_bos_token"].value is True
    assert cfg["hf.tokenizer.eos_token"].value == "</s>"  # AddedToken object -> its content
    assert cfg["hf.tokenizer.pad_token"].value is None
    assert cfg["preprocessing.truncation_side"].value == "right"
    assert not cfg["preprocessing.truncation_side"].explicit


def test_eos_id_resolved_through_added_tokens_decoder() -> None:
    cfg = extract(FIXTURES / "good" / "mixtral-dolphin" / "tokenizer_config.json")
    assert cfg["hf.tokenizer.eos_token"].value == "<|im_end|>"
    assert cfg["hf.tokenizer.eos_token_id"].value == 32000
    assert isinstance(cfg["hf.tokenizer.chat_template"].value, str)
    # LlamaTokenizer without padding_side: AutoTokenizer's fast class pads left.
    assert cfg["preprocessing.padding_side"].value == "left"
    assert not cfg["preprocessing.padding_side"].explicit


def test_default_max_length_when_absent(tmp_path: Path) -> None:
    p = tmp_path / "tokenizer_config.json"
    p.write_text(json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True}))
    cfg = extract(p)
    assert cfg["preprocessing.max_length"].value == HF_VERY_LARGE_INTEGER
    assert not cfg["preprocessing.max_length"].explicit
    assert cfg["preprocessing.do_lower_case"].value is True
    assert cfg["preprocessing.padding_side"].value == "right"


def test_bad_padding_side() -> None:
    with pytest.raises(ExtractionError, match="'padding_side'") as info:
        extract(FIXTURES / "bad" / "padding_side_middle.json")
    assert info.value.line == 3


def test_detect(tmp_path: Path) -> None:
    assert hf_tokenizer.detect(LLAMA2, b"")
    other = tmp_path / "tok.json"
    other.write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    assert hf_tokenizer.detect(other, other.read_bytes())
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"model_type": "m2m_100", "tokenizer_class": "NllbTokenizer"}))
    assert not hf_tokenizer.detect(config, config.read_bytes())
