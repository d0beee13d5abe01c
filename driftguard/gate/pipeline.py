"""The gate over a manifest: for each model, build both sides (``gate.sides``), run the rules, judge the
findings against the approvals, and return one Report."""

from __future__ import annotations

from collections.abc import Mapping
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
    sides: dict[str, tuple[Side, Side]] = {}
    by_model: dict[str, list[Finding]] = {}
    with_parity: list[str] = []
    contexts: dict[str, RuleContext] = {}
    for name in names:
        spec = m.models[name]
        rules = m.rules_for(name)
        training = build_side("training", spec.training, m.base, limits, base_root, m.path)
        deployed = build_side("deployment", spec.deployment, m.base, limits, base_root, m.path)
        sides[name] = (training, deployed)
        ctx = RuleContext(name, training, deployed, _compare_options(rules), dict(rules.options), limits)
        by_model[name] = run_rules(ctx, rules.select, rules.severity, rules.enable) if rules_stage else []
        if parity is not None and spec.parity is not None:
            with_parity.append(name)
            contexts[name] = ctx
    if parity is not None and with_parity:
        # every model's parity at once, so an executor can fan them out; each keeps its place after its rules
        for name, found in zip(with_parity, _parity_findings(m, with_parity, contexts, parity), strict=True):
            by_model[name].extend(found)
    findings = [f for name in names for f in by_model[name]]
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
