"""The gate over a manifest: for each model, build both sides (``gate.sides``), run the rules, judge the
findings against the approvals, and return one Report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.errors import UsageError
from driftguard.gate.sides import build_side
from driftguard.model import Finding
from driftguard.parity.request import ParityRequest
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.report import ArtifactRef, ModelResult, Report
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.drift import CompareOptions, Tolerance

if TYPE_CHECKING:  # the manifest pulls in pydantic
    from driftguard.manifest import Manifest
    from driftguard.manifest import Rules as ManifestRules


def _compare_options(rules: ManifestRules) -> CompareOptions:
    return CompareOptions(
        tolerances=tuple(Tolerance(t.key, t.abs, t.rel) for t in rules.tolerances),
        ignore=tuple(rules.ignore),
    )


def run(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None,
        strict: bool = False, today: date | None = None, limits: Limits | None = None,
        root: str | Path | None = None, limit_overrides: Mapping[str, object] | None = None,
        parity: ParityRequest | None = None, rules_stage: bool = True) -> Report:
    """Run the gate: for each model of the manifest (or only ``model``), build both sides, run the rules,
    judge the findings against the approvals. Returns a ``Report`` (``report.ok``, ``report.raise_for_drift()``).

    ``strict``: warnings fail too, and so do stale approvals. ``today`` fixes the date approvals are judged on.
    ``limits`` bounds every read (default: the manifest's ``limits:`` over the built-in defaults, then
    ``limit_overrides`` on top, as ``--limit NAME=N`` gives them). ``root``: the folder every artifact and the
    approvals must lie in (default: the manifest's folder).
    Raises ``DriftguardError`` subclasses for bad input (manifest, approvals, artifacts) and
    ``rules.engine.RuleCrashed`` when a rule is broken.
    """
    from driftguard import approvals as approvals_mod
    from driftguard import manifest as manifest_mod
    from driftguard.rules.engine import run_rules

    m = path_or_manifest if isinstance(path_or_manifest, manifest_mod.Manifest) \
        else manifest_mod.load(path_or_manifest, (limits or DEFAULT_LIMITS).with_overrides(limit_overrides or {}))
    today = today or date.today()
    limits = (limits if limits is not None else m.effective_limits()).with_overrides(limit_overrides or {})
    base_root = Path(root) if root is not None else m.base
    if model is not None and model not in m.models:
        raise UsageError(f"no model '{model}' in {m.path}; models: {', '.join(m.models)}")
    names = [model] if model is not None else list(m.models)
    if parity is not None and not rules_stage:
        names = parity_models(m, names, model)
    policy = m.approval_policy
    approvals = approvals_mod.load_dir(m.base / m.approvals, approvers=m.approvers,
                                       max_horizon_days=policy.max_horizon_days, today=today, root=base_root,
                                       limits=limits)
    findings: list[Finding] = []
    sides: dict[str, tuple[Side, Side]] = {}
    for name in names:
        spec = m.models[name]
        rules = m.rules_for(name)
        training = build_side("training", spec.training, m.base, limits, base_root, m.path)
        deployed = build_side("deployment", spec.deployment, m.base, limits, base_root, m.path)
        sides[name] = (training, deployed)
        ctx = RuleContext(name, training, deployed, _compare_options(rules), dict(rules.options), limits)
        if rules_stage:
            findings.extend(distinct(run_rules(ctx, rules.select, rules.severity, rules.enable)))
        if parity is not None and spec.parity is not None:
            findings.extend(_parity_findings(m, name, ctx, parity))
    # Approvals of parity.* keys are in scope only when parity runs, the others only when the rules run, so
    # neither stage makes the other's approvals stale.
    approvals = [a for a in approvals if (parity is not None or not a.approval.key.startswith("parity."))
                 and (rules_stage or a.approval.key.startswith("parity."))]
    from driftguard.parity.codes import CHECKS
    from driftguard.rules import load_rules

    outcome = approvals_mod.apply(findings, approvals, today, warn_expiring_days=policy.warn_expiring_days,
                                  models=names, known_models=list(m.models),
                                  known_rules={*load_rules(), *CHECKS})
    results = []
    for name in names:
        training, deployed = sides[name]
        results.append(ModelResult(
            name=name,
            findings=tuple(f for f in outcome.findings if f.model == name),
            training=tuple(ArtifactRef(c.kind, c.path) for c in training.artifacts),
            deployment=tuple(ArtifactRef(c.kind, c.path) for c in deployed.artifacts),
            strict=strict,
        ))
    return Report(tuple(results), outcome.approvals, manifest=m.path, today=today.isoformat(), strict=strict,
                  fail_on_stale=policy.fail_on_stale)


def distinct(findings: Iterable[Finding]) -> list[Finding]:
    """The findings without repeats: a finding about values within one side (no training/deployed pair) that
    names the very same values at the very same places as an earlier one is the same problem, seen from both
    sides because one artifact is on both (a model folder the training side evaluated and the server loads)."""
    seen: set[tuple[str, str, tuple[tuple[str, int | None, str], ...]]] = set()
    out: list[Finding] = []
    for f in findings:
        if f.training is None and f.deployed is None and f.related:
            mark = (f.rule, f.key, tuple(sorted((v.origin.path, v.origin.line, repr(v.value)) for v in f.related)))
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


def _parity_findings(m: Manifest, name: str, ctx: RuleContext, request: ParityRequest) -> list[Finding]:
    """The parity stage for one model, its findings stamped with the model's name."""
    from dataclasses import replace

    from driftguard.parity import stage

    spec = m.models[name].parity
    assert spec is not None
    differing = tuple(sorted({key for key, _, _ in ctx.differences()}))
    mp = stage.ModelParity(name, spec, m.base, m.path, stage.plain(ctx.training.merged),
                           stage.plain(ctx.deployed.merged), differing, request)
    return [replace(f, model=name) for f in stage.run(mp)]
