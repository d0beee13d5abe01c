"""``gate.pipeline``: each named step on the summarizer example (select, load approvals, build sides, run rules,
run parity, judge, assemble) and ``run``, which chains them into the report ``driftguard.check`` returns."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

import driftguard
from driftguard import manifest as manifest_mod
from driftguard.ci.shard import select as shard_select
from driftguard.errors import UsageError
from driftguard.gate import pipeline
from driftguard.gate.request import ApprovalOptions, CheckRequest, Selection, Stages
from driftguard.model import Finding, Origin, Value
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


def _request(example: Path, **changes: object) -> CheckRequest:
    m = manifest_mod.load(example / "driftguard.yaml")
    return replace(CheckRequest(m, EXAMPLES_TODAY, Selection.of(m)), **changes)  # type: ignore[arg-type]  # any field


def _approval(example: Path, ident: str, model: str, key: str) -> None:
    (example / "approvals" / f"{ident}.yaml").write_text(
        f"id: {ident}\nmodel: {model}\nkey: {key}\ntraining: 0.9\ndeployed: 0.8\nreason: r\napproved_by: dana\n"
        "approved_on: '2026-12-01'\nexpires: '2027-03-01'\n", encoding="utf-8")


def test_assemble_puts_each_models_findings_in_its_result(request_: CheckRequest) -> None:
    limits = request_.read_limits()
    approvals = pipeline.load_approvals(request_, limits)
    contexts = pipeline.build_sides(request_, ["summarizer"], limits)
    found, ran = pipeline.run_rules(request_, contexts)
    judged, refs = pipeline.judge(request_, ["summarizer"], found["summarizer"], approvals)
    report = pipeline.assemble(request_, contexts, ran, judged, refs, approvals.repo)
    assert {(f.key, f.status) for f in report.models[0].findings} == {("generation.top_p", "approved"),
                                                                      ("preprocessing.max_length", "unapproved")}
    with pytest.raises(dataclasses.FrozenInstanceError):
        approvals.repo = Path("elsewhere")  # type: ignore[misc]  # frozen: the assignment is what is refused


ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def test_git_is_read_only_when_asked(example: Path, tmp_path: Path) -> None:
    """README "Approval provenance": a plain check is not git-aware; provenance (history) is read when asked;
    --require-base-approvals' base files count only with it (without it they are not even looked at)."""
    plain = _request(example)
    limits = plain.read_limits()
    assert not pipeline.load_approvals(plain, limits).history.active
    unused = _request(example, approvals=ApprovalOptions(base_files=tmp_path / "nowhere"))
    kept = pipeline.load_approvals(unused, limits)
    assert not kept.history.active and [a.approval.id for a in kept.kept] == ["summarizer-top-p"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "summarizer"]):
        subprocess.run(["git", *args], cwd=example, check=True, capture_output=True, env=ENV, timeout=60)
    asked = pipeline.load_approvals(_request(example, repo_root=example, approvals=ApprovalOptions(history=True)),
                                    limits)
    assert asked.history.active
    assert [h.author for h in asked.history.files.values()] == ["t <t@example.invalid>"]


def test_parity_approvals_are_out_of_scope_when_parity_does_not_run(example: Path) -> None:
    """README: approvals of parity.* keys are only in scope when parity runs, so check without --parity never
    reports them stale."""
    _approval(example, "summarizer-parity", "summarizer", "parity.sequences.exact_match")
    request = _request(example)
    approvals = pipeline.load_approvals(request, request.read_limits())
    _, refs = pipeline.judge(request, ["summarizer"], [], approvals)
    assert [r.id for r in refs] == ["summarizer-top-p"]


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("name", ["ghost", "ghoul"])
def test_an_approval_of_an_unknown_model_is_reported_by_the_shard_its_name_falls_in(example: Path, count: int,
                                                                                     name: str) -> None:
    """A run split in parts reports an approval naming a model the manifest lacks in one part: the shard the name
    falls in (ci.shard, README "Many models"), as it would a model of that name. "ghost" falls in the first shard
    of 2 and of 3, "ghoul" in the last (2 of 2, 3 of 3): either alone would not tell a shard from every shard up
    to (or from) its own."""
    _approval(example, f"{name}-top-p", name, "generation.top_p")
    reported = []
    for index in range(1, count + 1):
        request = _request(example)
        request = replace(request, selection=Selection.of(request.manifest, shard=(index, count)))
        approvals = pipeline.load_approvals(request, request.read_limits())
        _, refs = pipeline.judge(request, pipeline.select(request), [], approvals)
        if f"{name}-top-p" in [r.id for r in refs]:
            reported.append(index)
    assert reported == [i for i in range(1, count + 1) if shard_select([name], (i, count)) == [name]]
    whole = _request(example)
    approvals = pipeline.load_approvals(whole, whole.read_limits())
    _, refs = pipeline.judge(whole, ["summarizer"], [], approvals)
    assert f"{name}-top-p" in [r.id for r in refs]  # an unsharded run of every model reports it
    one = replace(whole, selection=Selection.of(whole.manifest, model="summarizer"))
    _, refs = pipeline.judge(one, ["summarizer"], [], approvals)
    assert f"{name}-top-p" not in [r.id for r in refs]  # a run of one model does not know every model


