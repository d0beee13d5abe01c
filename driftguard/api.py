"""The library API that the CLI and deploy scripts call: short delegations to the parts it wires (extractors,
rules and reporters; the gate through one ``gate.request.CheckRequest``). Prints nothing and never exits.
Nothing in the package but ``cli`` (and the package root's lazy re-exports) imports it (an import-linter
contract)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from driftguard import clock, extractors
from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, Finding, Value
from driftguard.parity.request import EXECUTORS as EXECUTORS  # re-exported: the CLI's --executor choices
from driftguard.parity.request import ParityRequest
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.report import Report

if TYPE_CHECKING:  # the manifest and the rules pull in pydantic: imported by check() and diff(), not extract()
    from driftguard.gate.approve_all import Baseline
    from driftguard.gate.scaffold import Found
    from driftguard.manifest import Artifact as ArtifactSpec
    from driftguard.manifest import Manifest
    from driftguard.parity.progress import Bar
    from driftguard.rules.base import RuleContext as RuleContext  # re-exported, imported on first use (below)
    from driftguard.rules.base import Side
    from driftguard.rules.comparison import CompareOptions

#: Re-exported names imported on first use (``api.Side``): the rules they come from import pydantic, which an
#: ``extract`` never needs (its whole-process time is mostly start-up).
_LAZY = {"RuleContext": "driftguard.rules.base", "Side": "driftguard.rules.base",
         "CompareOptions": "driftguard.rules.comparison"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def extract(path: str | Path, kind: str | None = None,
            substitutions: Mapping[str, str] | None = None, limits: Limits = DEFAULT_LIMITS, *,
            call: str | None = None, line: int | None = None) -> EffectiveConfig:
    """The effective config of one artifact. ``path`` may be ``KIND:PATH``; ``kind`` forces the extractor;
    ``substitutions`` fill template placeholders (``--set``); ``limits`` bounds the read
    (``driftguard.readers.limits.Limits``); ``call``/``line`` pick the call sites of a Python file whose
    values are meant (a manifest entry's ``call:``/``line:``).

    Raises ``DriftguardError`` subclasses (with file and line) for unreadable or invalid artifacts,
    ``LimitError`` (naming the limit) for inputs past a limit, and ``UsageError`` for a substitution no
    placeholder of the artifact has, or a ``call``/``line`` for a file that is not read as Python.
    """
    return extract_many([path], kind, substitutions, limits, call=call, line=line)[0]


def _extract(path: str | Path, kind: str | None, options: ExtractOptions) -> EffectiveConfig:
    spec_kind, real = extractors.split_kind(str(path))
    kind = kind or spec_kind
    if options.call is not None or options.line is not None:
        kind = _python_pick(Path(real), kind, options)
    return extractors.extract(real, kind, options)


def _python_pick(path: Path, kind: str | None, options: ExtractOptions) -> str:
    """The kind of a file whose call sites ``options`` pick: python (detected, or named), else a UsageError, as
    the manifest refuses ``call:``/``line:`` on another kind (a pick that picks nothing must not pass quietly);
    a line below 1 is a UsageError too."""
    if options.line is not None and options.line < 1:
        raise UsageError(f"line {options.line}: lines count from 1")
    found = kind or extractors.detect(path)
    if found != "python":
        given = "call" if options.call is not None else "line"
        raise UsageError(f"'{given}' picks a call site of a Python file; '{path}' is read as {found}")
    return found


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

    A check of two artifacts: every rule of ``check``'s selection that relates what the two sides state
    (``Rule.pairwise``: DG101, DG102, DG104-DG108, DG216, DG217) plus DG304, on one side of one artifact each,
    built as ``check`` builds a side, so ``diff`` and ``check`` never disagree about what differs.
    """
    from driftguard.gate.sides import side_of
    from driftguard.rules.base import RuleContext
    from driftguard.rules.comparison import CompareOptions
    from driftguard.rules.engine import pairwise_codes, run_rules

    ctx = RuleContext(model="", training=side_of("training", (training,)), deployed=side_of("deployment", (deployed,)),
                      compare=options or CompareOptions())
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
                 limits: Limits = DEFAULT_LIMITS, *, call: str | None = None,
                 line: int | None = None) -> list[EffectiveConfig]:
    """``extract`` for several paths, in order. A substitution is an error only when no path has a placeholder
    of its name; ``call``/``line`` pick call sites in every path (each must be read as Python)."""
    if not paths:
        raise ExtractionError("no artifact given")
    options = ExtractOptions(substitutions=dict(substitutions or {}), limits=limits, call=call, line=line)
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
          approval_history: bool = False, files: Sequence[str | Path] | None = None,
          require_base_approvals: bool = False) -> Report:
    """Run the gate: for each model of the manifest (or only ``model``), build both sides, run the rules,
    judge the findings against the approvals. Returns a ``Report`` (``report.ok``, ``report.raise_for_drift()``).
    The arguments become one ``gate.request.CheckRequest``, run by ``gate.check``.

    ``base``: a git revision (``check --base REF``): the same check also runs on the files of that revision
    and each finding is marked introduced or existing (existing ones do not fail), the drift it removed listed
    as resolved (``gate.baseline``). ``repo_root``: the repository every reported path is relative to
    (default: the nearest folder above the manifest holding ``.git``). ``shard``: ``(I, N)``, check only the
    models of shard I of N (``driftguard.ci.shard``: a split by model name, the same in every job).
    ``models``: check only these models. ``jobs``: worker processes checking models in parallel (0: one per
    CPU once there are enough models to pay for them; ``gate.parallel``); the report is the same as with one.
    ``changed_only`` (with ``base``): check only the models whose files, approvals or manifest entry the change
    touched. ``approval_history`` (implied by ``base`` and ``require_committed_approvals``): each approval
    names the commit and author that last changed its file. ``require_committed_approvals``: approvals whose file
    is not committed as it is in HEAD are ignored (state ``uncommitted``). ``require_base_approvals`` (with
    ``base``): only approvals already on the base revision, byte for byte, count; those the change adds or edits
    are ignored (state ``uncommitted``). ``files``: check only the models these files can affect (a file an
    artifact is or lies in, an approval naming the model; the manifest: every model), as a pre-commit hook does
    with the staged files; a file no model reads checks nothing.

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
    from driftguard.gate import check as gate
    from driftguard.gate import request as req

    m = req.load_manifest(path_or_manifest, limits, limit_overrides)
    return gate.check(req.CheckRequest(
        manifest=m, today=today or clock.today(), selection=req.Selection.of(m, model, models, shard),
        limits=limits, limit_overrides=dict(limit_overrides or {}), root=req.optional_path(root),
        repo_root=req.optional_path(repo_root), strict=strict, stages=req.Stages(rules_stage, parity),
        approvals=req.ApprovalOptions(require_committed_approvals, approval_history, require_base_approvals),
        base=base, changed_only=changed_only, jobs=jobs,
        files=None if files is None else tuple(str(f) for f in files)))


# ---------------------------------------------------------------------------------------------------------
# parity: the stage that runs the model (driftguard.parity); wired here, never imported by rules
# ---------------------------------------------------------------------------------------------------------

def check_parity(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None, *,
                 golden: str | Path | None = None, device: str = "auto", attribution: bool | None = None,
                 strict: bool = False, today: date | None = None, root: str | Path | None = None,
                 progress: Callable[[str, int, int], None] | None = None, plots: str | Path | None = None,
                 executor: str = "local", workers: int | None = None, shard_size: int | None = None,
                 ray_address: str | None = None, base: str | None = None) -> Report:
    """Numerical parity alone (``driftguard parity``): for every model with a ``parity:`` section (or only
    ``model``), run the reference (training artifact, training config) and the candidate (deployed artifact,
    deployment config) on the golden inputs and judge the DG5xx findings against the approvals. ``golden``
    replaces the manifest's golden path; ``device`` is ``auto``, ``cpu`` or ``cuda``; ``attribution`` overrides
    the manifest's switch. ``progress(label, done, total)`` is called after each runner batch
    (``parity.progress.Bar`` draws a bar); ``plots``: a folder for one picture per failing output (needs the
    ``[plots]`` extra).
    ``executor``: ``local`` (default), ``threads`` or ``ray``: one work unit per model × golden shard, merged
    into the report the local run gives (``parity.executors``); ``workers`` threads, or the CPUs of a local Ray
    instance; ``shard_size`` golden samples per unit; ``ray_address`` a running cluster (None: a local instance
    started and shut down around the run; the CLI passes ``RAY_ADDRESS``).
    ``base`` (a git revision: the trusted side of a pull request): a recording that revision does not hold as
    it is (added or edited by the change) is not used, the reference runs instead (``gate.golden.trusted``).
    Raises ``DriftguardError`` subclasses (``ParityError``) for bad input."""
    from driftguard.gate import golden as golden_mod

    request = parity_request(golden=None if golden is None else str(golden), device=device,
                             attribution=attribution, progress=progress, plots=None if plots is None else str(plots),
                             executor=executor, workers=workers, shard_size=shard_size, ray_address=ray_address)
    if base is not None:
        request = replace(request, trusted_recordings=golden_mod.trusted(path_or_manifest, base))
    return check(path_or_manifest, model=model, strict=strict, today=today, root=root, parity=request,
                 rules_stage=False)


def golden_record(path_or_manifest: str | Path | Manifest = "driftguard.yaml", model: str | None = None, *,
                  golden: str | Path | None = None, device: str = "auto",
                  progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Run each model's reference once on its golden inputs and store the outputs beside them
    (``<stem>.<model>.reference.npz``, one per model, with the hashes of the inputs, the reference artifact and its
    effective config).
    Returns the files written (``gate.golden.record``)."""
    from driftguard.gate import golden as golden_mod
    from driftguard.gate import request as req

    request = ParityRequest(golden=None if golden is None else str(golden), device=req.checked_device(device),
                            progress=progress)
    return golden_mod.record(req.load_manifest(path_or_manifest), model, request)


