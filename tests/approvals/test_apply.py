"""approvals.apply called directly: an approval passes only its own model's finding, holds through its
``expires`` day, warns from 0 to ``warn_expiring_days`` days left, pins values float32-tolerantly, honours
``rule`` and globs, and reports what matched nothing as stale (with why, when the key matched)."""

from __future__ import annotations

import struct
from dataclasses import FrozenInstanceError, replace
from datetime import date, timedelta
from typing import Any

import pytest

from driftguard import clock
from driftguard.approvals import Approval, LoadedApproval, apply
from driftguard.model import Finding, Judged, Metric, Origin, Status, Value

TODAY = date(2026, 12, 1)


def f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def finding(key: str = "generation.top_p", training: Any = 0.92, deployed: Any = 0.85, *,
            model: str | None = "summarizer", rule: str = "DG101", severity: str = "error") -> Finding:
    def side(v: Any, path: str) -> Value | None:
        return None if v is None else Value(v, Origin(path, 1))

    return Finding(rule, "drift.value", key, f"{key} differs", severity=severity,
                   training=side(training, "training/generation_config.json"),
                   deployed=side(deployed, "deployment/params.yaml"), model=model)


def approval(ident: str = "top-p", *, days: int = 100, line: int | None = 1, pinned: bool = True,
             **fields: Any) -> LoadedApproval:
    """An approval of summarizer's top_p 0.92 -> 0.85 expiring in ``days``; ``pinned=False`` leaves the values
    out (globs only)."""
    data: dict[str, Any] = {"id": ident, "model": "summarizer", "key": "generation.top_p", "training": 0.92,
                            "deployed": 0.85, "reason": "INC-2291", "approved_by": "dana",
                            "expires": TODAY + timedelta(days=days)}
    if not pinned:
        del data["training"], data["deployed"]
    data.update(fields)
    return LoadedApproval(Approval.model_validate(data), f"approvals/{ident}.yaml", line)


def judge(findings: list[Finding], approvals: list[LoadedApproval], **kw: Any) -> tuple[list[Judged], dict[str, Any]]:
    out = apply(findings, approvals, TODAY, **kw)
    return list(out.findings), {r.id: r for r in out.approvals}


# --- model, key, rule -----------------------------------------------------------------------------------

def test_an_approval_passes_its_own_models_finding() -> None:
    [f], refs = judge([finding()], [approval()])
    assert (f.status, f.approval) == ("approved", "top-p")
    assert refs["top-p"].state == "used" and refs["top-p"].note is None


def test_an_approval_never_passes_another_models_finding() -> None:
    [f], refs = judge([finding(model="classifier")], [approval()])
    assert (f.status, f.approval) == ("unapproved", None)
    assert refs["top-p"].state == "stale"
    [g], _ = judge([finding(model="classifier")], [approval(days=-3)])
    assert (g.status, g.approval) == ("unapproved", None)  # nor does it make it "expired"


def test_each_model_gets_its_own_approval() -> None:
    mine, theirs = approval("mine"), approval("theirs", model="classifier")
    fs, refs = judge([finding(model="classifier"), finding()], [mine, theirs])
    assert [(f.model, f.approval) for f in fs] == [("classifier", "theirs"), ("summarizer", "mine")]
    assert {r.state for r in refs.values()} == {"used"}


def test_key_must_match() -> None:
    [f], refs = judge([finding("generation.temperature", 0.92, 0.85)], [approval()])
    assert f.status == "unapproved"
    assert refs["top-p"].state == "stale"  # the key matched nothing, and the note says so (no near key)
    assert refs["top-p"].note == "no finding of model 'summarizer' has key 'generation.top_p'"


def test_a_misspelt_key_names_the_closest_finding() -> None:
    """Issue 23 point 7: a key typo in an approval was 'stale' with no hint."""
    [f], refs = judge([finding("preprocessing.max_length", 1024, 512)],
                      [approval(key="preprocessing.max_lenght", training=1024, deployed=512)])
    assert f.status == "unapproved"
    assert refs["top-p"].note == ("no finding of model 'summarizer' has key 'preprocessing.max_lenght'; did you "
                                  "mean preprocessing.max_length?")


