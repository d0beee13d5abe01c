"""The library API that the CLI and deploy scripts call. Wires extractors, rules and reporters; prints
nothing and never exits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard import extractors
from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, Finding, Value
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.report import ArtifactRef, ModelResult, Report
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.decoding import with_decoding
from driftguard.rules.drift import CompareOptions, Tolerance

if TYPE_CHECKING:  # the manifest pulls in pydantic: imported only by check()
    from driftguard.approvals import LoadedApproval
    from driftguard.manifest import Artifact as ArtifactSpec
    from driftguard.manifest import Manifest
    from driftguard.manifest import Rules as ManifestRules


def extract(path: str | Path, kind: str | None = None,
            substitutions: Mapping[str, str] | None = None, limits: Limits = DEFAULT_LIMITS) -> EffectiveConfig:
    """The effective config of one artifact. ``path`` may be ``KIND:PATH``; ``kind`` forces the extractor;
    ``limits`` bounds the read (``driftguard.readers.limits.Limits``).

    Raises ``DriftguardError`` subclasses (with file and line) for unreadable or invalid artifacts, and
    ``LimitError`` (naming the limit) for inputs past a limit.
    """
    spec_kind, real = extractors.split_kind(str(path))
    options = ExtractOptions(substitutions=dict(substitutions or {}), limits=limits)
    return extractors.extract(real, kind or spec_kind, options)


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
    from driftguard.rules.engine import run_rules

    ctx = RuleContext(
        model="", training=Side("training", (training,), with_decoding(training.values)),
        deployed=Side("deployment", (deployed,), with_decoding(deployed.values)), compare=options or CompareOptions())
    # DG304: a field the engine ignores in either file is a finding too (a typo would otherwise hide).
    return tuple(run_rules(ctx, select=["DG101", "DG102", "DG104", "DG304"]))  # model "" stamps no model name


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
    ctx = tuple(c if isinstance(c, EffectiveConfig) else extract(c, substitutions=substitutions, limits=limits)
                for c in context)
    a = training if isinstance(training, EffectiveConfig) else extract(training, substitutions=substitutions,
                                                                       limits=limits)
    if isinstance(deployed, EffectiveConfig):
        b = deployed
    else:
        kind, real = extractors.split_kind(str(deployed))
        b = extractors.extract(real, kind, ExtractOptions(substitutions=dict(substitutions or {}), context=ctx,
                                                          limits=limits))
    return DiffResult(a, b, diff_configs(a, b, options))


def extract_many(paths: Sequence[str | Path], kind: str | None = None,
                 substitutions: Mapping[str, str] | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> list[EffectiveConfig]:
    """``extract`` for several paths, in order."""
    if not paths:
        raise ExtractionError("no artifact given")
    return [extract(p, kind, substitutions, limits) for p in paths]


# ---------------------------------------------------------------------------------------------------------
# check: the gate over a manifest
# ---------------------------------------------------------------------------------------------------------

#: Serving-engine kinds: extracted after a side's other artifacts, which they receive as ``context`` (vLLM
#: and TensorRT-LLM fall back to the model's generation_config.json).
RUNTIME_KINDS = frozenset({"vllm", "tgi", "tensorrt-llm", "openai", "lmdeploy"})

#: Merge rank per kind, low to high: when two artifacts of one side give the same key (both explicit, or
#: both defaults), the higher rank wins; equal ranks go to the later artifact in the manifest. The model's own
#: description first (weights, graph, Triton config), then the HF files in the order transformers layers them
#: (config.json < tokenizer_config.json < generation_config.json), then what training really ran with
#: (TrainingArguments, checkpoint hyper-parameters), and on the deployment side the serving engine's
#: resolved runtime parameters last: they are what the server actually does.
KIND_RANK: dict[str, int] = {
    "safetensors": 0, "onnx": 10, "triton": 10, "hf-config": 20, "hf-model": 25, "hf-tokenizer": 30,
    "hf-generation": 40, "training-args": 50, "torch": 60, "lightning": 60,
    "vllm": 70, "tgi": 70, "tensorrt-llm": 70, "openai": 70, "lmdeploy": 70,
}
_PLUGIN_RANK = 45


def merge_side(configs: Sequence[EffectiveConfig]) -> dict[str, Value]:
    """One ``{key: Value}`` for a side's artifacts (in manifest order).

    Precedence for a key several artifacts give, first difference wins:

    1. a serving engine's value (``RUNTIME_KINDS``) beats the model files', default or not: the engine
       extractor already resolved the engine's own precedence with those files as context, so its value,
       even its documented default, is what the server does (Triton's vllm_backend ignores
       generation_config.json's ``top_k``; the merged side must too);
    2. an explicit value beats a documented default;
    3. the higher ``KIND_RANK`` wins (config.json < tokenizer_config.json < generation_config.json <
       training arguments < checkpoint hyper-parameters; ONNX/Triton < serving engine);
    4. the later artifact in the manifest wins.

    The winning Value keeps its origin, so every merged value still names its file and line. Contradictions
    inside a side are not resolved away silently: the DG2xx consistency rules read each artifact separately
    (``Side.artifacts``).
    """
    merged: dict[str, Value] = {}
    score: dict[str, tuple[bool, bool, int, int]] = {}
    for i, cfg in enumerate(configs):
        rank = KIND_RANK.get(cfg.kind, _PLUGIN_RANK)
        runtime = cfg.kind in RUNTIME_KINDS
        for key, value in cfg.values.items():
            s = (runtime, value.explicit, rank, i)
            if key not in score or s > score[key]:
                merged[key] = value
                score[key] = s
    return merged


def build_side(name: str, artifacts: Sequence[ArtifactSpec], base: Path, limits: Limits = DEFAULT_LIMITS,
               root: Path | None = None, manifest: str | None = None) -> Side:
    """Extract a side's artifacts (paths relative to ``base``; kind detected when not given) and merge them.

    Every artifact must lie inside ``root`` (default ``base``) once symlinks are resolved: a manifest may not
    point the gate at files outside the tree it checks, and neither may a path an artifact names.
    Model artifacts are extracted first, then the side's vLLM engine args (a ``model.json``, or a vLLM file
    with engine markers) with them as ``ExtractOptions.context``, then the other serving-engine artifacts with
    both, so a request on a side with a Triton ``model.json`` resolves through Triton's vllm_backend.
    """
    from driftguard.readers.files import confine

    root = root if root is not None else base
    resolved: list[tuple[int, str, Path, ArtifactSpec]] = []
    for i, a in enumerate(artifacts):
        path = confine(base / a.path, root, "artifact", origin=manifest)
        kind = a.kind or extractors.detect(path)
        resolved.append((i, kind, path, a))
    out: dict[int, EffectiveConfig] = {}
    for i, kind, path, a in resolved:
        if kind not in RUNTIME_KINDS:
            out[i] = extractors.extract(path, kind, ExtractOptions(substitutions=dict(a.set), limits=limits,
                                                                   root=root))
    engine_args = [r for r in resolved if r[1] == "vllm" and _is_vllm_engine_args(r[2])]
    rest = [r for r in resolved if r[1] in RUNTIME_KINDS and r not in engine_args]
    for phase in (engine_args, rest):
        context = tuple(out[i] for i in sorted(out))
        for i, kind, path, a in phase:
            out[i] = extractors.extract(path, kind, ExtractOptions(substitutions=dict(a.set), context=context,
                                                                   limits=limits, root=root))
    configs = tuple(out[i] for i in sorted(out))
    return Side(name, configs, with_decoding(merge_side(configs)))  # + the derived generation.decoding


def _is_vllm_engine_args(path: Path) -> bool:
    """A Triton vllm_backend ``model.json`` or a file vLLM's detection claims (``model`` plus engine keys)."""
    from driftguard.readers.files import head

    if path.name == "model.json":
        return True
    try:
        return bool(extractors.get("vllm").detect(path, head(path)))
    except (OSError, ValueError):
        return False


