"""The shell kind: a script's launch command read with its launcher's flags, through the CLI too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import shell
from driftguard.extractors.base import ExtractOptions
from driftguard.model import How

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shell" / "good"


@pytest.mark.parametrize(("name", "head", "claimed"), [
    ("deploy.sh", b"vllm serve m", True), ("run.bash", b"", True), ("serve", b"#!/bin/bash\nvllm serve m", True),
    ("serve", b"#!/usr/bin/env -S bash -e\n", True), ("serve", b"#! /bin/sh\n", True),
    ("serve.py", b"#!/usr/bin/env python3\n", False), ("serve", b"vllm serve m\n", False),
    ("entry", b"#!/usr/bin/env zsh\n", False),
])
def test_detect(name: str, head: bytes, claimed: bool) -> None:
    assert shell.detect(Path(name), head) is claimed


def test_detection_claims_scripts_and_only_them(tmp_path: Path) -> None:
    script = tmp_path / "start-server"
    script.write_text("#!/bin/bash\nexec vllm serve m\n")
    assert extractors.detect(script) == "shell"
    assert extractors.detect(FIXTURES / "vllm_serve.sh") == "shell"


def test_vllm_script_values_checked_by_hand() -> None:
    cfg = extractors.extract(FIXTURES / "vllm_serve.sh", "shell", ExtractOptions(root=FIXTURES))
    assert cfg.kind == "shell" and cfg.serving == "vllm-serve"
    got = {k: (cfg[k].value, cfg[k].origin.line) for k in (
        "vllm.model", "serving.max_model_len", "precision.compute", "vllm.tensor_parallel_size",
        "vllm.gpu_memory_utilization", "vllm.enforce_eager")}
    assert got == {"vllm.model": ("/models/summarizer", 9), "serving.max_model_len": (4096, 10),
                   "precision.compute": ("float16", 11), "vllm.tensor_parallel_size": (2, 12),
                   "vllm.gpu_memory_utilization": (0.85, 13), "vllm.enforce_eager": (True, 14)}
    # /models/summarizer is outside the checked tree: what vllm serve takes from its generation_config.json is
    # unknown (unresolved, depending on model.source), its other layers are vLLM's defaults
    temperature = cfg["generation.temperature"]
    assert temperature.how == How.UNRESOLVED and temperature.value == "/models/summarizer/generation_config.json"
    assert cfg["generation.presence_penalty"].how == How.DEFAULT


def test_module_invocation_with_underscored_flags_and_a_branch() -> None:
    cfg = extractors.extract(FIXTURES / "api_server_module.sh", "shell", ExtractOptions(root=FIXTURES))
    assert cfg["vllm.model"].value == "facebook/opt-125m" and cfg["serving.max_model_len"].value == 2048
    assert cfg["vllm.tensor_parallel_size"].value == 1 and cfg["vllm.served_model_name"].value == ["opt", "small"]
    port = cfg["vllm.port"]  # PORT is 8000 only when the environment leaves it unset
    assert port.how == How.UNRESOLVED and port.value == '"$PORT"'


def test_a_script_without_a_launcher_names_the_known_ones(tmp_path: Path) -> None:
    script = tmp_path / "build.sh"
    script.write_text("#!/bin/sh\npip install -r requirements.txt\npython train.py --lr 1e-4\n")
    with pytest.raises(ExtractionError, match="no known launcher is started in this script; known: vllm serve"):
        extractors.extract(script, "shell")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_cli_extract_shows_values_with_the_scripts_lines() -> None:
    proc = run("extract", f"shell:{FIXTURES / 'vllm_serve.sh'}", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)["values"]
    assert values["serving.max_model_len"]["value"] == 4096
    assert values["serving.max_model_len"]["origin"]["line"] == 10


def test_cli_check_reports_a_difference_at_the_scripts_line(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "generation_config.json").write_text(
        '{"do_sample": true, "temperature": 0.7, "top_p": 0.9, "top_k": 0}\n')
    (tmp_path / "deploy.sh").write_text(
        "#!/bin/bash\nvllm serve ./training \\\n  --max-model-len 4096 \\\n"
        "  --override-generation-config '{\"temperature\": 0.2}'\n")
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: training/generation_config.json\n"
        "    deployment:\n      - path: deploy.sh\n")
    proc = run("check", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    [finding] = [f for m in json.loads(proc.stdout)["models"] for f in m["findings"]]
    assert finding["key"] == "generation.temperature" and finding["rule"] == "DG101"
    assert finding["deployed"] == 0.2 and finding["deployed_origin"]["line"] == 4
    assert finding["deployed_origin"]["path"] == "deploy.sh"


def test_cli_a_bad_flag_value_is_exit_2_with_the_line(tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text("#!/bin/bash\nvllm serve m \\\n  --max-model-len 4k\n")
    proc = run("extract", f"shell:{script}")
    assert proc.returncode == 2 and proc.stderr.strip().startswith(f"driftguard: error: {script}:3")
    assert "Traceback" not in proc.stderr
