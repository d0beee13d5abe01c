"""The words verdicts and provenance are stated in (``Severity``, ``Status``, ``Change``, ``ApprovalState``,
``How``) read and print as the plain strings they replaced, and ``Value.how`` is the one statement of how a
value came to be (``explicit`` follows from it)."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import pytest

from driftguard.model import (
    FAILING_STATUSES,
    ApprovalState,
    Change,
    Finding,
    How,
    Judged,
    Metric,
    Origin,
    Severity,
    Status,
    Unjudged,
    Value,
    WeightMatch,
    Word,
    basis_of,
)

WORDS: list[type[Word]] = [Severity, Status, Change, ApprovalState, How, Unjudged]


@pytest.mark.parametrize("enum", WORDS, ids=lambda e: e.__name__)
def test_members_read_and_print_as_their_value(enum: type[Word]) -> None:
    for member in enum:
        assert str(member) == member.value
        assert f"{member}" == member.value and f"{member:>15}" == f"{member.value:>15}"
        assert member == member.value and member.value == member  # compares with the plain string
        assert hash(member) == hash(member.value) and {member.value: 1}[member] == 1
        assert json.dumps(member) == json.dumps(member.value)  # a str subclass: JSON writes the string
        assert json.dumps({member: 1}) == json.dumps({member.value: 1})
        assert enum(member.value) is member
        assert pickle.loads(pickle.dumps(member)) is member


def test_the_words_are_the_documented_ones() -> None:
    assert [s.value for s in Severity] == ["error", "warning", "info"]  # "off" is a selection, not a severity
    assert [s.value for s in Status] == ["unapproved", "approved", "expired", "info"]
    assert [c.value for c in Change] == ["introduced", "existing"]
    assert [a.value for a in ApprovalState] == ["used", "expired", "stale", "uncommitted", "self-approved"]
    assert [h.value for h in How] == ["explicit", "default", "derived", "inherited", "forced", "unresolved"]
    assert FAILING_STATUSES == (Status.UNAPPROVED, Status.EXPIRED)
    assert [h for h in How if h.engine_made] == [How.DERIVED, How.FORCED]


def test_how_is_the_one_source_of_explicit() -> None:
    o = Origin("a.json", 1)
    assert Value(1, o).how is How.EXPLICIT and Value(1, o).explicit
    assert not Value(1, o, How.DEFAULT).explicit
    # An engine-made or inherited value is explicit when what it rests on was written down.
    for how in (How.DERIVED, How.FORCED, How.INHERITED):
        assert Value(1, o, how, basis=How.EXPLICIT).explicit
        assert not Value(1, o, how, basis=How.DEFAULT).explicit
        assert not Value(1, o, how).explicit
    assert basis_of(Value(1, o)) is How.EXPLICIT and basis_of(Value(1, o, How.DEFAULT)) is How.DEFAULT
    assert basis_of(None) is How.DEFAULT
    assert Value(1, o, How.FORCED).engine_made and not Value(1, o, How.INHERITED).engine_made


def test_a_plain_string_becomes_its_member_and_an_unknown_one_is_refused() -> None:
    v = Value(1, Origin("a.json"), "derived", basis="explicit")  # type: ignore[arg-type]  # what a plug-in may pass
    assert v.how is How.DERIVED and v.basis is How.EXPLICIT and v.explicit
    f = Finding("X1", "x.y", "k", "m", severity="warning")  # type: ignore[arg-type]  # likewise
    j = Judged(f, "expired", change="existing")  # type: ignore[arg-type]  # likewise
    assert f.severity is Severity.WARNING and j.status is Status.EXPIRED and j.change is Change.EXISTING
    with pytest.raises(ValueError):
        Finding("X1", "x.y", "k", "m", severity="off")  # type: ignore[arg-type]  # off selects, it is no severity


def test_value_json_keeps_its_shape() -> None:
    raw = Value(0.7, Origin("g.json", 2, "/temperature"))
    forced = Value(1.0, Origin("r.json", 3, None, "forced: greedy"), How.FORCED, "forced from 0.7", raw,
                   ("generation.do_sample",), basis_of(raw))
    assert forced.to_dict() == {
        "value": 1.0, "explicit": True, "how": "forced",
        "origin": {"path": "r.json", "line": 3, "source": "forced: greedy"}, "note": "forced from 0.7",
        "replaced": {"value": 0.7, "origin": {"path": "g.json", "line": 2, "pointer": "/temperature"},
                     "how": "explicit"},
        "derived_from": ["generation.do_sample"]}
    assert type(forced.to_dict()["how"]) is str


def test_a_derivation_is_a_field_shown_as_a_derived_note() -> None:
    o = Origin("req.json", 1)
    v = Value(False, o, How.DERIVED, derivation="vLLM samples unless temperature < 1e-5", basis=How.EXPLICIT)
    assert v.note is None and v.derivation == "vLLM samples unless temperature < 1e-5"
    assert v.shown_note == "derived: vLLM samples unless temperature < 1e-5"
    assert v.to_dict()["note"] == "derived: vLLM samples unless temperature < 1e-5"
    assert Value(1, o, How.DERIVED, "dtype auto: bfloat16 model", derivation="x").shown_note == \
        "dtype auto: bfloat16 model"  # a note of its own wins


def test_origin_names_whose_default_without_serialising_it() -> None:
    o = Origin("r.yaml", None, None, "vllm default", "vllm")
    assert o.default_of == "vllm" and o.to_dict() == {"path": "r.yaml", "line": None, "source": "vllm default"}
    assert str(o) == "r.yaml (vllm default)"


def test_finding_json_serialises_the_words_as_strings() -> None:
    f = Finding("DG101", "drift.value", "generation.top_p", "differs", Severity.WARNING,
                Value(0.9, Origin("t.json", 1)), Value(1.0, Origin("d.yaml", 2), How.DEFAULT))
    d = Judged(f, Status.APPROVED, "a1", change=Change.INTRODUCED).to_dict()
    assert (d["severity"], d["status"], d["change"], d["training_how"], d["deployed_how"]) == \
        ("warning", "approved", "introduced", "explicit", "default")
    assert all(type(d[k]) is str for k in ("severity", "status", "change", "training_how", "deployed_how"))
    assert list(d)[:6] == ["rule", "name", "key", "severity", "status", "message"]


def test_a_finding_holds_what_was_seen_and_judged_adds_the_verdict() -> None:
    seen = Finding("DG101", "drift.value", "generation.top_p", "differs", training=Value(0.9, Origin("t.json", 1)),
                   deployed=Value(1.0, Origin("d.yaml", 2)), model="m", delta=0.1)
    assert not hasattr(seen, "status") and not hasattr(seen, "fingerprint")
    j = Judged(seen, Status.APPROVED, "a1", "f" * 32, Change.EXISTING)
    # What was seen reads through to the finding.
    assert (j.rule, j.name, j.key, j.message, j.severity, j.model, j.delta) == \
        (seen.rule, seen.name, seen.key, seen.message, seen.severity, seen.model, seen.delta)
    assert (j.training, j.deployed, j.related, j.evidence, j.origins()) == \
        (seen.training, seen.deployed, seen.related, seen.evidence, seen.origins())
    d = j.to_dict()
    assert list(d) == ["rule", "name", "key", "severity", "status", "message", "training", "deployed",
                       "training_origin", "deployed_origin", "training_explicit", "deployed_explicit",
                       "training_how", "deployed_how", "delta", "approval", "model", "fingerprint", "change"]
    assert (d["status"], d["approval"], d["fingerprint"], d["change"]) == ("approved", "a1", "f" * 32, "existing")
    # Unjudged (``diff``), a finding writes the default verdict: unapproved, nothing else.
    assert seen.to_dict() == Judged(seen).to_dict() and seen.to_dict()["status"] == "unapproved"
    assert "approval" not in seen.to_dict() and "fingerprint" not in seen.to_dict()


def test_typed_evidence_stays_out_of_the_json_but_for_metrics() -> None:
    cosine = Metric("cosine_min", 0.99, 0.999, "higher", "logits", False)
    f = Finding("DG501", "parity.output-beyond-tolerance", "parity.logits.cosine_min", "m",
                evidence=(cosine,), measured=cosine)
    assert Judged(f).measured is cosine and f.to_dict()["evidence"] == [cosine.to_dict()]
    names = tuple(f"w{i}" for i in range(25))
    w = WeightMatch("model.onnx", matched=("a",), unmatched=names, skipped=2)
    assert w.delta() == {"matched": 1, "unmatched": list(names[:20]), "not_comparable": [], "skipped": 2}
    g = Finding("DG401", "weights.provenance", "weights.provenance", "m", delta=w.delta(), weights=w)
    assert Judged(g).weights is w and "weights" not in g.to_dict() and "evidence" not in g.to_dict()
    assert [u.value for u in Unjudged] == ["not read", "not compared"]


def test_attribution_and_plot_are_typed_and_shown_in_delta_as_before() -> None:
    from driftguard.model import Attribution, KeyRevert

    attribution = Attribution(3, 8, 0, 3, (KeyRevert("preprocessing.max_length", 512, 256, 3, 3),))
    base = Finding("DG501", "parity.beyond-tolerance", "parity.logits.cosine_min", "m", delta={"own": 1})
    assert base.shown_delta() == {"own": 1}
    attributed = replace(base, delta=None, attribution=attribution)
    shown = {"attribution": {"diverging": 3, "inputs": 8, "deployed_artifact_training_config": 0,
                             "training_artifact_deployed_config": 3,
                             "keys": [{"key": "preprocessing.max_length", "training": 512, "deployed": 256,
                                       "restores": 3, "of": 3}],
                             "joint": [], "reruns": 0, "budget": 0, "skipped": []}}
    assert attributed.shown_delta() == shown
    assert list(replace(attributed, plot="plots/m.png").shown_delta()) == ["attribution", "plot"]
    assert replace(base, plot="p.png").shown_delta() == {"own": 1, "plot": "p.png"}
    assert replace(base, delta=0.5, plot="p.png").shown_delta() == {"plot": "p.png"}
    assert Judged(attributed).to_dict()["delta"] == shown == Judged(attributed).delta
