"""``driftguard golden record``: run each model's reference once on its golden inputs and store the outputs
beside them (``parity.stage.record``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.gate.pipeline import parity_models
from driftguard.gate.sides import build_side
from driftguard.parity.request import ParityRequest

if TYPE_CHECKING:
    from driftguard.manifest import Manifest
    from driftguard.readers.limits import Limits


def trusted(path_or_manifest: str | Path | Manifest, base: str) -> Callable[[Path], bool]:
    """Which recordings a run judged against revision ``base`` may use: those ``base`` holds byte for byte
    (``ci.gitref.unchanged_since``, in the manifest's repository). A recording the change added or edited
    is evidence the change supplied itself, so the reference runs instead. UsageError for a revision that
    is not one or that the repository lacks."""
    from driftguard.ci import gitref
    from driftguard.ci.repo import repository_root
    from driftguard.gate.request import load_manifest

    gitref.validate_revision(base)
    m = load_manifest(path_or_manifest)
    repo = repository_root(m.base)
    return gitref.unchanged_since(repo, gitref.resolve(repo, base), m.effective_limits())


def record(m: Manifest, model: str | None, request: ParityRequest) -> list[Path]:
    """For every model of ``m`` with a ``parity:`` section (or only ``model``): its training side built, its
    reference run on the golden inputs (``request.golden`` instead of the manifest's, on ``request.device``) and
    the outputs written as ``<stem>.<model>.reference.npz`` (one per model: variants sharing a golden set keep
    their own). Returns the files written; UsageError when no model (or not
    ``model``) has a ``parity:`` section."""
    from driftguard.readers import files

    written: list[Path] = []
    limits = m.effective_limits()
    roots = (m.base,) if request.golden is None else (m.base, Path(request.golden).parent)
    with files.confined(*roots):
        for name in parity_models(m, [model] if model is not None else list(m.models), model):
            written.extend(_record_one(m, name, request, limits))
    return written


def _record_one(m: Manifest, name: str, request: ParityRequest, limits: Limits) -> list[Path]:
    """``record`` of one model: its training side built and its reference run on its golden inputs."""
    from driftguard.parity import stage
    from driftguard.parity.model_parity import ModelParity, plain

    spec = m.models[name]
    training = build_side("training", spec.training, m.base, limits, m.base, m.path,
                          locate=functools.partial(m.artifact_at, name, "training"))
    assert spec.parity is not None
    model_parity = ModelParity(name, spec.parity, m.base, m.path, plain(training.merged), {}, request=request,
                               limits=limits)
    return stage.record(model_parity)
