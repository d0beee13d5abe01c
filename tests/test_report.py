"""The gate's verdict as ``Report`` states it, against answers written out by hand from the README's rules
("Exit codes": unapproved drift or an expired approval fails; with ``--strict`` or
``approval_policy.fail_on_stale`` a stale approval fails too; ``--strict`` makes warnings fail; a finding
``check --base`` found already there never fails), and the counts, messages and JSON fields that carry it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import FrozenInstanceError, replace

import pytest

from driftguard.errors import DriftDetected
from driftguard.model import ApprovalState, Change, Finding, Judged, Origin, Severity, Status, Value
from driftguard.report import (
    ApprovalRef,
    ArtifactRef,
    BaseComparison,
    ModelResult,
    Report,
    RuleInfo,
    RunBinding,
    fails,
    fingerprint,
    primary_origin,
)


def judged(key: str = "k", status: str = "unapproved", severity: str = "error", model: str | None = "m",
           change: Change | None = None, **values: Value) -> Judged:
    finding = Finding("DG101", "drift.value", key, f"{key} differs", severity=Severity(severity), model=model,
                      **values)  # type: ignore[arg-type]
    return Judged(finding, Status(status), change=change)


def approval(id_: str, state: str, expiring: bool = False, **extra: object) -> ApprovalRef:
    return ApprovalRef(id_, f"approvals/{id_}.yaml", 3, "m", "k", "2027-01-01", 10, state,  # type: ignore[arg-type]
                       expiring, **extra)  # type: ignore[arg-type]


# Every (status, severity, strict) by hand: only unapproved and expired fail; an error always, a warning only
# when strict, an info never.
FAILS = [
    ("unapproved", "error", False, True), ("unapproved", "error", True, True),
    ("unapproved", "warning", False, False), ("unapproved", "warning", True, True),
    ("unapproved", "info", False, False), ("unapproved", "info", True, False),
    ("expired", "error", False, True), ("expired", "error", True, True),
    ("expired", "warning", False, False), ("expired", "warning", True, True),
    ("expired", "info", True, False),
    ("approved", "error", False, False), ("approved", "error", True, False),
    ("approved", "warning", True, False),
    ("info", "error", True, False), ("info", "warning", True, False), ("info", "info", True, False),
]


@pytest.mark.parametrize(("status", "severity", "strict", "expected"), FAILS)
def test_which_findings_fail_the_gate(status: str, severity: str, strict: bool, expected: bool) -> None:
    f = judged(status=status, severity=severity)
    assert fails(f, strict) is expected
    assert fails(judged(status=status, severity=severity, change=Change.INTRODUCED), strict) is expected
    assert ModelResult("m", (f,), strict=strict).ok is (not expected)
    assert Report((ModelResult("m", (f,), strict=strict),)).ok is (not expected)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("status", ["unapproved", "expired"])
def test_a_finding_already_there_at_the_base_never_fails(status: str, strict: bool) -> None:
    for severity in ("error", "warning"):
        assert not fails(judged(status=status, severity=severity, change=Change.EXISTING), strict)


def test_strict_defaults_to_off() -> None:
    assert not fails(judged(severity="warning"))
    assert fails(judged(severity="error"))
    assert ModelResult("m", (judged(severity="warning"),)).ok


def test_a_model_counts_its_findings_by_status() -> None:
    findings = (judged("a"), judged("b", "unapproved", "warning"), judged("c", "approved"), judged("d", "expired"),
                judged("e", "expired", "warning"), judged("f", "info", "info"), judged("g", "approved"))
    # failing, not strict: a (error) and d (expired error): 2; strict adds b and e: 4
    assert ModelResult("m", findings).counts() == {
        "findings": 7, "failing": 2, "unapproved": 2, "approved": 2, "expired": 2, "info": 1}
    strict = ModelResult("m", findings, strict=True)
    assert strict.counts()["failing"] == 4
    assert [f.key for f in strict.failing()] == ["a", "b", "d", "e"]
    assert [f.key for f in ModelResult("m", findings).failing()] == ["a", "d"]
    assert ModelResult("m", ()).counts() == {
        "findings": 0, "failing": 0, "unapproved": 0, "approved": 0, "expired": 0, "info": 0}


def test_the_report_sums_its_models_and_counts_stale_and_expiring_approvals() -> None:
    one = ModelResult("one", (judged("a"), judged("b", "approved")))
    two = ModelResult("two", (judged("c", "info", "info"), judged("d", "expired"),
                              judged("e", "unapproved", "warning")))
    approvals = (approval("s1", "stale"), approval("s2", "stale", expiring=True), approval("u", "used"),
                 approval("soon", "used", expiring=True), approval("gone", "expired", expiring=True),
                 approval("self", "self-approved"), approval("unc", "uncommitted"))
    report = Report((one, two, ModelResult("three", ())), approvals)
    assert report.summary() == {
        "models": 3, "findings": 5, "failing": 2, "unapproved": 2, "approved": 1, "expired": 1, "info": 1,
        "stale_approvals": 2, "expiring_approvals": 2}
    assert [a.id for a in report.stale] == ["s1", "s2"]
    assert [a.id for a in report.expiring] == ["s2", "soon"]  # an expired one is no longer "expiring"
    assert [a.id for a in report.expired] == ["gone"]
    assert [a.id for a in report.attention] == ["s1", "s2", "soon", "gone", "self", "unc"]
    assert [f.key for f in report.findings] == ["a", "b", "c", "d", "e"]
    assert [f.key for f in report.failing] == ["a", "d"]
    assert report.approval("soon") is approvals[3]
    assert report.approval("nothing") is None and report.approval(None) is None


@pytest.mark.parametrize(("strict", "fail_on_stale", "state", "ok"), [
    (False, False, "stale", True), (False, True, "stale", False), (True, False, "stale", False),
    (True, True, "stale", False),
    (True, True, "used", True), (True, True, "expired", True), (True, True, "uncommitted", True),
    (True, True, "self-approved", True),
])
def test_a_stale_approval_fails_only_with_strict_or_fail_on_stale(
        strict: bool, fail_on_stale: bool, state: str, ok: bool) -> None:
    report = Report((ModelResult("m", (judged(status="approved"),)),), (approval("x", state),), strict=strict,
                    fail_on_stale=fail_on_stale)
    assert report.ok is ok
    if ok:
        report.raise_for_drift()
    else:
        with pytest.raises(DriftDetected, match=r"^1 stale approval\(s\): x$") as caught:
            report.raise_for_drift()
        assert caught.value.findings == []


def test_a_failing_finding_fails_whatever_the_approvals() -> None:
    report = Report((ModelResult("m", (judged(),)),), (approval("u", "used"),))
    assert not report.ok


def test_raise_for_drift_names_each_failing_key_once_sorted() -> None:
    failing = [judged("z", model="b"), judged("y", model="a"), judged("z", model="b", status="expired"),
               judged("top", model=None)]
    report = Report((ModelResult("b", (failing[0], failing[2], judged("w", status="approved"))),
                     ModelResult("a", (failing[1], failing[3]))), (approval("s", "stale"),), fail_on_stale=True)
    with pytest.raises(DriftDetected) as caught:
        report.raise_for_drift()
    # four failing findings, three distinct keys; the failing ones win over the stale approval
    assert str(caught.value) == "4 unapproved differences: a:y, b:z, top"
    assert caught.value.findings == [failing[0], failing[2], failing[1], failing[3]]
    one = Report((ModelResult("m", (judged("k"),)),))
    with pytest.raises(DriftDetected, match=r"^1 unapproved difference: m:k$"):
        one.raise_for_drift()
    stale = Report((ModelResult("m", ()),), (approval("b", "stale"), approval("a", "stale")), strict=True)
    with pytest.raises(DriftDetected, match=r"^2 stale approval\(s\): b, a$"):
        stale.raise_for_drift()


def test_the_json_report_carries_the_verdict_and_only_the_parts_it_has() -> None:
    report = Report((ModelResult("m", (judged(),), training=(ArtifactRef("hf", "t.json"),),
                                 deployment=(ArtifactRef("vllm", "d.yaml"),)),),
                    manifest="driftguard.yaml", today="2026-12-01", strict=True)
    data = report.to_dict()
    assert data["version"] == 1 and data["tool"] == "driftguard"
    assert data["manifest"] == "driftguard.yaml" and data["today"] == "2026-12-01"
    assert data["strict"] is True and data["ok"] is False
    assert set(data) == {"version", "tool", "manifest", "today", "strict", "ok", "summary", "models", "approvals"}
    (model,) = data["models"]
    assert model["name"] == "m" and model["ok"] is False
    assert model["training"] == [{"kind": "hf", "path": "t.json"}]
    assert model["deployment"] == [{"kind": "vllm", "path": "d.yaml"}]
    assert model["summary"]["failing"] == 1
    assert report.to_json().endswith("}\n") and report.to_json().startswith('{\n  "version": 1,\n  "tool"')
    assert report.to_json(indent=None).count("\n") == 1
    # non-ASCII written as it is, not \u-escaped; keys in the order written, not sorted
    assert '"manifest": "modèles/driftguard.yaml"' in replace(report, manifest="modèles/driftguard.yaml").to_json()


def test_a_shard_writes_its_place_and_fail_on_stale_a_base_its_counts() -> None:
    findings = (judged("a", change=Change.INTRODUCED), judged("b", change=Change.EXISTING),
                judged("c", change=Change.EXISTING), judged("d", "approved"))
    base = BaseComparison("origin/main", "abc123", resolved=(judged("gone"),), unchanged=4)
    run = RunBinding("abc123", None, ("m", "n"))
    data = Report((ModelResult("m", findings),), shard=(2, 3), base=base, run=run).to_dict()
    assert data["shard"] == "2/3" and data["fail_on_stale"] is False
    assert data["base"]["introduced"] == 1 and data["base"]["existing"] == 2
    assert data["base"]["ref"] == "origin/main" and data["base"]["commit"] == "abc123"
    assert data["base"]["unchanged_models"] == 4 and [f["key"] for f in data["base"]["resolved"]] == ["gone"]
    assert data["run"] == {"commit": "abc123", "manifest_sha256": None, "models": ["m", "n"]}
    assert data["ok"] is False  # a is introduced and unapproved; b and c were there at the base


def test_an_approval_as_the_report_shows_it() -> None:
    bare = approval("x", "stale")
    assert bare.state is ApprovalState.STALE
    assert bare.location() == "approvals/x.yaml:3"
    assert ApprovalRef("x", "approvals/x.yaml", None, "m", "k", "2027-01-01", -2, ApprovalState.EXPIRED).location() \
        == "approvals/x.yaml"
    assert bare.to_dict() == {"id": "x", "path": "approvals/x.yaml", "line": 3, "model": "m", "key": "k",
                              "expires": "2027-01-01", "days_left": 10, "state": "stale", "expiring": False,
                              "reason": ""}
    full = approval("y", "used", True, reason="why", note="near k2", added_in="c0ffee", added_by="ann",
                    added_on="2026-11-30")
    assert full.to_dict() == {"id": "y", "path": "approvals/y.yaml", "line": 3, "model": "m", "key": "k",
                              "expires": "2027-01-01", "days_left": 10, "state": "used", "expiring": True,
                              "reason": "why", "note": "near k2", "added_in": "c0ffee", "added_by": "ann",
                              "added_on": "2026-11-30"}
    assert "added_by" not in approval("z", "used", added_in="c0ffee").to_dict()


def test_a_finding_points_at_the_deployed_value_else_the_training_else_the_first_related() -> None:
    d, t, r1, r2 = (Value(1, Origin(p, 1)) for p in ("d.yaml", "t.json", "r1", "r2"))
    assert primary_origin(judged(deployed=d, training=t)) is d.origin
    assert primary_origin(judged(training=t)) is t.origin
    assert primary_origin(Judged(Finding("DG201", "x", "k", "m", related=(r1, r2)))) is r1.origin
    assert primary_origin(judged()) is None


def test_the_fingerprint_is_the_documented_recipe() -> None:
    # sha256 of the JSON list ["driftguard/v1", model, rule, key, artifact], first 32 hex digits, written by hand
    text = '["driftguard/v1", "m", "DG101", "k", "a/b.yaml"]'
    expected = hashlib.sha256(text.encode()).hexdigest()[:32]
    assert fingerprint("m", "DG101", "k", "a/b.yaml") == expected
    f = judged(deployed=Value(1, Origin(os.path.join("a", "b.yaml"), 7)))
    assert Report((), root="").fingerprint(f) == expected
    assert Report((), root="").fingerprint(judged()) == hashlib.sha256(
        b'["driftguard/v1", "m", "DG101", "k", ""]').hexdigest()[:32]
    nameless = judged(model=None)
    assert Report(()).fingerprint(nameless) == hashlib.sha256(
        b'["driftguard/v1", "", "DG101", "k", ""]').hexdigest()[:32]
    stamped = Report((ModelResult("m", (f,)),)).with_fingerprints()
    assert stamped.findings[0].fingerprint == expected


def test_repo_path_is_relative_to_the_root_from_the_folder_the_check_ran_in(tmp_path: os.PathLike[str]) -> None:
    root = os.path.join(str(tmp_path), "repo")
    cwd = os.path.join(root, "models", "m")
    report = Report((), root=root, cwd=cwd)
    assert report.repo_path(os.path.join("deploy", "x.yaml")) == "models/m/deploy/x.yaml"
    assert report.repo_path(os.path.join(root, "a.yaml")) == "a.yaml"
    assert report.repo_path(os.path.join("..", "..", "..", "out.yaml")) == "../../../out.yaml"
    assert report.repo_path(os.path.join(str(tmp_path), "repo2", "y.yaml")) == \
        os.path.join(str(tmp_path), "repo2", "y.yaml").replace(os.sep, "/")
    assert report.repo_path(str(tmp_path)) == str(tmp_path).replace(os.sep, "/")  # the root's parent itself
    assert report.repo_path(os.path.join(root, "..x.yaml")) == "..x.yaml"  # inside, though its name starts with ..
    assert Report((), root=root).repo_path(os.path.join(root, "b", "c.yaml")) == "b/c.yaml"
    assert Report(()).repo_path(os.path.join("b", "c.yaml")) == "b/c.yaml"


def test_the_defaults_are_the_lenient_gate() -> None:
    # README "Exit codes": a stale approval fails only with --strict or fail_on_stale, both off by default
    stale = ApprovalRef("s", "approvals/s.yaml", 1, "m", "k", "2027-01-01", 10, ApprovalState.STALE)
    assert stale.expiring is False and stale.to_dict()["expiring"] is False
    assert Report((ModelResult("m", (judged(severity="warning"),)),), (stale,)).ok
    base = BaseComparison("main", "abc")
    assert base.resolved == () and base.to_dict(Report(()))["unchanged_models"] == 0


def test_an_approval_is_found_by_an_equal_id_not_the_same_object() -> None:
    used = approval("soon", "used")
    asked = "".join(["so", "on"])  # equal to the id, built at run time: another object
    assert Report((), (used,)).approval(asked) is used


def test_repo_path_of_the_root_and_of_names_sorting_before_the_parent() -> None:
    root = os.path.abspath("repo")
    report = Report((), root=root)
    assert report.repo_path(root) == "."
    assert report.repo_path(os.path.join(root, "-x.yaml")) == "-x.yaml"  # '-' sorts before '.'
    assert report.repo_path(os.path.join(root, "+", "y.yaml")) == "+/y.yaml"


@pytest.mark.parametrize("value", [
    ApprovalRef("x", "p", 1, "m", "k", "2027-01-01", 1, ApprovalState.USED), ArtifactRef("hf", "t.json"),
    RuleInfo("DG101", "drift.value", Severity.ERROR, "s", "d"), ModelResult("m", ()), BaseComparison("r", "c"),
    RunBinding(None, None, ()), Report(()),
], ids=lambda v: type(v).__name__)
def test_report_values_are_frozen(value: object) -> None:
    # reporters and the merge of shards share these objects: none may change one under another
    field = next(iter(value.__dataclass_fields__))  # type: ignore[attr-defined]
    with pytest.raises(FrozenInstanceError):
        setattr(value, field, getattr(value, field))
    hash(value)
