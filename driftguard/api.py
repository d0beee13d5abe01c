"""The library API that the CLI and deploy scripts call. Wires extractors, rules and reporters; prints
nothing and never exits."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftguard import clock, extractors
from driftguard.errors import ApprovalError, ExtractionError, UsageError
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, Finding, Status, Value
from driftguard.parity.request import EXECUTORS, ParityRequest
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.report import Report
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.drift import CompareOptions

if TYPE_CHECKING:  # the manifest pulls in pydantic: imported only by check()
    from driftguard.manifest import Artifact as ArtifactSpec
    from driftguard.manifest import Manifest


def extract(path: str | Path, kind: str | None = None,
            substitutions: Mapping[str, str] | None = None, limits: Limits = DEFAULT_LIMITS) -> EffectiveConfig:
    """The effective config of one artifact. ``path`` may be ``KIND:PATH``; ``kind`` forces the extractor;
    ``substitutions`` fill template placeholders (``--set``); ``limits`` bounds the read
    (``driftguard.readers.limits.Limits``).

    Raises ``DriftguardError`` subclasses (with file and line) for unreadable or invalid artifacts,
    ``LimitError`` (naming the limit) for inputs past a limit, and ``UsageError`` for a substitution no
    placeholder of the artifact has.
    """
    return extract_many([path], kind, substitutions, limits)[0]


def _extract(path: str | Path, kind: str | None, options: ExtractOptions) -> EffectiveConfig:
    spec_kind, real = extractors.split_kind(str(path))
    return extractors.extract(real, kind or spec_kind, options)


def _check_substitutions(paths: Sequence[str | Path], kind: str | None, options: ExtractOptions) -> None:
    """UsageError naming every substitution that no placeholder of ``paths`` has, and the placeholders they do
    have (``extractors.templates``)."""
    if not options.substitutions:
        return
    from driftguard.extractors import templates

    artifacts = []
    for p in paths:
        spec_kind, real = extractors.split_kind(str(p))
        artifacts.append((kind or spec_kind, real))
    unused, found = templates.unused(artifacts, options)
    if unused:
        raise UsageError(templates.message(unused, found))


@dataclass(frozen=True)
class DiffResult:
    """The outcome of ``diff``: both configs and the differences by canonical key."""

    training: EffectiveConfig
    deployed: EffectiveConfig
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, object]:
        return {
            "training": {"kind": self.training.kind, "path": self.training.path},
            "deployed": {"kind": self.deployed.kind, "path": self.deployed.path},
            "findings": [f.to_dict() for f in self.findings],
            "summary": {"findings": len(self.findings)},
        }


def diff_configs(training: EffectiveConfig, deployed: EffectiveConfig,
                 options: CompareOptions | None = None) -> tuple[Finding, ...]:
    """Findings for every key whose effective values differ between the two configs.

    The same drift rules ``check`` runs between sides (DG101 values, DG102 precision, DG104 decoding mode), on
    one artifact per side with its derived ``generation.decoding``, so ``diff`` and ``check`` never disagree
    about what differs.
    """
    from driftguard.gate.sides import side_of
    from driftguard.rules.engine import pairwise_codes, run_rules

    ctx = RuleContext(model="", training=side_of("training", (training,)), deployed=side_of("deployment", (deployed,)),
                      compare=options or CompareOptions())
    # The rules that judge one artifact per side (Rule.pairwise): DG101, DG102, DG104, and DG304 (a field the
    # engine ignores in either file is a finding too, a typo would otherwise hide).
    return tuple(run_rules(ctx, select=pairwise_codes()))  # model "" stamps no model name


def diff(training: str | Path | EffectiveConfig, deployed: str | Path | EffectiveConfig,
         substitutions: Mapping[str, str] | None = None, options: CompareOptions | None = None,
         limits: Limits = DEFAULT_LIMITS,
         context: Sequence[str | Path | EffectiveConfig] = ()) -> DiffResult:
    """Compare a training-side artifact with a deployment-side one (paths, ``KIND:PATH`` or configs).

    ``context``: artifacts of the deployment side that its serving engine reads (paths, ``KIND:PATH`` or
    configs), given to the deployed artifact's extractor as ``ExtractOptions.context``, as ``check`` does for
    a side: ``hf-model:model_dir`` makes a ``vllm serve`` request resolve through the model's
    generation_config.json; a Triton ``config.pbtxt`` with ``backend: "vllm"`` (or a ``model.json``) selects
    the vllm_backend path, which reads none. Only the deployed artifact is compared."""
    plain = ExtractOptions(substitutions=dict(substitutions or {}), limits=limits)
    _check_substitutions([p for p in (training, deployed, *context) if not isinstance(p, EffectiveConfig)], None,
                         plain)
    ctx = tuple(c if isinstance(c, EffectiveConfig) else _extract(c, None, plain) for c in context)
    a = training if isinstance(training, EffectiveConfig) else _extract(training, None, plain)
    if isinstance(deployed, EffectiveConfig):
        b = deployed
    else:
        b = _extract(deployed, None, ExtractOptions(substitutions=plain.substitutions, context=ctx, limits=limits))
    return DiffResult(a, b, diff_configs(a, b, options))


def extract_many(paths: Sequence[str | Path], kind: str | None = None,
                 substitutions: Mapping[str, str] | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> list[EffectiveConfig]:
    """``extract`` for several paths, in order. A substitution is an error only when no path has a placeholder
    of its name."""
    if not paths:
        raise ExtractionError("no artifact given")
    options = ExtractOptions(substitutions=dict(substitutions or {}), limits=limits)
    _check_substitutions(paths, kind, options)
    return [_extract(p, kind, options) for p in paths]


# ---------------------------------------------------------------------------------------------------------
# check: the gate over a manifest
# ---------------------------------------------------------------------------------------------------------

def merge_side(configs: Sequence[EffectiveConfig]) -> dict[str, Value]:
    """One ``{key: Value}`` for a side's artifacts (``gate.sides.merge``: serving engine, explicit, rank,
    manifest order)."""
    from driftguard.gate.sides import merge_side as merge

    return merge(configs)


def build_side(name: str, artifacts: Sequence[ArtifactSpec], base: Path, limits: Limits = DEFAULT_LIMITS,
               root: Path | None = None, manifest: str | None = None) -> Side:
    """Extract and merge one side of a model (``gate.sides.build_side``)."""
    from driftguard.gate.sides import build_side as build

    return build(name, artifacts, base, limits, root, manifest)


def check(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None,
          strict: bool = False, today: date | None = None, limits: Limits | None = None,
          root: str | Path | None = None, limit_overrides: Mapping[str, object] | None = None,
          parity: ParityRequest | None = None, rules_stage: bool = True,
          base: str | None = None, repo_root: str | Path | None = None,
          shard: tuple[int, int] | None = None, models: Sequence[str] | None = None, jobs: int = 1,
          changed_only: bool = False, require_committed_approvals: bool = False,
          approval_provenance: bool = False) -> Report:
    """Run the gate: for each model of the manifest (or only ``model``), build both sides, run the rules,
    judge the findings against the approvals. Returns a ``Report`` (``report.ok``, ``report.raise_for_drift()``).

    ``base``: a git revision (``check --base REF``): the same check also runs on the files of that revision
    and each finding is marked introduced or existing (existing ones do not fail), the drift it removed listed
    as resolved (``driftguard.ci``). ``repo_root``: the repository every reported path is relative to
    (default: the nearest folder above the manifest holding ``.git``). ``shard``: ``(I, N)``, check only the
    models of shard I of N (``driftguard.ci.shard``: a split by model name, the same in every job).
    ``models``: check only these models. ``jobs``: worker processes checking models in parallel (0: one per
    CPU once there are enough models to pay for them); the report is the same as with one. ``changed_only``
    (with ``base``): check only the models whose files, approvals or manifest entry the change touched.
    ``approval_provenance`` (implied by ``base`` and ``require_committed_approvals``): each approval names the
    commit and author that added its file. ``require_committed_approvals``: approvals whose file is not
    committed as it is in HEAD are ignored (state ``uncommitted``).

    ``strict``: warnings fail too, and so do stale approvals. ``today`` fixes the date approvals are judged on.
    ``limits`` bounds every read (default: the manifest's ``limits:`` over the built-in defaults, then
    ``limit_overrides`` on top, as ``--limit NAME=N`` gives them). ``root``: the folder every artifact and the
    approvals must lie in (default: the manifest's folder).
    ``parity``: run the parity stage too (``check --parity``) for every model with a ``parity:`` section; its
    findings join the same report and approvals. ``rules_stage=False`` runs parity alone (``driftguard parity``).
    Approvals of ``parity.*`` keys are in scope only when parity runs, and the others only when the rules run,
    so neither stage makes the other's approvals stale.
    Raises ``DriftguardError`` subclasses for bad input (manifest, approvals, artifacts) and
    ``rules.engine.RuleCrashed`` when a rule is broken.
    """
    from driftguard import api_ci
    from driftguard import manifest as manifest_mod
    from driftguard.gate import pipeline

    m = path_or_manifest if isinstance(path_or_manifest, manifest_mod.Manifest) \
        else manifest_mod.load(path_or_manifest, (limits or DEFAULT_LIMITS).with_overrides(limit_overrides or {}))
    today = today or clock.today()
    if base is not None:
        return api_ci.check_against(base, m, model=model, strict=strict, today=today, limits=limits, root=root,
                                    limit_overrides=limit_overrides, repo_root=repo_root, shard=shard,
                                    models=models, jobs=jobs, changed_only=changed_only,
                                    require_committed_approvals=require_committed_approvals)
    if changed_only:
        raise UsageError("--changed-only needs --base REF: the models a change affected are found against it")
    limits = (limits if limits is not None else m.effective_limits()).with_overrides(limit_overrides or {})
    names = pipeline.select_models(m, model, models, shard, parity_only=parity is not None and not rules_stage)
    workers = api_ci.workers(jobs, len(names))
    if workers > 1 and parity is None:
        return api_ci.check_parallel(m, names, workers, strict=strict, today=today, limits=limits, root=root,
                                     repo_root=repo_root, shard=shard,
                                     known_models=list(m.models) if model is None and models is None else None,
                                     require_committed_approvals=require_committed_approvals,
                                     approval_provenance=approval_provenance)
    return pipeline.run(m, names, strict=strict, today=today, limits=limits, root=root, parity=parity,
                        rules_stage=rules_stage, repo_root=repo_root, shard=shard,
                        require_committed_approvals=require_committed_approvals,
                        approval_provenance=approval_provenance,
                        known_models=list(m.models) if model is None and models is None else None)


# ---------------------------------------------------------------------------------------------------------
# parity: the stage that runs the model (driftguard.parity); wired here, never imported by rules
# ---------------------------------------------------------------------------------------------------------

def parity(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None, *,
           golden: str | Path | None = None, device: str = "auto", attribution: bool | None = None,
           strict: bool = False, today: date | None = None, root: str | Path | None = None,
           progress: Callable[[str, int, int], None] | None = None, plots: str | Path | None = None,
           executor: str = "local", workers: int | None = None, shard_size: int | None = None,
           ray_address: str | None = None) -> Report:
    """Numerical parity alone: for every model with a ``parity:`` section (or only ``model``), run the
    reference (training artifact, training config) and the candidate (deployed artifact, deployment config) on
    the golden inputs and judge the DG5xx findings against the approvals. ``golden`` replaces the manifest's
    golden path; ``device`` is ``auto``, ``cpu`` or ``cuda``; ``attribution`` overrides the manifest's switch.
    ``progress(label, done, total)`` is called after each runner batch (``parity.progress.Bar`` draws a bar);
    ``plots``: a folder for one picture per failing output (needs the ``[plots]`` extra).
    ``executor``: ``local`` (default), ``threads`` or ``ray``: one work unit per model × golden shard, merged
    into the report the local run gives (``parity.executors``); ``workers`` threads, or the CPUs of a local Ray
    instance; ``shard_size`` golden samples per unit; ``ray_address`` a running cluster (None: a local instance
    started and shut down around the run; the CLI passes ``RAY_ADDRESS``).
    Raises ``DriftguardError`` subclasses (``ParityError``) for bad input."""
    request = parity_request(golden=None if golden is None else str(golden), device=device,
                             attribution=attribution, progress=progress, plots=None if plots is None else str(plots),
                             executor=executor, workers=workers, shard_size=shard_size, ray_address=ray_address)
    return check(path_or_manifest, model=model, strict=strict, today=today, root=root, parity=request,
                 rules_stage=False)


def golden_record(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None, *,
                  golden: str | Path | None = None, device: str = "auto",
                  progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Run each model's reference once on its golden inputs and store the outputs beside them
    (``<stem>.reference.npz``, with the hashes of the inputs, the reference artifact and its effective config).
    Returns the files written."""
    from driftguard import manifest as manifest_mod
    from driftguard.parity import stage

    m = path_or_manifest if isinstance(path_or_manifest, manifest_mod.Manifest) \
        else manifest_mod.load(path_or_manifest)
    request = ParityRequest(golden=None if golden is None else str(golden), device=_device(device),
                            progress=progress)
    written: list[Path] = []
    limits = m.effective_limits()
    from driftguard.gate.pipeline import parity_models

    for name in parity_models(m, [model] if model is not None else list(m.models), model):
        spec = m.models[name]
        from driftguard.gate.sides import build_side as build

        training = build("training", spec.training, m.base, limits, m.base, m.path,
                         locate=functools.partial(m.artifact_at, name, "training"))
        assert spec.parity is not None
        mp = stage.ModelParity(name, spec.parity, m.base, m.path, stage.plain(training.merged), {},
                               request=request)
        written.extend(stage.record(mp))
    return written


def parity_request(*, device: str = "auto", executor: str = "local", workers: int | None = None,
                   shard_size: int | None = None, **fields: Any) -> ParityRequest:
    """A ``ParityRequest`` with its device, executor, workers and shard size checked (UsageError)."""
    if executor not in EXECUTORS:
        raise UsageError(f"executor must be {', '.join(EXECUTORS[:-1])} or {EXECUTORS[-1]}, got '{executor}'")
    for name, n in (("workers", workers), ("shard_size", shard_size)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise UsageError(f"{name} must be a whole number of at least 1, got {n!r}")
    return ParityRequest(device=_device(device), executor=executor, workers=workers, shard_size=shard_size,
                         **fields)


def _device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"device must be auto, cpu or cuda, got '{device}'")
    return device


def approve(path_or_manifest: str | Path | Manifest, model: str, key: str, reason: str, expires: date, *,
            approved_by: str | None = None, approval_id: str | None = None, evidence: str | None = None,
            today: date | None = None) -> Path:
    """Write ``approvals/<id>.yaml`` accepting the current drift of ``key`` for ``model``, pinned to today's
    training and deployed values. Returns the file written.

    UsageError, naming the field, when an argument is wrong (no ``approved_by``, a blank reason, an expiry
    before today, an id that is not ``[A-Za-z0-9][A-Za-z0-9._-]*``), when the key does not drift now or when
    the file exists; ApprovalError when the approval breaks the manifest's policy."""
    import os

    from pydantic import ValidationError

    from driftguard import approvals as approvals_mod
    from driftguard import manifest as manifest_mod
    from driftguard.readers.files import confine

    # UsageError naming the first field that is wrong
    def validated(fields: dict[str, object]) -> approvals_mod.Approval:
        try:
            return approvals_mod.Approval.model_validate(fields)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            name = ".".join(str(p) for p in first["loc"]) or "approval"
            raise UsageError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None

    today = today or clock.today()
    if approved_by is None or not approved_by.strip():
        raise UsageError("approved_by: an approval must name who approved it")
    if expires < today:
        raise UsageError(f"expires: {expires.isoformat()} is before today ({today.isoformat()})")
    m = path_or_manifest if isinstance(path_or_manifest, manifest_mod.Manifest) \
        else manifest_mod.load(path_or_manifest)
    aid = approval_id or f"{model}-{key}".replace(".", "-").replace("*", "all")
    fields: dict[str, object] = {"id": aid, "model": model, "key": key, "reason": reason, "approved_by": approved_by,
                                 "approved_on": today.isoformat(), "expires": expires.isoformat(),
                                 "evidence": evidence, "training": None, "deployed": None}
    validated(fields)  # the arguments first: a bad id or reason is reported before the check runs
    report = check(m, model=model, today=today)
    hits = [f for f in report.findings if f.key == key]
    if not hits:
        keys = sorted({f.key for f in report.findings})
        raise UsageError(f"no finding for '{key}' in model '{model}'; findings now: {', '.join(keys) or 'none'}")
    finding = sorted(hits, key=lambda f: f.rule)[0]
    covering = next((f for f in hits if f.status == Status.APPROVED and f.approval), None)
    if covering is not None:
        ref = next((a for a in report.approvals if a.id == covering.approval), None)
        where = f" ({ref.location()})" if ref is not None else ""
        raise UsageError(f"'{key}' of model '{model}' is already approved by {covering.approval}{where}, until "
                         f"{ref.expires if ref else '?'}; edit that approval (or let it expire) instead of adding "
                         "a second one")
    fields["training"] = None if finding.training is None else finding.training.value
    fields["deployed"] = None if finding.deployed is None else finding.deployed.value
    approval = validated(fields)
    folder = confine(m.base / m.approvals, m.base, "approvals folder", origin=m.path)
    target = folder / f"{approval.id}.yaml"
    try:  # the manifest's policy, reported against the argument (the file is not written yet)
        approvals_mod.check_policy(approvals_mod.LoadedApproval(approval, str(target), None),
                                   approvers=m.approvers, max_horizon_days=m.approval_policy.max_horizon_days,
                                   today=today)
    except ApprovalError as exc:
        option = "--by" if "approver" in exc.message else "--expires"
        raise UsageError(f"{option}: {exc.message} (approval_policy in {m.path})") from None
    folder.mkdir(parents=True, exist_ok=True)
    try:  # never through a symlink, never over an existing file
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        raise UsageError(f"{target} exists; choose another --id or edit that file") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(approvals_mod.render(approval))
    return target


def discover(folder: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Artifacts under ``folder`` by side (``gate.scaffold.discover``)."""
    from driftguard.gate import scaffold

    return scaffold.discover(folder)


def init_manifest(folder: str | Path, model: str | None = None) -> str:
    """A commented ``driftguard.yaml`` for the artifacts ``discover`` finds under ``folder``."""
    from driftguard.gate import scaffold

    return scaffold.init_manifest(folder, model)


def schema(name: str) -> str:
    """The published JSON Schema ``manifest``, ``approvals`` or ``report`` (shipped as package data)."""
    from importlib.resources import files

    if name not in SCHEMAS:
        raise UsageError(f"unknown schema '{name}'; one of: {', '.join(SCHEMAS)}")
    return files("driftguard").joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")


SCHEMAS = ("manifest", "approvals", "report")
