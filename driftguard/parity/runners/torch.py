"""torch runner: a checkpoint plus the user's builder ``module:function(config) -> torch.nn.Module``.

The builder (trusted code named in the manifest) makes the module from the side's effective config
(``{canonical key: value}``); the weights come from the checkpoint, read with ``torch.load(weights_only=True)``
only (a checkpoint is untrusted: nothing in it runs). The state dict is the checkpoint itself or its
``state_dict_key`` entry (default: ``state_dict`` when present); ``strip_prefix`` drops a prefix such as
Lightning's ``model.``; weight names that do not fit are listed, with the prefix that would fit them. Inputs
are passed as keyword arguments by golden name (only those ``forward`` names, unless it takes ``**kwargs``),
floating ones in the weights' dtype. CUDA when present
(``device: auto``). Config adapter: the tokenizer settings, as for ONNX Runtime; text golden records through the
side's real tokenizer, as for ONNX Runtime (``tokenizer:``, else tokenizer files beside the checkpoint).
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
    TextInputs,
    as_outputs,
    load_user_function,
    torch_device,
)
from driftguard.readers import floors


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
    tokenizer: str | None = Field(default=None, description="folder of the side's tokenizer, for text golden inputs "
                                                            "(default: the checkpoint's folder when it holds one)")


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
        self.text = TextInputs(cfg.path(cfg.settings.tokenizer), self.artifact, config, "torch")
        self.prep = TensorPreprocessing.for_side(config, self.text.folder)
        self.module: Any = None
        self.floating: Any = None
        self.accepts: frozenset[str] | None = None
        self.device = "cpu"

    def describe(self) -> str:
        return f"torch:{self.artifact}"

    @staticmethod
    def execution(cfg: RunnerConfig[Any]) -> str:
        """The torch device a module of ``cfg`` runs on (``device: auto``: CUDA when torch sees it), decided as
        ``setup`` decides it, so every executor reports the same."""
        import torch

        return torch_device(cfg.device, torch.cuda.is_available())

    def setup(self) -> None:
        try:
            import torch
        except ImportError:
            raise MissingExtraError("parity with torch", "parity", "torch") from None
        floors.check("torch", torch.__version__)  # before torch.load meets the checkpoint
        assert self.artifact is not None and self.spec.builder is not None
        if self.cfg.device == "cuda" and not torch.cuda.is_available():
            raise ParityError("--device cuda: torch sees no CUDA device")
        self.device = torch_device(self.cfg.device, torch.cuda.is_available())
        checkpoint = self.cfg.vetted_file(self.artifact, "checkpoint")
        builder = load_user_function(self.spec.builder, self.cfg.base, "builder")
        try:
            module = builder(dict(self.config))
        except Exception as exc:
            raise ParityError(f"builder '{self.spec.builder}' raised {type(exc).__name__}: {_first_line(exc)}") \
                from None
        if not isinstance(module, torch.nn.Module):
            raise ParityError(f"builder '{self.spec.builder}' returned a {type(module).__name__}, not a "
                              "torch.nn.Module")
        # the metadata reader's rules and limits first (archive layout, zip bomb, refused globals, pickle
        # size): torch.load never sees a file they refuse, and never runs before a limit
        from driftguard.readers import torch_archive

        torch_archive.check_archive(checkpoint, self.cfg.limits)
        try:
            state = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ParityError(f"torch.load(weights_only=True) refused the checkpoint: {_first_line(exc)}",
                              str(self.artifact)) from None
        state = self._state_dict(state)
        misfit = _misfit(module.state_dict(), state, self.spec.strip_prefix)
        if misfit:
            raise ParityError(f"the checkpoint's weights do not fit the module the builder made: {misfit}",
                              str(self.artifact))
        try:
            module.load_state_dict(state)
        except Exception as exc:
            raise ParityError(f"the checkpoint's weights do not fit the module the builder made: "
                              f"{_first_line(exc)}", str(self.artifact)) from None
        self.module = module.to(self.device).eval()
        self.floating = next((p.dtype for p in module.parameters() if p.dtype.is_floating_point), None)
        self.accepts = _parameters(module)

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

        batch = self.text.encode(batch, None) if isinstance(batch, list) else self.prep.apply(batch)
        feeds = {k: self._tensor(torch.from_numpy(v.copy())) for k, v in batch.items()
                 if self.accepts is None or k in self.accepts}
        try:
            with torch.inference_mode():
                result = self.module(**feeds)
        except Exception as exc:
            raise ParityError(f"the module failed on the golden inputs: {type(exc).__name__}: {_first_line(exc)}",
                              str(self.artifact)) from None
        return as_outputs(result, self.spec.outputs, f"torch module of {self.artifact}")

    def _tensor(self, t: Any) -> Any:
        """A golden array as the module takes it: floating arrays in its weights' dtype (a float64 ``.npz``
        against float32 weights was torch's raw "expected scalar type" error), on its device."""
        if self.floating is not None and t.dtype.is_floating_point and t.dtype != self.floating:
            t = t.to(self.floating)
        return t.to(self.device)

    def teardown(self) -> None:
        self.module = None


def _parameters(module: Any) -> frozenset[str] | None:
    """The keyword arguments ``module.forward`` takes, or None when it takes any (``**kwargs``): golden arrays
    it does not name (``labels`` kept beside the inputs) are not passed, as the ONNX runner feeds only the
    graph's inputs."""
    import inspect

    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _misfit(expected: Mapping[str, Any], state: Mapping[str, Any], prefix: str | None) -> str:
    """What keeps ``state`` from loading into a module whose own state dict is ``expected``: the missing and
    unexpected weight names (a few of each, with counts), and the prefix that would explain them, since the
    usual cause is a wrapper's prefix (Lightning's ``model.``) that ``strip_prefix`` should drop; empty when
    the names match (shape errors are left to torch's own message)."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if not missing and not unexpected:
        return ""

    def few(names: list[str]) -> str:
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing ({few(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected ({few(unexpected)})")
    hint = f" (names after strip_prefix '{prefix}')" if prefix else ""
    heads = {k.split(".", 1)[0] + "." for k in unexpected if "." in k}
    if missing and len(heads) == 1:
        head = next(iter(heads))
        if all(k.removeprefix(head) in expected for k in unexpected):
            hint += f"; strip_prefix: '{head}' would make them fit"
    return "; ".join(parts) + hint


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