def test_rule_filter() -> None:
    [f], refs = judge([finding(rule="DG101")], [approval(rule="DG102")])
    assert f.status == "unapproved"
    assert refs["top-p"].note == "names rule DG102, but the finding on 'generation.top_p' is DG101"
    [g], _ = judge([finding(rule="DG101")], [approval(rule="DG101")])
    assert g.status == "approved"
    [h], _ = judge([finding(rule="DG103")], [approval()])  # no rule named: any rule
    assert h.status == "approved"


def test_models_in_scope() -> None:
    _, refs = judge([finding()], [approval("a"), approval("b", model="classifier")], models=["summarizer"])
    assert list(refs) == ["a"]
    _, every = judge([finding()], [approval("a"), approval("b", model="classifier")])
    assert sorted(every) == ["a", "b"]


# --- expiry ---------------------------------------------------------------------------------------------

def test_expires_today_still_approves() -> None:
    [f], refs = judge([finding()], [approval(days=0)])
    assert (f.status, f.approval) == ("approved", "top-p")
    ref = refs["top-p"]
    assert (ref.state, ref.days, ref.expiring, ref.expires) == ("used", 0, True, TODAY.isoformat())


def test_expired_yesterday_fails() -> None:
    [f], refs = judge([finding()], [approval(days=-1)])
    assert (f.status, f.approval) == ("expired", "top-p")
    ref = refs["top-p"]
    assert (ref.state, ref.days, ref.expiring) == ("expired", -1, False)


def test_an_unused_expired_approval_is_expired_not_stale() -> None:
    _, refs = judge([], [approval(days=-10)])
    assert (refs["top-p"].state, refs["top-p"].days) == ("expired", -10)


def test_a_valid_approval_wins_over_an_expired_one() -> None:
    [f], refs = judge([finding()], [approval("a-old", days=-5), approval("b-new", days=50)])
    assert (f.status, f.approval) == ("approved", "b-new")
    assert (refs["a-old"].state, refs["b-new"].state) == ("expired", "used")


@pytest.mark.parametrize(("days", "warn", "expiring"), [
    (0, 30, True), (1, 30, True), (30, 30, True), (31, 30, False), (-1, 30, False),
    (7, 7, True), (8, 7, False), (0, 0, True), (1, 0, False),
])
def test_expiring_window(days: int, warn: int, expiring: bool) -> None:
    _, refs = judge([finding()], [approval(days=days)], warn_expiring_days=warn)
    assert refs["top-p"].days == days
    assert refs["top-p"].expiring is expiring


def test_expiring_window_defaults_to_30_days() -> None:
    _, refs = judge([], [approval("a", days=30), approval("b", days=31)])
    assert (refs["a"].expiring, refs["b"].expiring) == (True, False)


# --- pinned values --------------------------------------------------------------------------------------

def test_pinned_values_survive_a_float32_round_trip() -> None:
    [f], _ = judge([finding(training=f32(0.92), deployed=f32(0.85))], [approval()])
    assert f.status == "approved"


@pytest.mark.parametrize(("training", "deployed"), [(0.92, 0.86), (0.92, 0.8501), (0.93, 0.85), (0.92, None),
                                                   (None, 0.85), (0.92, "0.85")])
def test_other_values_are_drift_again(training: Any, deployed: Any) -> None:
    [f], refs = judge([finding(training=training, deployed=deployed)], [approval()])
    assert (f.status, f.approval) == ("unapproved", None)
    assert refs["top-p"].state == "stale"
    assert refs["top-p"].note is not None and "pins training 0.92, deployed 0.85" in refs["top-p"].note


def test_stale_note_says_what_was_found() -> None:
    _, refs = judge([finding(deployed=0.86)], [approval()])
    assert refs["top-p"].note == ("pins training 0.92, deployed 0.85; found training 0.92, deployed 0.86")
    _, unset = judge([finding(deployed=None)], [approval()])
    assert unset["top-p"].note == "pins training 0.92, deployed 0.85; found training 0.92, deployed unset"


def test_a_used_approval_has_no_note() -> None:
    # One finding of the key matches the pin, another (other values) does not: the approval is used.
    fs, refs = judge([finding(deployed=0.86), finding()], [approval()])
    assert [f.status for f in fs] == ["unapproved", "approved"]
    assert (refs["top-p"].state, refs["top-p"].note) == ("used", None)