def parity_request(*, device: str = "auto", executor: str = "local", workers: int | None = None,
                   shard_size: int | None = None, golden: str | None = None, attribution: bool | None = None,
                   progress: Callable[[str, int, int], None] | None = None, plots: str | None = None,
                   ray_address: str | None = None) -> ParityRequest:
    """A ``ParityRequest`` with its device, executor, workers and shard size checked (UsageError;
    ``gate.request.parity_request``)."""
    from driftguard.gate import request as req

    return req.parity_request(device=device, executor=executor, workers=workers, shard_size=shard_size,
                              golden=golden, attribution=attribution, progress=progress, plots=plots,
                              ray_address=ray_address)


def progress_bar(stream: TextIO) -> Bar:
    """The parity progress bar drawn on ``stream`` (``parity.progress.Bar``; pass it as ``progress``)."""
    from driftguard.parity.progress import Bar

    return Bar(stream)


def approve(path_or_manifest: str | Path | Manifest, model: str, key: str, reason: str, expires: date, *,
            approved_by: str | None = None, approval_id: str | None = None, evidence: str | None = None,
            today: date | None = None) -> Path:
    """Write ``approvals/<id>.yaml`` accepting the current drift of ``key`` for ``model``, pinned to today's
    training and deployed values. Returns the file written (``gate.approve``).

    UsageError, naming the field, when an argument is wrong (no ``approved_by``, a blank reason, an expiry
    before today, an id that is not ``[A-Za-z0-9][A-Za-z0-9._-]*``), when the key does not drift now, when an
    approval covers it already, when the file exists, and when the approval breaks the manifest's policy
    (naming ``--by`` or ``--expires``)."""
    from driftguard.gate import approve as approve_mod

    return approve_mod.approve(path_or_manifest, model, key, reason, expires, approved_by=approved_by,
                               approval_id=approval_id, evidence=evidence, today=today or clock.today())


