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
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from driftguard.parity.errors import ParityError
from driftguard.readers import files
from driftguard.readers.limits import DEFAULT, Limits

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
    limits: Limits = DEFAULT

    def path(self, relative: str | None) -> Path | None:
        """``relative`` (a settings path) resolved against ``base``; None when unset."""
        return self.base / relative if relative else None

    def vetted_file(self, path: Path, what: str) -> Path:
        """``path`` checked before a library opens it (``readers.files.vetted``: a regular file inside the
        checked tree, symlinks resolved); the resolved path to open. ParityError when it is missing."""
        if not files.exists(path):
            raise ParityError(f"{what} not found", str(path))
        return files.vetted(path, what)

    def vetted_folder(self, path: Path, what: str) -> Path:
        """``path``, a folder a library loads whole, with every file under it checked as ``vetted_file``
        checks one (at most ``folder_files``); the folder's resolved path."""
        if not files.is_dir(path):
            raise ParityError(f"{what} not found", str(path))
        files.folder_files(path, self.limits, what)
        return files.vetted_dir(path, what)


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


#: The side's special tokens that a tokenizer puts around a sequence (``hf.tokenizer.<name>_id``, read from its
#: tokenizer_config.json): truncation keeps them, as a tokenizer truncates the text before adding them.
EDGE_TOKEN_KEYS = ("hf.tokenizer.cls_token_id", "hf.tokenizer.bos_token_id", "hf.tokenizer.sep_token_id",
                   "hf.tokenizer.eos_token_id")


@dataclass(frozen=True)
class TensorPreprocessing:
    """The tokenizer settings a tensor runner applies to golden token arrays: keep at most ``max_length`` real
    tokens per row (``truncation_side`` says which end is cut) and pad on ``padding_side``, keeping the arrays'
    width so fixed-shape graphs still take them.

    Truncation keeps the special tokens as a tokenizer with ``truncation=True`` does (it cuts the text, then adds
    them): the leading and trailing tokens of a row whose ids are in ``special`` (the side's ``[CLS]``/``<s>`` and
    ``[SEP]``/``</s>``) stay, and the tokens between them are cut on the truncation side. With no ``special``
    ids known, the first (or last) ``max_length`` tokens are kept as they are."""

    max_length: int | None = None
    truncation_side: str = "right"
    padding_side: str = "right"
    special: frozenset[int] = frozenset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TensorPreprocessing:
        return cls(max_length=max_length_of(config),
                   truncation_side=str(config.get("preprocessing.truncation_side") or "right"),
                   padding_side=str(config.get("preprocessing.padding_side") or "right"),
                   special=edge_token_ids(config))

    @classmethod
    def for_side(cls, config: Mapping[str, Any], folder: Path | None) -> TensorPreprocessing:
        """``from_config``, with the special token ids read from the side's real tokenizer in ``folder`` when
        the config names none and truncation can cut: a tokenizer folder saved by transformers 5 has no
        ``added_tokens_decoder`` in its tokenizer_config.json, so its ids are not in the extracted config."""
        prep = cls.from_config(config)
        if prep.special or prep.max_length is None or folder is None:
            return prep
        from driftguard.parity.runners.tokenizer import edge_ids

        return replace(prep, special=edge_ids(folder))

    def describe(self) -> str:
        """What the adaptation does, in words (for the report: token arrays adapted, not tokenized)."""
        cut = f"at most {self.max_length} tokens a row, cut on the {self.truncation_side}" if self.max_length \
            else "no truncation"
        kept = (f" keeping the special tokens {', '.join(str(i) for i in sorted(self.special))} as the tokenizer "
                "does" if self.special else
                " (the side's config names no special tokens: an end token is cut like any other)") \
            if self.max_length else ""
        return f"token arrays adapted, not tokenized: {cut}{kept}, padded on the {self.padding_side}"

    def apply(self, batch: Arrays) -> Arrays:
        import numpy as np

        names = [n for n in SEQUENCE_INPUTS if n in batch and np.asarray(batch[n]).ndim == 2]
        if not names:
            return batch
        first = np.asarray(batch[names[0]])
        rows, width = int(first.shape[0]), int(first.shape[1])
        mask = np.asarray(batch["attention_mask"]) if "attention_mask" in batch else None
        ids = np.asarray(batch["input_ids"]) if "input_ids" in names else None
        kept = []
        for i in range(rows):
            real = np.flatnonzero(mask[i] != 0) if mask is not None else np.arange(width)
            kept.append(real[self.keep(ids[i, real] if ids is not None else None, len(real))])
        out = dict(batch)
        for n in names:
            a = np.asarray(batch[n])
            placed = np.zeros_like(a)
            for i, where in enumerate(kept):
                if self.padding_side == "left":
                    placed[i, width - len(where):] = a[i, where]
                else:
                    placed[i, :len(where)] = a[i, where]
            out[n] = placed
        return out

    def keep(self, ids: np.ndarray[Any, Any] | None, count: int) -> np.ndarray[Any, Any]:
        """Which of a row's ``count`` real tokens (``ids``, when known) truncation keeps, as positions."""
        import numpy as np

        limit = self.max_length
        if limit is None or count <= limit:
            return np.arange(count)
        lead = trail = 0
        if ids is not None and self.special:
            while lead < count and int(ids[lead]) in self.special:
                lead += 1
            while trail < count - lead and int(ids[count - 1 - trail]) in self.special:
                trail += 1
        room = limit - lead - trail
        if room < 0:  # more special tokens than max_length: the tokenizer refuses; cut them like text
            lead = trail = 0
            room = limit
        body = np.arange(lead, count - trail)
        body = (body[len(body) - room:] if room else body[:0]) if self.truncation_side == "left" else body[:room]
        return np.concatenate([np.arange(lead), body, np.arange(count - trail, count)]).astype(np.int64)


