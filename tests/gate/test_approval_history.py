"""``gate.approval_history``: who an approval and the drift it approves belong to. An approval is its last change's
(re-pinning someone else's approval makes it the re-pinner's), a finding rests on the lines of both sides and, for
a value no line states, on the file it comes from (a deleted line); ``separate_approver`` works under ``--base``;
``--require-base-approvals`` counts only the approvals the base revision already had. Repositories are built in
the test with gitpython, each commit under its author's name."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import driftguard
from driftguard import manifest as manifest_mod
from driftguard.approvals import load_file
from driftguard.errors import UsageError
from driftguard.gate.approval_history import ApprovalHistory, _attributed, _on_base
from driftguard.model import Finding, Judged, Origin
from driftguard.report import ApprovalRef
from tests import dates

git = pytest.importorskip("git")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.today()


def commit(repo: Path, who: str, message: str = "change") -> str:
    r = git.Repo(repo)
    r.git.add("-A")
    actor = git.Actor(who, f"{who.lower()}@example.invalid")
    return str(r.index.commit(message, author=actor, committer=actor).hexsha)


def approve(repo: Path, ident: str, deployed: float = 0.85, reason: str = "incident") -> None:
    (repo / "approvals" / f"{ident}.yaml").write_text(
        f"id: {ident}\nmodel: summarizer\nkey: generation.top_p\ntraining: 0.92\ndeployed: {deployed}\n"
        f"reason: {reason}\napproved_by: someone\napproved_on: {TODAY}\nexpires: {TODAY + timedelta(days=90)}\n",
        encoding="utf-8")


def set_top_p(repo: Path, old: str, new: str) -> None:
    params = repo / "deployment" / "sampling-params.yaml"
    text = params.read_text(encoding="utf-8")
    assert old in text
    params.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The summarizer written by Ann, no approval, ``separate_approver`` on."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    for p in (root / "approvals").iterdir():
        p.unlink()
    (root / "approvals" / ".keep").write_text("")
    manifest = root / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "  separate_approver: true\n", encoding="utf-8")
    git.Repo.init(root, initial_branch="main")
    commit(root, "Ann", "the summarizer")
    return root


def top_p(report: driftguard.Report) -> tuple[str, str | None]:
    f = next(f for f in report.findings if f.key == "generation.top_p")
    return f.status, f.approval


def test_an_approval_is_its_last_changes_not_its_first(repo: Path) -> None:
    """Bob approves Ann's drift; Ann then re-pins Bob's approval to her new value: it is Ann's now."""
    approve(repo, "top-p")
    commit(repo, "Bob", "approve")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("approved", "top-p")
    assert report.approvals[0].added_by == "Bob <bob@example.invalid>"
    set_top_p(repo, "top_p: 0.85", "top_p: 0.8")
    approve(repo, "top-p", deployed=0.8)
    repinned = commit(repo, "Ann", "re-pin")
    report = driftguard.check(repo / "driftguard.yaml")
    assert report.approvals[0].added_by == "Ann <ann@example.invalid>"
    assert report.approvals[0].added_in == repinned
    assert top_p(report) == ("unapproved", None) and report.approvals[0].state == "self-approved"


def test_the_training_sides_line_counts_too(repo: Path) -> None:
    """Bob approves, then Bob changes the training side's top_p and re-pins: the drift is his on either side."""
    approve(repo, "top-p")
    commit(repo, "Bob", "approve")
    gen = repo / "training" / "generation_config.json"
    gen.write_text(gen.read_text(encoding="utf-8").replace("0.92", "0.95"), encoding="utf-8")
    commit(repo, "Bob", "retrain")
    approve(repo, "top-p", reason="retrained")
    (repo / "approvals" / "top-p.yaml").write_text(
        (repo / "approvals" / "top-p.yaml").read_text(encoding="utf-8").replace("training: 0.92", "training: 0.95"),
        encoding="utf-8")
    commit(repo, "Carol", "re-pin for Bob")  # Carol re-pins: Bob's training line does not stop her
    assert top_p(driftguard.check(repo / "driftguard.yaml")) == ("approved", "top-p")
    (repo / "approvals" / "top-p.yaml").write_text(
        (repo / "approvals" / "top-p.yaml").read_text(encoding="utf-8").replace("reason: retrained", "reason: ok"),
        encoding="utf-8")
    commit(repo, "Bob", "reword")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("unapproved", None)
    assert "training/generation_config.json:" in (report.approvals[0].note or "")
    assert "by Bob <bob@example.invalid>, who also last changed the approval" in (report.approvals[0].note or "")


