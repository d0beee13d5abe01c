"""What a runner is: set up once, run on batches of golden inputs, tear down; its settings (a pydantic model of
its own, deriving from ``RunnerSettings``, validated when the manifest loads and published in its JSON Schema);
and the config adapter every tensor runner shares (the inverse of an extractor: an effective config becomes
runner settings).

A runner declares the canonical keys it applies (``applies``); keys that differ between the sides and that
no runner applies are reported as not exercised (DG510). A runner that applies the same keys whatever the config
declares them on its class, so attribution reads them without setting it up; one that decides per config or at
set-up sets them on the instance. It declares ``runs_artifact`` when it runs the model
file itself, so what the artifact embodies (precision, the graph, the weights) is exercised too.

Importing this module (and a runner's module) imports no numpy: the manifest loads runner settings on the
config-only path.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from driftguard.parity.errors import ParityError

if TYPE_CHECKING:
    import numpy as np

Arrays = dict[str, "np.ndarray[Any, Any]"]
Batch = Arrays | list[dict[str, Any]]

#: Inputs that hold token positions: truncated and padded as the side's tokenizer settings say.
SEQUENCE_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")

#: Keys the shared tensor adapter applies (when the golden set has sequence inputs).
PREPROCESSING_KEYS = frozenset({"preprocessing.max_length", "preprocessing.truncation_side",
                                "preprocessing.padding_side"})


class RunnerSettings(BaseModel):
    """The settings every runner takes, as the manifest gives them beside ``runner:`` (unknown fields
    forbidden). A runner declares its own model deriving from this one as its ``Settings``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(default=32, ge=1, description="golden samples per call")


S = TypeVar("S", bound=RunnerSettings)


@dataclass(frozen=True)
class RunnerConfig(Generic[S]):
    """A runner as the stage starts it: its registered ``runner`` name, its validated ``settings``, the folder
    its relative paths and user code (``module:function`` or ``path/to/file.py:function``) resolve against
    (``base``, the manifest's), and the device (``auto``, ``cpu``, ``cuda``)."""

    runner: str
    settings: S
    base: Path = field(default_factory=lambda: Path("."))
    device: str = "auto"

    def path(self, relative: str | None) -> Path | None:
        """``relative`` (a settings path) resolved against ``base``; None when unset."""
        return self.base / relative if relative else None


class Runner(Protocol):
    """One way of running a model. ``setup`` loads it (may raise ParityError), ``run`` maps a batch of inputs to
    named outputs (arrays with the sample axis first), ``teardown`` releases it. ``applies`` are the canonical
    keys whose values the runner actually uses; ``describe`` names the runner and artifact for messages.
    The class declares its ``Settings`` model and ``runs_artifact``; it is made as ``cls(cfg, config)``, ``cfg``
    a ``RunnerConfig`` holding its settings, ``config`` the side's effective config ``{key: value}``."""

    Settings: ClassVar[type[RunnerSettings]]
    runs_artifact: ClassVar[bool]
    applies: frozenset[str]

    def setup(self) -> None: ...

    def run(self, batch: Batch) -> Arrays: ...

    def teardown(self) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class TensorPreprocessing:
    """The tokenizer settings a tensor runner applies to golden token arrays: keep at most ``max_length`` real
    tokens per row (``truncation_side`` says which end is cut) and pad on ``padding_side``, keeping the arrays'
    width so fixed-shape graphs still take them."""

    max_length: int | None = None
    truncation_side: str = "right"
    padding_side: str = "right"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TensorPreprocessing:
        ml = config.get("preprocessing.max_length")
        return cls(max_length=int(ml) if isinstance(ml, (int, float)) and not isinstance(ml, bool) and ml < 1e9
                   else None,
                   truncation_side=str(config.get("preprocessing.truncation_side") or "right"),
                   padding_side=str(config.get("preprocessing.padding_side") or "right"))

    def apply(self, batch: Arrays) -> Arrays:
        import numpy as np

        names = [n for n in SEQUENCE_INPUTS if n in batch and np.asarray(batch[n]).ndim == 2]
        if not names:
            return batch
        mask = batch.get("attention_mask")
        width = int(batch[names[0]].shape[1])
        lengths = (np.asarray(mask) != 0).sum(axis=1) if mask is not None else np.full(batch[names[0]].shape[0], width)
        out = dict(batch)
        for n in names:
            out[n] = self._rows(np.asarray(batch[n]), np.asarray(mask) if mask is not None else None, lengths, n)
        return out

    def _rows(self, a: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None, lengths: np.ndarray[Any, Any],
              name: str) -> np.ndarray[Any, Any]:
        import numpy as np

        width = a.shape[1]
        keep_max = min(width, self.max_length) if self.max_length else width
        out = np.zeros_like(a)
        for i, row in enumerate(a):
            real = row[mask[i] != 0] if mask is not None else row
            if len(real) > keep_max:
                real = real[-keep_max:] if self.truncation_side == "left" else real[:keep_max]
            if self.padding_side == "left":
                out[i, width - len(real):] = real
            else:
                out[i, :len(real)] = real
        return out


def load_user_function(spec: str, base: Path, what: str) -> Any:
    """The object ``spec`` names: ``package.module:function`` (importable) or ``path/to/file.py:function``
    (relative to ``base``). This runs the user's own code, named in their manifest: trusted, unlike artifacts."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ParityError(f"{what} must be 'module:function' or 'path/file.py:function', got '{spec}'")
    try:
        if module_name.endswith(".py"):
            path = (base / module_name).resolve()
            if not path.is_file():
                raise ParityError(f"{what} '{spec}': {path} not found")
            name = f"driftguard_user_{abs(hash(str(path)))}"
            module = sys.modules.get(name)
            if module is None:
                loader_spec = importlib.util.spec_from_file_location(name, path)
                if loader_spec is None or loader_spec.loader is None:
                    raise ParityError(f"{what} '{spec}': cannot load {path}")
                module = importlib.util.module_from_spec(loader_spec)
                sys.modules[name] = module
                try:
                    loader_spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
        else:
            module = importlib.import_module(module_name)
    except ParityError:
        raise
    except Exception as exc:
        raise ParityError(f"{what} '{spec}' failed to import: {type(exc).__name__}: {_first_line(exc)}") from None
    obj = getattr(module, attr, None)
    if obj is None or not callable(obj):
        raise ParityError(f"{what} '{spec}': no callable '{attr}' in {module_name}")
    return obj


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"


def as_outputs(result: Any, names: tuple[str, ...], what: str) -> Arrays:
    """A runner's result as named arrays: a mapping (names kept), or a tensor/array or a tuple of them (named
    by ``names``, else ``output``, ``output_1``...)."""
    if isinstance(result, Mapping):
        return {str(k): _array(v, what) for k, v in result.items()}
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    if names and len(names) != len(items):
        raise ParityError(f"{what} returned {len(items)} outputs but {len(names)} are named ({', '.join(names)})")
    labels = names or tuple("output" if i == 0 else f"output_{i}" for i in range(len(items)))
    return {n: _array(v, what) for n, v in zip(labels, items, strict=True)}


def _array(v: Any, what: str) -> np.ndarray[Any, Any]:
    import numpy as np

    if hasattr(v, "detach"):  # a torch tensor
        v = v.detach().float().cpu().numpy() if str(getattr(v, "dtype", "")) == "torch.bfloat16" \
            else v.detach().cpu().numpy()
    try:
        return np.asarray(v)
    except Exception as exc:
        raise ParityError(f"{what} returned a {type(v).__name__} that is not an array: {_first_line(exc)}") from None
