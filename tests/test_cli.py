"""``check --format`` is repeatable and takes ``NAME=PATH``; the markdown report is appended to
``$GITHUB_STEP_SUMMARY`` when it is set; a path that cannot be written is one line, exit 2. Through the real
CLI in a subprocess, as CI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dates import EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY_ISO  # the shipped approvals are judged on a fixed day so the test does not age


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", "check", "--today", TODAY, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def test_several_formats_stdout_in_order_files_written(tmp_path: Path) -> None:
    sarif = tmp_path / "driftguard.sarif"
    proc = run("--format", "text", "--format", f"sarif={sarif}", "--format", "github")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "== summarizer: 2 findings, 1 failing"
    verdict = next(i for i, x in enumerate(lines) if x.startswith("FAIL: "))
    assert lines[verdict + 1].startswith("::error file=examples/summarizer/deployment/sampling-params.yaml,line=8,")
    assert len(lines) == verdict + 2
    log = json.loads(sarif.read_text(encoding="utf-8"))
    assert len(log["runs"][0]["results"]) == 2


def test_default_is_text_and_junit_goes_to_a_file(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    proc = run("--format", f"junit={junit}")
    assert proc.returncode == 1 and proc.stdout == ""
    assert junit.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert run().stdout == run("--format", "text").stdout != ""


def test_unwritable_format_path_is_one_line_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "driftguard.sarif"
    proc = run("--format", "text", "--format", f"sarif={target}")
    assert proc.returncode == 2
    assert proc.stderr == f"driftguard: error: --format sarif: cannot write {target}: No such file or directory\n"
    assert proc.stdout == ""  # nothing half-done on stdout either


@pytest.mark.parametrize("spec", ["nope", "sarif=", "=x.sarif"])
def test_bad_format_spec_is_exit_2(spec: str) -> None:
    proc = run("--format", spec)
    assert proc.returncode == 2 and proc.stderr.startswith("driftguard: error: --format"), proc.stderr
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.slow
def test_step_summary_appended_when_set(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    proc = run(env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1, proc.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## driftguard check: FAIL\n")
    assert "**FAIL: 1 model, 2 findings (1 unapproved, 1 approved, 0 expired); 0 stale approvals**" in text
    assert proc.stdout.startswith("== summarizer")  # stdout is still the text report
    run("--no-step-summary", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8") == text
    run(env={"GITHUB_STEP_SUMMARY": ""})  # set but empty: nothing to write to, nothing written
    assert summary.read_text(encoding="utf-8") == text


def test_unwritable_step_summary_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run(env={"GITHUB_STEP_SUMMARY": str(tmp_path)})  # a folder
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"driftguard: error: GITHUB_STEP_SUMMARY: cannot write {tmp_path}: ")
    assert len(proc.stderr.splitlines()) == 1


def test_reporter_entry_point(tmp_path: Path) -> None:
    """A third-party format through the ``driftguard.reporters`` entry point group."""
    (tmp_path / "dg_count.py").write_text(
        "def render_check(report):\n    return f'{len(report.findings)} findings\\n'\n", encoding="utf-8")
    dist = tmp_path / "dg_count-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-count\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[driftguard.reporters]\ncount = dg_count\n", encoding="utf-8")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    proc = run("--format", "count", "--format", "text=/dev/null", env={"PYTHONPATH": path})
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "2 findings\n"