def baseline(path_or_manifest: str | Path | Manifest, reason: str, expires: date, *,
             approved_by: str | None = None, model: str | None = None, name: str = "baseline",
             evidence: str | None = None, strict: bool = False, today: date | None = None) -> Baseline:
    """Adopt the gate where drift exists already: approve every finding that fails the check of ``model``
    (default: every model) now, in one file, ``approvals/<name>.yaml``, with one reason, approver and expiry,
    each entry pinned to its finding's values (``gate.approve_all``). Run again, only findings that fail again
    are added; none, the file is left alone. ``strict``: failing warnings too. Returns what was added where.
    UsageError as ``approve`` gives it for a wrong argument or a policy that refuses the approver or expiry."""
    from driftguard.gate import approve_all

    return approve_all.baseline(path_or_manifest, reason, expires, approved_by=approved_by,
                                today=today or clock.today(), model=model, name=name, evidence=evidence,
                                strict=strict)


def snapshot(url: str, output: str | Path, *, server: str | None = None, model: str | None = None,
             headers: Mapping[str, str] | None = None, timeout: float = 10.0,
             limits: Limits = DEFAULT_LIMITS) -> Path:
    """Read the effective config of the server running at ``url`` and write it to ``output`` as a snapshot
    file, an artifact ``extract`` and ``check`` read (kind ``snapshot``). ``server``: ``triton``, ``tgi``,
    ``vllm`` or ``llama-cpp`` (None: recognised from its answers); ``model``: the model whose config is read
    (Triton); ``headers``: sent with every request, nothing else is; ``timeout``: seconds per connection and
    read.
    Returns the path written; UsageError or ExtractionError (one line, naming the URL) otherwise."""
    from driftguard.gate import snapshot as snapshot_mod

    taken = snapshot_mod.take(url, server=server, model=model, headers=headers, timeout=timeout, limits=limits)
    return snapshot_mod.write(taken, output)


