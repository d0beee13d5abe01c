"""The gate's one entry: a ``CheckRequest`` to its run. ``--base`` goes to ``gate.baseline``, the rest to
``gate.parallel`` (which runs ``gate.pipeline`` in one process or several)."""

from __future__ import annotations

from driftguard.errors import UsageError
from driftguard.gate import baseline, parallel
from driftguard.gate.request import CheckRequest
from driftguard.report import Report


def check(request: CheckRequest) -> Report:
    """The Report of ``request``. UsageError for ``changed_only`` without ``base``; ``DriftguardError``
    subclasses for bad input and ``rules.engine.RuleCrashed`` for a broken rule."""
    if request.base is not None:
        return baseline.run(request)
    if request.changed_only:
        raise UsageError("--changed-only needs --base REF: the models a change affected are found against it")
    return parallel.run(request)
