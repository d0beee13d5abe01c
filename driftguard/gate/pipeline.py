"""The gate over a manifest: for each model, build both sides (``gate.sides``), run the rules, judge the
findings against the approvals, and return one Report."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard import clock
from driftguard.errors import UsageError
from driftguard.extractors.base import ExtractCache
from driftguard.gate.sides import build_side
from driftguard.model import Finding, Judged
from driftguard.parity.request import ParityRequest
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.report import ArtifactRef, ModelResult, Report
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.drift import CompareOptions, Tolerance

if TYPE_CHECKING:  # the manifest pulls in pydantic
    from driftguard.approvals import LoadedApproval
    from driftguard.manifest import Manifest
    from driftguard.manifest import Rules as ManifestRules


def _compare_options(rules: ManifestRules) -> CompareOptions:
    return CompareOptions(
        tolerances=tuple(Tolerance(t.key, t.abs, t.rel) for t in rules.tolerances),
        ignore=tuple(rules.ignore_keys),
    )


def run(m: Manifest, names: Sequence[str], *, strict: bool = False, today: date | None = None,
        limits: Limits = DEFAULT_LIMITS, root: str | Path | None = None, parity: ParityRequest | None = None,
        rules_stage: bool = True, repo_root: str | Path | None = None, shard: tuple[int, int] | None = None,
        require_committed_approvals: bool = False, approval_provenance: bool = False,
        known_models: Sequence[str] | None = None) -> Report:
    """The gate for ``names`` of a loaded manifest: build both sides of each model, run the rules (and the parity
    stage when ``parity`` asks), judge the findings against the approvals, and return the Report (fingerprinted,
    paths relative to the repository root).

    ``rules_stage=False`` runs parity alone. Approvals of ``parity.*`` keys are in scope only when parity runs,
    the others only when the rules run, so neither stage makes the other's approvals stale.
    ``require_committed_approvals``/``approval_provenance`` (and the manifest's ``separate_approver``) read the
    approvals' provenance from git (``gate.approval_provenance``). ``known_models``: every model of the whole
    manifest (``m`` may be one worker's part of it), given when this run is to report the approvals that name a
    model the manifest lacks (stale, with that reason): the run of every model, or of one shard, which then
    reports those whose model name falls in it, so the shards' reports together list each once.
    Raises ``DriftguardError`` subclasses for bad input and ``rules.engine.RuleCrashed`` for a broken rule.
    """
    import os

    from driftguard import approvals as approvals_mod
    from driftguard.ci.repo import repository_root
    from driftguard.gate.approval_provenance import Provenance
    from driftguard.gate.catalog import checks, rule_infos
    from driftguard.rules.engine import run_rules, selected_rules

    check_rule_options(m)
    today = today or clock.today()
    base_root = Path(root) if root is not None else m.base
    names = list(names)
    policy = m.approval_policy
    approvals = approvals_mod.load_dir(m.base / m.approvals, approvers=m.approvers,
                                       max_horizon_days=policy.max_horizon_days, today=today, root=base_root,
                                       limits=limits)
    repo = Path(repo_root).resolve() if repo_root is not None else repository_root(m.base)
    provenance = Provenance.read(repo, m, approvals, approval_provenance or policy.separate_approver,
                                 require_committed_approvals)
    approvals = provenance.kept(approvals)
    sides: dict[str, tuple[Side, Side]] = {}
    ran: dict[str, tuple[str, ...]] = {}
    by_model: dict[str, list[Finding]] = {}
    with_parity: list[str] = []
    contexts: dict[str, RuleContext] = {}
    cache: ExtractCache = {}  # a model file both sides, or several models, name is read once
    for name in names:
        spec = m.models[name]
        rules = m.rules_for(name)
        training = build_side("training", spec.training, m.base, limits, base_root, m.path, cache,
                              functools.partial(m.artifact_at, name, "training"))
        deployed = build_side("deployment", spec.deployment, m.base, limits, base_root, m.path, cache,
                              functools.partial(m.artifact_at, name, "deployment"))
        sides[name] = (training, deployed)
        ctx = RuleContext(name, training, deployed, _compare_options(rules), dict(rules.options), limits)
        by_model[name] = distinct(run_rules(ctx, rules.select, rules.severity, rules.enable)) if rules_stage else []
        if rules_stage:
            ran[name] = tuple(cls.code for cls, _ in selected_rules(rules.select, rules.severity, rules.enable))
        if parity is not None and spec.parity is not None:
            with_parity.append(name)
            contexts[name] = ctx
    if parity is not None and with_parity:
        # every model's parity at once, so an executor can fan them out; each keeps its place after its rules
        for name, found in zip(with_parity, _parity_findings(m, with_parity, contexts, parity), strict=True):
            by_model[name].extend(found)
    findings = [f for name in names for f in by_model[name]]
    approvals = [a for a in approvals if (parity is not None or not a.approval.key.startswith("parity."))
                 and (rules_stage or a.approval.key.startswith("parity."))]
    known_rules = set(checks())

    def unknown_in_scope(model: str) -> bool:  # an approval naming a model the manifest lacks: reported here?
        from driftguard.ci.shard import shard_of

        return known_models is not None and (shard is None or shard_of(model, shard[1]) == shard[0])

    def judge(usable: Sequence[LoadedApproval]) -> approvals_mod.Outcome:
        return approvals_mod.apply(findings, usable, today, warn_expiring_days=policy.warn_expiring_days,
                                   models=names, known_models=known_models, known_rules=known_rules,
                                   unknown_in_scope=unknown_in_scope)

    outcome = judge(approvals)
    judged, refs = outcome.findings, provenance.refs(outcome.approvals, today, names)
    if policy.separate_approver:
        judged, refs = provenance.separate(judge, approvals, judged, refs, repo, today, names)
    per_model: dict[str | None, list[Judged]] = {}
    for f in judged:  # one pass: 5,000 models would otherwise scan every finding 5,000 times
        per_model.setdefault(f.model, []).append(f)
    results = []
    for name in names:
        training, deployed = sides[name]
        results.append(ModelResult(
            name=name,
            findings=tuple(per_model.get(name, ())),
            training=tuple(ArtifactRef(c.kind, c.path) for c in training.artifacts),
            deployment=tuple(ArtifactRef(c.kind, c.path) for c in deployed.artifacts),
            strict=strict,
            rules=ran.get(name, ()),
        ))
    return Report(tuple(results), refs, manifest=m.path, today=today.isoformat(), strict=strict,
                  fail_on_stale=policy.fail_on_stale, root=str(repo), cwd=os.getcwd(),
                  rules=rule_infos(), shard=shard).with_fingerprints()


def check_rule_options(m: Manifest) -> None:
    """Every ``rules.options.<code>`` of the manifest (and of each model) names a rule and gives it options it
    takes; ManifestError with the manifest's file and line otherwise (``Manifest.check_rule_options``: each
    rule's own options model)."""
    m.check_rule_options()


def select_models(m: Manifest, model: str | None = None, models: Sequence[str] | None = None,
                  shard: tuple[int, int] | None = None, parity_only: bool = False) -> list[str]:
    """The models a run checks: all, or ``model``, narrowed to ``models`` and to one ``shard`` (I/N), and to the
    models with a ``parity:`` section when parity runs alone. UsageError naming an unknown model."""
    if model is not None and model not in m.models:
        raise UsageError(f"no model '{model}' in {m.path}; models: {', '.join(m.models)}")
    names = [model] if model is not None else list(m.models)
    if models is not None:
        unknown = [n for n in models if n not in m.models]
        if unknown:
            raise UsageError(f"no model '{unknown[0]}' in {m.path}; models: {', '.join(m.models)}")
        wanted = set(models)
        names = [n for n in names if n in wanted]
    if shard is not None:
        from driftguard.ci.shard import select

        names = select(names, shard)
    if parity_only:
        names = parity_models(m, names, model)
    return names


def distinct(findings: Iterable[Finding]) -> list[Finding]:
    """The findings without repeats: a finding about values within one side (no training/deployed pair) that
    names the very same values at the very same places as an earlier one is the same problem, seen from both
    sides because one artifact is on both (a model folder the training side evaluated and the server loads)."""
    seen: set[tuple[str, str, tuple[tuple[str, int, str], ...]]] = set()
    out: list[Finding] = []
    for f in findings:
        if f.training is None and f.deployed is None and f.related:
            mark = (f.rule, f.key, tuple(sorted((v.origin.path, -1 if v.origin.line is None else v.origin.line,
                                                 repr(v.value)) for v in f.related)))
            if mark in seen:
                continue
            seen.add(mark)
        out.append(f)
    return out


def parity_models(m: Manifest, names: list[str], model: str | None) -> list[str]:
    if model is not None and model not in m.models:
        raise UsageError(f"no model '{model}' in {m.path}; models: {', '.join(m.models)}")
    chosen = [n for n in names if m.models[n].parity is not None]
    if not chosen:
        which = f"model '{model}'" if model is not None else "no model"
        raise UsageError(f"{which} in {m.path} has a parity: section (golden inputs, reference, candidate)")
    return chosen


def _parity_findings(m: Manifest, names: list[str], contexts: dict[str, RuleContext],
                     request: ParityRequest) -> list[list[Finding]]:
    """The parity stage for each model of ``names`` (run by ``request.executor``), its findings stamped with
    the model's name."""
    from dataclasses import replace

    from driftguard.parity import executors, stage

    mps = []
    for name in names:
        spec = m.models[name].parity
        assert spec is not None
        ctx = contexts[name]
        differing = tuple(sorted({key for key, _, _ in ctx.differences()}))
        mps.append(stage.ModelParity(name, spec, m.base, m.path, stage.plain(ctx.training.merged),
                                     stage.plain(ctx.deployed.merged), differing, request))
    return [[replace(f, model=name) for f in found]
            for name, found in zip(names, executors.run_models(mps, request), strict=True)]
