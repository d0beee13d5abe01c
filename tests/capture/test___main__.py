"""``python -m driftguard.capture -o FILE script.py ARGS...`` as a user runs it (a subprocess): the script runs
as ``__main__`` with its own argv, its exit status is the runner's, the snapshot is read by ``driftguard
extract`` and by a manifest's side in ``driftguard check``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.capture.conftest import EXAMPLE

DRIFTGUARD = [sys.executable, "-m", "driftguard"]
CAPTURE = [sys.executable, "-m", "driftguard.capture"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_runner_records_the_example_and_extract_and_check_read_it(tiny_model: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_model, tmp_path / "tiny-gpt2")
    shutil.copy(EXAMPLE / "eval.py", tmp_path / "eval.py")
    res = _run([*CAPTURE, "-o", "eval.snapshot.json", "eval.py", "tiny-gpt2"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("[[")  # the script's own output
    shown = _run([*DRIFTGUARD, "extract", "snapshot:eval.snapshot.json", "--format", "json"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)["values"]
    assert values["generation.max_new_tokens"]["value"] == 8
    assert values["generation.max_new_tokens"]["origin"]["source"] == "generate() at eval.py:18"
    assert values["preprocessing.max_length"]["origin"]["source"] == "tokenizer() at eval.py:17"
    # a manifest: what the evaluation ran (the snapshot) against the model files and script that configured it
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  tiny:\n    training:\n      - path: tiny-gpt2/generation_config.json\n"
        "      - path: tiny-gpt2/tokenizer_config.json\n      - path: eval.py\n"
        "    deployment:\n      - path: eval.snapshot.json\n", encoding="utf-8")
    check = _run([*DRIFTGUARD, "check", "--format", "json"], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    findings = json.loads(check.stdout)["models"][0]["findings"]
    # no drift: only what one side cannot say (the script's model folder, passed in at run time). The class name
    # tokenizer_config.json records is no one-sided warning: the run read it from the same model files
    # (engines.spec.FROM_MODEL_FILES, issue 20 point 5)
    assert {(f["rule"], f["key"]) for f in findings} == {("DG304", "model.source")}


@pytest.mark.slow
def test_the_scripts_argv_and_exit_status_are_its_own(tmp_path: Path) -> None:
    (tmp_path / "fails.py").write_text("import sys\nprint(sys.argv)\nsys.exit(3)\n", encoding="utf-8")
    res = _run([*CAPTURE, "-o", "out.json", "fails.py", "--flag", "x"], tmp_path)
    assert (res.returncode, res.stdout.strip()) == (3, "['fails.py', '--flag', 'x']")
    assert not (tmp_path / "out.json").exists()  # a run that failed writes no snapshot


@pytest.mark.slow
def test_a_script_that_runs_no_engine_call_is_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "idle.py").write_text("print('done')\n", encoding="utf-8")
    res = _run([*CAPTURE, "-o", "out.json", "idle.py"], tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "driftguard.capture: nothing to capture into out.json: no transformers generate() or tokenizer call and no "
        "vLLM LLM.generate() or LLM.chat() ran while the capture was active"]
    assert not (tmp_path / "out.json").exists()


def test_a_missing_script_is_a_usage_error(tmp_path: Path) -> None:
    res = _run([*CAPTURE, "-o", "out.json", "absent.py"], tmp_path)
    assert res.returncode == 2 and "no such script: absent.py" in res.stderr
