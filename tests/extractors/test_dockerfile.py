"""The dockerfile kind: detection by name, the launch its final stage starts read through the launcher's flags
(a shell form's script given the image's ENV), and the input errors: no known launcher, a Dockerfile that is
not one. Its Dockerfile rules: tests/extractors/test_dockerfile_stages.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import dockerfile
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig


def _extract(tmp_path: Path, text: str, name: str = "Dockerfile") -> EffectiveConfig:
    path = tmp_path / name
    path.write_text(text)
    return extractors.extract(path, "dockerfile", ExtractOptions(root=tmp_path))


@pytest.mark.parametrize(("name", "expected"), [
    ("Dockerfile", True), ("Dockerfile.vllm", True), ("serve.Dockerfile", True), ("gpu.dockerfile", True),
    ("Dockerfile_amd", False), ("dockerfile.md", False), ("Containerfile", False), ("docker-compose.yml", False),
])
def test_detect_by_name(name: str, expected: bool) -> None:
    assert dockerfile.detect(Path(name), b"FROM x\n") is expected


def test_detected_among_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile.serve"
    path.write_text("FROM vllm/vllm-openai\n")
    assert extractors.detect(path) == "dockerfile"


def test_shell_form_entrypoint_reads_env_and_defaults_as_the_shell_does(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, "FROM vllm/vllm-openai:latest\nENV MAX_LEN=8192\n"
                             "ENTRYPOINT python3 -m vllm.entrypoints.openai.api_server \\\n"
                             "    --model ${MODEL_NAME:-org/m} \\\n    --max-model-len $MAX_LEN\n")
    assert cfg.serving == "vllm-serve"
    assert cfg.values["vllm.model"].value == "org/m" and cfg.values["vllm.model"].origin.line == 4
    assert cfg.values["serving.max_model_len"].value == 8192
    assert cfg.values["serving.max_model_len"].origin.line == 5


def test_cmd_after_a_known_images_entrypoint(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, 'FROM ghcr.io/huggingface/text-generation-inference:2.4\n'
                             'ENV MAX_TOTAL_TOKENS=4096\nCMD ["--model-id", "org/m", "--max-input-tokens", "1024"]\n')
    assert cfg.serving == "tgi"
    assert cfg.values["tgi.launcher.model_id"].value == "org/m"
    assert cfg.values["tgi.launcher.max_total_tokens"].value == 4096  # from ENV, as the launcher reads it
    assert cfg.values["tgi.launcher.port"].value == 80  # the image's own ENV PORT=80


def test_shell_form_cmd_after_an_exec_entrypoint_becomes_its_arguments(tmp_path: Path) -> None:
    # Docker runs `vllm serve /bin/sh -c "..."`: the image's ENTRYPOINT gets the shell as arguments.
    cfg = _extract(tmp_path, "FROM vllm/vllm-openai\nCMD vllm serve org/m\n")
    assert cfg.values["vllm.model"].value == "/bin/sh"
    assert "vllm.unknown_flags.c" in cfg.values


def test_no_known_launcher_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match=r"no known launcher.*text-generation-launcher") as err:
        _extract(tmp_path, 'FROM python:3.11\nCMD ["python", "app.py"]\n')
    assert err.value.line == 2
    with pytest.raises(ExtractionError, match="no known launcher"):
        _extract(tmp_path, "FROM python:3.11\nRUN pip install vllm\n")


def test_cli_extract(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text('FROM vllm/vllm-openai:v0.9.2\nCMD ["--model", "org/m", "--max-model-len", "2048"]\n')
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"dockerfile:{path}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("serving.max_model_len"))
    assert "2048" in line and f"{path}:2" in line
    bad = tmp_path / "other.Dockerfile"
    bad.write_text("FROM alpine\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(bad)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "no known launcher" in proc.stderr