def test_pinned_null_means_unset_on_that_side() -> None:
    [f], _ = judge([finding("generation.seed", None, 7)],
                   [approval("seed", key="generation.seed", training=None, deployed=7)])
    assert f.status == "approved"
    [g], _ = judge([finding("generation.seed", 1, 7)],
                   [approval("seed", key="generation.seed", training=None, deployed=7)])
    assert g.status == "unapproved"


def test_unordered_keys_pin_a_set() -> None:
    eos = approval("eos", key="generation.eos_token_id", training=[2, 107], deployed=[1])
    [f], _ = judge([finding("generation.eos_token_id", [107, 2], [1])], [eos])
    assert f.status == "approved"
    shape = approval("shape", key="io.inputs.x.shape", training=[1, 3], deployed=[3, 1])
    [g], _ = judge([finding("io.inputs.x.shape", [3, 1], [1, 3])], [shape])
    assert g.status == "unapproved"  # a shape is ordered


# --- wildcards ------------------------------------------------------------------------------------------

def test_unpinned_glob_approves_every_matching_key() -> None:
    glob = approval("gen", key="generation.*", allow_wildcard=True, pinned=False)
    fs, refs = judge([finding("generation.top_p"), finding("generation.temperature", 0.7, 1.0),
                      finding("preprocessing.max_length", 1024, 512), finding("Generation.top_p")], [glob])
    assert [f.status for f in fs] == ["approved", "approved", "unapproved", "unapproved"]
    assert refs["gen"].state == "used"


def test_a_glob_is_a_plain_key_without_allow_wildcard() -> None:
    with pytest.raises(ValueError, match="allow_wildcard"):
        approval("gen", key="generation.*")


def test_pinned_glob_checks_values() -> None:
    glob = approval("gen", key="generation.t*", allow_wildcard=True, training=0.92, deployed=0.85)
    fs, _ = judge([finding("generation.top_p"), finding("generation.temperature", 0.7, 1.0)], [glob])
    assert [f.status for f in fs] == ["approved", "unapproved"]


# --- unmatched findings ---------------------------------------------------------------------------------

def test_unmatched_findings_by_severity() -> None:
    fs, refs = judge([finding(severity="info"), finding(severity="warning"), finding(severity="error")], [])
    assert [f.status for f in fs] == ["info", "unapproved", "unapproved"]
    assert refs == {}


def test_approved_info_finding_is_approved() -> None:
    [f], _ = judge([finding(severity="info")], [approval()])
    assert f.status == "approved"


def test_approvals_reported_sorted_by_id_with_their_file() -> None:
    out = apply([finding()], [approval("zz", line=4), approval("aa", line=None)], TODAY)
    assert [r.id for r in out.approvals] == ["aa", "zz"]
    assert out.approvals[1].location() == "approvals/zz.yaml:4"
    assert (out.approvals[1].model, out.approvals[1].key, out.approvals[1].reason) == \
        ("summarizer", "generation.top_p", "INC-2291")


# --- found by a mutation pass (benchmarks/mutation.py) -------------------------------------------------

def test_a_finding_without_a_model_is_matched_by_key() -> None:
    # api.diff stamps no model name: an approval can still pass its finding by key and values.
    [f], _ = judge([finding(model=None)], [approval()])
    assert f.status == "approved"


def test_namespaced_keys_can_be_approved() -> None:
    [f], _ = judge([finding("hf.config.rope_theta", 10000, 500000)],
                   [approval("rope", key="hf.config.rope_theta", training=10000, deployed=500000)])
    assert (f.status, f.approval) == ("approved", "rope")


def test_a_near_miss_does_not_stop_the_search() -> None:
    # the first approval matches the key but pins other values; the second one matches
    fs, refs = judge([finding()], [approval("a-other", deployed=0.8), approval("b-right")])
    assert [(f.status, f.approval) for f in fs] == [("approved", "b-right")]
    assert (refs["a-other"].state, refs["b-right"].state) == ("stale", "used")


def test_the_first_matching_approval_is_named() -> None:
    [f], refs = judge([finding()], [approval("a-first"), approval("b-second")])
    assert f.approval == "a-first"
    assert (refs["a-first"].state, refs["b-second"].state) == ("used", "stale")
    [g], _ = judge([finding()], [approval("a-first", days=-2), approval("b-second", days=-1)])
    assert (g.status, g.approval) == ("expired", "a-first")


