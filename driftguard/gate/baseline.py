"""``check --base REF``: the check of the working tree judged against the same check of revision ``REF``'s files
(``ci.baseline.judge_change``: each finding introduced or existing, the drift the change removed listed as
resolved); with ``--changed-only``, of the models the change can have affected (``ci.changed``). Both runs go
through ``gate.parallel`` (``--jobs``), never through the facade."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.errors import DriftguardError, UsageError
from driftguard.gate import parallel, policy
from driftguard.gate.request import ApprovalOptions, CheckRequest, Selection, Stages, load_manifest
from driftguard.model import Finding, Judged, Status
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.report import Report

if TYPE_CHECKING:
    from driftguard.manifest import Manifest


def run(request: CheckRequest) -> Report:
    """``request`` (its ``base`` set) run on the working tree and on ``base``'s files, written to a temporary
    folder (the work tree, index and refs are left alone). Both runs read within the limits ``gate.policy`` trusts
    (the base revision's or the caller's, never the change's), and the trusted settings the change edits are
    reported (DG601). The head run reads the approvals' history
    (``require_committed`` as asked); the base revision's run reads none. Only the rules run (``gate.check``
    refuses a request for the parity stage with a base). UsageError for a revision that is not one, a
    manifest outside the repository, or a base revision whose manifest or check fails."""
    from driftguard.ci import baseline, gitref
    from driftguard.ci.repo import repository_root

    ref = request.base
    assert ref is not None
    gitref.validate_revision(ref)
    repo = request.repo_root.resolve() if request.repo_root is not None else repository_root(request.manifest.base)
    commit = gitref.resolve(repo, ref)
    with tempfile.TemporaryDirectory(prefix="driftguard-base-") as tmp:
        base = _checkout(request, repo, commit, Path(tmp))
        rails = policy.for_base(request.manifest, base.manifest, request.limits, request.limit_overrides)
        trusted = replace(request, limits=rails.limits, limit_overrides={})  # never the change's own limits:
        selection, unchanged = _narrowed(trusted, base.manifest, repo, commit)
        plain = replace(trusted, base=None, changed_only=False, stages=Stages())
        head = parallel.run(replace(plain, selection=selection, repo_root=repo,
                                    approvals=replace(request.approvals, history=True, base_files=base.copy)))
        head = _reported(head, rails, str(request.manifest.path))
        return baseline.judge_change(head, _before(plain, base, selection), ref, commit, unchanged=unchanged)


def _reported(head: Report, rails: policy.GatePolicy, manifest: str) -> Report:
    """``head`` with the DG601 findings of the trusted settings the change edits (``gate.policy``), each model's
    after its own findings."""
    if not rails.changed:
        return head

    def judged(f: Finding, model: str) -> Judged:
        j = Judged(replace(f, model=model), Status.UNAPPROVED)
        return replace(j, fingerprint=head.fingerprint(j))

    models = tuple(replace(m, findings=(*m.findings, *(judged(f, m.name) for f in
                                                       rails.findings(m.name, i == 0, manifest))))
                   for i, m in enumerate(head.models))
    return replace(head, models=models)


@dataclass(frozen=True)
class _Base:
    """The base revision's files: the copy's folder, its manifest (None where the revision has none) and the
    folder its artifacts must lie in."""

    ref: str
    commit: str
    copy: Path
    manifest: Manifest | None
    root: Path


def _checkout(request: CheckRequest, repo: Path, commit: str, copy: Path) -> _Base:
    """``commit``'s files of the request's root folder written under ``copy``, and its manifest loaded."""
    from driftguard.ci import gitref

    m, folder, ref = request.manifest, request.base_root, str(request.base)
    gitref.materialize(repo, commit, folder, copy)
    try:
        manifest = copy / Path(m.path).resolve().relative_to(repo)
        root = copy / folder.resolve().relative_to(repo)
    except ValueError:
        raise UsageError(f"--base: {m.path} is not inside the git repository {repo}") from None
    try:
        old = load_manifest(manifest, request.limits, request.limit_overrides) if manifest.is_file() else None
    except DriftguardError as exc:
        raise UsageError(f"--base {ref}: the manifest of {commit[:12]} is not valid: {exc}") from None
    return _Base(ref, commit, copy, old, root)


def _narrowed(request: CheckRequest, old: Manifest | None, repo: Path, commit: str) -> tuple[Selection, int]:
    """The head run's selection (with ``changed_only``: the wanted models the change touched) and how many
    wanted models it left out."""
    m, model, models = request.manifest, request.selection.model, request.selection.models
    unchanged = 0
    if request.changed_only:
        wanted = [model] if model is not None else list(models) if models is not None else list(m.models)
        affected = _affected(request, old, repo, commit)
        models, model = tuple(n for n in wanted if n in affected), None
        unchanged = len(wanted) - len(models)
    return Selection.of(m, model, models, request.selection.shard), unchanged


def _before(plain: CheckRequest, base: _Base, selection: Selection) -> Report:
    """The same check of the base revision's files (no approval history), of the selected models it has; an
    empty report where it has no manifest or not the one model asked for."""
    old, model, models = base.manifest, selection.model, selection.models
    if old is None or (model is not None and model not in old.models):
        return Report((), today=plain.today.isoformat(), root=str(base.copy), cwd=str(base.copy))
    kept = None if models is None else [n for n in models if n in old.models]
    try:
        return parallel.run(replace(plain, manifest=old, root=base.root, repo_root=base.copy,
                                    selection=Selection.of(old, model, kept, selection.shard),
                                    approvals=ApprovalOptions(separate=False)))  # a copy, not a repository
    except DriftguardError as exc:
        raise UsageError(f"--base {base.ref}: the check of {base.commit[:12]} failed: {exc}") from None


def _affected(request: CheckRequest, old: Manifest | None, repo: Path, commit: str) -> set[str]:
    """The models whose files (every file their extraction reads: ``_reads``), approvals or manifest entry the
    change from ``commit`` touched."""
    from driftguard.ci import changed

    read_limits = (request.limits or DEFAULT_LIMITS).with_overrides(request.limit_overrides)  # the trusted ones
    return set(changed.affected_models(request.manifest, old, repo=repo, commit=commit,
                                       changed=changed.changed_files(repo, commit), limits=read_limits,
                                       reads=_reads(request, list(request.manifest.models))))


def _reads(request: CheckRequest, names: list[str]) -> dict[str, set[Path] | None]:
    """Each model's files that building its two sides opened or looked for (``readers.files.recording``:
    links and targets), in the working tree; None for a model whose sides fail to build (the check reports
    that, so the model counts as affected). Each model is built on its own, without the run's cache, so that a
    file two models read is recorded for both."""
    from driftguard.gate.pipeline import build_sides
    from driftguard.readers import files

    limits = request.read_limits()
    out: dict[str, set[Path] | None] = {}
    with files.confined(request.base_root):
        for name in names:
            with files.recording() as seen:
                try:
                    build_sides(request, [name], limits)
                except DriftguardError:
                    out[name] = None
                    continue
            out[name] = seen
    return out
