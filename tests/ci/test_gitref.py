"""``check --base REF`` against real git repositories built in the test: it reports exactly the drift a commit
introduces, keeps drift already there apart (it does not fail), lists the drift a change resolved, and refuses a
revision that is not one, or that the clone does not have, on one line (exit 2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import driftguard
from driftguard.ci.gitref import validate_revision
from driftguard.errors import UsageError
from tests import dates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.today()  # pinned for the run (conftest); its CLIs read it from $DRIFTGUARD_TODAY
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=ENV,
                          timeout=60).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


APPROVAL = """id: summarizer-max-length
model: summarizer
key: preprocessing.max_length
training: 1024
deployed: 512
reason: latency budget; parity run at 512
approved_by: ml-platform-oncall
approved_on: {today}
expires: {expires}
"""


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A model repository (the summarizer one folder down) whose first commit is an approved baseline."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root / "models" / "summarizer")
    approvals = root / "models" / "summarizer" / "approvals"
    edit(approvals / "summarizer-top-p.yaml", "approved_on: 2026-11-02", f"approved_on: {TODAY}")
    edit(approvals / "summarizer-top-p.yaml", "expires: 2027-10-31", f"expires: {TODAY + timedelta(days=200)}")
    (approvals / "summarizer-max-length.yaml").write_text(
        APPROVAL.format(today=TODAY, expires=TODAY + timedelta(days=200)), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    commit(root, "approved baseline")
    return root


def params(repo: Path) -> Path:
    return repo / "models" / "summarizer" / "deployment" / "sampling-params.yaml"


def manifest(repo: Path) -> Path:
    return repo / "models" / "summarizer" / "driftguard.yaml"


def changes(report: driftguard.Report) -> dict[str, tuple[str | None, str]]:
    return {f.key: (f.change, f.status) for f in report.findings}


def test_a_commit_that_changes_top_p_reports_exactly_the_new_drift(repo: Path) -> None:
    edit(params(repo), "top_p: 0.85", "top_p: 0.8")
    commit(repo, "top_p 0.8")
    report = driftguard.check(manifest(repo), base="HEAD~1")
    assert changes(report) == {"generation.top_p": ("introduced", "unapproved"),
                               "preprocessing.max_length": ("existing", "approved")}
    assert [f.key for f in report.failing] == ["generation.top_p"]
    assert not report.ok
    assert report.base is not None and report.base.ref == "HEAD~1" and report.base.resolved == ()
    assert report.base.commit == git(repo, "rev-parse", "HEAD~1").strip()
    # a git-aware run names who added each approval
    assert {a.id: a.added_by for a in report.approvals} == {"summarizer-max-length": "t <t@example.invalid>",
                                                            "summarizer-top-p": "t <t@example.invalid>"}
    # against itself nothing is new
    same = driftguard.check(manifest(repo), base="HEAD")
    assert {c for c, _ in changes(same).values()} == {"existing"} and same.ok


def test_drift_already_there_is_reported_but_does_not_fail(repo: Path) -> None:
    (manifest(repo).parent / "approvals" / "summarizer-max-length.yaml").unlink()
    commit(repo, "the truncation loses its approval")  # main now fails: the drift is there, unapproved
    (repo / "models" / "summarizer" / "README.md").write_text("docs only\n", encoding="utf-8")
    commit(repo, "an unrelated change")
    report = driftguard.check(manifest(repo), base="HEAD~1")
    assert changes(report)["preprocessing.max_length"] == ("existing", "unapproved")
    assert report.ok and not report.failing
    # ...while the commit that deleted the approval is what introduced it
    assert changes(driftguard.check(manifest(repo), base="HEAD~2"))["preprocessing.max_length"] == \
        ("introduced", "unapproved")


def test_drift_the_change_removes_is_resolved(repo: Path) -> None:
    edit(params(repo), "truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024")
    commit(repo, "serve what was evaluated")
    report = driftguard.check(manifest(repo), base="HEAD~1")
    assert changes(report) == {"generation.top_p": ("existing", "approved")}
    assert report.base is not None
    (resolved,) = report.base.resolved
    assert resolved.key == "preprocessing.max_length" and resolved.deployed is not None
    assert report.repo_path(resolved.deployed.origin.path) == "models/summarizer/deployment/sampling-params.yaml"
    assert report.ok  # the max_length approval is now stale: listed, not failing (fail_on_stale is off)


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", "check", *args], cwd=repo / "models" / "summarizer",
                          capture_output=True, text=True, timeout=120, env=ENV)


@pytest.mark.slow
def test_cli_text_json_and_moved_lines(repo: Path) -> None:
    path = params(repo)
    path.write_text("# header added: every line moves\n" + path.read_text(encoding="utf-8").replace(
        "top_p: 0.85", "top_p: 0.8"), encoding="utf-8")
    commit(repo, "top_p 0.8, lines moved")
    proc = run(repo, "--base", "HEAD~1")
    assert proc.returncode == 1, proc.stderr
    head = git(repo, "rev-parse", "HEAD~1").strip()
    assert f"against HEAD~1 ({head[:12]}): 1 introduced by the change, 1 already there, 0 resolved" in proc.stdout
    data: dict[str, Any] = json.loads(run(repo, "--base", "HEAD~1", "--format", "json").stdout)
    assert {f["key"]: f["change"] for f in data["models"][0]["findings"]} == {
        "generation.top_p": "introduced", "preprocessing.max_length": "existing"}
    assert data["base"]["commit"] == head and data["base"]["introduced"] == 1
    import jsonschema
    jsonschema.validate(data, json.loads(driftguard.api.schema("report")), cls=jsonschema.Draft202012Validator)
    github = run(repo, "--base", "HEAD~1", "--format", "github").stdout.splitlines()
    assert len(github) == 2 and github[0].startswith(
        "::error file=models/summarizer/deployment/sampling-params.yaml,line=5,")
    assert github[1].startswith("::warning file=models/summarizer/approvals/summarizer-top-p.yaml")  # stale


@pytest.mark.slow
@pytest.mark.parametrize("ref", ["nope", "HEAD~5", "0123456789abcdef0123456789abcdef01234567"])
def test_a_missing_revision_is_one_line_saying_how_to_fetch_it(repo: Path, ref: str) -> None:
    proc = run(repo, "--base", ref)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"driftguard: error: --base: revision '{ref}' is not in {repo}; fetch it first, e.g. "
                           "git fetch --no-tags origin ")
    assert line.endswith("(actions/checkout: fetch-depth: 0)")


def test_a_shallow_clone_says_so(repo: Path, tmp_path: Path) -> None:
    edit(params(repo), "top_p: 0.85", "top_p: 0.8")
    commit(repo, "second")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    proc = run(shallow, "--base", "HEAD~1")
    assert proc.returncode == 2
    assert "is not in" in proc.stderr and "(a shallow clone); fetch it first" in proc.stderr


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-h", "a..b", "HEAD:secret", "main branch", "x\n", "",
                                 "refs/../x", "*", "a.lock"])
def test_what_is_not_a_revision_never_reaches_git(ref: str) -> None:
    with pytest.raises(UsageError, match="is not a git revision"):
        validate_revision(ref)


def test_outside_a_git_repository_is_one_line(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "summarizer")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--base", "HEAD"],
                          cwd=tmp_path / "summarizer", capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode == 2
    assert proc.stderr == f"driftguard: error: --base: {(tmp_path / 'summarizer').resolve()} is not a git repository\n"


@pytest.mark.parametrize("ref", ["HEAD@{1}", "main@{yesterday}", "HEAD@{99999}", "@{-1}", "main@{2026-01-01}",
                                 "HEAD@{upstream}"])
def test_reflog_and_date_revisions_are_refused_before_git(ref: str) -> None:
    with pytest.raises(UsageError, match=r"is a reflog or date revision \(@\{\.\.\.\}\)"):
        validate_revision(ref)


def test_a_reflog_revision_is_one_line_exit_2(repo: Path) -> None:
    proc = run(repo, "--base", "HEAD@{5}")
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("driftguard: error: --base: 'HEAD@{5}' is a reflog or date revision")
