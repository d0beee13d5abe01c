"""torch runner: a checkpoint plus the user's builder ``module:function(config) -> torch.nn.Module``.

The builder (trusted code named in the manifest) makes the module from the side's effective config
(``{canonical key: value}``); the weights come from the checkpoint, read with ``torch.load(weights_only=True)``
only (a checkpoint is untrusted: nothing in it runs). The state dict is the checkpoint itself or its
``state_dict_key`` entry (default: ``state_dict`` when present); ``strip_prefix`` drops a prefix such as
Lightning's ``model.``. Inputs are passed as keyword arguments by golden name. CUDA when present
(``device: auto``). Config adapter: the tokenizer settings, as for ONNX Runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from driftguard.errors import MissingExtraError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import (
    PREPROCESSING_KEYS,
    Arrays,
    Batch,
    RunnerConfig,
    RunnerSettings,
    TensorPreprocessing,
    as_outputs,
    load_user_function,
)


class TorchSettings(RunnerSettings):
    """The torch runner's settings."""

    artifact: str | None = Field(default=None, description="the checkpoint, relative to the manifest; read with "
                                                           "torch.load(weights_only=True)")
    builder: str | None = Field(default=None, description="'module:function' or 'file.py:function' returning the "
                                                          "torch.nn.Module (your trusted code)")
    outputs: tuple[str, ...] = Field(default=(), description="output names (order of a tuple result)")
    state_dict_key: str | None = Field(default=None, description="the checkpoint entry holding the weights "
                                                                 "(default: state_dict when present)")
    strip_prefix: str | None = Field(default=None, description="prefix to drop from weight names")


class TorchRunner:
    Settings = TorchSettings
    runs_artifact = True
    applies = PREPROCESSING_KEYS

    def __init__(self, cfg: RunnerConfig[TorchSettings], config: Mapping[str, Any]) -> None:
        if cfg.settings.artifact is None or not cfg.settings.builder:
            raise ParityError("the torch runner needs an 'artifact' (checkpoint) and a 'builder' (module:function)")
        self.cfg = cfg
        self.spec = cfg.settings
        self.artifact = cfg.path(cfg.settings.artifact)
        self.config = dict(config)
        self.prep = TensorPreprocessing.from_config(config)
        self.module: Any = None
        self.device = "cpu"

    def describe(self) -> str:
        return f"torch:{self.artifact}"

    def setup(self) -> None:
        try:
            import torch
        except ImportError:
            raise MissingExtraError("parity with torch", "parity", "torch") from None
        assert self.artifact is not None and self.spec.builder is not None
        if self.cfg.device == "cuda" and not torch.cuda.is_available():
            raise ParityError("--device cuda: torch sees no CUDA device")
        self.device = "cuda" if self.cfg.device != "cpu" and torch.cuda.is_available() else "cpu"
        if not self.artifact.is_file():
            raise ParityError("checkpoint not found", str(self.artifact))
        builder = load_user_function(self.spec.builder, self.cfg.base, "builder")
        try:
            module = builder(dict(self.config))
        except Exception as exc:
            raise ParityError(f"builder '{self.spec.builder}' raised {type(exc).__name__}: {_first_line(exc)}") \
                from None
        if not isinstance(module, torch.nn.Module):
            raise ParityError(f"builder '{self.spec.builder}' returned a {type(module).__name__}, not a "
                              "torch.nn.Module")
        try:
            state = torch.load(str(self.artifact), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ParityError(f"torch.load(weights_only=True) refused the checkpoint: {_first_line(exc)}",
                              str(self.artifact)) from None
        state = self._state_dict(state)
        try:
            module.load_state_dict(state)
        except Exception as exc:
            raise ParityError(f"the checkpoint's weights do not fit the module the builder made: "
                              f"{_first_line(exc)}", str(self.artifact)) from None
        self.module = module.to(self.device).eval()

    def _state_dict(self, state: Any) -> dict[str, Any]:
        key = self.spec.state_dict_key
        if key is None and isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            key = "state_dict"
        if key is not None:
            if not isinstance(state, dict) or not isinstance(state.get(key), dict):
                raise ParityError(f"the checkpoint has no '{key}' mapping", str(self.artifact))
            state = state[key]
        if not isinstance(state, dict):
            raise ParityError("the checkpoint is not a state dict", str(self.artifact))
        prefix = self.spec.strip_prefix
        if prefix:
            state = {k.removeprefix(prefix): v for k, v in state.items()}
        return dict(state)

    def run(self, batch: Batch) -> Arrays:
        import torch

        if not isinstance(batch, dict):
            raise ParityError("the torch runner takes .npz golden inputs (named arrays), not records",
                              str(self.artifact))
        batch = self.prep.apply(batch)
        feeds = {k: torch.from_numpy(v.copy()).to(self.device) for k, v in batch.items()}
        try:
            with torch.inference_mode():
                result = self.module(**feeds)
        except Exception as exc:
            raise ParityError(f"the module failed on the golden inputs: {type(exc).__name__}: {_first_line(exc)}",
                              str(self.artifact)) from None
        return as_outputs(result, self.spec.outputs, f"torch module of {self.artifact}")

    def teardown(self) -> None:
        self.module = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
