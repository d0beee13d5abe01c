"""ChatGLM3/GLM-4 fine-tune YAML: the mappings hand-checked against THUDM's finetune scripts
(ChatGLM3@732294f42e26 finetune_demo/finetune_hf.py, GLM-4@3f79b543647b finetune/finetune.py), and real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import glm_finetune
from driftguard.model import EffectiveConfig, How

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "finetune"

CONFIG = """\
data_config:
  train_file: train.json
max_input_length: 128
max_output_length: 64
training_args:
  output_dir: ./output
  bf16: true
  generation_config:
    max_new_tokens: 32
peft_config:
  peft_type: LORA
  r: 8
use_flash: true
"""


def _extract(tmp_path: Path, text: str) -> EffectiveConfig:
    path = tmp_path / "lora.yaml"
    path.write_text(text)
    return extractors.extract(path, "glm-finetune")


def test_mappings(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, CONFIG)
    length = cfg.values["preprocessing.max_length"]
    # process_batch: input_ids[:max_input_length + max_output_length + 1]
    assert (length.value, length.how, length.origin.line) == (193, How.DERIVED, 3)
    assert (cfg.values["generation.max_new_tokens"].value, cfg.values["generation.max_new_tokens"].origin.line) == \
        (32, 9)
    assert (cfg.values["precision.compute"].value, cfg.values["precision.compute"].origin.line) == ("bfloat16", 7)
    assert (cfg.values["model.adapter_type"].value, cfg.values["model.adapter_type"].origin.line) == ("lora", 11)
    assert cfg.values["glm_finetune.peft_config.r"].value == 8
    unknown = cfg.values["glm_finetune.unknown_fields.use_flash"]
    assert (unknown.value, unknown.origin.line) == (True, 13)


def test_no_peft_config_trains_the_whole_model(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "data_config: {}\nmax_input_length: 8\nmax_output_length: 8\n"
                             "training_args:\n  output_dir: o\n")
    assert (cfg.values["model.adapter_type"].value, cfg.values["model.adapter_type"].how) == ("none", How.DERIVED)
    assert "precision.compute" not in cfg.values  # no documented default: the script's Seq2SeqTrainingArguments


def test_detection(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    assert glm_finetune.detect(path, path.read_bytes())
    path.write_text("max_input_length: 8\nmax_output_length: 8\n")
    assert not glm_finetune.detect(path, path.read_bytes())


@pytest.mark.parametrize(("text", "message", "line"), [
    ("foo: 1\n", "not a glm-finetune file", 1),
    ("max_input_length: 8\nmax_output_length: 8\n", "it has no data_config", 1),
    ("max_input_length: many\nmax_output_length: 8\ndata_config: {}\n", "max_input_length must be an integer", 1),
    ("data_config: {}\nmax_input_length: 8\nmax_output_length: 8\ntraining_args: [a]\n",
     "training_args must be a mapping", 4),
])
def test_bad_input(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(ExtractionError) as info:
        _extract(tmp_path, text)
    assert message in info.value.message and info.value.line == line


def test_cli_extract(tmp_path: Path) -> None:
    path = tmp_path / "lora.yaml"
    path.write_text(CONFIG)
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"glm-finetune:{path}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "preprocessing.max_length" in proc.stdout and "193" in proc.stdout


GLM_FILES = sorted(CORPUS.glob("THUDM__*"))


@pytest.mark.parametrize("path", GLM_FILES, ids=lambda p: p.name)
def test_real_files_are_detected_and_extract(path: Path) -> None:
    assert extractors.detect(path) == "glm-finetune"
    assert extractors.extract(path).values["preprocessing.max_length"].value > 0


def test_real_chatglm3_ptuning_and_glm4_lora() -> None:
    ptuning = extractors.extract(CORPUS / "THUDM__ChatGLM3__finetune_demo__configs__ptuning_v2.yaml")
    assert ptuning.values["preprocessing.max_length"].value == 256 + 512 + 1
    assert ptuning.values["model.adapter_type"].value == "prefix_tuning"
    lora = extractors.extract(CORPUS / "THUDM__GLM-4__finetune__configs__lora.yaml")
    assert lora.values["preprocessing.max_length"].value == 512 + 512 + 1
    assert (lora.values["generation.max_new_tokens"].value, lora.values["model.adapter_type"].value) == (512, "lora")
    assert lora.values["glm_finetune.combine"].value is True
