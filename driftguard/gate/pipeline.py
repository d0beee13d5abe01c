"""The gate over a manifest, as named steps that each take the ``CheckRequest`` (``gate.request``):
``select`` the models, ``load_approvals``, ``build_sides`` (``gate.sides``), ``run_rules``, ``run_parity``,
``judge`` (the findings against the approvals) and ``assemble`` the Report. ``run`` chains them; ``--base``
(``gate.baseline``) and ``--jobs`` (``gate.parallel``) wrap ``run``."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.errors import UsageError
from driftguard.extractors.base import ExtractCache
from driftguard.gate.request import CheckRequest
from driftguard.gate.sides import build_side
from driftguard.model import Finding, Judged
from driftguard.parity.request import ParityRequest
from driftguard.readers.limits import Limits
from driftguard.report import ApprovalRef, ArtifactRef, ModelResult, Report
from driftguard.rules.base import RuleContext
from driftguard.rules.comparison import CompareOptions, Tolerance

if TYPE_CHECKING:  # the manifest pulls in pydantic
    from driftguard.approvals import LoadedApproval
    from driftguard.gate.approval_history import ApprovalHistory
    from driftguard.manifest import Manifest
    from driftguard.manifest import Rules as ManifestRules

def _compare_options(rules: ManifestRules) -> CompareOptions:
    return CompareOptions(
        tolerances=tuple(Tolerance(t.key, t.abs, t.rel) for t in rules.tolerances),
        ignore=tuple(rules.ignore_keys),
    )


def run(request: CheckRequest, names: Sequence[str] | None = None) -> Report:
    """The gate for the models ``request`` selects (or ``names``, when the caller selected them already): build
    both sides of each model, run the rules (and the parity stage when ``request.stages.parity`` asks), judge the
    findings against the approvals, and return the Report (fingerprinted, paths relative to the repository root).

    Raises ``DriftguardError`` subclasses for bad input and ``rules.engine.RuleCrashed`` for a broken rule.
    """
    from driftguard.readers import files

    names = select(request) if names is None else list(names)
    check_rule_options(request.manifest)
    limits = request.read_limits()
    # every file any stage opens (under a named folder too) must resolve into the checked tree, and a golden
    # path given on the command line into its own folder
    with files.confined(*trusted_roots(request)):
        approvals = load_approvals(request, limits)
        contexts = build_sides(request, names, limits)
        found, ran = run_rules(request, contexts)
        for name, extra in run_parity(request, contexts).items():
            found[name].extend(extra)  # each model's parity findings after its rules'
        judged, refs = judge(request, names, [f for name in names for f in found[name]], approvals)
        return assemble(request, contexts, ran, judged, refs, approvals.repo)


def trusted_roots(request: CheckRequest) -> tuple[Path, ...]:
    """The folders a run may read from: the checked tree, and the folder of golden inputs the command line
    names (a path the user typed, not one the tree's files name)."""
    golden = request.stages.parity.golden if request.stages.parity is not None else None
    return (request.base_root,) if golden is None else (request.base_root, Path(golden).parent)


def select(request: CheckRequest) -> list[str]:
    """The models ``request`` checks (``select_models``). UsageError naming an unknown model."""
    chosen = request.selection
    return select_models(request.manifest, chosen.model, chosen.models, chosen.shard,
                         parity_only=request.stages.parity_only)


@dataclass(frozen=True)
class Approvals:
    """The approvals a run may use (``kept``: the uncommitted ones dropped when committed ones are required),
    with their history from git and the repository every reported path is relative to."""

    kept: list[LoadedApproval]
    history: ApprovalHistory
    repo: Path


def load_approvals(request: CheckRequest, limits: Limits) -> Approvals:
    """The manifest's approvals folder, read and checked against its policy (``approvals.load_dir``), and their
    history (read from git when ``request.approvals`` or the manifest's ``separate_approver`` asks:
    ``gate.approval_history``)."""
    from driftguard import approvals as approvals_mod
    from driftguard.ci.repo import repository_root
    from driftguard.gate.approval_history import ApprovalHistory

    m, policy = request.manifest, request.manifest.approval_policy
    loaded = approvals_mod.load_dir(m.base / m.approvals, approvers=m.approvers,
                                    max_horizon_days=policy.max_horizon_days, today=request.today,
                                    root=request.base_root, limits=limits)
    repo = request.repo_root.resolve() if request.repo_root is not None else repository_root(m.base)
    options = request.approvals
    separate = policy.separate_approver and options.separate
    history = ApprovalHistory.read(repo, m, loaded, options.history or separate, options.require_committed,
                                   options.base_files if options.require_base else None)
    return Approvals(history.kept(loaded), history, repo)


def build_sides(request: CheckRequest, names: Sequence[str], limits: Limits) -> dict[str, RuleContext]:
    """Both sides of each model in ``names``, with the model's rule settings: what its rules run on."""
    m, root = request.manifest, request.base_root
    cache: ExtractCache = {}  # a model file both sides, or several models, name is read once
    contexts: dict[str, RuleContext] = {}
    for name in names:
        spec = m.models[name]
        rules = m.rules_for(name)
        training = build_side("training", spec.training, m.base, limits, root, m.path, cache,
                              functools.partial(m.artifact_at, name, "training"))
        deployed = build_side("deployment", spec.deployment, m.base, limits, root, m.path, cache,
                              functools.partial(m.artifact_at, name, "deployment"))
        contexts[name] = RuleContext(name, training, deployed, _compare_options(rules), dict(rules.options), limits)
    return contexts


def run_rules(request: CheckRequest, contexts: dict[str, RuleContext]
              ) -> tuple[dict[str, list[Finding]], dict[str, tuple[str, ...]]]:
    """Each model's rule findings (without repeats: ``distinct``) and the codes of the rules that ran on it;
    none when ``request.stages.rules`` is off."""
    from driftguard.parity.codes import CHECKS
    from driftguard.rules.engine import run_rules as run_selected
    from driftguard.rules.engine import selected_rules

    found: dict[str, list[Finding]] = {name: [] for name in contexts}
    ran: dict[str, tuple[str, ...]] = {}
    if not request.stages.rules:
        return found, ran
    parity_codes = CHECKS.names()  # select and severity configure the parity stage's codes too (run_parity)
    for name, ctx in contexts.items():
        rules = request.manifest.rules_for(name)
        chosen = selected_rules(rules.select, rules.severity, rules.enable, parity_codes)
        found[name] = distinct(run_selected(ctx, rules.select, rules.severity, rules.enable, parity_codes))
        ran[name] = tuple(cls.code for cls, _ in chosen)
    return found, ran


def run_parity(request: CheckRequest, contexts: dict[str, RuleContext]) -> dict[str, list[Finding]]:
    """The parity findings of each model with a ``parity:`` section, when ``request.stages.parity`` asks; every
    model's at once, so an executor can fan them out."""
    parity = request.stages.parity
    m = request.manifest
    with_parity = [name for name in contexts if m.models[name].parity is not None]
    if parity is None or not with_parity:
        return {}
    from driftguard.parity.codes import CHECKS
    from driftguard.rules.engine import configure_findings, selected_rules

    codes = CHECKS.names()
    for name in with_parity:  # unknown codes in the lists are refused before anything runs
        selected_rules(m.rules_for(name).select, m.rules_for(name).severity, others=codes)
    found = _parity_findings(m, with_parity, contexts, parity)
    return {name: configure_findings(fs, codes, m.rules_for(name).select, m.rules_for(name).severity)
            for name, fs in zip(with_parity, found, strict=True)}


def judge(request: CheckRequest, names: Sequence[str], findings: Sequence[Finding], approvals: Approvals
          ) -> tuple[tuple[Judged, ...], tuple[ApprovalRef, ...]]:
    """The findings judged against the approvals in scope (``approvals.apply``), and what became of each
    approval. Approvals of ``parity.*`` keys are in scope only when parity runs, the others only when the rules
    run, so neither stage makes the other's approvals stale. With the manifest's ``separate_approver``, an
    approval added by the author of the change it approves does not count (``gate.approval_history``)."""
    from driftguard import approvals as approvals_mod
    from driftguard.gate.catalog import checks

    policy, stages, today = request.manifest.approval_policy, request.stages, request.today
    shard, known_models = request.selection.shard, request.selection.known_models
    usable = [a for a in approvals.kept if (stages.parity is not None or not a.approval.key.startswith("parity."))
              and (stages.rules or a.approval.key.startswith("parity."))]
    known_rules = set(checks())

    def unknown_in_scope(model: str) -> bool:  # an approval naming a model the manifest lacks: reported here?
        from driftguard.ci.shard import shard_of

        return known_models is not None and (shard is None or shard_of(model, shard[1]) == shard[0])

    def apply(chosen: Sequence[LoadedApproval]) -> approvals_mod.Outcome:
        return approvals_mod.apply(findings, chosen, today, warn_expiring_days=policy.warn_expiring_days,
                                   models=names, known_models=known_models, known_rules=known_rules,
                                   unknown_in_scope=unknown_in_scope)

    outcome = apply(usable)
    history = approvals.history
    judged, refs = outcome.findings, history.refs(outcome.approvals, today, names)
    if policy.separate_approver and request.approvals.separate:
        judged, refs = history.separate(apply, usable, judged, refs, approvals.repo, today, names)
    return judged, refs


def assemble(request: CheckRequest, contexts: dict[str, RuleContext], ran: dict[str, tuple[str, ...]],
             judged: Sequence[Judged], refs: tuple[ApprovalRef, ...], repo: Path) -> Report:
    """The Report: one result per model (in ``contexts``' order) with its judged findings, artifacts and the
    rules that ran, the approvals' outcome, fingerprinted."""
    import os

    from driftguard.gate.catalog import rule_infos

    per_model: dict[str | None, list[Judged]] = {}
    for f in judged:  # one pass: 5,000 models would otherwise scan every finding 5,000 times
        per_model.setdefault(f.model, []).append(f)
    results = tuple(ModelResult(
        name=name,
        findings=tuple(per_model.get(name, ())),
        training=tuple(ArtifactRef(c.kind, c.path) for c in ctx.training.artifacts),
        deployment=tuple(ArtifactRef(c.kind, c.path) for c in ctx.deployed.artifacts),
        strict=request.strict,
        rules=ran.get(name, ()),
    ) for name, ctx in contexts.items())
    return Report(results, refs, manifest=request.manifest.path, today=request.today.isoformat(),
                  strict=request.strict, fail_on_stale=request.manifest.approval_policy.fail_on_stale,
                  root=str(repo), cwd=os.getcwd(), rules=rule_infos(), shard=request.selection.shard
                  ).with_fingerprints()


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

    from driftguard.parity import executors
    from driftguard.parity.model_parity import ModelParity, plain

    parities = []
    for name in names:
        spec = m.models[name].parity
        assert spec is not None
        ctx = contexts[name]
        differing = tuple(sorted({key for key, _, _ in ctx.differences()}))
        parities.append(ModelParity(name, spec, m.base, m.path, plain(ctx.training.merged),
                                    plain(ctx.deployed.merged), differing, request, ctx.limits))
    return [[replace(f, model=name) for f in found]
            for name, found in zip(names, executors.run_models(parities, request), strict=True)]
