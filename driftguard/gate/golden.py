"""``driftguard golden record``: run each model's reference once on its golden inputs and store the outputs
beside them (``parity.stage.record``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.gate.pipeline import parity_models
from driftguard.gate.sides import build_side
from driftguard.parity.request import ParityRequest

if TYPE_CHECKING:
    from driftguard.manifest import Manifest


def record(m: Manifest, model: str | None, request: ParityRequest) -> list[Path]:
    """For every model of ``m`` with a ``parity:`` section (or only ``model``): its training side built, its
    reference run on the golden inputs (``request.golden`` instead of the manifest's, on ``request.device``) and
    the outputs written as ``<stem>.reference.npz``. Returns the files written; UsageError when no model (or not
    ``model``) has a ``parity:`` section."""
    from driftguard.parity import stage
    from driftguard.parity.model_parity import ModelParity, plain

    written: list[Path] = []
    limits = m.effective_limits()
    for name in parity_models(m, [model] if model is not None else list(m.models), model):
        spec = m.models[name]
        training = build_side("training", spec.training, m.base, limits, m.base, m.path,
                              locate=functools.partial(m.artifact_at, name, "training"))
        assert spec.parity is not None
        model_parity = ModelParity(name, spec.parity, m.base, m.path, plain(training.merged), {}, request=request)
        written.extend(stage.record(model_parity))
    return written