# ---------------------------------------------------------------------------------------------------------
# What the CLI needs besides the commands: limits, shards, merging reports, init, explain, kinds
# ---------------------------------------------------------------------------------------------------------

def reader_limits(overrides: Mapping[str, object] | None = None) -> Limits:
    """The built-in reader limits with ``{name: value}`` applied (``--limit NAME=VALUE``; values such as
    ``256M`` allowed). UsageError for an unknown name or a bad value."""
    return DEFAULT_LIMITS.with_overrides(overrides or {})


def parse_shard(spec: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)`` for ``check(shard=)`` (``ci.shard.parse_shard``); UsageError otherwise."""
    from driftguard.ci.shard import parse_shard as parse

    return parse(spec)


def merge_reports(paths: Sequence[str | Path], *, commit: str | None = None) -> Report:
    """The JSON reports of ``check --format json`` read back as one Report; the reports of the shards 1/N .. N/N
    of one check merged into the report of the whole (``ci.merge``). ``commit``: every report must have been
    made on it. UsageError for a report that is not one (or a failed run's), or shards that do not belong
    together."""
    from driftguard.ci import merge

    return merge.merge([(str(path), merge.load(str(path))) for path in paths], commit)


def write_output(path: str | Path, text: str, what: str = "output") -> Path:
    """``text`` written to a fresh file at ``path``, a path named on the command line: a stale file or a
    symlink there is replaced, never followed, and no symlinked folder below the working folder is walked
    (``readers.files.write_output``). UsageError (one line) otherwise."""
    from driftguard.readers import files

    return files.write_output(path, text, what=what)


def remove_output(path: str | Path, what: str = "output") -> None:
    """Remove a stale output at ``path`` before a run (never through a symlink; ``readers.files``)."""
    from driftguard.readers import files

    files.remove_output(path, what=what)


def discover(folder: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Artifacts under ``folder`` by side (``gate.scaffold.discover``)."""
    from driftguard.gate import scaffold

    return scaffold.discover(folder)


def init_manifest(folder: str | Path, model: str | None = None) -> tuple[str, list[Found]]:
    """A commented ``driftguard.yaml`` for the artifacts found under ``folder`` (``gate.scaffold``; ``model``
    names the model, default: the folder's name), and what was found: the caller tells the user about each
    file skipped (``Found.skipped``) and each kind that is a guess (``Found.choices``)."""
    from driftguard.gate import scaffold

    found = scaffold.scan(folder, model)
    return scaffold.render(found), found


def explain(code: str | None = None) -> str:
    """The documentation of rule or parity check ``code`` as plain text, or (no code) the list of every rule
    and parity check. UsageError for an unknown code."""
    from driftguard.gate import catalog
    from driftguard.reporters.doc_text import plain

    return plain(catalog.explain(code) if code else catalog.describe())


def kinds() -> list[tuple[str, str]]:
    """Every artifact kind (``KIND:PATH``, ``--kind``, the manifest's ``kind:``) with its one-line description;
    imports every extractor module."""
    return [(kind, extractors.info(kind).description) for kind in extractors.available_kinds()]


def schema(name: str) -> str:
    """The published JSON Schema ``manifest``, ``approvals`` or ``report`` (shipped as package data)."""
    from importlib.resources import files

    if name not in SCHEMAS:
        raise UsageError(f"unknown schema '{name}'; one of: {', '.join(SCHEMAS)}")
    return files("driftguard").joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")


SCHEMAS = ("manifest", "approvals", "report")