def _compare_options(rules: ManifestRules) -> CompareOptions:
    return CompareOptions(
        tolerances=tuple(Tolerance(t.key, t.abs, t.rel) for t in rules.tolerances),
        ignore=tuple(rules.ignore),
    )


def check(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None,
          strict: bool = False, today: date | None = None, limits: Limits | None = None,
          root: str | Path | None = None, limit_overrides: Mapping[str, object] | None = None,
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
    Raises ``DriftguardError`` subclasses for bad input (manifest, approvals, artifacts) and
    ``rules.engine.RuleCrashed`` when a rule is broken.
    """
    import os

    from driftguard import api_ci
    from driftguard import approvals as approvals_mod
    from driftguard import manifest as manifest_mod
    from driftguard.ci.repo import repository_root
    from driftguard.rules.engine import rule_infos, run_rules, selected_rules

    m = path_or_manifest if isinstance(path_or_manifest, manifest_mod.Manifest) \
        else manifest_mod.load(path_or_manifest, (limits or DEFAULT_LIMITS).with_overrides(limit_overrides or {}))
    today = today or date.today()
    if base is not None:
        return api_ci.check_against(base, m, model=model, strict=strict, today=today, limits=limits, root=root,
                              limit_overrides=limit_overrides, repo_root=repo_root, shard=shard, models=models,
                              jobs=jobs, changed_only=changed_only,
                              require_committed_approvals=require_committed_approvals)
    if changed_only:
        raise UsageError("--changed-only needs --base REF: the models a change affected are found against it")
    limits = (limits if limits is not None else m.effective_limits()).with_overrides(limit_overrides or {})
    base_root = Path(root) if root is not None else m.base
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
    workers = api_ci.workers(jobs, len(names))
    if workers > 1:
        return api_ci.check_parallel(m, names, workers, strict=strict, today=today, limits=limits, root=root,
                               limit_overrides=limit_overrides, repo_root=repo_root, shard=shard,
                               require_committed_approvals=require_committed_approvals,
                               approval_provenance=approval_provenance)
    policy = m.approval_policy
    approvals = approvals_mod.load_dir(m.base / m.approvals, approvers=m.approvers,
                                       max_horizon_days=policy.max_horizon_days, today=today, root=base_root,
                                       limits=limits)
    repo = Path(repo_root).resolve() if repo_root is not None else repository_root(m.base)
    provenance = api_ci.Provenance.read(repo, m, approvals, approval_provenance or policy.separate_approver,
                                        require_committed_approvals)
    approvals = provenance.kept(approvals)
    findings: list[Finding] = []
    sides: dict[str, tuple[Side, Side]] = {}
    ran: dict[str, tuple[str, ...]] = {}
    for name in names:
        spec = m.models[name]
        rules = m.rules_for(name)
        training = build_side("training", spec.training, m.base, limits, base_root, m.path)
        deployed = build_side("deployment", spec.deployment, m.base, limits, base_root, m.path)
        sides[name] = (training, deployed)
        ctx = RuleContext(name, training, deployed, _compare_options(rules), dict(rules.options), limits)
        findings.extend(run_rules(ctx, rules.select, rules.severity, rules.enable))
        ran[name] = tuple(cls.code for cls, _ in selected_rules(rules.select, rules.severity, rules.enable))
    def judge(usable: Sequence[LoadedApproval]) -> approvals_mod.Outcome:
        return approvals_mod.apply(findings, usable, today, warn_expiring_days=policy.warn_expiring_days,
                                   models=names)

    outcome = judge(approvals)
    judged, refs = outcome.findings, provenance.refs(outcome.approvals, today, names)
    if policy.separate_approver:
        judged, refs = provenance.separate(judge, approvals, judged, refs, repo, today, names)
    results = []
    for name in names:
        training, deployed = sides[name]
        results.append(ModelResult(
            name=name,
            findings=tuple(f for f in judged if f.model == name),
            training=tuple(ArtifactRef(c.kind, c.path) for c in training.artifacts),
            deployment=tuple(ArtifactRef(c.kind, c.path) for c in deployed.artifacts),
            strict=strict,
            rules=ran[name],
        ))
    return Report(tuple(results), refs, manifest=m.path, today=today.isoformat(), strict=strict,
                  fail_on_stale=policy.fail_on_stale, root=str(repo), cwd=os.getcwd(),
                  rules=rule_infos(), shard=shard).with_fingerprints()


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

    today = today or date.today()
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
    fields["training"] = None if finding.training is None else finding.training.value
    fields["deployed"] = None if finding.deployed is None else finding.deployed.value
    approval = validated(fields)
    folder = confine(m.base / m.approvals, m.base, "approvals folder", origin=m.path)
    target = folder / f"{approval.id}.yaml"
    approvals_mod.check_policy(approvals_mod.LoadedApproval(approval, str(target), None),
                               approvers=m.approvers, max_horizon_days=m.approval_policy.max_horizon_days,
                               today=today)
    folder.mkdir(parents=True, exist_ok=True)
    try:  # never through a symlink, never over an existing file
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        raise UsageError(f"{target} exists; choose another --id or edit that file") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(approvals_mod.render(approval))
    return target


#: Folders ``init`` never looks into.
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "approvals", ".tox"})
#: File names worth sniffing during discovery (anything else is skipped unread).
_DISCOVER_SUFFIXES = (".json", ".yaml", ".yml", ".pbtxt", ".onnx", ".safetensors", ".ckpt", ".pt", ".pth", ".bin")
_DEPLOY_HINTS = ("deploy", "serv", "model_repository", "triton", "inference", "prod")


def discover(folder: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Artifacts under ``folder`` by side: ``{"training": [(kind, relpath)], "deployment": [...]}``.

    Kinds come from ``extractors.detect`` (name, then content); files it cannot place are skipped. A file goes
    to the deployment side when it is a serving artifact (Triton, ONNX, a serving engine's parameters) or
    sits under a folder named like deployment/serving/model_repository; everything else is training.
    """
    root = Path(folder)
    if not root.is_dir():
        raise UsageError("not a folder", str(root))
    out: dict[str, list[tuple[str, str]]] = {"training": [], "deployment": []}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]) or not path.is_file():
            continue
        if path.suffix.lower() not in _DISCOVER_SUFFIXES or path.name == "driftguard.yaml":
            continue
        try:
            kind = extractors.detect(path)
        except (UsageError, ExtractionError):
            continue
        lowered = str(rel.parent).lower()
        deploy = kind in RUNTIME_KINDS or kind in ("triton", "onnx") or any(h in lowered for h in _DEPLOY_HINTS)
        out["deployment" if deploy else "training"].append((kind, rel.as_posix()))
    return out


