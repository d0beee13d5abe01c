"""``check --base REF``: the check of the working tree judged against the same check of revision ``REF``'s files
(``ci.baseline.judge_change``: each finding introduced or existing, the drift the change removed listed as
resolved); with ``--changed-only``, of the models the change can have affected (``ci.changed``). Both runs go
through ``gate.parallel`` (``--jobs``), never through the facade."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.errors import DriftguardError, UsageError
from driftguard.gate import parallel
from driftguard.gate.request import ApprovalOptions, CheckRequest, Selection, Stages, load_manifest
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.report import Report

if TYPE_CHECKING:
    from driftguard.manifest import Manifest


def run(request: CheckRequest) -> Report:
    """``request`` (its ``base`` set) run on the working tree and on ``base``'s files, written to a temporary
    folder (the work tree, index and refs are left alone). The head run reads the approvals' provenance
    (``require_committed`` as asked); the base revision's run reads none. Only the rules run (as before this
    wrapper: the parity stage is not part of a ``--base`` run). UsageError for a revision that is not one, a
    manifest outside the repository, or a base revision whose manifest or check fails."""
    from driftguard.ci import baseline, gitref
    from driftguard.ci.repo import repository_root

    ref, m = request.base, request.manifest
    assert ref is not None
    gitref.validate_revision(ref)
    repo = request.repo_root.resolve() if request.repo_root is not None else repository_root(m.base)
    commit = gitref.resolve(repo, ref)
    folder = request.base_root
    with tempfile.TemporaryDirectory(prefix="driftguard-base-") as tmp:
        copy = Path(tmp)
        gitref.materialize(repo, commit, folder, copy)
        try:
            manifest = copy / Path(m.path).resolve().relative_to(repo)
            base_root = copy / folder.resolve().relative_to(repo)
        except ValueError:
            raise UsageError(f"--base: {m.path} is not inside the git repository {repo}") from None
        try:
            old = load_manifest(manifest, request.limits, request.limit_overrides) if manifest.is_file() else None
        except DriftguardError as exc:
            raise UsageError(f"--base {ref}: the manifest of {commit[:12]} is not valid: {exc}") from None
        model, models = request.selection.model, request.selection.models
        unchanged = 0
        if request.changed_only:
            wanted = _wanted(m, model, models)
            affected = _affected(request, old, repo, commit)
            models, model = tuple(n for n in wanted if n in affected), None
            unchanged = len(wanted) - len(models)
        plain = replace(request, base=None, changed_only=False, stages=Stages())
        head = parallel.run(replace(plain, selection=Selection.of(m, model, models, request.selection.shard),
                                    repo_root=repo, approvals=replace(request.approvals, provenance=True)))
        before = Report((), today=request.today.isoformat(), root=str(copy), cwd=str(copy))
        if old is not None and (model is None or model in old.models):
            kept = None if models is None else [n for n in models if n in old.models]
            try:
                before = parallel.run(replace(plain, manifest=old, root=base_root, repo_root=copy,
                                              selection=Selection.of(old, model, kept, request.selection.shard),
                                              approvals=ApprovalOptions()))
            except DriftguardError as exc:
                raise UsageError(f"--base {ref}: the check of {commit[:12]} failed: {exc}") from None
        return baseline.judge_change(head, before, ref, commit, unchanged=unchanged)


def _wanted(m: Manifest, model: str | None, models: tuple[str, ...] | None) -> list[str]:
    return [model] if model is not None else list(models) if models is not None else list(m.models)


def _affected(request: CheckRequest, old: Manifest | None, repo: Path, commit: str) -> set[str]:
    """The models whose files, approvals or manifest entry the change from ``commit`` touched."""
    from driftguard.ci import changed

    read_limits = (request.limits or DEFAULT_LIMITS).with_overrides(request.limit_overrides)
    return set(changed.affected_models(request.manifest, old, repo=repo, commit=commit,
                                       changed=changed.changed_files(repo, commit), limits=read_limits))
