"""Runners: ``RUNNERS`` maps a runner name to the module that implements it (imported only when used) and its
class name. Each module's runner satisfies ``runners.base.Runner``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from driftguard.parity.errors import ParityError

if TYPE_CHECKING:
    from driftguard.parity.runners.base import Runner, RunnerConfig

RUNNERS: dict[str, tuple[str, str]] = {
    "onnxruntime": ("driftguard.parity.runners.ort", "OnnxRuntimeRunner"),
    "torch": ("driftguard.parity.runners.torch_module", "TorchRunner"),
    "callable": ("driftguard.parity.runners.python_callable", "CallableRunner"),
    "triton-http": ("driftguard.parity.runners.triton_http", "TritonHttpRunner"),
    "hf": ("driftguard.parity.runners.hf", "HfRunner"),
}


def make(cfg: RunnerConfig, config: Mapping[str, Any]) -> Runner:
    """The runner ``cfg.runner`` names, configured from an effective config (``{key: value}``)."""
    if cfg.runner not in RUNNERS:
        raise ParityError(f"unknown runner '{cfg.runner}'; runners: {', '.join(RUNNERS)}")
    module, cls = RUNNERS[cfg.runner]
    runner: Runner = getattr(importlib.import_module(module), cls)(cfg, config)
    return runner