def max_length_of(config: Mapping[str, Any]) -> int | None:
    """The side's ``preprocessing.max_length`` as every runner applies it: a count of tokens from 1 up to below
    a very large one (tokenizers save 1e30 for "no limit"); None, no truncation, for anything else (unset, 0 or
    less, a fraction below 1, a bool, a string). The tensor adapter, the real tokenizer and the hf runner read it
    here, so one side's text and token arrays are cut alike."""
    ml = config.get("preprocessing.max_length")
    return int(ml) if isinstance(ml, (int, float)) and not isinstance(ml, bool) and 1 <= ml < 1e9 else None


def torch_device(requested: str, cuda: bool) -> str:
    """The torch device for a runner's ``device`` setting (``auto``, ``cpu``, ``cuda``) when torch does or does
    not see CUDA (``cuda``): CUDA when present unless ``cpu`` is asked for (the torch and hf runners)."""
    return "cuda" if requested != "cpu" and cuda else "cpu"


def edge_token_ids(config: Mapping[str, Any]) -> frozenset[int]:
    """The ids of the side's ``[CLS]``/``<s>``/``[SEP]``/``</s>`` tokens its effective config names."""
    out: set[int] = set()
    for key in EDGE_TOKEN_KEYS:
        v = config.get(key)
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, int) and not isinstance(item, bool):
                out.add(item)
    return frozenset(out)


class TextInputs:
    """Text golden records for a tensor runner: tokenized by the side's real tokenizer (``runners.tokenizer``),
    loaded on the first records (transformers is imported only then), once even when threads call at once."""

    def __init__(self, setting: Path | None, artifact: Path | None, config: Mapping[str, Any], runner: str) -> None:
        from driftguard.parity.runners.tokenizer import SideTokenizer, folder_of

        folder = folder_of(setting, artifact)
        self.folder = folder
        self.runner = runner
        self.tokenizer = SideTokenizer(folder, config) if folder is not None else None
        self._lock = threading.Lock()

    def encode(self, records: list[dict[str, Any]], width: int | None) -> Arrays:
        if self.tokenizer is None:
            raise ParityError(f"the {self.runner} runner got text (.jsonl records) but the side has no tokenizer: "
                              "set 'tokenizer:' (a folder with tokenizer files) or keep them beside the artifact")
        with self._lock:
            if self.tokenizer.tokenizer is None:
                self.tokenizer.load()
        return self.tokenizer.encode(records, width)


def load_user_function(spec: str, base: Path, what: str) -> Any:
    """The object ``spec`` names: ``package.module:function`` (importable) or ``path/to/file.py:function``
    (relative to ``base``). This runs the user's own code, named in their manifest: trusted, unlike artifacts (a
    gate run never runs it, and reports a change to it: ``gate.policy``)."""
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
