"""Malformed manifests and approvals: exit 2 with exactly one line ``driftguard: error: FILE:LINE: ...``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import cli

GEN = '{\n  "do_sample": true,\n  "top_k": 40,\n  "top_p": 0.92\n}\n'
PARAMS = "top_k: 40\ntop_p: 0.85\n"

MANIFEST = """\
version: 1
models:
  demo:
    training:
      - path: generation_config.json
    deployment:
      - path: params.yaml
        kind: vllm
approvals: approvals
"""

APPROVAL = """\
id: demo-top-p
model: demo
key: generation.top_p
training: 0.92
deployed: 0.85
reason: tested at 0.85
approved_by: alice
approved_on: 2026-11-01
expires: 2027-01-31
"""


def setup(tmp: Path, manifest: str = MANIFEST, approval: str | None = APPROVAL,
          extra: dict[str, str] | None = None) -> Path:
    (tmp / "generation_config.json").write_text(GEN)
    (tmp / "params.yaml").write_text(PARAMS)
    (tmp / "driftguard.yaml").write_text(manifest)
    (tmp / "approvals").mkdir()
    if approval is not None:
        (tmp / "approvals" / "demo-top-p.yaml").write_text(approval)
    for name, text in (extra or {}).items():
        (tmp / name).write_text(text)
    return tmp / "driftguard.yaml"


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.run(["check", "--config", str(path), "--today", "2026-12-01"])
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_setup_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(setup(tmp_path), capsys)
    assert (code, err) == (0, ""), out
    assert "approved by demo-top-p" in out


MANIFEST_CASES = [
    # (id, old text, new text, line, message fragment)
    ("wrong type", "version: 1", "version: one", 1, "version: Input should be 1"),
    ("wrong type nested", "        kind: vllm", "        kind: [vllm]", 8,
     "models.demo.deployment[0].kind: Input should"),
    ("unknown field", "approvals: approvals", "approvals: approvals\nowner: me", 10, "owner: unknown field"),
    ("unknown nested field", "      - path: params.yaml", "      - path: params.yaml\n        kinds: x", 8,
     "models.demo.deployment[0].kinds: unknown field"),
    ("missing side", "    deployment:\n      - path: params.yaml\n        kind: vllm\n", "", 4,
     "models.demo.deployment: required field is missing"),
    ("yaml syntax", "    training:", "    training: [", 5, "invalid YAML"),
    ("duplicate key", "approvals: approvals", "approvals: approvals\napprovals: other", 10,
     "duplicate key 'approvals' (first at line 9)"),
]


@pytest.mark.parametrize(("old", "new", "line", "fragment"), [c[1:] for c in MANIFEST_CASES],
                         ids=[c[0] for c in MANIFEST_CASES])
def test_malformed_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, line: int,
                            fragment: str) -> None:
    assert old in MANIFEST
    path = setup(tmp_path, MANIFEST.replace(old, new))
    code, out, err = check(path, capsys)
    assert code == 2, out
    assert err.count("\n") == 1, err
    assert err.startswith(f"driftguard: error: {path}:{line}"), err
    assert fragment in err


APPROVAL_CASES = [
    ("wrong type", "training: 0.92", "training: 0.92\nallow_wildcard: maybe", 5, "allow_wildcard: Input should be"),
    ("missing reason", "reason: tested at 0.85\n", "", 1, "reason: required field is missing"),
    ("empty reason", "reason: tested at 0.85", "reason: ''", 6, "reason: String should have at least 1"),
    ("bad date", "expires: 2027-01-31", "expires: 2027-13-01", 9, "expires: Input should be a valid date"),
    ("missing expires", "expires: 2027-01-31\n", "", 1, "expires: required field is missing"),
    ("unknown field", "reason: tested at 0.85", "reason: tested at 0.85\nticket: X-1", 7, "ticket: unknown field"),
    ("yaml syntax", "reason: tested at 0.85", "reason: 'tested at 0.85", 6, "invalid YAML"),
    ("value not pinned", "deployed: 0.85\n", "", 1, "set deployed"),
    ("glob without allow_wildcard", "key: generation.top_p", "key: generation.*", 1, "allow_wildcard: true"),
    ("expiry beyond horizon", "expires: 2027-01-31", "expires: 2028-01-31", 9, "longest allowed is 365 days"),
]


@pytest.mark.parametrize(("old", "new", "line", "fragment"), [c[1:] for c in APPROVAL_CASES],
                         ids=[c[0] for c in APPROVAL_CASES])
def test_malformed_approval(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, line: int,
                            fragment: str) -> None:
    assert old in APPROVAL
    setup(tmp_path, approval=APPROVAL.replace(old, new))
    code, out, err = check(tmp_path / "driftguard.yaml", capsys)
    assert code == 2, out
    assert err.count("\n") == 1, err
    where = tmp_path / "approvals" / "demo-top-p.yaml"
    assert err.startswith(f"driftguard: error: {where}:{line}"), err
    assert fragment in err


def test_duplicate_approval_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = setup(tmp_path)
    (tmp_path / "approvals" / "zz-copy.yaml").write_text("# the same approval again\n" + APPROVAL)
    code, _, err = check(path, capsys)
    assert code == 2
    assert err.startswith(f"driftguard: error: {tmp_path / 'approvals' / 'zz-copy.yaml'}:2: duplicate approval id "
                          f"'demo-top-p' (also in {tmp_path / 'approvals' / 'demo-top-p.yaml'}:1)"), err


def test_approver_outside_allowlist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = setup(tmp_path, MANIFEST + "approvers: [bob]\n")
    code, _, err = check(path, capsys)
    assert code == 2
    assert err.startswith(f"driftguard: error: {tmp_path / 'approvals' / 'demo-top-p.yaml'}:7: approved by 'alice'")


def test_missing_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path / "driftguard.yaml", capsys)
    assert code == 2
    assert err == f"driftguard: error: {tmp_path / 'driftguard.yaml'}: no such file\n"


def test_missing_artifact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = setup(tmp_path, MANIFEST.replace("path: params.yaml", "path: nope.yaml"))
    code, _, err = check(path, capsys)
    assert code == 2
    assert "nope.yaml" in err and err.count("\n") == 1


def test_subprocess_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    setup(tmp_path, approval=APPROVAL.replace("expires: 2027-01-31", "expires: 31/01/2027"))
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("driftguard: error: approvals/demo-top-p.yaml:9: expires:"), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