def test_today_defaults_to_the_clock() -> None:
    """No ``today``: ``clock.today()``, the pinned day when one is pinned (the system date otherwise)."""
    a = approval(days=0)  # expires on TODAY
    with clock.pinned(TODAY):
        out = apply([finding()], [a])
    assert out.findings[0].status == "approved" and out.approvals[0].days == 0
    with clock.pinned(TODAY + timedelta(days=1)):
        out = apply([finding()], [a])
    assert out.findings[0].status == "expired" and out.approvals[0].days == -1


def test_statuses_are_judged_afresh() -> None:
    earlier = Judged(finding(), Status.APPROVED, "gone")  # a verdict is not part of what was seen
    [f], _ = judge([earlier.finding], [])
    assert f.status == "unapproved" and f.finding is earlier.finding


def test_outcome_is_frozen() -> None:
    out = apply([finding()], [approval()], TODAY)
    with pytest.raises(FrozenInstanceError):
        out.findings = ()  # type: ignore[misc]  # deliberately assigning to a frozen record


def test_a_finding_judged_again_loses_a_stale_approval_name() -> None:
    old = Judged(finding(), Status.APPROVED, "gone")
    [f], _ = judge([old.finding], [])
    assert (f.status, f.approval) == ("unapproved", None)
    [i], _ = judge([Judged(finding(severity="info"), Status.APPROVED, "gone").finding], [])
    assert (i.status, i.approval) == ("info", None)


# --- typed evidence -------------------------------------------------------------------------------------

def test_a_parity_finding_is_approved_by_a_bound_on_the_metric_it_measures() -> None:
    cosine = Metric("cosine_min", 0.991, 0.999, "higher", "logits", False)
    max_abs = Metric("max_abs", 0.2, 0.01, "lower", "logits", False)
    f = Finding("DG501", "parity.output-beyond-tolerance", "parity.logits.cosine_min", "cosine_min 0.991 < 0.999",
                training=Value(0.999, Origin("profile", None)), deployed=Value(0.991, Origin("candidate", None)),
                model="summarizer", evidence=(max_abs, cosine), measured=cosine)
    accept = approval("accept", key="parity.logits.cosine_min", training=0.999, deployed=0.99)
    [j], refs = judge([f], [accept])
    assert (j.status, j.approval, refs["accept"].state) == ("approved", "accept", "used")
    tighter = approval("tight", key="parity.logits.cosine_min", training=0.999, deployed=0.995)
    [j], refs = judge([f], [tighter])
    assert (j.status, refs["tight"].state) == ("unapproved", "stale")
    # The metric is the typed ``measured``, not whichever metric the key ends with: without it, the values are
    # compared exactly (0.991 is not the pinned 0.99).
    [j], _ = judge([replace(f, measured=None)], [accept])
    assert j.status == "unapproved"


# --- found by mutation testing (README "Development"): expected values written out by hand ------------------

def _runtime(text: str) -> str:
    """The same text as a new string object, as a value parsed from a file is: equal, never identical."""
    return "".join(list(text))


@pytest.mark.parametrize(("approved", "found"), [("DG102", "DG101"), ("DG101", "DG102")])
def test_a_rule_other_than_the_findings_never_approves_it_whichever_sorts_first(approved: str, found: str) -> None:
    [f], refs = judge([finding(rule=found)], [approval(rule=approved)])
    assert (f.status, f.approval) == ("unapproved", None)
    assert refs["top-p"].note == f"names rule {approved}, but the finding on 'generation.top_p' is {found}"


def test_rules_and_keys_compare_by_value_not_by_identity() -> None:
    [f], _ = judge([finding(rule=_runtime("DG101"))], [approval(rule=_runtime("DG101"))])
    assert f.status == "approved"
    [g], _ = judge([finding(_runtime("generation.top_p"))], [approval()])
    assert g.status == "approved"


def test_the_options_after_today_are_keyword_only() -> None:
    """``apply(findings, approvals, today, *, warn_expiring_days=..., ...)``: a fourth positional is refused."""
    with pytest.raises(TypeError):
        apply([], [], TODAY, 30)  # type: ignore[misc]  # the call under test


