"""``--format text`` shows the why in the terminal (issue 23: it was only in JSON, SARIF and the annotations):
a finding whose message says more than its row (whose default each value is, how many weight tensors match none)
gets a details line, a bare ``training A != deployed B`` does not, and a model with a failing unapproved finding
ends with the ``approve`` command that accepts one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(tmp_path: Path, request: dict[str, object], *args: str) -> str:
    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": True, "temperature": 0.6,
                                                                 "top_p": 0.9}))
    (tmp_path / "request.json").write_text(json.dumps(request))
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  chat:\n    training:\n      - path: generation_config.json\n"
        "    deployment:\n      - {path: request.json, kind: vllm}\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    return proc.stdout


def test_a_bare_difference_gets_no_details_and_the_approve_command(tmp_path: Path) -> None:
    """temperature differs as written on both sides (0.6, 0.7), top_k and top_p agree: the row says it all."""
    out = _check(tmp_path, {"temperature": 0.7, "top_p": 0.9, "top_k": 50})
    lines = out.splitlines()
    assert "details:" not in lines
    assert [line.split()[0] for line in lines if line.startswith("generation.")] == ["generation.temperature"]
    assert "to accept one: driftguard approve chat KEY --reason TEXT --expires YYYY-MM-DD" in lines


def test_a_default_on_one_side_is_explained(tmp_path: Path) -> None:
    """transformers samples with top_k 50 unless told otherwise, vLLM with 0: the row shows 50 and 0, the
    details line says whose defaults they are."""
    out = _check(tmp_path, {"temperature": 0.6, "top_p": 0.9})
    (top_k,) = [line for line in out.splitlines() if line.startswith("  DG101 generation.top_k: ")]
    assert top_k.startswith("  DG101 generation.top_k: training 50 != deployed 0: transformers ")
    assert "uses top_k=50 unless told otherwise" in top_k and "vllm uses top_k=0 (off)" in top_k


def test_quiet_keeps_the_table_and_the_verdict_only(tmp_path: Path) -> None:
    """``--quiet`` (``-q``) drops the details lines and the approve command, in the terminal and in a text file;
    the table, the verdict and the exit code stay, and other formats are unchanged."""
    loud = _check(tmp_path, {"temperature": 0.6, "top_p": 0.9})
    assert "details:" in loud.splitlines() and "to accept one:" in loud
    quiet = _check(tmp_path, {"temperature": 0.6, "top_p": 0.9}, "-q", "--format", "text",
                   "--format", f"text={tmp_path / 'report.txt'}", "--format", f"json={tmp_path / 'report.json'}")
    expected = [line for line in loud.splitlines()
                if line != "details:" and not line.startswith("  DG") and not line.startswith("to accept one:")]
    assert quiet.splitlines() == expected
    assert (tmp_path / "report.txt").read_text().splitlines() == expected
    report = json.loads((tmp_path / "report.json").read_text())
    assert any("transformers" in f["message"] for m in report["models"] for f in m["findings"])
