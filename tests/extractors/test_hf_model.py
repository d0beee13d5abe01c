"""hf-model: a model folder merged, each value keeping its own file's origin; from_model_config fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import hf_model
from driftguard.extractors.base import ExtractOptions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf-model" / "good"


def test_llama2_folder_merged_with_origins() -> None:
    folder = FIXTURES / "llama2"
    cfg = api.extract(str(folder))
    assert cfg.kind == "hf-model"
    assert cfg["generation.top_p"].value == 0.9
    assert Path(cfg["generation.top_p"].origin.path).name == "generation_config.json"
    assert cfg["model.architecture"].value == "LlamaForCausalLM"
    assert Path(cfg["model.architecture"].origin.path).name == "config.json"
    assert cfg["preprocessing.max_length"].value == 1000000000000000019884624838656
    assert Path(cfg["preprocessing.max_length"].origin.path).name == "tokenizer_config.json"
    assert cfg["hf.config.eos_token_id"].value == cfg["generation.eos_token_id"].value == [2]


def test_generation_from_config_when_generation_config_absent() -> None:
    cfg = hf_model.extract(FIXTURES / "m2m-no-generation-config", ExtractOptions())
    beams = cfg["generation.num_beams"]
    assert beams.value == 5 and beams.explicit
    assert Path(beams.origin.path).name == "config.json" and beams.origin.source == hf_model.FROM_MODEL_CONFIG
    assert beams.origin.line is not None
    assert cfg["generation.max_length"].value == 200
    assert cfg["generation.top_k"].value == 50 and not cfg["generation.top_k"].explicit


def test_generation_config_wins_over_config(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "m2m-no-generation-config", tmp_path / "m")
    (tmp_path / "m" / "generation_config.json").write_text('{"num_beams": 2}\n')
    cfg = hf_model.extract(tmp_path / "m", ExtractOptions())
    assert cfg["generation.num_beams"].value == 2
    assert cfg["generation.max_length"].value == 20  # config.json's 200 is not used by generate()
    assert cfg["hf.config.max_length"].value == 200


def test_errors(tmp_path: Path) -> None:
    assert not hf_model.detect(tmp_path, b"")
    with pytest.raises(ExtractionError, match=r"no generation_config\.json"):
        hf_model.extract(tmp_path, ExtractOptions())
    with pytest.raises(ExtractionError, match="expects a model folder"):
        hf_model.extract(FIXTURES / "llama2" / "config.json", ExtractOptions())
