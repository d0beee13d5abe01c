"""``gate.approve`` (``driftguard approve``, ``driftguard.approve``): the check it runs, what it refuses (no drift,
an approval that covers the key already, the manifest's policy, an existing file) and the file it writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

import driftguard
from driftguard import api
from driftguard.errors import UsageError
from driftguard.gate import approve as approve_mod
from driftguard.model import Finding, Judged, Status
from driftguard.report import ApprovalRef, ModelResult, Report
from tests.dates import EXAMPLES_TODAY

TODAY = EXAMPLES_TODAY


def test_approve_refuses_a_key_without_drift(example: Path) -> None:
    with pytest.raises(UsageError, match=r"no finding for 'generation\.top_k'"):
        api.approve(example / "driftguard.yaml", "summarizer", "generation.top_k", "r", date(2027, 1, 1),
                    approved_by="dana", today=TODAY)


def test_approve_writes_a_pinned_file_and_refuses_to_overwrite(example: Path) -> None:
    path = api.approve(example / "driftguard.yaml", "summarizer", "preprocessing.max_length", "cut for latency",
                       date(2027, 3, 1), approved_by="dana", today=TODAY)
    text = path.read_text()
    for line in ("id: summarizer-preprocessing-max_length", "training: 1024", "deployed: 512",
                 "approved_by: dana", "approved_on: '2026-12-01'", "expires: '2027-03-01'"):
        assert line in text.splitlines(), text  # block style: one field a line, reviewable in a diff
    assert driftguard.check(example, today=TODAY).ok
    # a second approval of a covered finding would leave the first stale: refused, naming the one that covers it
    with pytest.raises(UsageError, match=r"already approved by summarizer-preprocessing-max_length "
                                         r"\(\S*approvals/summarizer-preprocessing-max_length\.yaml:\d+\)"):
        api.approve(example, "summarizer", "preprocessing.max_length", "again", date(2027, 3, 1), approved_by="dana",
                    today=TODAY)
    # once it expired, a renewal under the same id would overwrite it: refused too
    with pytest.raises(UsageError, match="exists"):
        api.approve(example, "summarizer", "preprocessing.max_length", "again", date(2027, 5, 1), approved_by="dana",
                    today=date(2027, 4, 1))


def test_the_arguments_are_checked_before_the_check_runs(example: Path) -> None:
    args = (example, "summarizer", "preprocessing.max_length", "r")
    with pytest.raises(UsageError, match="approved_by: an approval must name who approved it"):
        approve_mod.approve(*args, date(2027, 1, 1), approved_by=" ", approval_id=None, evidence=None, today=TODAY)
    with pytest.raises(UsageError, match=r"expires: 2026-01-01 is before today \(2026-12-01\)"):
        approve_mod.approve(*args, date(2026, 1, 1), approved_by="dana", approval_id=None, evidence=None,
                            today=TODAY)
    with pytest.raises(UsageError, match=r"^id: "):
        approve_mod.approve(*args, date(2027, 1, 1), approved_by="dana", approval_id="../x", evidence=None,
                            today=TODAY)
    assert sorted(p.name for p in (example / "approvals").iterdir()) == ["summarizer-top-p.yaml"]


def test_drifting_is_the_first_finding_of_the_key_by_rule(example: Path) -> None:
    report = driftguard.check(example, today=TODAY)
    found = approve_mod.drifting(report, "summarizer", "preprocessing.max_length")
    assert found.key == "preprocessing.max_length"
    assert (found.training and found.training.value, found.deployed and found.deployed.value) == (1024, 512)
    with pytest.raises(UsageError, match="already approved by summarizer-top-p"):
        approve_mod.drifting(report, "summarizer", "generation.top_p")


def test_the_policy_is_reported_against_the_option(example: Path) -> None:
    manifest = example / "driftguard.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("max_horizon_days: 365", "max_horizon_days: 30"), encoding="utf-8")
    (example / "approvals" / "summarizer-top-p.yaml").unlink()  # it would break the new policy itself
    with pytest.raises(UsageError, match=r"^--expires: .*\(approval_policy.max_horizon_days in "):
        api.approve(manifest, "summarizer", "preprocessing.max_length", "r", date(2027, 6, 1), approved_by="dana",
                    today=TODAY)
    assert list((example / "approvals").iterdir()) == []


def test_a_disallowed_approver_names_the_approvers_setting(example: Path) -> None:
    """Issue 23 point 7: the approver error named ``approval_policy`` where the setting is ``approvers:``."""
    manifest = example / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "approvers: [ml-platform-oncall]\n", encoding="utf-8")
    expected = r"^--by: approved by 'eve'; allowed approvers: ml-platform-oncall \(approvers in "
    with pytest.raises(UsageError, match=expected):
        api.approve(manifest, "summarizer", "preprocessing.max_length", "r", date(2027, 1, 1), approved_by="eve",
                    today=TODAY)


def test_an_approval_may_expire_today(example: Path) -> None:
    """README "Approvals": ``expires`` is the last day it holds, so today is a valid expiry."""
    path = api.approve(example / "driftguard.yaml", "summarizer", "preprocessing.max_length", "r", TODAY,
                       approved_by="dana", today=TODAY)
    assert "expires: '2026-12-01'" in path.read_text(encoding="utf-8").splitlines()


def test_the_options_after_the_drift_are_keyword_only(example: Path) -> None:
    """approved_by, approval_id and evidence are all optional strings: given by position they would be taken for
    one another, so the signature refuses that."""
    positional: list[Any] = [example, "summarizer", "preprocessing.max_length", "r", date(2027, 1, 1), "dana", None,
                             None, TODAY]
    with pytest.raises(TypeError):
        approve_mod.approve(*positional)
    assert list((example / "approvals").iterdir()) == [example / "approvals" / "summarizer-top-p.yaml"]


def _report(findings: list[Judged], approvals: tuple[ApprovalRef, ...] = ()) -> Report:
    return Report((ModelResult("m", tuple(findings)),), approvals)


def _finding(rule: str, key: str, status: Status = Status.UNAPPROVED, approval: str | None = None) -> Judged:
    return Judged(Finding(rule, "drift", key, f"{key} differs", model="m"), status, approval)


def test_no_finding_lists_the_keys_that_have_one_or_says_none() -> None:
    findings = [_finding("DG101", "preprocessing.max_length"), _finding("DG101", "generation.top_p"),
                _finding("DG103", "generation.top_p")]
    with pytest.raises(UsageError) as caught:
        approve_mod.drifting(_report(findings), "m", "generation.top_k")
    assert str(caught.value) == ("no finding for 'generation.top_k' in model 'm'; findings now: generation.top_p, "
                                 "preprocessing.max_length")
    with pytest.raises(UsageError) as none:
        approve_mod.drifting(_report([]), "m", "generation.top_k")
    assert str(none.value) == "no finding for 'generation.top_k' in model 'm'; findings now: none"


def test_the_pinned_finding_is_the_first_of_the_key_by_rule_code() -> None:
    findings = [_finding("DG103", "generation.top_k"), _finding("DG101", "generation.top_k"),
                _finding("DG102", "generation.top_k")]
    assert approve_mod.drifting(_report(findings), "m", "generation.top_k").rule == "DG101"


def test_a_covered_key_names_the_covering_approval_its_line_and_its_expiry() -> None:
    """The id read back from a report is equal to, not the same object as, the approval's id in the finding; the
    report lists another approval first (sorted by id)."""
    covered = _finding("DG101", "generation.top_p", Status.APPROVED, "".join(["top", "-p"]))
    refs = (ApprovalRef("a-first", "approvals/a-first.yaml", 2, "m", "generation.top_k", "2027-02-01", 62, "stale"),
            ApprovalRef("top-p", "approvals/top-p.yaml", 3, "m", "generation.top_p", "2027-03-01", 90, "used"))
    with pytest.raises(UsageError) as caught:
        approve_mod.drifting(_report([_finding("DG103", "generation.top_p"), covered], refs), "m",
                             "generation.top_p")
    assert str(caught.value) == ("'generation.top_p' of model 'm' is already approved by top-p "
                                 "(approvals/top-p.yaml:3), until 2027-03-01; edit that approval (or let it expire) "
                                 "instead of adding a second one")
