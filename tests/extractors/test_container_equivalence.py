"""The same deployment written in each launch format gives the same effective config (same keys, values and
how each came to be): a vLLM server as a shell command, a compose service (its value from ``.env``), a
Kubernetes Deployment (its model through ``$(VAR)``), a Dockerfile (``FROM`` the vLLM image) and a
``vllm serve --config`` YAML; a TGI server as compose environment variables and as Kubernetes arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.extractors.base import ExtractOptions

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
VLLM: dict[str, tuple[str, str]] = {
    "serve.sh": ("shell", f"#!/bin/bash\nvllm serve {MODEL} --max-model-len 4096 --dtype bfloat16 --max-num-seqs 64 "
                          "--tensor-parallel-size 2 --generation-config vllm\n"),
    "docker-compose.yml": ("compose", f"""services:
  llm:
    image: vllm/vllm-openai:v0.9.2
    command: ["{MODEL}", "--max-model-len", "${{MAX_LEN}}", "--dtype", "bfloat16", "--max-num-seqs", "64",
              "--tensor-parallel-size", "2", "--generation-config", "vllm"]
"""),
    "deployment.yaml": ("kubernetes", f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: llm}}
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.9.2
        args: ["$(MODEL)", "--max-model-len=4096", "--dtype=bfloat16", "--max-num-seqs=64",
               "--tensor-parallel-size=2", "--generation-config=vllm"]
        env:
        - {{name: MODEL, value: {MODEL}}}
"""),
    "Dockerfile": ("dockerfile", f"""FROM vllm/vllm-openai:v0.9.2
ENV MAX_LEN=4096
ENTRYPOINT vllm serve {MODEL} --max-model-len $MAX_LEN --dtype bfloat16 --max-num-seqs 64 \\
    --tensor-parallel-size 2 --generation-config vllm
"""),
    "serve-config.sh": ("shell", "vllm serve --config config.yaml\n"),
    "config.yaml": ("vllm", f"model: {MODEL}\nmax-model-len: 4096\ndtype: bfloat16\nmax-num-seqs: 64\n"
                            "tensor-parallel-size: 2\ngeneration-config: vllm\n"),
}

TGI: dict[str, tuple[str, str]] = {
    "docker-compose.yml": ("compose", """services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.4.1
    environment:
      MODEL_ID: org/m
      MAX_INPUT_TOKENS: 1024
      MAX_TOTAL_TOKENS: 2048
      QUANTIZE: bitsandbytes-nf4
"""),
    "deployment.yaml": ("kubernetes", """apiVersion: apps/v1
kind: Deployment
metadata: {name: tgi}
spec:
  template:
    spec:
      containers:
      - name: tgi
        image: ghcr.io/huggingface/text-generation-inference:2.4.1
        args: [--model-id, org/m, --max-input-tokens, "1024", --max-total-tokens, "2048",
               --quantize, bitsandbytes-nf4]
"""),
}


def _configs(tmp_path: Path, files: dict[str, tuple[str, str]]) -> dict[str, dict[str, tuple[object, str]]]:
    for name, (_, text) in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / ".env").write_text("MAX_LEN=4096\n")
    out = {}
    for name, (kind, _) in files.items():
        cfg = extractors.extract(tmp_path / name, kind, ExtractOptions(root=tmp_path))
        out[name] = {key: (v.value, v.how.value) for key, v in cfg.values.items()}
        out[name]["(serving)"] = (cfg.serving, "")
    return out


def test_one_vllm_deployment_in_every_format(tmp_path: Path) -> None:
    configs = _configs(tmp_path, VLLM)
    reference = configs["serve.sh"]
    assert reference["serving.max_model_len"] == (4096, "explicit")
    assert reference["vllm.tensor_parallel_size"] == (2, "explicit")
    assert reference["precision.compute"] == ("bfloat16", "explicit")
    for name, values in configs.items():
        assert values == reference, name


def test_one_tgi_deployment_as_environment_and_as_arguments(tmp_path: Path) -> None:
    configs = _configs(tmp_path, TGI)
    env_form, args_form = configs["docker-compose.yml"], configs["deployment.yaml"]
    assert env_form["tgi.launcher.max_input_tokens"] == (1024, "explicit")
    assert env_form["precision.quantization"] == ("bitsandbytes-nf4", "explicit")
    assert env_form == args_form


@pytest.mark.parametrize("name", ["docker-compose.yml", "deployment.yaml", "Dockerfile"])
def test_each_value_keeps_its_own_files_line(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(VLLM[name][1])
    (tmp_path / ".env").write_text("MAX_LEN=4096\n")
    cfg = extractors.extract(tmp_path / name, VLLM[name][0], ExtractOptions(root=tmp_path))
    origin = cfg.values["serving.max_model_len"].origin
    assert origin.path == str(tmp_path / name)
    assert origin.line == {"docker-compose.yml": 4, "deployment.yaml": 10, "Dockerfile": 3}[name]
