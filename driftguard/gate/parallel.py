"""``check --jobs N``: the pipeline over a request's models split across worker processes, joined into the
report one process gives (``ci.merge.join``)."""

from __future__ import annotations

from dataclasses import replace

from driftguard.errors import UsageError
from driftguard.gate import pipeline
from driftguard.gate.request import CheckRequest, Selection
from driftguard.report import Report

#: Models per worker below which another process costs more than it saves (a model takes ~3 ms).
_MODELS_PER_WORKER = 64


def run(request: CheckRequest) -> Report:
    """``pipeline.run`` of ``request``, in ``workers(request.jobs, models)`` processes when that is more than one
    and the parity stage does not run (it fans out through its own executors); the same report either way."""
    names = pipeline.select(request)
    count = workers(request.jobs, len(names))
    if count <= 1 or request.stages.parity is not None:
        return pipeline.run(request, names)
    return run_split(request, names, count)


def workers(jobs: int, models: int) -> int:
    """The processes to check ``models`` models with: ``jobs`` (0: one per CPU, at most 32, and none that
    would get fewer than ``_MODELS_PER_WORKER`` models), never more than the models. UsageError for ``jobs < 0``."""
    if jobs < 0:
        raise UsageError(f"jobs must be 0 (one per CPU) or more, got {jobs}")
    if jobs == 0:
        import os

        jobs = min(os.cpu_count() or 1, 32, models // _MODELS_PER_WORKER)
    return max(1, min(jobs, models))


def parts(request: CheckRequest, names: list[str], count: int) -> list[tuple[CheckRequest, list[str]]]:
    """``names`` in ``count`` consecutive chunks, each with the request a worker runs: the manifest cut down to
    the chunk's models (pickling thousands of models a worker does not check would cost more than checking
    them), and ``known_models`` in the first part only, which alone reports the approvals naming a model the
    manifest lacks."""
    size = -(-len(names) // count)
    chunks = [names[i:i + size] for i in range(0, len(names), size)]
    known = request.selection.known_models
    return [(replace(request, manifest=request.manifest.for_models(chunk), jobs=1,
                     selection=Selection(models=tuple(chunk), shard=request.selection.shard,
                                         known_models=known if i == 0 else None)), chunk)
            for i, chunk in enumerate(chunks)]


def _run_part(part: tuple[CheckRequest, list[str]]) -> Report:
    request, names = part
    return pipeline.run(request, names)


def run_split(request: CheckRequest, names: list[str], count: int) -> Report:
    """``pipeline.run`` of ``names`` split over ``count`` processes (``parts``), joined into one report."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from driftguard.ci.merge import join

    split = parts(request, names, count)
    # fork where there is one: the workers start with driftguard already imported
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=len(split), mp_context=context) as pool:
        reports = list(pool.map(_run_part, split))
    return join(reports, names, request.selection.shard)