def test_drift_made_by_deleting_a_line_is_its_deleters(repo: Path) -> None:
    """Ann's deployment sets top_p; Bob deletes the line (the engine's default applies) and approves the drift."""
    set_top_p(repo, "top_p: 0.85                  # lowered from the evaluated 0.92 during an incident: see "
                    "approvals/\n", "")
    commit(repo, "Bob", "drop top_p")
    report = driftguard.check(repo / "driftguard.yaml")
    f = next(f for f in report.findings if f.key == "generation.top_p")
    assert f.deployed is not None and f.deployed.origin.line is None  # a default: no line to blame
    (repo / "approvals" / "top-p.yaml").write_text(
        f"id: top-p\nmodel: summarizer\nkey: generation.top_p\ntraining: 0.92\ndeployed: {f.deployed.value}\n"
        f"reason: default\napproved_by: bob\napproved_on: {TODAY}\nexpires: {TODAY + timedelta(days=90)}\n",
        encoding="utf-8")
    commit(repo, "Bob", "approve my deletion")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("unapproved", None)
    assert report.approvals[0].state == "self-approved"
    commit_id = git.Repo(repo).git.log("-1", "--format=%H", "--", "deployment/sampling-params.yaml")
    assert report.approvals[0].note == (f"deployment/sampling-params.yaml was last changed in {commit_id[:12]} by "
                                        "Bob <bob@example.invalid>, who also last changed the approval")


def test_separate_approver_works_with_base(repo: Path) -> None:
    """Before, the base revision's run read a copy of its files as a repository and every --base run ended in
    exit 2; now the head run judges separation and a self-approval the change adds fails the gate."""
    base = str(git.Repo(repo).head.commit.hexsha)
    set_top_p(repo, "top_p: 0.85", "top_p: 0.8")
    approve(repo, "top-p", deployed=0.8)
    commit(repo, "Ann", "lower top_p and approve it myself")
    report = driftguard.check(repo / "driftguard.yaml", base=base)
    f = next(f for f in report.findings if f.key == "generation.top_p")
    assert (f.status, f.change) == ("unapproved", "introduced") and not report.ok
    out = subprocess.run([sys.executable, "-m", "driftguard", "check", "--base", base, "--no-step-summary"],
                         cwd=repo, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "self-approved" in out.stdout


def test_require_base_approvals_counts_only_what_the_base_had(repo: Path) -> None:
    """Without separate_approver (a team of one may author and approve), the base revision's approvals still
    bound what a change can approve: re-pinning one in the change does not count."""
    manifest = repo / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("  separate_approver: true\n", ""),
                        encoding="utf-8")
    approve(repo, "top-p")
    base = commit(repo, "Bob", "approve")
    set_top_p(repo, "top_p: 0.85", "top_p: 0.8")
    approve(repo, "top-p", deployed=0.8)  # the change re-pins the approval to its own new value
    commit(repo, "Carol", "raise top_p and re-pin")
    lenient = driftguard.check(repo / "driftguard.yaml", base=base)
    assert top_p(lenient) == ("approved", "top-p")
    strict = driftguard.check(repo / "driftguard.yaml", base=base, require_base_approvals=True)
    assert top_p(strict) == ("unapproved", None) and not strict.ok
    (ref,) = strict.approvals
    assert ref.state == "uncommitted" and "not on the base revision as it is" in (ref.note or "")
    out = subprocess.run([sys.executable, "-m", "driftguard", "check", "--require-base-approvals",
                          "--no-step-summary"], cwd=repo, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "needs --base" in out.stderr


def test_require_base_approvals_counts_an_approval_the_base_has_as_it_is(repo: Path) -> None:
    """The base revision's copy lies outside the checked tree (a temporary folder) and is still read: an approval
    the change leaves alone counts."""
    manifest = repo / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("  separate_approver: true\n", ""),
                        encoding="utf-8")
    approve(repo, "top-p")
    base = commit(repo, "Bob", "approve")
    (repo / "NOTES.md").write_text("an unrelated change\n", encoding="utf-8")
    commit(repo, "Carol", "notes")
    strict = driftguard.check(repo / "driftguard.yaml", base=base, require_base_approvals=True)
    assert top_p(strict) == ("approved", "top-p")
    assert [ref.state for ref in strict.approvals] == ["used"]


# ---------------------------------------------------------------------------------------------------------
# The rules of README "Approval provenance" / "Separate approver" / "--require-base-approvals" one by one.
# ---------------------------------------------------------------------------------------------------------


def test_require_committed_alone_reads_git_and_ignores_only_what_is_not_committed(repo: Path) -> None:
    approve(repo, "kept")
    commit(repo, "Bob", "approve")
    approve(repo, "fresh")  # written by the job, never committed
    m = manifest_mod.load(repo / "driftguard.yaml")
    loaded = [load_file(repo / "approvals" / "kept.yaml"), load_file(repo / "approvals" / "fresh.yaml")]
    strict = ApprovalHistory.read(repo, m, loaded, wanted=False, require_committed=True)
    assert strict.active
    assert [(a.approval.id, why) for a, why in strict.ignored] == [
        ("fresh", "ignored: the file is not committed as it is in HEAD")]
    assert [a.approval.id for a in strict.kept(loaded)] == ["kept"]
    assert strict.files[loaded[0].path].author == "Bob <bob@example.invalid>"
    history = ApprovalHistory.read(repo, m, loaded, wanted=True, require_committed=False)
    assert history.active and history.ignored == ()  # provenance asked for, nothing required
    assert not ApprovalHistory.read(repo, m, loaded, wanted=False, require_committed=False).active


