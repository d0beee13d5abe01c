"""Approval provenance from git: each approval names the commit and author that last changed its file;
``--require-committed-approvals`` ignores an approval whose file is not committed as it is in HEAD."""

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
from driftguard.ci import merge
from tests import dates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.today()
# commits are dated on the run's today too, so the date provenance reads from git is known exactly
COMMITTED_ON = f"{TODAY}T12:00:00+00:00"
BASE_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str, who: str = "Ann") -> str:
    env = {**BASE_ENV, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": f"{who.lower()}@example.invalid",
           "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": f"{who.lower()}@example.invalid",
           "GIT_AUTHOR_DATE": COMMITTED_ON, "GIT_COMMITTER_DATE": COMMITTED_ON}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env,
                          timeout=60).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    approval = root / "approvals" / "summarizer-top-p.yaml"
    approval.write_text(approval.read_text(encoding="utf-8").replace("approved_on: 2026-11-02", f"approved_on: {TODAY}")
                        .replace("expires: 2027-10-31", f"expires: {TODAY + timedelta(days=100)}"), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the top_p approval", who="Ann")
    return root


def write_max_length_approval(repo: Path) -> Path:
    path = repo / "approvals" / "max-length.yaml"
    path.write_text(f"id: max-length\nmodel: summarizer\nkey: preprocessing.max_length\ntraining: 1024\n"
                    f"deployed: 512\nreason: latency budget\napproved_by: bob\napproved_on: {TODAY}\n"
                    f"expires: {TODAY + timedelta(days=30)}\n", encoding="utf-8")
    return path


def states(report: driftguard.Report) -> dict[str, tuple[str, str | None]]:
    return {a.id: (a.state, a.added_by) for a in report.approvals}


def test_each_approval_names_the_commit_and_author_that_added_it(repo: Path) -> None:
    write_max_length_approval(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "approve the truncation", who="Bob")
    report = driftguard.check(repo / "driftguard.yaml", approval_history=True)
    assert states(report) == {"max-length": ("used", "Bob <bob@example.invalid>"),
                              "summarizer-top-p": ("used", "Ann <ann@example.invalid>")}
    top_p = next(a for a in report.approvals if a.id == "summarizer-top-p")
    assert top_p.added_in == git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert top_p.added_on == COMMITTED_ON
    data = report.to_dict()
    jsonschema.validate(data, json.loads(driftguard.api.schema("report")), cls=jsonschema.Draft202012Validator)
    assert merge.report_from_dict(data).approvals == report.approvals
    # without git-awareness nothing is read from git
    assert {a.added_in for a in driftguard.check(repo / "driftguard.yaml").approvals} == {None}


def test_uncommitted_approvals_are_ignored_when_required(repo: Path) -> None:
    write_max_length_approval(repo)
    lenient = driftguard.check(repo / "driftguard.yaml")
    assert lenient.ok  # in the work tree, the new approval approves the truncation
    strict = driftguard.check(repo / "driftguard.yaml", require_committed_approvals=True)
    assert not strict.ok
    assert {f.key: f.status for f in strict.findings}["preprocessing.max_length"] == "unapproved"
    assert states(strict) == {"max-length": ("uncommitted", None),
                              "summarizer-top-p": ("used", "Ann <ann@example.invalid>")}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "approve", who="Bob")
    assert driftguard.check(repo / "driftguard.yaml", require_committed_approvals=True).ok
    # an edit that is not committed makes the committed file another one
    approval = repo / "approvals" / "summarizer-top-p.yaml"
    approval.write_text(approval.read_text(encoding="utf-8") + "# reviewed again\n", encoding="utf-8")
    edited = driftguard.check(repo / "driftguard.yaml", require_committed_approvals=True)
    assert states(edited)["summarizer-top-p"] == ("uncommitted", "Ann <ann@example.invalid>")
    assert not edited.ok


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=BASE_ENV)


@pytest.mark.slow
def test_cli(repo: Path, tmp_path: Path) -> None:
    write_max_length_approval(repo)
    proc = run(repo, "--require-committed-approvals")
    assert proc.returncode == 1, proc.stderr
    assert ("  uncommitted approval max-length (approvals/max-length.yaml:1): ignored, the file is not committed "
            "as it is in HEAD") in proc.stdout
    assert "approval provenance:\n  max-length (uncommitted): not committed yet\n  summarizer-top-p (used): " \
           "added in " in proc.stdout
    assert f"by Ann <ann@example.invalid> on {TODAY}\n" in proc.stdout
    github = run(repo, "--require-committed-approvals", "--format", "github").stdout.splitlines()
    assert any(x.startswith("::warning file=approvals/max-length.yaml,line=1,title=driftguard approval max-length "
                            "ignored%3A not committed::") for x in github)
    outside = tmp_path / "plain"
    shutil.copytree(EXAMPLE, outside)
    proc = run(outside, "--require-committed-approvals", "--today", dates.EXAMPLES_TODAY_ISO)  # shipped approvals
    assert proc.returncode == 2
    assert proc.stderr == (f"driftguard: error: --require-committed-approvals: {outside.resolve()} is not a git "
                           "repository\n")
