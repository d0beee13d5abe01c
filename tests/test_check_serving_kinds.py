"""Issue 18's acceptance, end to end through the CLI: a manifest names a launch script, a compose file, a Kubernetes
manifest, a Dockerfile, a Modelfile, a GGUF file, a genai_config.json, a TensorRT-LLM engine config or a fine-tuning
framework's YAML directly (detected by name or content, no kind given), and ``check`` compares what it says with the
other side: each finding expected here was worked out by hand from the files below and the launcher's semantics,
with the deployed value's line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: The training side of every case but the fine-tuning ones: a bf16 Llama evaluated at temperature 0.6, top_p 0.9.
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
          "max_position_embeddings": 8192, "vocab_size": 32000, "bos_token_id": 1, "eos_token_id": 2}
GENERATION = {"do_sample": True, "temperature": 0.6, "top_p": 0.9, "bos_token_id": 1, "eos_token_id": 2}
HF_TRAINING = ["training/config.json", "training/generation_config.json"]

DEPLOY_SH = """\
#!/bin/bash
MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}
vllm serve "$MODEL" --max-model-len 4096 --dtype float16 --override-generation-config '{"temperature": 0.7}'
"""
COMPOSE = """\
services:
  llm:
    image: vllm/vllm-openai:v0.8.5
    command: --model meta-llama/Llama-3.1-8B-Instruct --max-model-len 4096 --dtype float16
"""
KUBERNETES = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:latest
        args: ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "$(MAXLEN)", "--dtype", "float16"]
        env:
        - {name: MAXLEN, value: "4096"}
"""
DOCKERFILE = """\
FROM vllm/vllm-openai:v0.8.5
ENV DTYPE=float16
CMD ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "4096", "--dtype", "float16"]
"""
MODELFILE = """\
FROM llama3.1
PARAMETER temperature 0.8
PARAMETER top_p 0.9
"""
GENAI = {"model": {"type": "llama", "context_length": 4096, "bos_token_id": 1, "eos_token_id": 2,
                   "vocab_size": 32000, "decoder": {"filename": "model.onnx"}},
         "search": {"do_sample": True, "temperature": 0.6, "top_p": 0.8, "max_length": 4096}}
#: A TensorRT-LLM engine built in float16 from the bf16 checkpoint, for 4096 tokens at most.
ENGINE = {"version": "0.17.0.post1",
          "pretrained_config": {"architecture": "LlamaForCausalLM", "dtype": "float16", "vocab_size": 32000,
                                "max_position_embeddings": 8192, "quantization": {"quant_algo": None}},
          "build_config": {"max_input_len": 2048, "max_seq_len": 4096, "max_batch_size": 8,
                           "plugin_config": {"dtype": "float16"}}}
LLAMAFACTORY = """\
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
stage: sft
do_train: true
finetuning_type: lora
template: llama3
cutoff_len: 2048
bf16: true
output_dir: saves/llama3-lora
"""
AXOLOTL = """\
base_model: meta-llama/Llama-3.1-8B-Instruct
adapter: lora
sequence_len: 2048
bf16: true
datasets:
  - path: teknium/GPT4-LLM-Cleaned
    type: alpaca
"""


def _write(root: Path, files: dict[str, str | dict[str, Any]]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body if isinstance(body, str) else json.dumps(body, indent=1) + "\n")


