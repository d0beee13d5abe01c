"""axolotl YAML: every mapping and default, hand-checked against axolotl's schema and resolve_dtype
(axolotl-ai-cloud/axolotl@067b021c8b87), the CLI, and real files from public repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import axolotl
from driftguard.keys import chat_template_digest
from driftguard.model import EffectiveConfig, How

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "finetune"

QLORA = """\
base_model: NousResearch/Llama-3.2-1B
revision_of_model: main
load_in_4bit: true
adapter: qlora
lora_model_dir: ./previous-adapter
chat_template: llama3
datasets:
  - path: teknium/GPT4-LLM-Cleaned
    type: alpaca
sequence_len: 2048
bf16: true
tf32: false
lora_r: 32
medusa_num_heads: 4
"""


def _extract(tmp_path: Path, text: str) -> EffectiveConfig:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return extractors.extract(path, "axolotl")


def _v(cfg: EffectiveConfig, key: str) -> object:
    return cfg.values[key].value


def test_every_mapping_with_its_line(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, QLORA)
    expected = {
        "model.source": ("NousResearch/Llama-3.2-1B", 1),
        "model.revision": ("main", 2),
        "precision.quantization": ("bitsandbytes", 3),
        "model.adapter_type": ("qlora", 4),
        "model.adapters": (["./previous-adapter"], 5),
        "preprocessing.chat_template_name": ("llama3", 6),
        "preprocessing.max_length": (2048, 10),
        "precision.compute": ("bfloat16", 11),
        "axolotl.tf32": (False, 12),
        "axolotl.lora_r": (32, 13),
    }
    for key, (value, line) in expected.items():
        v = cfg.values[key]
        assert (v.value, v.origin.line, v.how) == (value, line, How.EXPLICIT), key
    # axolotl's schema has no Medusa field: pydantic drops it, so it is reported, not read as speculative heads
    assert "model.speculative.num_heads" not in cfg.values
    unknown = cfg.values["axolotl.unknown_fields.medusa_num_heads"]
    assert (unknown.value, unknown.origin.line) == (4, 14)


def test_schema_defaults(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "base_model: m\ndatasets: []\n")
    assert (_v(cfg, "preprocessing.max_length"), cfg.values["preprocessing.max_length"].how) == (512, How.DEFAULT)
    assert (_v(cfg, "model.adapter_type"), cfg.values["model.adapter_type"].how) == ("none", How.DEFAULT)
    note = cfg.values["preprocessing.max_length"].note
    assert note is not None and note.startswith("defaults.md §21 axolotl config schema (AXO)")
    # bf16 defaults to auto: the training GPU decides, so the compute dtype is left unset
    assert "precision.compute" not in cfg.values and "precision.quantization" not in cfg.values


@pytest.mark.parametrize(("flags", "dtype", "line"), [
    ("bf16: true\nfp16: true\n", "bfloat16", 3),       # bf16 wins (resolve_dtype sets fp16 False)
    ("bf16: auto\nfp16: true\n", "float16", 4),        # fp16 with bf16 auto: bf16 becomes False
    ("bf16: false\nfp16: true\n", "float16", 4),
    ("bf16: false\nload_in_8bit: true\n", "float16", 4),  # 8-bit loading computes in float16
    ("bf16: false\nfp16: false\n", "float32", 3),
    ("bfloat16: true\n", "bfloat16", 3),               # bfloat16 wins even with bf16 auto
    ("float16: true\nbf16: false\n", "float16", 3),
    ("bf16: auto\n", None, None),                      # the GPU decides: bfloat16 where supported, else float16
    ("bf16: auto\nfp16: false\n", None, None),         # bfloat16 where supported, else float32
    ("load_in_8bit: true\n", None, None),              # bf16 auto: bfloat16 or float16 by GPU
])
def test_compute_dtype_as_resolve_dtype_decides(tmp_path: Path, flags: str, dtype: str | None,
                                                line: int | None) -> None:
    cfg = _extract(tmp_path, "base_model: m\nsequence_len: 4\n" + flags)
    if dtype is None:
        assert "precision.compute" not in cfg.values
    else:
        assert (_v(cfg, "precision.compute"), cfg.values["precision.compute"].origin.line) == (dtype, line)


@pytest.mark.parametrize(("flags", "scheme"), [("load_in_8bit: true\n", "bitsandbytes"),
                                               ("gptq: true\n", "gptq"),
                                               ("load_in_4bit: false\nload_in_8bit: false\n", None)])
def test_quantization(tmp_path: Path, flags: str, scheme: str | None) -> None:
    cfg = _extract(tmp_path, "base_model: m\nadapter: lora\n" + flags)
    got = cfg.values.get("precision.quantization")
    assert (got.value if got is not None else None) == scheme


def test_jinja_template_text_is_digested(tmp_path: Path) -> None:
    text = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    cfg = _extract(tmp_path, f"base_model: m\nsequence_len: 8\nchat_template: jinja\nchat_template_jinja: \"{text}\"\n")
    assert _v(cfg, "preprocessing.chat_template") == chat_template_digest(text)
    assert _v(cfg, "preprocessing.chat_template_text") == text
    assert "preprocessing.chat_template_name" not in cfg.values
    # a file name: axolotl opens it from its working directory at run time; kept, not read
    path = _extract(tmp_path, "base_model: m\nsequence_len: 8\nchat_template_jinja: templates/chat.jinja\n")
    assert "preprocessing.chat_template" not in path.values
    assert _v(path, "axolotl.chat_template_jinja") == "templates/chat.jinja"


def test_detection_needs_base_model_and_a_training_field(tmp_path: Path) -> None:
    def detect(text: str) -> bool:
        path = tmp_path / "c.yml"
        path.write_text(text)
        return axolotl.detect(path, path.read_bytes())

    assert detect("base_model: m\nsequence_len: 512\n")
    assert detect("base_model: m\ndatasets: []\n")
    assert not detect("base_model: m\nlearning_rate: 1e-4\n")
    assert not detect("model_name_or_path: m\ntemplate: llama3\n")
    path = tmp_path / "qlora.yml"
    path.write_text(QLORA)
    assert extractors.detect(path) == "axolotl"


@pytest.mark.parametrize(("text", "message", "line"), [
    ("foo: 1\n", "not a axolotl file", 1),
    ("sequence_len: 512\nbf16: true\n", "it has no base_model", 1),
    ("base_model: m\nsequence_len: long\n", "sequence_len must be an integer", 2),
    ("base_model: m\nsequence_len: 8\nbf16: sometimes\n", "bf16 must be a boolean", 3),
    ("base_model: [a]\nsequence_len: 8\n", "base_model must be a string", 1),
])
def test_bad_input_is_an_error_at_its_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(ExtractionError) as info:
        _extract(tmp_path, text)
    assert message in info.value.message and info.value.line == line


def test_cli_extract(tmp_path: Path) -> None:
    path = tmp_path / "qlora.yml"
    path.write_text(QLORA)
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", "--format", "json", f"axolotl:{path}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)["values"]
    assert values["preprocessing.max_length"]["value"] == 2048
    assert values["preprocessing.max_length"]["origin"]["line"] == 10


# ---------------------------------------------------------------------------------------------------------
# real files
# ---------------------------------------------------------------------------------------------------------

AXOLOTL_FILES = sorted(p for p in CORPUS.glob("*.y*ml")
                       if p.name.startswith(("axolotl-ai-cloud__", "modal-labs__", "dstackai__")))


@pytest.mark.parametrize("path", AXOLOTL_FILES, ids=lambda p: p.name)
def test_every_real_file_is_detected_and_extracts(path: Path) -> None:
    assert extractors.detect(path) == "axolotl"
    cfg = extractors.extract(path)
    assert cfg.values["model.source"].explicit and cfg.values["preprocessing.max_length"].explicit


def _real(name: str) -> EffectiveConfig:
    return extractors.extract(CORPUS / name)


def test_real_axolotl_qlora() -> None:
    cfg = _real("axolotl-ai-cloud__axolotl__examples__llama-3__qlora-1b.yml")
    assert _v(cfg, "model.source") == "NousResearch/Llama-3.2-1B"
    assert (_v(cfg, "precision.quantization"), cfg.values["precision.quantization"].origin.line) == \
        ("bitsandbytes", 6)
    assert _v(cfg, "model.adapter_type") == "qlora" and _v(cfg, "preprocessing.max_length") == 2048
    assert "model.adapters" not in cfg.values  # lora_model_dir: (empty)
    assert "precision.compute" not in cfg.values  # bf16: auto


def test_real_axolotl_lora_8bit_with_chat_template() -> None:
    cfg = _real("axolotl-ai-cloud__axolotl__examples__llama-3__instruct-lora-8b.yml")
    assert (_v(cfg, "preprocessing.chat_template_name"), cfg.values["preprocessing.chat_template_name"].origin.line) \
        == ("llama3", 11)
    assert _v(cfg, "precision.quantization") == "bitsandbytes"  # load_in_8bit: true
    assert _v(cfg, "preprocessing.max_length") == 4096


def test_real_archived_openllama_fp16_with_removed_gptq_fields() -> None:
    cfg = _real("axolotl-ai-cloud__axolotl__examples__archived__openllama-3b__lora.yml")
    assert (_v(cfg, "precision.compute"), cfg.values["precision.compute"].origin.line) == ("float16", 45)
    assert _v(cfg, "preprocessing.max_length") == 1024
    # gptq_groupsize and gptq_model_v1 are no longer in axolotl's schema
    assert {"axolotl.unknown_fields.gptq_groupsize", "axolotl.unknown_fields.gptq_model_v1"} <= set(cfg.values)


def test_real_full_fine_tune_has_no_adapter() -> None:
    cfg = _real("axolotl-ai-cloud__axolotl__examples__llama-3__fft-8b.yaml")
    assert (_v(cfg, "model.adapter_type"), cfg.values["model.adapter_type"].how) == ("none", How.DEFAULT)
    assert _v(cfg, "preprocessing.max_length") == 8192


def test_real_modal_llama3() -> None:
    cfg = _real("modal-labs__llm-finetuning__config__llama-3.yml")
    assert (_v(cfg, "model.source"), cfg.values["model.source"].origin.line) == ("NousResearch/Meta-Llama-3-8B", 5)
    assert (_v(cfg, "preprocessing.max_length"), cfg.values["preprocessing.max_length"].origin.line) == (4096, 6)
    assert _v(cfg, "precision.quantization") == "bitsandbytes"


def test_real_modal_mistral_bf16_auto_fp16_off_is_left_unresolved() -> None:
    # bf16 auto with fp16 false: bfloat16 on a GPU with bf16, float32 on one without
    cfg = _real("modal-labs__llm-finetuning__config__mistral.yml")
    assert "precision.compute" not in cfg.values
    assert _v(cfg, "axolotl.bf16") == "auto" and _v(cfg, "axolotl.fp16") is False
    assert "precision.quantization" not in cfg.values  # load_in_8bit and load_in_4bit false


def test_real_dstack_qlora() -> None:
    cfg = _real("dstackai__dstack__examples__fine-tuning__axolotl__config.yaml")
    assert _v(cfg, "model.source") == "meta-llama/Meta-Llama-3-8B"
    assert (_v(cfg, "preprocessing.max_length"), cfg.values["preprocessing.max_length"].origin.line) == (512, 19)
    assert _v(cfg, "model.adapter_type") == "qlora"
