"""What a runner is: set up once, run on batches of golden inputs, tear down; and the config adapter every
tensor runner shares (the inverse of an extractor: an effective config becomes runner settings).

A runner declares the canonical keys it applies (``applies``); keys that differ between the sides and that
no runner applies are reported as not exercised (DG510).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from driftguard.parity.errors import ParityError

Arrays = dict[str, "np.ndarray[Any, Any]"]
Batch = Arrays | list[dict[str, Any]]

#: Inputs that hold token positions: truncated and padded as the side's tokenizer settings say.
SEQUENCE_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")

#: Keys the shared tensor adapter applies (when the golden set has sequence inputs).
PREPROCESSING_KEYS = frozenset({"preprocessing.max_length", "preprocessing.truncation_side",
                                "preprocessing.padding_side"})


@dataclass(frozen=True)
class RunnerConfig:
    """A runner as the manifest names it, resolved: the artifact (absolute), the user's code (``module:function``
    or ``path/to/file.py:function``, relative to ``base``), output names, threads, device, batch size."""

    runner: str
    artifact: Path | None = None
    builder: str | None = None
    function: str | None = None
    outputs: tuple[str, ...] = ()
    applies: tuple[str, ...] = ()
    intra_op_threads: int | None = None
    inter_op_threads: int | None = None
    batch_size: int = 32
    device: str = "auto"
    base: Path = field(default_factory=lambda: Path("."))
    state_dict_key: str | None = None
    strip_prefix: str | None = None
    url: str | None = None
    model: str | None = None
    model_version: str | None = None


class Runner(Protocol):
    """One way of running a model. ``setup`` loads it (may raise ParityError), ``run`` maps a batch of inputs to
    named outputs (arrays with the sample axis first), ``teardown`` releases it. ``applies`` are the canonical
    keys whose values the runner actually uses; ``describe`` names the runner and artifact for messages."""

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
    if hasattr(v, "detach"):  # a torch tensor
        v = v.detach().float().cpu().numpy() if str(getattr(v, "dtype", "")) == "torch.bfloat16" \
            else v.detach().cpu().numpy()
    try:
        return np.asarray(v)
    except Exception as exc:
        raise ParityError(f"{what} returned a {type(v).__name__} that is not an array: {_first_line(exc)}") from None