def test_select_models_keeps_models_without_parity_unless_parity_runs_alone(example: Path) -> None:
    manifest = example / "driftguard.yaml"
    text = manifest.read_text(encoding="utf-8")
    plain = ("  plain:\n    training:\n      - path: training/generation_config.json\n    deployment:\n"
             "      - path: deployment/sampling-params.yaml\n        kind: vllm\n")
    manifest.write_text(text.replace("approvals: approvals\n", plain + "approvals: approvals\n"), encoding="utf-8")
    m = manifest_mod.load(manifest)
    assert pipeline.select_models(m) == ["summarizer", "plain"]
    assert pipeline.select_models(m, parity_only=True) == ["summarizer"]
    with pytest.raises(UsageError, match=r"^no model 'nope' in "):
        pipeline.select_models(m, models=["summarizer", "nope", "nada"])  # the first unknown one is named


def _within(key: str, *origins: tuple[str, int | None], training: Value | None = None,
            deployed: Value | None = None) -> Finding:
    return Finding("DG202", "conflict", key, f"{key} disagrees", training=training, deployed=deployed,
                   related=tuple(Value(1024, Origin(path, line)) for path, line in origins))


def test_distinct_drops_a_within_side_finding_seen_twice_and_nothing_else() -> None:
    """distinct's docstring: a finding without a training/deployed pair naming the very same values at the very
    same places as an earlier one is dropped; every other finding is kept, in order."""
    a = _within("preprocessing.max_length", ("config.json", 3), ("tokenizer_config.json", None))
    twice = _within("preprocessing.max_length", ("tokenizer_config.json", None), ("config.json", 3))
    other_line = _within("preprocessing.max_length", ("config.json", 5), ("tokenizer_config.json", None))
    line_one = _within("preprocessing.max_length", ("config.json", 3), ("tokenizer_config.json", 1))
    later = _within("generation.eos_token_id", ("config.json", 3))
    assert pipeline.distinct([a, twice, other_line, line_one, later]) == [a, other_line, line_one, later]
    side = Value(512, Origin("request.json", 2))
    for pair in ({"training": side}, {"deployed": side}):  # a side's value: not within one side
        f = _within("preprocessing.max_length", ("config.json", 3), **pair)  # type: ignore[arg-type]  # Value or None
        assert pipeline.distinct([f, f]) == [f, f]
    bare = _within("preprocessing.max_length")  # nothing related: nothing to compare
    assert pipeline.distinct([bare, bare]) == [bare, bare]


USERFNS = Path(__file__).resolve().parents[1] / "parity" / "userfns" / "fns.py"


def test_the_parity_stage_runs_for_the_models_with_a_parity_section(tmp_path: Path) -> None:
    """A parity run of two models, one with a parity: section (its candidate returns NaN: DG502, README "Parity")
    and one without, which gets no parity finding."""
    import numpy as np

    for side in ("train", "deploy"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7}\n')
    np.savez(tmp_path / "golden.npz", x=np.arange(12, dtype=np.float32).reshape(6, 2))
    sides = ("    training:\n      - path: train/generation_config.json\n"
             "    deployment:\n      - path: deploy/generation_config.json\n")
    (tmp_path / "driftguard.yaml").write_text(
        f"version: 1\nmodels:\n  plain:\n{sides}  m:\n{sides}    parity:\n      golden: golden.npz\n"
        f"      reference: {{runner: callable, function: {USERFNS}:double}}\n"
        f"      candidate: {{runner: callable, function: {USERFNS}:nan}}\n", encoding="utf-8")
    m = manifest_mod.load(tmp_path / "driftguard.yaml")
    request = CheckRequest(m, EXAMPLES_TODAY, Selection.of(m), stages=Stages(parity=ParityRequest(executor="local")))
    report = pipeline.run(request)
    found = {r.name: [(f.rule, f.key) for f in r.findings if f.key.startswith("parity.")] for r in report.models}
    assert found["plain"] == [] and ("DG502", "parity.y.nonfinite") in found["m"]