def init_manifest(folder: str | Path, model: str | None = None) -> str:
    """A commented ``driftguard.yaml`` for the artifacts ``discover`` finds under ``folder``."""
    root = Path(folder)
    found = discover(root)
    name = model or root.resolve().name or "model"
    lines = [
        "# driftguard manifest: `driftguard check` compares each model's training side with its deployment side.",
        "# Paths are relative to this file. `kind:` names the extractor (`driftguard extract --help` lists them);",
        "# it was filled in from what each file looked like - check it, especially for serving-engine files.",
        "# Schema: `driftguard schema manifest`.",
        "version: 1",
        "models:",
        f"  {name}:",
    ]
    for side in ("training", "deployment"):
        lines.append(f"    {side}:")
        if not found[side]:
            lines.append(f"      # nothing found for the {side} side: add at least one artifact")
            lines.append("      - path: CHANGE-ME")
        for kind, rel in found[side]:
            lines.append(f"      - path: {rel}")
            lines.append(f"        kind: {kind}")
    lines += [
        "# Rule options for every model (a model may have its own `rules:` too).",
        "rules:",
        "  ignore: []        # canonical keys (globs) never compared, e.g. serving.*",
        "  tolerances: []    # e.g. - {key: generation.temperature, abs: 0.01}",
        "  severity: {}      # e.g. DG103: error",
        "# Approvals: one YAML file per accepted difference (`driftguard approve MODEL KEY ...`).",
        "approvals: approvals",
        "approvers: []       # who may approve; empty: anyone",
        "approval_policy:",
        "  max_horizon_days: 365",
        "  warn_expiring_days: 30",
        "  fail_on_stale: false",
    ]
    return "\n".join(lines) + "\n"


def schema(name: str) -> str:
    """The published JSON Schema ``manifest``, ``approvals`` or ``report`` (shipped as package data)."""
    from importlib.resources import files

    if name not in SCHEMAS:
        raise UsageError(f"unknown schema '{name}'; one of: {', '.join(SCHEMAS)}")
    return files("driftguard").joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")


SCHEMAS = ("manifest", "approvals", "report")