def test_a_misspelt_key_with_the_right_rule_is_a_key_note_not_a_rule_note() -> None:
    _, refs = judge([finding("generation.top_k", rule="DG101")], [approval(rule="DG101", key="generation.top_kk")])
    assert refs["top-p"].note == ("no finding of model 'summarizer' has key 'generation.top_kk'; did you mean "
                                  "generation.top_k?")


def test_the_closest_key_is_taken_from_the_approvals_own_model_only() -> None:
    """A key of another model is no hint: 'zeta' sorts after 'summarizer', 'alpha' before it."""
    for other in ("zeta", "alpha"):
        _, refs = judge([finding("generation.top_k", model=other)], [approval(key="generation.top_kk")])
        assert refs["top-p"].note == "no finding of model 'summarizer' has key 'generation.top_kk'"
    _, same = judge([finding("generation.top_k", model=_runtime("summarizer"))], [approval(key="generation.top_kk")])
    assert same["top-p"].note == ("no finding of model 'summarizer' has key 'generation.top_kk'; did you mean "
                                  "generation.top_k?")


def test_an_expired_approval_carries_no_stale_note() -> None:
    _, refs = judge([finding(deployed=0.86)], [approval(days=-3)])
    assert (refs["top-p"].state, refs["top-p"].note) == ("expired", None)


KNOWN = ["summarizer", "classifier"]


def test_an_approval_for_a_model_the_manifest_lacks_is_stale_in_a_whole_run() -> None:
    _, refs = judge([finding()], [approval(), approval("ghost", model="ghost")], known_models=KNOWN)
    assert refs["ghost"].state == "stale"
    assert refs["ghost"].note == ("names model 'ghost', which the manifest does not have (models: classifier, "
                                  "summarizer)")
    _, empty = judge([], [approval("ghost", model="ghost")], known_models=[])
    assert empty["ghost"].note == "names model 'ghost', which the manifest does not have"


@pytest.mark.parametrize(("models", "reported"), [
    (["summarizer", "classifier"], True),  # every known model: the whole run
    (["classifier", "summarizer", "ranker"], True),  # more than the known ones still covers them all
    (["summarizer"], False),  # one part of a split run: another part (the one with every model) reports it
    (["summarizer", "ranker"], False),
])
def test_an_unknown_models_approval_is_reported_by_the_run_that_covers_every_known_model(
        models: list[str], reported: bool) -> None:
    _, refs = judge([finding()], [approval(), approval("ghost", model="ghost")], models=models, known_models=KNOWN)
    assert ("ghost" in refs) is reported


def test_unknown_in_scope_decides_for_an_unknown_model_in_a_part() -> None:
    _, refs = judge([finding()], [approval("ghost", model="ghost")], models=["summarizer"], known_models=KNOWN,
                    unknown_in_scope=lambda model: model == "ghost")
    assert refs["ghost"].state == "stale"
    _, none = judge([finding()], [approval("ghost", model="ghost")], models=["summarizer", "classifier"],
                    known_models=KNOWN, unknown_in_scope=lambda model: False)
    assert none == {}


def test_known_models_without_a_model_selection_is_a_whole_run() -> None:
    [f], refs = judge([finding()], [approval()], known_models=KNOWN)
    assert (f.status, refs["top-p"].state) == ("approved", "used")


@pytest.mark.parametrize("other", ["alpha", "zeta", None])
def test_another_models_finding_is_never_approved_whichever_sorts_first(other: str | None) -> None:
    """``None``: a finding of no model (a single-model run) is matched by key alone."""
    [f], _ = judge([finding(model=other)], [approval()])
    assert f.status == ("approved" if other is None else "unapproved")
    [same], _ = judge([finding(model=_runtime("summarizer"))], [approval()])
    assert same.status == "approved"


def test_an_approval_naming_a_rule_that_does_not_exist_is_stale_and_says_so() -> None:
    rules = ["DG101", "DG102"]
    [f], refs = judge([finding()], [approval(rule="DG999")], known_rules=rules)
    assert f.status == "unapproved"
    assert refs["top-p"].note == "names rule 'DG999', which does not exist (rules: `driftguard explain`)"
    _, plain = judge([], [approval()], known_rules=rules)  # no rule named: the usual note
    assert plain["top-p"].note == "no finding of model 'summarizer' has key 'generation.top_p'"