def test_outside_a_repository_the_error_names_the_option_that_needed_git(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(EXAMPLE, plain)
    m = manifest_mod.load(plain / "driftguard.yaml")
    with pytest.raises(UsageError, match=r"^--require-committed-approvals: .* is not a git repository$"):
        ApprovalHistory.read(plain, m, [], wanted=False, require_committed=True)
    with pytest.raises(UsageError, match=r"^--base: .* is not a git repository$"):
        ApprovalHistory.read(plain, m, [], wanted=False, require_committed=False, base_files=tmp_path)


def _ref(ident: str, added_by: str | None = None) -> ApprovalRef:
    return ApprovalRef(id=ident, path=f"approvals/{ident}.yaml", line=1, model="summarizer", key="generation.top_p",
                       expires="2027-03-01", days=90, state="used", added_by=added_by)


def _judged(status: str, approval: str | None) -> Judged:
    return Judged(Finding("DG101", "generation.sampling-drift", "generation.top_p", "drift", model="summarizer"),
                  status, approval)


NOT_COMMITTED = "the approval file is not committed: who changed it cannot be told"


def test_only_an_approval_that_passed_a_finding_is_asked_who_changed_it(tmp_path: Path) -> None:
    """An expired approval names the finding it would have passed, but passes nothing: nothing to reject."""
    expired = _judged("expired", "old")
    assert ApprovalHistory._rejections([expired], [_ref("old")], tmp_path) == {}
    findings = [_judged("unapproved", None), expired, _judged("approved", "x"), _judged("approved", "y")]
    # x's file is not committed, y has no entry at all: neither can be attributed, so neither passes
    assert ApprovalHistory._rejections(findings, [_ref("old"), _ref("x")], tmp_path) == {"x": NOT_COMMITTED,
                                                                                         "y": NOT_COMMITTED}


def test_a_history_that_is_not_git_aware_leaves_the_reports_approvals_as_they_are(tmp_path: Path) -> None:
    refs = (_ref("b"), _ref("a"))
    assert ApprovalHistory().refs(refs, TODAY, ["summarizer"]) == refs
    with pytest.raises(dataclasses.FrozenInstanceError):
        ApprovalHistory().active = True  # type: ignore[misc]  # frozen: the assignment is what is refused


def test_a_value_from_outside_the_repository_cannot_be_attributed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "generation_config.json"
    (tmp_path / "repo").mkdir()
    assert _attributed(tmp_path / "repo", Origin(str(outside), 3), "bob@example.invalid") == (
        f"git cannot tell who changed {outside}:3")


def test_an_approval_is_on_the_base_revision_only_byte_for_byte(tmp_path: Path) -> None:
    repo, base = tmp_path / "repo", tmp_path / "base"
    (repo / "approvals").mkdir(parents=True)
    (base / "approvals").mkdir(parents=True)
    change = repo / "approvals" / "a.yaml"
    change.write_bytes(b"id: b\n")
    (base / "approvals" / "a.yaml").write_bytes(b"id: b\n")
    assert _on_base(str(change), repo, base)
    (base / "approvals" / "a.yaml").write_bytes(b"id: a\n")  # differs (and sorts before the change's bytes)
    assert not _on_base(str(change), repo, base)
    (base / "approvals" / "a.yaml").unlink()  # the change adds it
    assert not _on_base(str(change), repo, base)
    outside = tmp_path / "outside.yaml"  # not in the repository: cannot be the base revision's
    outside.write_bytes(b"id: b\n")
    assert not _on_base(str(outside), repo, base)


def test_an_approver_who_changed_none_of_the_lines_passes_whatever_the_names_sort_as(repo: Path) -> None:
    """Bob changes the deployed top_p, Aaron approves it: Aaron changed neither line (the training one is Ann's),
    so it passes. (Aaron's address sorts before Ann's and Bob's.)"""
    set_top_p(repo, "top_p: 0.85", "top_p: 0.8")
    commit(repo, "Bob", "lower top_p")
    approve(repo, "top-p", deployed=0.8)
    commit(repo, "Aaron", "approve")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("approved", "top-p")
    assert [r.state for r in report.approvals] == ["used"]


def test_the_deployed_sides_line_is_named_first(repo: Path) -> None:
    """Bob changes both sides' top_p and approves the drift himself: the note names the deployed line (the side
    reports point at), not the training one."""
    set_top_p(repo, "top_p: 0.85", "top_p: 0.8")
    gen = repo / "training" / "generation_config.json"
    gen.write_text(gen.read_text(encoding="utf-8").replace("0.92", "0.95"), encoding="utf-8")
    approve(repo, "top-p", deployed=0.8)
    (repo / "approvals" / "top-p.yaml").write_text(
        (repo / "approvals" / "top-p.yaml").read_text(encoding="utf-8").replace("training: 0.92", "training: 0.95"),
        encoding="utf-8")
    commit(repo, "Bob", "retrain, redeploy, approve")
    report = driftguard.check(repo / "driftguard.yaml")
    assert top_p(report) == ("unapproved", None)
    assert (report.approvals[0].note or "").startswith("deployment/sampling-params.yaml:")
