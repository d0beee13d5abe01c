"""``gate.pipeline``: each named step on the summarizer example (select, load approvals, build sides, run rules,
run parity, judge, assemble) and ``run``, which chains them into the report ``driftguard.check`` returns."""

from __future__ import annotations

from dataclasses import replace

import pytest

import driftguard
from driftguard.errors import UsageError
from driftguard.gate import pipeline
from driftguard.gate.request import CheckRequest, Selection, Stages
from driftguard.parity.request import ParityRequest
from tests.dates import EXAMPLES_TODAY
from tests.gate.conftest import MANIFEST


def test_run_is_the_report_check_returns(request_: CheckRequest) -> None:
    report = pipeline.run(request_)
    checked = driftguard.check(MANIFEST, today=EXAMPLES_TODAY).to_dict()
    assert checked.pop("run")["models"] == ["summarizer"]  # the gate binds the report to its run (gate.check.bind)
    assert report.to_dict() == checked
    assert pipeline.run(request_, ["summarizer"]).to_dict() == report.to_dict()  # names selected by the caller


def test_select_names_an_unknown_model_and_a_parity_run_without_parity_sections(request_: CheckRequest) -> None:
    assert pipeline.select(request_) == ["summarizer"]
    with pytest.raises(UsageError, match=r"no model 'nope' in .*; models: summarizer"):
        pipeline.select(replace(request_, selection=Selection(model="nope")))
    parity_only = replace(request_, stages=Stages(rules=False, parity=ParityRequest()))
    assert pipeline.select(parity_only) == ["summarizer"]  # it has a parity: section
    with pytest.raises(UsageError, match=r"no model in .* has a parity: section"):
        pipeline.select(replace(parity_only, selection=Selection(models=())))


def test_the_steps(request_: CheckRequest) -> None:
    limits = request_.read_limits()
    approvals = pipeline.load_approvals(request_, limits)
    assert sorted(a.approval.id for a in approvals.kept) == ["summarizer-top-p"]
    assert MANIFEST.is_relative_to(approvals.repo)  # the nearest folder above it holding .git
    contexts = pipeline.build_sides(request_, ["summarizer"], limits)
    ctx = contexts["summarizer"]
    assert {c.kind for c in ctx.training.artifacts} >= {"hf-generation", "hf-tokenizer"}
    assert ctx.deployed.merged["generation.top_p"].value == 0.85
    found, ran = pipeline.run_rules(request_, contexts)
    assert {f.key for f in found["summarizer"]} >= {"generation.top_p", "preprocessing.max_length"}
    assert "DG101" in ran["summarizer"]
    assert pipeline.run_parity(request_, contexts) == {}  # not asked for
    judged, refs = pipeline.judge(request_, ["summarizer"], found["summarizer"], approvals)
    status = {f.key: f.status for f in judged}
    assert (status["generation.top_p"], status["preprocessing.max_length"]) == ("approved", "unapproved")
    assert [(r.id, r.state) for r in refs] == [("summarizer-top-p", "used")]
    report = pipeline.assemble(replace(request_, strict=True), contexts, ran, judged, refs, approvals.repo)
    assert [r.name for r in report.models] == ["summarizer"] and report.strict and report.models[0].strict
    assert all(f.fingerprint for f in report.findings)


def test_without_the_rules_stage_no_rule_runs_and_their_approvals_are_out_of_scope(request_: CheckRequest) -> None:
    request = replace(request_, stages=Stages(rules=False))
    limits = request.read_limits()
    contexts = pipeline.build_sides(request, ["summarizer"], limits)
    assert pipeline.run_rules(request, contexts) == ({"summarizer": []}, {})
    approvals = pipeline.load_approvals(request, limits)
    judged, refs = pipeline.judge(request, ["summarizer"], [], approvals)
    assert judged == () and refs == ()  # summarizer-top-p approves a rule's finding: not stale for lack of rules
