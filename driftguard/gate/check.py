"""The gate's one entry: a ``CheckRequest`` to its run. ``--base`` goes to ``gate.baseline``, the rest to
``gate.parallel`` (which runs ``gate.pipeline`` in one process or several)."""

from __future__ import annotations

from dataclasses import replace

from driftguard.errors import UsageError
from driftguard.gate import baseline, parallel
from driftguard.gate.request import CheckRequest
from driftguard.report import Report, RunBinding


def check(request: CheckRequest) -> Report:
    """The Report of ``request``. UsageError for ``changed_only`` without ``base`` and for the parity stage with
    ``base`` (a ``--base`` run judges the rules only; it once dropped parity without a word); ``DriftguardError``
    subclasses for bad input and ``rules.engine.RuleCrashed`` for a broken rule."""
    request = narrowed_to_files(request)
    if request.base is not None:
        if request.stages.parity is not None:  # never a silent pass: the parity stage was asked for and not run
            raise UsageError("--parity cannot be judged against --base yet: run `driftguard check --base REF` for "
                             "the rules and `driftguard parity` for parity")
        return bind(request, baseline.run(request))
    if request.changed_only:
        raise UsageError("--changed-only needs --base REF: the models a change affected are found against it")
    if request.approvals.require_base:
        raise UsageError("--require-base-approvals needs --base REF: the approvals that count are REF's")
    return bind(request, parallel.run(request))


def narrowed_to_files(request: CheckRequest) -> CheckRequest:
    """``request`` with its selection narrowed to the models its ``files`` can affect (``ci.changed``), as a run
    of chosen models (approvals naming models the manifest lacks are a whole run's to report); unchanged when it
    names no files."""
    if request.files is None:
        return request
    from driftguard.ci.changed import models_reading

    reading = models_reading(request.manifest, request.files, request.read_limits())
    chosen = request.selection
    models = reading if chosen.models is None else [n for n in chosen.models if n in reading]
    return replace(request, selection=replace(chosen, models=tuple(models), known_models=None))


def bind(request: CheckRequest, report: Report) -> Report:
    """``report`` with what ties it to this run (``report.RunBinding``): the commit checked out in the
    repository the report's paths are relative to, the SHA-256 of the manifest file, and the models the run
    chose before ``--shard`` split them; ``driftguard report`` refuses shards that disagree on any of them."""
    import hashlib
    from pathlib import Path

    from driftguard.ci.repo import head_commit
    from driftguard.gate.pipeline import select_models
    from driftguard.readers import files

    m, chosen = request.manifest, request.selection
    digest = None
    if files.exists(m.path) and not files.is_dir(m.path):
        digest = hashlib.sha256(files.read_bytes(m.path, m.effective_limits(), what="manifest")).hexdigest()
    commit = head_commit(Path(report.root)) if report.root else None
    models = select_models(m, chosen.model, chosen.models, parity_only=request.stages.parity_only)
    run = RunBinding(commit, digest, tuple(models))
    return replace(report, run=run)
