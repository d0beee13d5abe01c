"""``approval_policy.separate_approver``: an approval passes a finding only when git shows it was last changed by
someone other than who last changed the lines the finding rests on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

import driftguard
from tests import dates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.today()  # pinned for the run (conftest); its CLIs read it from $DRIFTGUARD_TODAY


def git(repo: Path, *args: str, who: str = "Ann") -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": who,
           "GIT_AUTHOR_EMAIL": f"{who.lower()}@example.invalid", "GIT_COMMITTER_NAME": who,
           "GIT_COMMITTER_EMAIL": f"{who.lower()}@example.invalid"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env, timeout=60)


def approval(repo: Path, ident: str) -> None:
    (repo / "approvals" / f"{ident}.yaml").write_text(
        f"id: {ident}\nmodel: summarizer\nkey: generation.top_p\ntraining: 0.92\ndeployed: 0.85\n"
        f"reason: incident\napproved_by: someone\napproved_on: {TODAY}\nexpires: {TODAY + timedelta(days=90)}\n",
        encoding="utf-8")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The summarizer, its deployment written by Ann, no approval yet, the policy on."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    for p in (root / "approvals").iterdir():
        p.unlink()
    manifest = root / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "  separate_approver: true\n", encoding="utf-8")
    assert "approval_policy:\n" in manifest.read_text(encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deployment", who="Ann")
    return root


def top_p(report: driftguard.Report) -> tuple[str, str | None]:
    f = next(f for f in report.findings if f.key == "generation.top_p")
    return f.status, f.approval


def test_whoever_changed_the_value_cannot_approve_it(repo: Path) -> None:
    approval(repo, "by-ann")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "approve my own change", who="Ann")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("unapproved", None)
    (ref,) = report.approvals
    assert ref.state == "self-approved"
    first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert ref.note == (f"deployment/sampling-params.yaml:4 was last changed in {first[:12]} by Ann "
                        "<ann@example.invalid>, who also last changed the approval")
    jsonschema.validate(report.to_dict(), json.loads(driftguard.api.schema("report")),
                        cls=jsonschema.Draft202012Validator)
    text = subprocess.run([sys.executable, "-m", "driftguard", "check"], cwd=repo, capture_output=True, text=True,
                          timeout=120)
    assert text.returncode == 1
    assert "  self-approved approval by-ann (approvals/by-ann.yaml:1) approves nothing: deployment/sampling-" \
           "params.yaml:4 was last changed in" in text.stdout
    approval(repo, "by-bob")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "review", who="Bob")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("approved", "by-bob")
    assert {a.id: a.state for a in report.approvals} == {"by-ann": "self-approved", "by-bob": "used"}


def test_what_git_cannot_attribute_does_not_pass(repo: Path) -> None:
    approval(repo, "by-bob")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "review", who="Bob")
    assert top_p(driftguard.check(repo / "driftguard.yaml")) == ("approved", "by-bob")
    params = repo / "deployment" / "sampling-params.yaml"
    text = params.read_text(encoding="utf-8")
    params.write_text("# a moved line keeps its author\n" + text, encoding="utf-8")
    assert top_p(driftguard.check(repo / "driftguard.yaml")) == ("approved", "by-bob")
    params.write_text(text.replace("top_p: 0.85", "top_p: 0.850"), encoding="utf-8")  # same value, new line
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("unapproved", None)
    assert report.approvals[0].note == ("deployment/sampling-params.yaml:4 is not committed: who changed it "
                                        "cannot be told")
    git(repo, "checkout", "--", ".")
    approval(repo, "uncommitted")
    (repo / "approvals" / "by-bob.yaml").unlink()
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("unapproved", None)
    assert report.approvals[0].note == "the approval file is not committed: who changed it cannot be told"


def test_off_by_default(repo: Path) -> None:
    manifest = repo / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("  separate_approver: true\n", ""),
                        encoding="utf-8")
    approval(repo, "by-ann")
    assert top_p(driftguard.check(repo / "driftguard.yaml")) == ("approved", "by-ann")
