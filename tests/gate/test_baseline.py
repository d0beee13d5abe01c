"""``gate.baseline`` (``check --base REF``) run on a ``CheckRequest`` against a git repository built in the test:
the head run and the base revision's run go through the pipeline (``gate.parallel``), the head one reading the
approvals' provenance, and ``--changed-only`` narrows both to the models the change touched."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from driftguard import manifest as manifest_mod
from driftguard.errors import UsageError
from driftguard.gate import baseline
from driftguard.gate.request import CheckRequest, Selection
from tests import dates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.EXAMPLES_TODAY
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=ENV, timeout=60)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The summarizer at the root of a repository, committed once."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baseline")
    return root


def request_for(repo: Path, base: str = "HEAD~1", changed_only: bool = False) -> CheckRequest:
    m = manifest_mod.load(repo / "driftguard.yaml")
    return CheckRequest(m, TODAY, Selection.of(m), base=base, changed_only=changed_only)


def commit_top_p(repo: Path) -> None:
    params = repo / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("top_p: 0.85", "top_p: 0.8"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "top_p 0.8")


def test_the_change_is_judged_against_the_base_revisions_check(repo: Path) -> None:
    commit_top_p(repo)
    report = baseline.run(request_for(repo))
    changes = {f.key: f.change for f in report.findings}
    assert changes == {"generation.top_p": "introduced", "preprocessing.max_length": "existing"}
    assert report.base is not None and report.base.ref == "HEAD~1" and report.base.unchanged == 0
    # the head run reads who added each approval, although the request did not ask for provenance
    assert {a.id: a.added_by for a in report.approvals} == {"summarizer-top-p": "t <t@example.invalid>"}


def test_changed_only_leaves_out_the_models_the_change_did_not_touch(repo: Path) -> None:
    (repo / "NOTES.md").write_text("docs only\n", encoding="utf-8")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "docs")
    report = baseline.run(request_for(repo, changed_only=True))
    assert report.models == () and report.base is not None and report.base.unchanged == 1
    commit_top_p(repo)
    touched = baseline.run(request_for(repo, changed_only=True))
    assert [m.name for m in touched.models] == ["summarizer"] and touched.base is not None
    assert touched.base.unchanged == 0


def test_what_is_not_a_revision_is_refused_before_git_runs(repo: Path) -> None:
    with pytest.raises(UsageError):
        baseline.run(request_for(repo, base="--output=x"))
