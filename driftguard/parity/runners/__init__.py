"""Runners: ``RUNNERS`` is the registry of the ways a model is run for parity (``registry.Registry``): runner
name -> ``"module:Class"``, imported only when used, plus third-party runners from the
``driftguard.parity.runners`` entry point group (``name = "package.module:RunnerClass"``; a built-in name wins a
clash). A runner class satisfies ``runners.base.Runner``: it declares its ``Settings`` (a pydantic model
deriving from ``RunnerSettings``; the manifest validates a runner's fields against it and the manifest's JSON
Schema lists it) and ``runs_artifact``. Adding a runner is its module and one line here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftguard.parity.runners.base import Runner, RunnerConfig, RunnerSettings
from driftguard.registry import Registry


def _runner_class(obj: object) -> type[Any]:
    """The ``accept`` of ``RUNNERS``: a class with what ``runners.base.Runner`` declares."""
    settings = getattr(obj, "Settings", None)
    if not (isinstance(obj, type) and isinstance(settings, type) and issubclass(settings, RunnerSettings)
            and isinstance(getattr(obj, "runs_artifact", None), bool)
            and all(callable(getattr(obj, m, None)) for m in ("setup", "run", "teardown", "describe"))):
        raise TypeError("a runner class (Settings deriving from RunnerSettings, runs_artifact, setup, run, "
                        "teardown, describe)")
    return obj


RUNNERS: Registry[type[Any]] = Registry("driftguard.parity.runners", {
    "onnxruntime": "driftguard.parity.runners.onnxruntime:OnnxRuntimeRunner",
    "torch": "driftguard.parity.runners.torch:TorchRunner",
    "callable": "driftguard.parity.runners.python_callable:CallableRunner",
    "triton-http": "driftguard.parity.runners.triton_http:TritonHttpRunner",
    "hf": "driftguard.parity.runners.hf:HfRunner",
}, _runner_class)


def settings_model(name: str) -> type[RunnerSettings]:
    """The settings model of the runner registered as ``name`` (KeyError naming the runners when none is)."""
    model: type[RunnerSettings] = RUNNERS.load(name).Settings
    return model


def make(cfg: RunnerConfig[Any], config: Mapping[str, Any]) -> Runner:
    """The runner ``cfg.runner`` names, configured from its settings and an effective config ``{key: value}``."""
    runner: Runner = RUNNERS.load(cfg.runner)(cfg, config)
    return runner
