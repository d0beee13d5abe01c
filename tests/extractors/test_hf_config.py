"""hf-config: config.json to model.*/precision.*, everything else hf.config.*; adapter and quantize configs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard.errors import ExtractionError
from driftguard.extractors import hf_config
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf-config"
WHISPER = FIXTURES / "good" / "whisper" / "config.json"


def extract(path: Path) -> EffectiveConfig:
    return hf_config.extract(path, ExtractOptions())


def test_whisper_aliases_and_dtype() -> None:
    cfg = extract(WHISPER)
    assert cfg["model.architecture"].value == "WhisperForConditionalGeneration"
    assert cfg["model.type"].value == "whisper"
    assert cfg["model.vocab_size"].value == 51865
    assert cfg["model.hidden_size"].value == 768 and cfg["model.hidden_size"].note == "from 'd_model'"
    assert cfg["model.num_layers"].value == 12
    assert cfg["model.max_position_embeddings"].value == 448
    assert cfg["precision.weights"].value == "float32"
    assert cfg["model.vocab_size"].origin.line == 150


def test_legacy_generation_keys_stay_namespaced() -> None:
    cfg = extract(WHISPER)
    assert not any(k.startswith("generation.") for k in cfg)
    assert cfg["hf.config.eos_token_id"].value == [50257]
    assert cfg["hf.config.max_length"].value == 448
    assert cfg["hf.config.forced_decoder_ids"].value == [[1, 50288], [2, 50359], [3, 50363]]
    assert not any(not v.explicit for v in cfg.values.values())  # no defaults invented


def test_num_labels_from_id2label_and_quantization(tmp_path: Path) -> None:
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"model_type": "bert", "architectures": ["A", "B"], "id2label": {"0": "x", "1": "y"},
                             "torch_dtype": "torch.bfloat16", "quantization_config": {"quant_method": "AWQ"},
                             "rope_scaling": {"type": "linear", "factor": 2.0}}))
    cfg = extract(p)
    assert cfg["model.num_labels"].value == 2
    assert cfg["model.architecture"].value == "A"
    assert cfg["hf.config.architectures"].value == ["A", "B"]
    assert cfg["precision.weights"].value == "bfloat16"
    assert cfg["precision.quantization"].value == "awq"
    assert cfg["hf.config.rope_scaling"].value == {"type": "linear", "factor": 2}


def test_quantize_and_adapter_configs(tmp_path: Path) -> None:
    cfg = extract(FIXTURES / "good" / "wizardcoder-gptq" / "quantize_config.json")
    assert cfg["precision.quantization"].value == "gptq"
    assert cfg["hf.quantize.bits"].value == 4
    adapter = tmp_path / "adapter_config.json"
    adapter.write_text(json.dumps({"peft_type": "LORA", "r": 16, "target_modules": ["q_proj"]}))
    assert hf_config.detect(adapter, adapter.read_bytes())
    assert extract(adapter)["hf.adapter.r"].value == 16


def test_forced_kind_reads_what_is_there_and_invents_nothing(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"model_type": "llama", "any": {"thing": [1, 2]}}))
    cfg = extract(p)
    assert {k: v.value for k, v in cfg.values.items()} == {"model.type": "llama", "hf.config.any": {"thing": [1, 2]}}
    assert all(v.explicit and v.origin.path == str(p) for v in cfg.values.values())


@pytest.mark.parametrize("data", [
    {"any": {"thing": [1, 2]}},
    {},
    {"model": {"type": "phi3", "context_length": 4096}, "search": {"max_length": 4096}},  # genai_config.json
    {"do_sample": True, "temperature": 0.7, "transformers_version": "4.57.6"},  # a generation config
    {"tokenizer_class": "LlamaTokenizer"},  # shared with tokenizer_config.json: not enough
])
def test_a_file_with_no_config_attribute_is_an_input_error(tmp_path: Path, data: dict[str, object]) -> None:
    p = tmp_path / "x.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ExtractionError, match=r"not a hf-config file: none of its fields .* PretrainedConfig"):
        extract(p)


def test_wrong_type_names_key_and_line() -> None:
    with pytest.raises(ExtractionError, match="'vocab_size': expected an integer") as info:
        extract(FIXTURES / "bad" / "vocab_size_string.json")
    assert info.value.line == 3


def test_detect(tmp_path: Path) -> None:
    assert hf_config.detect(WHISPER, WHISPER.read_bytes()[:4096])
    triton_vllm = tmp_path / "model.json"
    triton_vllm.write_text(json.dumps({"model": "facebook/opt-125m", "gpu_memory_utilization": 0.5}))
    assert not hf_config.detect(triton_vllm, triton_vllm.read_bytes())
    generic = tmp_path / "config.json"
    generic.write_text(json.dumps({"name": "x"}))
    assert not hf_config.detect(generic, generic.read_bytes())


def test_cli_forced_kind_on_quantize_config() -> None:
    path = FIXTURES / "good" / "wizardcoder-gptq" / "quantize_config.json"
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", "--kind", "hf-config", "--format", "json",
                           str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "precision.quantization" in proc.stdout


def test_an_adapters_base_is_model_base() -> None:
    """A real PEFT adapter config: its base_model_name_or_path is the base it was trained on (DG107)."""
    real = Path(__file__).resolve().parents[1] / "corpus" / "hf" / \
        "Max-Lee-explore__MythTrans-llama31-8B__adapter_config.json"
    cfg = extract(real)
    assert cfg["model.base"].value == "unsloth/meta-llama-3.1-8b-bnb-4bit"
    assert cfg["model.base"].origin.line == 4
    assert cfg["hf.adapter.base_model_name_or_path"].value == "unsloth/meta-llama-3.1-8b-bnb-4bit"


def test_medusa_heads_config(tmp_path: Path) -> None:
    """The config.json Medusa writes for its heads (FasterDecoding/Medusa MedusaConfig: medusa_num_heads,
    medusa_num_layers, base_model_name_or_path): the heads and the base they were trained on."""
    path = tmp_path / "config.json"
    path.write_text('{\n  "base_model_name_or_path": "lmsys/vicuna-7b-v1.3",\n  "medusa_num_heads": 5,\n'
                    '  "medusa_num_layers": 1,\n  "transformers_version": "4.33.1"\n}\n')
    cfg = extract(path)
    assert (cfg["model.speculative.num_heads"].value, cfg["model.speculative.num_heads"].origin.line) == (5, 3)
    assert (cfg["model.base"].value, cfg["model.base"].origin.line) == ("lmsys/vicuna-7b-v1.3", 2)
    assert cfg["hf.config.medusa_num_layers"].value == 1
