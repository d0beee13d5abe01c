"""Acceptance of the gate on examples/summarizer, through the real CLI (a subprocess) and the library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.dates import EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY_ISO  # the shipped approvals are judged on a fixed day so the test does not age


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def rows(stdout: str) -> dict[str, str]:
    """``{key: table row}`` from the text report."""
    return {line.split()[0]: line for line in stdout.splitlines() if line.startswith(("generation.", "preproc"))}


def test_example_fails_on_unapproved_truncation_and_names_the_top_p_approval() -> None:
    proc = run("check", "--today", TODAY, cwd=EXAMPLE)
    assert proc.returncode == 1, proc.stderr
    found = rows(proc.stdout)
    assert set(found) == {"generation.top_p", "preprocessing.max_length"}, proc.stdout
    assert "UNAPPROVED" in found["preprocessing.max_length"]
    assert "1024" in found["preprocessing.max_length"] and "512" in found["preprocessing.max_length"]
    assert "approved by summarizer-top-p" in found["generation.top_p"]
    assert "tokenizer_config.json:10" in found["preprocessing.max_length"]
    assert proc.stdout.rstrip().splitlines()[-1].startswith("FAIL: 1 model, 2 findings (1 unapproved, 1 approved")


def test_repository_root_manifest_is_the_same_demo() -> None:
    proc = run("check", "--today", TODAY, "--format", "json", cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    status = {f["key"]: (f["status"], f.get("approval")) for f in data["models"][0]["findings"]}
    assert status == {"generation.top_p": ("approved", "summarizer-top-p"),
                      "preprocessing.max_length": ("unapproved", None)}


def test_adding_the_missing_approval_passes(example: Path) -> None:
    # approved on the day it is checked on: approve's approved_on and check's today are the same day
    proc = run("approve", "summarizer", "preprocessing.max_length", "--reason", "latency budget; parity run at 512",
               "--expires", "2027-06-30", "--by", "ml-platform-oncall", "--today", TODAY, cwd=example)
    assert proc.returncode == 0, proc.stderr
    written = example / "approvals" / "summarizer-preprocessing-max_length.yaml"
    text = written.read_text()
    assert "training: 1024" in text and "deployed: 512" in text and f"approved_on: '{TODAY}'" in text
    proc = run("check", "--today", TODAY, cwd=example)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "approved by summarizer-preprocessing-max_length" in rows(proc.stdout)["preprocessing.max_length"]
    assert proc.stdout.rstrip().splitlines()[-1].startswith("PASS")


def test_fixing_the_truncation_passes(example: Path) -> None:
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    proc = run("check", "--today", TODAY, cwd=example)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(rows(proc.stdout)) == {"generation.top_p"}


def test_expired_approval_fails_and_says_how_long_ago(example: Path) -> None:
    approval = example / "approvals" / "summarizer-top-p.yaml"
    approval.write_text(approval.read_text().replace("approved_on: 2026-11-02", "approved_on: 2026-01-02")
                        .replace("expires: 2027-10-31", "expires: 2026-11-21"))
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    proc = run("check", "--today", TODAY, cwd=example)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "EXPIRED: summarizer-top-p expired 2026-11-21 (10 days ago)" in rows(proc.stdout)["generation.top_p"]
    assert "expired approval summarizer-top-p" in proc.stdout


def test_pinned_approval_does_not_approve_another_value(example: Path) -> None:
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("top_p: 0.85", "top_p: 0.80")
                      .replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    proc = run("check", "--today", TODAY, cwd=example)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "UNAPPROVED" in rows(proc.stdout)["generation.top_p"]
    assert "stale approval summarizer-top-p" in proc.stdout
    assert "pins training 0.92, deployed 0.85; found training 0.92, deployed 0.8" in proc.stdout


def test_stale_approval_fails_only_when_strict(example: Path) -> None:
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("top_p: 0.85", "top_p: 0.92")
                      .replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    assert run("check", "--today", TODAY, cwd=example).returncode == 0
    proc = run("check", "--today", TODAY, "--strict", cwd=example)
    assert proc.returncode == 1
    assert "stale approval summarizer-top-p" in proc.stdout


def test_expiring_approval_warns_without_failing(example: Path) -> None:
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    proc = run("check", "--today", "2027-10-21", cwd=example)
    assert proc.returncode == 0, proc.stdout
    assert "approval summarizer-top-p (approvals/summarizer-top-p.yaml:2) expires 2027-10-31 (in 10 days)" \
        in proc.stdout


def test_markdown_format(example: Path) -> None:
    proc = run("check", "--today", TODAY, "--format", "markdown", cwd=example)
    assert proc.returncode == 1
    assert "| `preprocessing.max_length` | 1024 | 512 | UNAPPROVED | DG101 |" in proc.stdout
    assert proc.stdout.startswith("## driftguard check: FAIL")


def test_unknown_model_is_an_input_error() -> None:
    proc = run("check", "--model", "nope", cwd=EXAMPLE)
    assert proc.returncode == 2
    assert proc.stderr.startswith("driftguard: error: no model 'nope'")