def _check(root: Path, training: list[str], deployment: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Run ``driftguard check --format json`` on a manifest naming the files (no kinds), as a user would."""
    lines = ["version: 1", "models:", "  m:", "    training:"]
    lines += [f"      - path: {p}" for p in training]
    lines += ["    deployment:"] + [f"      - path: {p}" for p in deployment]
    (root / "driftguard.yaml").write_text("\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--format", "json"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    (model,) = report["models"] if isinstance(report["models"], list) else report["models"].values()
    return proc.returncode, model["findings"]


def _by_key(findings: list[dict[str, Any]]) -> dict[str, tuple[str, Any, Any, str | None, int | None]]:
    """Each finding as (rule, training, deployed, deployed path, deployed line); no deployed value: no path."""
    return {f["key"]: (f["rule"], f["training"], f["deployed"], (f["deployed_origin"] or {}).get("path"),
                       (f["deployed_origin"] or {}).get("line")) for f in findings}


HF_TREE: dict[str, str | dict[str, Any]] = {"training/config.json": CONFIG,
                                            "training/generation_config.json": GENERATION}

#: (deployment file, its text, the findings expected: key -> (rule, training, deployed, line)). Each launcher file
#: serves float16 where the checkpoint is bf16 (DG105 at the flag's line); the script also overrides temperature.
LAUNCHES = [
    ("dep/deploy.sh", DEPLOY_SH, {"generation.temperature": ("DG101", 0.6, 0.7, 3),
                                  "precision.compute": ("DG105", "bfloat16", "float16", 3)}),
    ("dep/docker-compose.yml", COMPOSE, {"precision.compute": ("DG105", "bfloat16", "float16", 4)}),
    ("dep/k8s.yaml", KUBERNETES, {"precision.compute": ("DG105", "bfloat16", "float16", 10)}),
    ("dep/Dockerfile", DOCKERFILE, {"precision.compute": ("DG105", "bfloat16", "float16", 3)}),
]


@pytest.mark.parametrize(("name", "text", "expected"), LAUNCHES, ids=[c[0] for c in LAUNCHES])
def test_a_launch_file_named_directly_is_checked(tmp_path: Path, name: str, text: str,
                                                 expected: dict[str, tuple[str, Any, Any, int]]) -> None:
    _write(tmp_path, {**HF_TREE, name: text})
    rc, findings = _check(tmp_path, HF_TRAINING, [name])
    got = _by_key(findings)
    assert rc == 1
    for key, (rule, training, deployed, line) in expected.items():
        assert got[key] == (rule, training, deployed, name, line)
    # The launch serves a hub id whose files the deployment side does not hold: the sampling values vllm serve
    # takes from its generation_config.json are unknown, not vLLM's bare defaults (no DG101 on top_p 0.9 vs
    # 1.0), and one DG304 asks for the model's folder (issue 20, point 5).
    assert "generation.top_p" not in got
    assert got["model.source"][0] == "DG304"


def test_a_modelfile_is_checked(tmp_path: Path) -> None:
    """FROM a model name: its own parameters layer is not visible, so only what PARAMETER states is compared."""
    _write(tmp_path, {**HF_TREE, "dep/Modelfile": MODELFILE})
    rc, findings = _check(tmp_path, HF_TRAINING, ["dep/Modelfile"])
    got = _by_key(findings)
    assert rc == 1
    assert got["generation.temperature"] == ("DG101", 0.6, 0.8, "dep/Modelfile", 2)
    assert "generation.top_p" not in got  # 0.9 on both sides


def test_a_genai_config_is_checked(tmp_path: Path) -> None:
    _write(tmp_path, {**HF_TREE, "dep/genai_config.json": GENAI})
    rc, findings = _check(tmp_path, HF_TRAINING, ["dep/genai_config.json"])
    got = _by_key(findings)
    assert rc == 1
    assert got["generation.top_p"][:4] == ("DG101", 0.9, 0.8, "dep/genai_config.json")
    assert "generation.temperature" not in got and "model.vocab_size" not in got


def test_a_tensorrt_llm_engine_config_is_checked(tmp_path: Path) -> None:
    _write(tmp_path, {**HF_TREE, "dep/engine/config.json": ENGINE})
    rc, findings = _check(tmp_path, HF_TRAINING, ["dep/engine/config.json"])
    got = _by_key(findings)
    assert rc == 1
    # config.json's torch_dtype is the checkpoint's weights; the engine's pretrained_config.dtype (line 5) too.
    assert got["precision.weights"] == ("DG102", "bfloat16", "float16", "dep/engine/config.json", 5)
    assert "model.vocab_size" not in got and "model.max_position_embeddings" not in got


def test_a_gguf_file_is_checked(tmp_path: Path) -> None:
    """A Q4_K_M GGUF served where the model was evaluated in bf16: the quantization is a finding at the GGUF."""
    pytest.importorskip("gguf")
    from tests.extractors.test_gguf import _served
    from tests.extractors.test_gguf import _write as write_gguf

    _write(tmp_path, HF_TREE)
    (tmp_path / "dep").mkdir()
    write_gguf(tmp_path / "dep" / "model-q4_k_m.gguf", _served)  # a Q4_K_M llama, bos 1 and eos 2 as trained
    rc, findings = _check(tmp_path, HF_TRAINING, ["dep/model-q4_k_m.gguf"])
    got = _by_key(findings)
    assert rc == 1
    assert any(key.startswith("precision.") and rule.startswith("DG10") and path == "dep/model-q4_k_m.gguf"
               for key, (rule, _, _, path, _) in got.items())
    assert "generation.bos_token_id" not in got and "generation.eos_token_id" not in got


FINETUNES = [("training/sft.yaml", LLAMAFACTORY), ("training/axolotl.yml", AXOLOTL)]


@pytest.mark.parametrize(("name", "text"), FINETUNES, ids=[c[0] for c in FINETUNES])
def test_a_fine_tuning_yaml_is_the_training_side(tmp_path: Path, name: str, text: str) -> None:
    """Trained in bf16 by the framework, served in float16 by the script: the precision drift at both lines."""
    _write(tmp_path, {name: text, "dep/deploy.sh": DEPLOY_SH})
    rc, findings = _check(tmp_path, [name], ["dep/deploy.sh"])
    got = _by_key(findings)
    assert rc == 1
    rule, training, deployed, path, line = got["precision.compute"]
    assert rule == "DG102"  # the training precision differs from the served one
    assert (training, deployed, path, line) == ("bfloat16", "float16", "dep/deploy.sh", 3)
    (finding,) = [f for f in findings if f["key"] == "precision.compute"]
    assert finding["training_origin"]["path"] == name
    assert finding["training_origin"]["line"] == text.splitlines().index("bf16: true") + 1
