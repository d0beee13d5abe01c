"""LLaMA-Factory YAML: every mapping and default, hand-checked against LLaMA-Factory's source
(hiyouga/LLaMA-Factory@ff6d4d12eeb0 src/llamafactory/hparams/), the CLI, and real files from public repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError, LimitError
from driftguard.extractors import llamafactory
from driftguard.model import EffectiveConfig, How

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "finetune"

TRAIN = """\
### model
model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct
model_revision: v1.0
adapter_name_or_path: saves/a, saves/b

### method
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 8

### dataset
template: llama3
cutoff_len: 1024

### train
output_dir: saves/llama3-8b/lora/sft
fp16: true
quantization_bit: 4
temperature: 0.3
top_p: 0.8
top_k: 20
num_beams: 2
max_new_tokens: 256
repetition_penalty: 1.1
length_penalty: 0.9
do_sample: true
skip_special_tokens: false
default_system: You are helpful.
"""


def _extract(tmp_path: Path, text: str, name: str = "config.yaml") -> EffectiveConfig:
    path = tmp_path / name
    path.write_text(text)
    return extractors.extract(path, "llamafactory")


def _v(cfg: EffectiveConfig, key: str) -> object:
    return cfg.values[key].value


def test_train_file_maps_every_field_with_its_line(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, TRAIN)
    expected = {
        "model.source": ("meta-llama/Meta-Llama-3-8B-Instruct", 2),
        "model.revision": ("v1.0", 3),
        "model.adapters": (["saves/a", "saves/b"], 4),  # split on commas and stripped (ModelArguments.__post_init__)
        "model.adapter_type": ("lora", 9),
        "preprocessing.chat_template_name": ("llama3", 13),
        "preprocessing.max_length": (1024, 14),
        "precision.compute": ("float16", 18),
        "precision.quantization": ("bitsandbytes", 19),  # quantization_method defaults to bnb
        "generation.temperature": (0.3, 20),
        "generation.top_p": (0.8, 21),
        "generation.top_k": (20, 22),
        "generation.num_beams": (2, 23),
        "generation.max_new_tokens": (256, 24),
        "generation.repetition_penalty": (1.1, 25),
        "generation.length_penalty": (0.9, 26),
        "generation.do_sample": (True, 27),
        "llamafactory.skip_special_tokens": (False, 28),
        "llamafactory.default_system": ("You are helpful.", 29),
        "llamafactory.lora_rank": (8, 10),
        "llamafactory.stage": ("sft", 7),
    }
    for key, (value, line) in expected.items():
        v = cfg.values[key]
        assert (v.value, v.origin.line, v.how) == (value, line, How.EXPLICIT), key
    assert _v(cfg, "llamafactory.command") == "train"
    assert cfg.values["llamafactory.command"].how is How.DERIVED
    assert not any(".unknown_fields." in k for k in cfg.values)


def test_unset_fields_get_llamafactory_defaults_not_transformers(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "model_name_or_path: m\ntemplate: qwen\nstage: sft\ndo_train: true\n")
    # GeneratingArguments (generating_args.py), DataArguments.cutoff_len, FinetuningArguments.finetuning_type,
    # BaseModelArguments.model_revision; transformers' GenerationConfig would say 1.0 / 1.0 / False.
    expected = {"generation.do_sample": True, "generation.temperature": 0.95, "generation.top_p": 0.7,
                "generation.top_k": 50, "generation.num_beams": 1, "generation.max_new_tokens": 1024,
                "generation.repetition_penalty": 1.0, "generation.length_penalty": 1.0,
                "preprocessing.max_length": 2048, "model.adapter_type": "lora", "model.revision": "main"}
    for key, value in expected.items():
        v = cfg.values[key]
        assert (v.value, v.how) == (value, How.DEFAULT), key
        assert v.note is not None and v.note.startswith("defaults.md §20 LLaMA-Factory"), key
    # neither bf16 nor fp16: LLaMA-Factory infers the dtype from the model and the device, so it stays unset
    assert "precision.compute" not in cfg.values
    assert "precision.quantization" not in cfg.values
    assert "generation.max_length" not in cfg.values  # dropped by GeneratingArguments.to_dict (max_new_tokens > 0)


@pytest.mark.parametrize(("flags", "dtype", "line"), [
    ("bf16: true\nfp16: true\n", "bfloat16", 1), ("pure_bf16: true\n", "bfloat16", 1),
    ("fp16: true\nbf16: false\n", "float16", 1), ("bf16: false\nfp16: false\n", None, None),
])
def test_train_precision_follows_parser_compute_dtype(tmp_path: Path, flags: str, dtype: str | None,
                                                      line: int | None) -> None:
    cfg = _extract(tmp_path, flags + "model_name_or_path: m\nstage: sft\noutput_dir: out\n")
    if dtype is None:
        assert "precision.compute" not in cfg.values
    else:
        assert (_v(cfg, "precision.compute"), cfg.values["precision.compute"].origin.line) == (dtype, line)


@pytest.mark.parametrize(("method", "scheme"), [("bnb", "bitsandbytes"), ("bitsandbytes", "bitsandbytes"),
                                                ("hqq", "hqq"), ("eetq", "eetq")])
def test_quantization_bit_with_method(tmp_path: Path, method: str, scheme: str) -> None:
    cfg = _extract(tmp_path, f"model_name_or_path: m\ntemplate: t\nquantization_bit: 8\n"
                             f"quantization_method: {method}\n")
    assert (_v(cfg, "precision.quantization"), cfg.values["precision.quantization"].origin.line) == (scheme, 4)
    assert _v(cfg, "llamafactory.quantization_bit") == 8


def test_inference_file_served_by_vllm(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "model_name_or_path: m\nadapter_name_or_path: saves/lora\ntemplate: llama3\n"
                             "infer_backend: vllm\nvllm_maxlen: 8192\ninfer_dtype: bfloat16\ncutoff_len: 512\n")
    assert _v(cfg, "llamafactory.command") == "chat"
    assert (_v(cfg, "serving.max_model_len"), cfg.values["serving.max_model_len"].origin.line) == (8192, 5)
    assert (_v(cfg, "precision.compute"), cfg.values["precision.compute"].origin.line) == ("bfloat16", 6)
    assert _v(cfg, "llamafactory.infer_backend") == "vllm"
    # chat/api never truncate with cutoff_len: kept, not the training truncation, and no 2048 default either
    assert "preprocessing.max_length" not in cfg.values
    assert _v(cfg, "llamafactory.cutoff_len") == 512


def test_inference_defaults_per_backend(tmp_path: Path) -> None:
    vllm = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\ninfer_backend: vllm\ninfer_dtype: auto\n")
    assert (_v(vllm, "serving.max_model_len"), vllm.values["serving.max_model_len"].how) == (4096, How.DEFAULT)
    assert "precision.compute" not in vllm.values  # auto: vLLM resolves it from the model
    sglang = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\ninfer_backend: sglang\nsglang_maxlen: 2048\n")
    assert _v(sglang, "serving.max_model_len") == 2048
    hf = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\n")
    assert "serving.max_model_len" not in hf.values  # the huggingface backend has no context setting


def test_export_file(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "model_name_or_path: m\nadapter_name_or_path: a\ntemplate: qwen\nfinetuning_type: lora\n"
                             "export_dir: merged\ninfer_dtype: float16\n")
    assert _v(cfg, "llamafactory.command") == "export"
    assert _v(cfg, "precision.compute") == "float16"
    assert _v(cfg, "llamafactory.export_dir") == "merged"


def test_max_length_counts_only_without_max_new_tokens(tmp_path: Path) -> None:
    kept = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\nmax_length: 300\n")
    assert "generation.max_length" not in kept.values and _v(kept, "llamafactory.max_length") == 300
    used = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\nmax_length: 300\nmax_new_tokens: 0\n")
    assert _v(used, "generation.max_length") == 300


def test_temperature_zero_turns_sampling_off(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\ntemperature: 0\n")
    v = cfg.values["generation.do_sample"]
    assert (v.value, v.how, v.origin.line) == (False, How.DERIVED, 3)


def test_unknown_field_is_reported_with_the_closest_name(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "model_name_or_path: m\ntemplate: t\ncutof_len: 1024\nevaluation_strategy: steps\n")
    v = cfg.values["llamafactory.unknown_fields.cutof_len"]
    assert (v.value, v.origin.line) == (1024, 3)
    assert v.note is not None and "did you mean cutoff_len?" in v.note
    # renamed eval_strategy in transformers; LLaMA-Factory's supported transformers refuse the old name
    assert "llamafactory.unknown_fields.evaluation_strategy" in cfg.values
    assert "llamafactory.cutof_len" not in cfg.values


def test_detection_needs_a_llamafactory_pair(tmp_path: Path) -> None:
    def detect(text: str, name: str = "config.yaml") -> bool:
        path = tmp_path / name
        path.write_text(text)
        return llamafactory.detect(path, path.read_bytes())

    assert detect("model_name_or_path: m\ntemplate: llama3\n")
    assert detect("model_name_or_path: m\nstage: sft\n")
    assert not detect("model_name_or_path: m\nlearning_rate: 1e-4\n")  # any HF script's arguments
    assert not detect("base_model: m\ndatasets: []\nsequence_len: 4\n")  # axolotl's
    assert not detect("model_name_or_path: m\ntemplate: llama3\n", "config.json")
    path = tmp_path / "lf.yaml"
    path.write_text(TRAIN)
    assert extractors.detect(path) == "llamafactory"


@pytest.mark.parametrize(("text", "message", "line"), [
    ("foo: 1\nbar: 2\n", "not a llamafactory file", 1),
    ("- a\n- b\n", "expected a LLaMA-Factory config", 1),
    ("template: llama3\ntemperature: 0.7\n", "it has no model_name_or_path", 1),
    ("model_name_or_path: m\ntemplate: t\ncutoff_len: '{{cutoff}}'\ndo_train: true\n",
     "cutoff_len must be an integer", 3),
    ("model_name_or_path: m\ntemplate: t\nbf16: maybe\noutput_dir: o\n", "bf16 must be a boolean", 3),
    ("model_name_or_path: m\ntemplate: t\nadapter_name_or_path: [a, b]\n", "adapter_name_or_path must be", 3),
    ("model_name_or_path: m\ntemplate: t\ninfer_dtype: int3\n", "infer_dtype must be", 3),
    ("model_name_or_path: {a: b}\ntemplate: t\n", "model_name_or_path must be a string", 1),
])
def test_bad_input_is_an_error_at_its_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(ExtractionError) as info:
        _extract(tmp_path, text)
    assert message in info.value.message and info.value.line == line


def test_alias_bomb_is_refused_by_the_limits(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    with pytest.raises(LimitError):
        _extract(tmp_path, "model_name_or_path: m\ntemplate: t\n" + "\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------

def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_cli_extract_names_the_kind_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(TRAIN)
    proc = _cli("extract", "--format", "json", f"llamafactory:{path}")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["kind"] == "llamafactory"
    assert out["values"]["preprocessing.max_length"]["value"] == 1024
    assert out["values"]["preprocessing.max_length"]["origin"]["line"] == 14
    assert out["values"]["generation.top_p"]["origin"]["line"] == 21


def test_cli_extract_of_a_file_without_its_fields_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("foo: 1\n")
    proc = _cli("extract", f"llamafactory:{path}")
    assert proc.returncode == 2
    assert "not a llamafactory file" in proc.stderr and "other.yaml" in proc.stderr


def test_check_compares_a_train_yaml_with_a_vllm_deployment(tmp_path: Path) -> None:
    """Training: a LLaMA-Factory train YAML (cutoff_len 1024, template llama3, bf16). Deployment: a
    ``vllm serve --config`` YAML (max_model_len 4096, dtype bfloat16) and a chat request (temperature 0.7,
    top_p 0.9, max_tokens 512)."""
    (tmp_path / "training").mkdir()
    (tmp_path / "deployment").mkdir()
    (tmp_path / "training" / "train.yaml").write_text(
        "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\n"
        "finetuning_type: lora\ntemplate: llama3\ncutoff_len: 1024\noutput_dir: saves/sft\nbf16: true\n")
    (tmp_path / "deployment" / "serve.yaml").write_text(
        "model: meta-llama/Meta-Llama-3-8B-Instruct\nmax_model_len: 4096\ndtype: bfloat16\n")
    (tmp_path / "deployment" / "request.json").write_text(json.dumps(
        {"model": "llama3", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7, "top_p": 0.9,
         "max_tokens": 512}))
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  llama3:\n    training:\n      - path: training/train.yaml\n"
        "    deployment:\n      - path: deployment/serve.yaml\n        kind: vllm\n"
        "      - path: deployment/request.json\n        kind: vllm\n")
    proc = _cli("check", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    findings = {f["key"]: f for m in report["models"] for f in m["findings"]}
    # compared: LLaMA-Factory's evaluation sampling defaults against what the request asks for
    temperature = findings["generation.temperature"]
    assert (temperature["training"], temperature["deployed"]) == (0.95, 0.7)
    assert temperature["training_how"] == "default" and temperature["training_origin"]["path"] == "training/train.yaml"
    assert temperature["deployed_origin"] == {"path": "deployment/request.json", "line": 1, "pointer": "/temperature",
                                              "source": "request"}
    assert (findings["generation.top_p"]["training"], findings["generation.max_new_tokens"]["deployed"]) == (0.7, 512)
    # the served context is stated on the deployment side only: reported, not silently passed
    served = findings["serving.max_model_len"]
    assert served["rule"] == "DG103" and served["deployed"] == 4096
    assert (served["deployed_origin"]["path"], served["deployed_origin"]["line"]) == ("deployment/serve.yaml", 2)
    # the same compute dtype on both sides (bf16: true, dtype: bfloat16) is no finding; the training
    # truncation (cutoff_len, preprocessing.max_length) and the template name have no counterpart in these
    # deployment files, so they are not compared
    assert "precision.compute" not in findings
    assert "preprocessing.max_length" not in findings
    assert "preprocessing.chat_template_name" not in findings


# ---------------------------------------------------------------------------------------------------------
# real files
# ---------------------------------------------------------------------------------------------------------

LF_FILES = sorted(p for p in CORPUS.glob("*.y*ml")
                  if p.name.startswith(("hiyouga__", "OpenBMB__", "QwenLM__")))


@pytest.mark.parametrize("path", LF_FILES, ids=lambda p: p.name)
def test_every_real_file_is_detected_and_extracts(path: Path) -> None:
    assert extractors.detect(path) == "llamafactory"
    cfg = extractors.extract(path)
    assert cfg.values["model.source"].explicit


def _real(name: str) -> EffectiveConfig:
    return extractors.extract(CORPUS / name)


def test_real_llamafactory_lora_sft() -> None:
    cfg = _real("hiyouga__LLaMA-Factory__examples__train_lora__qwen3_lora_sft.yaml")
    assert _v(cfg, "model.source") == "Qwen/Qwen3-4B-Instruct-2507"
    assert _v(cfg, "preprocessing.chat_template_name") == "qwen3_nothink"
    assert (_v(cfg, "preprocessing.max_length"), cfg.values["preprocessing.max_length"].origin.line) == (2048, 15)
    assert _v(cfg, "precision.compute") == "bfloat16"  # bf16: true
    assert _v(cfg, "model.adapter_type") == "lora" and _v(cfg, "llamafactory.command") == "train"


def test_real_llamafactory_gptq_model_has_no_on_the_fly_quantization() -> None:
    # a GPTQ checkpoint: quantization comes from the model's config, not from quantization_bit
    cfg = _real("hiyouga__LLaMA-Factory__examples__train_qlora__llama3_lora_sft_gptq.yaml")
    assert _v(cfg, "model.source") == "TechxGenus/Meta-Llama-3-8B-Instruct-GPTQ"
    assert "precision.quantization" not in cfg.values
    assert _v(cfg, "preprocessing.chat_template_name") == "llama3"


def test_real_llamafactory_inference_file() -> None:
    cfg = _real("hiyouga__LLaMA-Factory__examples__inference__qwen3_lora_sft.yaml")
    assert _v(cfg, "llamafactory.command") == "chat"
    assert _v(cfg, "model.adapters") == ["saves/qwen3-4b/lora/sft"]
    assert _v(cfg, "llamafactory.infer_backend") == "huggingface"
    assert "preprocessing.max_length" not in cfg.values


def test_real_llamafactory_export_with_gptq() -> None:
    cfg = _real("hiyouga__LLaMA-Factory__examples__merge_lora__qwen3_gptq.yaml")
    assert _v(cfg, "llamafactory.command") == "export"
    assert _v(cfg, "llamafactory.export_quantization_bit") == 4


def test_real_qwen_qlora_uses_the_old_bitsandbytes_spelling() -> None:
    cfg = _real("QwenLM__Qwen2.5__examples__llama-factory__qwen2-7b-qlora-sft.yaml")
    assert (_v(cfg, "precision.quantization"), cfg.values["precision.quantization"].origin.line) == \
        ("bitsandbytes", 10)
    assert _v(cfg, "preprocessing.max_length") == 1024 and _v(cfg, "preprocessing.chat_template_name") == "qwen"


def test_real_qwen_merge_lora() -> None:
    cfg = _real("QwenLM__Qwen2.5__examples__llama-factory__qwen2-7b-merge-lora.yaml")
    assert _v(cfg, "llamafactory.command") == "export"
    assert _v(cfg, "model.adapters") == ["PATH-TO-LORA"]
    assert _v(cfg, "llamafactory.export_size") == 2


def test_real_minicpm_full_sft_with_a_removed_transformers_field() -> None:
    cfg = _real("OpenBMB__MiniCPM__finetune__llama_factory_example__minicpm_sft.yaml")
    assert _v(cfg, "model.adapter_type") == "full"
    assert _v(cfg, "preprocessing.chat_template_name") == "cpm3"
    assert _v(cfg, "preprocessing.max_length") == 1800
    # evaluation_strategy: removed from transformers' TrainingArguments (now eval_strategy)
    v = cfg.values["llamafactory.unknown_fields.evaluation_strategy"]
    assert (v.value, v.origin.line) == ("steps", 40)


def test_real_predict_file_is_a_train_command() -> None:
    cfg = _real("hiyouga__LLaMA-Factory__examples__extras__nlg_eval__llama3_lora_predict.yaml")
    assert _v(cfg, "llamafactory.command") == "train"  # do_predict runs through llamafactory-cli train
    assert _v(cfg, "llamafactory.predict_with_generate") is True
