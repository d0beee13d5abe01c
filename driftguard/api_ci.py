"""The parts of ``api.check`` that serve CI: judging a change against a git revision (``--base``,
``--changed-only``), checking models in worker processes (``--jobs``), and approval provenance
(``--require-committed-approvals``). ``api.check`` calls in here; the pieces that read git live in
``driftguard.ci``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.api import check
from driftguard.errors import DriftguardError, UsageError
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.report import Report

if TYPE_CHECKING:
    from driftguard.manifest import Manifest


#: Models per worker below which another process costs more than it saves (a model takes ~3 ms).
_MODELS_PER_WORKER = 64


def workers(jobs: int, models: int) -> int:
    if jobs < 0:
        raise UsageError(f"jobs must be 0 (one per CPU) or more, got {jobs}")
    if jobs == 0:
        import os

        jobs = min(os.cpu_count() or 1, 32, models // _MODELS_PER_WORKER)
    return max(1, min(jobs, models))


def _check_part(args: tuple[Manifest, list[str], Sequence[str] | None, dict[str, object]]) -> Report:
    from driftguard.gate import pipeline

    m, names, known_models, options = args
    return pipeline.run(m, names, known_models=known_models, **options)  # type: ignore[arg-type]


def check_parallel(m: Manifest, names: list[str], workers: int, *, shard: tuple[int, int] | None,
                    known_models: Sequence[str] | None, **options: object) -> Report:
    """``check`` of ``names`` split over ``workers`` processes, joined into the report one process gives.
    ``options``: ``gate.pipeline.run``'s; ``known_models`` (its too) goes to the first part only, which alone
    reports the approvals naming a model the manifest lacks."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from driftguard.ci.merge import join

    size = -(-len(names) // workers)
    chunks = [names[i:i + size] for i in range(0, len(names), size)]
    # fork where there is one: the workers start with driftguard already imported
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        # each worker gets a manifest of its own models only: pickling thousands of models it does not check
        # would cost more than checking them
        parts = list(pool.map(_check_part, [(m.for_models(chunk), chunk, known_models if i == 0 else None,
                                             {**options, "shard": shard}) for i, chunk in enumerate(chunks)]))
    return join(parts, names, shard)


def check_against(ref: str, m: Manifest, *, model: str | None, strict: bool, today: date, limits: Limits | None,
                   root: str | Path | None, limit_overrides: Mapping[str, object] | None,
                   repo_root: str | Path | None, shard: tuple[int, int] | None = None,
                   models: Sequence[str] | None = None, jobs: int = 1, changed_only: bool = False,
                   require_committed_approvals: bool = False) -> Report:
    """``check`` of the working tree judged against the same check of revision ``ref``'s files (written to a
    temporary folder: the work tree, index and refs are left alone); with ``changed_only``, of the models the
    change can have affected (``driftguard.ci.changed``)."""
    import tempfile

    from driftguard import manifest as manifest_mod
    from driftguard.ci import baseline, changed, gitref
    from driftguard.ci.repo import repository_root

    gitref.validate_revision(ref)
    repo = Path(repo_root).resolve() if repo_root is not None else repository_root(m.base)
    commit = gitref.resolve(repo, ref)
    folder = Path(root) if root is not None else m.base
    read_limits = (limits or DEFAULT_LIMITS).with_overrides(limit_overrides or {})
    options = {"strict": strict, "today": today, "limits": limits, "limit_overrides": limit_overrides,
               "shard": shard, "jobs": jobs}
    with tempfile.TemporaryDirectory(prefix="driftguard-base-") as tmp:
        copy = Path(tmp)
        gitref.materialize(repo, commit, folder, copy)
        try:
            manifest = copy / Path(m.path).resolve().relative_to(repo)
            base_root = copy / folder.resolve().relative_to(repo)
        except ValueError:
            raise UsageError(f"--base: {m.path} is not inside the git repository {repo}") from None
        try:
            old = manifest_mod.load(manifest, read_limits) if manifest.is_file() else None
        except DriftguardError as exc:
            raise UsageError(f"--base {ref}: the manifest of {commit[:12]} is not valid: {exc}") from None
        unchanged = 0
        if changed_only:
            wanted = [model] if model is not None else list(models) if models is not None else list(m.models)
            affected = set(changed.affected_models(m, old, repo=repo, commit=commit,
                                                   changed=changed.changed_files(repo, commit), limits=read_limits))
            models, model = [n for n in wanted if n in affected], None
            unchanged = len(wanted) - len(models)
        head = check(m, model=model, root=root, repo_root=repo, models=models, approval_provenance=True,
                     require_committed_approvals=require_committed_approvals, **options)  # type: ignore[arg-type]
        before = Report((), today=today.isoformat(), root=str(copy), cwd=str(copy))
        if old is not None and (model is None or model in old.models):
            kept = None if models is None else [n for n in models if n in old.models]
            try:
                before = check(old, model=model, root=base_root, repo_root=copy, models=kept,
                               **options)  # type: ignore[arg-type]  # the options check() took
            except DriftguardError as exc:
                raise UsageError(f"--base {ref}: the check of {commit[:12]} failed: {exc}") from None
        return baseline.judge_change(head, before, ref, commit, unchanged=unchanged)
