"""``gate.approve_all`` (``driftguard baseline``, ``driftguard.baseline``): adopting the gate where drift exists
already. Every failing finding approved in one reviewable file with one reason, approver and expiry, each
entry pinned like a single approval; a second run adds only new drift and leaves the file's text alone; a later
change of a baselined key fails again; the manifest's policy and a wrong file are refused before the check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import yaml

import driftguard
from driftguard import api
from driftguard.approvals import schema
from driftguard.errors import UsageError
from driftguard.gate.approve_all import Baseline
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO

TODAY = EXAMPLES_TODAY
EXPIRES = date(2027, 3, 31)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _baseline(example: Path, expires: date = EXPIRES, **kwargs: object) -> Baseline:
    args: dict[str, object] = {"approved_by": "dana", "today": TODAY, **kwargs}
    return api.baseline(example / "driftguard.yaml", "drift present when the gate was adopted (ENG-12)", expires,
                        **args)  # type: ignore[arg-type]  # the keyword arguments of api.baseline


def test_every_failing_finding_approved_in_one_pinned_file(example: Path) -> None:
    params = example / "deployment" / "sampling-params.yaml"
    _edit(params, "temperature: 0.7", "temperature: 0.5")  # a second unapproved drift beside max_length's
    before = driftguard.check(example, today=TODAY)
    assert {f.key for f in before.failing} == {"generation.temperature", "preprocessing.max_length"}
    done = _baseline(example)
    assert done.path == example / "approvals" / "baseline.yaml" and done.held == 0
    entries = yaml.safe_load(done.path.read_text(encoding="utf-8"))
    jsonschema.validate(entries, schema())  # the published schema of an approval file takes the list
    assert [(e["id"], e["model"], e["key"], e["training"], e["deployed"]) for e in entries] == [
        ("baseline-summarizer-generation-temperature", "summarizer", "generation.temperature", 0.7, 0.5),
        ("baseline-summarizer-preprocessing-max_length", "summarizer", "preprocessing.max_length", 1024, 512)]
    assert {(e["reason"], e["approved_by"], e["approved_on"], e["expires"]) for e in entries} == {
        ("drift present when the gate was adopted (ENG-12)", "dana", "2026-12-01", "2027-03-31")}
    after = driftguard.check(example, today=TODAY)
    assert after.ok and not after.stale
    assert {f.approval for f in after.findings} == {"summarizer-top-p", *(e["id"] for e in entries)}


def test_a_second_run_is_idempotent_and_adds_only_new_drift(example: Path) -> None:
    first = _baseline(example)
    text = first.path.read_bytes()
    again = _baseline(example, today=date(2027, 1, 5))
    assert again.added == () and again.held == 1 and first.path.read_bytes() == text  # nothing failed: untouched
    _edit(example / "deployment" / "sampling-params.yaml", "top_k: 40", "top_k: 20")
    third = _baseline(example)
    assert [a.key for a in third.added] == ["generation.top_k"] and third.held == 1
    grown = first.path.read_bytes()
    assert grown.startswith(text) and len(yaml.safe_load(grown)) == 2  # the reviewed entries kept byte for byte
    assert driftguard.check(example, today=TODAY).ok


def test_a_later_drift_of_a_baselined_key_fails_again(example: Path) -> None:
    _baseline(example)
    _edit(example / "deployment" / "sampling-params.yaml", "truncate_prompt_tokens: 512",
          "truncate_prompt_tokens: 256")
    report = driftguard.check(example, today=TODAY)
    (failing,) = report.failing
    assert failing.key == "preprocessing.max_length" and failing.deployed is not None
    assert failing.deployed.value == 256 and failing.approval is None
    (stale,) = report.stale  # the pin no longer matches: the baseline entry matched nothing
    assert stale.id == "baseline-summarizer-preprocessing-max_length" and "deployed 512" in (stale.note or "")


def test_expired_approvals_are_baselined_and_the_models_narrow_it(example: Path) -> None:
    """After the shipped top_p approval expired its finding fails (expired): the baseline approves it anew,
    with its own entry; ``model`` names a model of the manifest."""
    later = date(2027, 11, 1)
    done = _baseline(example, date(2028, 3, 1), today=later, model="summarizer")
    assert sorted(a.key for a in done.added) == ["generation.top_p", "preprocessing.max_length"]
    assert driftguard.check(example, today=later).ok
    with pytest.raises(UsageError, match="no model 'other'"):
        _baseline(example, model="other")


def test_a_key_failing_with_several_values_gets_one_entry_per_rule(example: Path) -> None:
    from driftguard.approvals import Approval
    from driftguard.gate import approve_all
    from driftguard.model import Finding, Judged, Origin, Status, Value

    def finding(rule: str, deployed: int) -> Judged:
        value = Value(deployed, Origin("d.yaml", 1))
        return Judged(Finding(rule, "r", "k.x", "m", model="m", training=None, deployed=value), Status.UNAPPROVED)

    common: dict[str, object] = {"reason": "r", "approved_by": "a", "expires": "2027-01-01"}
    made: list[Approval] = approve_all._approvals([finding("DG101", 1), finding("DG204", 2), finding("DG205", 2)],
                                                  common, "baseline", {"baseline-m-k-x-dg101"})
    assert [(a.id, a.rule, a.deployed) for a in made] == [("baseline-m-k-x-dg101-2", "DG101", 1),
                                                          ("baseline-m-k-x-dg204", "DG204", 2)]


def test_the_policy_and_a_wrong_file_are_refused_before_the_check(example: Path) -> None:
    manifest = example / "driftguard.yaml"
    _edit(manifest, "approval_policy:\n", "approvers: [ml-platform-oncall]\napproval_policy:\n")
    with pytest.raises(UsageError, match=r"--by: approved by 'dana'; allowed approvers: ml-platform-oncall"):
        _baseline(example)
    with pytest.raises(UsageError, match=r"--expires: expires 2028-01-01 is 396 days after approved_on 2026-12-01"):
        api.baseline(manifest, "r", date(2028, 1, 1), approved_by="ml-platform-oncall", today=TODAY)
    with pytest.raises(UsageError, match=r"summarizer-top-p\.yaml holds one approval, not a baseline's list"):
        _baseline(example, approved_by="ml-platform-oncall", name="summarizer-top-p")
    with pytest.raises(UsageError, match="expires: 2026-11-30 is before today"):
        api.baseline(manifest, "r", date(2026, 11, 30), approved_by="x", today=TODAY)
    assert not (example / "approvals" / "baseline.yaml").exists()


def test_cli_baseline_then_check_passes(example: Path) -> None:
    env = {**os.environ, "DRIFTGUARD_TODAY": EXAMPLES_TODAY_ISO}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=example, env=env,
                              capture_output=True, text=True, timeout=120)

    assert run("check").returncode == 1
    proc = run("baseline", "--reason", "adopted with drift", "--by", "dana", "--expires", "2027-03-31")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("approved 1 failing finding in approvals/baseline.yaml, until 2027-03-31; review and "
                           "commit it\n")
    assert run("check").returncode == 0
    proc = run("baseline", "--reason", "adopted with drift", "--by", "dana", "--expires", "2027-03-31")
    assert proc.returncode == 0 and proc.stdout.startswith("nothing to baseline: no finding fails the check now")
    proc = run("check", "--format", "json")
    data = json.loads(proc.stdout)
    assert {a["id"]: a["state"] for a in data["approvals"]} == {
        "baseline-summarizer-preprocessing-max_length": "used", "summarizer-top-p": "used"}


# What the module's docstrings and the approval schema promise, each expected value written out by hand: only
# what fails the check is baselined (a warning only with strict, as `check --strict` fails on it); findings of
# one key with the same values are one approval whatever the order of a mapping's keys; ids fit the schema's
# 128 characters with room for the -N that makes them unique; the arguments after the first three are named.


def test_a_warning_is_baselined_only_when_strict(example: Path) -> None:
    from driftguard.gate import approve_all

    manifest = example / "driftguard.yaml"
    _edit(manifest, "approvals: approvals\n", "rules:\n  severity: {DG101: warning}\napprovals: approvals\n")
    assert driftguard.check(example, today=TODAY).ok  # the max_length drift is a warning now
    assert _baseline(example).added == ()
    assert approve_all.baseline(manifest, "r", EXPIRES, approved_by="dana", today=TODAY).added == ()
    assert not (example / "approvals" / "baseline.yaml").exists()
    strict = _baseline(example, strict=True)
    assert [(a.key, a.rule) for a in strict.added] == [("preprocessing.max_length", None)]
    assert driftguard.check(example, today=TODAY, strict=True).ok


def test_the_same_values_are_one_approval_whatever_the_order_of_their_keys() -> None:
    from driftguard.gate import approve_all
    from driftguard.model import Finding, Judged, Origin, Status, Value

    def finding(rule: str, deployed: dict[str, int]) -> Judged:
        value = Value(deployed, Origin("d.yaml", 1))
        return Judged(Finding(rule, "r", "k.x", "m", model="m", training=None, deployed=value), Status.UNAPPROVED)

    common: dict[str, object] = {"reason": "r", "approved_by": "a", "expires": "2027-01-01"}
    made = approve_all._approvals([finding("DG101", {"a": 1, "b": 2}), finding("DG204", {"b": 2, "a": 1})],
                                  common, "baseline", set())
    assert [(a.id, a.rule, a.deployed) for a in made] == [("baseline-m-k-x", None, {"a": 1, "b": 2})]


def test_a_long_id_is_cut_to_leave_room_for_its_suffix_within_the_schema() -> None:
    """The schema allows 128 characters; the id is cut at 120 so that `-2`, `-3`... still fit."""
    from driftguard.gate import approve_all
    from driftguard.model import Finding, Judged, Origin, Status, Value

    key = "k." + "x" * 200
    judged = Judged(Finding("DG101", "r", key, "m", model="m", training=None,
                            deployed=Value(1, Origin("d.yaml", 1))), Status.UNAPPROVED)
    common: dict[str, object] = {"reason": "r", "approved_by": "a", "expires": "2027-01-01"}
    expected = ("baseline-m-k-" + "x" * 200)[:120]
    (first,) = approve_all._approvals([judged], common, "baseline", set())
    (second,) = approve_all._approvals([judged], common, "baseline", {expected.casefold()})
    assert (first.id, second.id) == (expected, expected + "-2")
    assert (len(first.id), len(second.id)) == (120, 122)  # both valid approvals (new_approval validates)


def test_everything_after_the_manifest_reason_and_expiry_is_named(example: Path) -> None:
    from driftguard.gate import approve_all

    with pytest.raises(TypeError):
        approve_all.baseline(example / "driftguard.yaml", "r", EXPIRES, "dana", TODAY)  # type: ignore[misc]
    done = approve_all.baseline(path_or_manifest=example / "driftguard.yaml", reason="r", expires=EXPIRES,
                                approved_by="dana", today=TODAY)
    assert [a.key for a in done.added] == ["preprocessing.max_length"]


def test_what_a_run_did_is_frozen(example: Path) -> None:
    import dataclasses

    done = _baseline(example)
    with pytest.raises(dataclasses.FrozenInstanceError):
        done.held = 3  # type: ignore[misc]
