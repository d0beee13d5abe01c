"""The transformers hooks of ``driftguard.capture``: what ``generate()`` and a tokenizer call actually used.

Each public method is wrapped at its class (``GenerationMixin.generate``, ``PreTrainedTokenizerBase.__call__``),
so every model and tokenizer that inherits it is seen; the wrapper notes the caller's file and line, calls the
original with the same arguments and returns what it returned. The value itself is read where transformers
resolves it, by wrapping the method that resolves it and keeping its result, never by computing it a second
time:

- ``generate()``: ``GenerationMixin._prepare_generation_config`` returns the ``GenerationConfig`` the rest of
  ``generate()`` runs with, the model's ``generation_config`` overlaid with the call's ``generation_config`` and
  keyword arguments, global defaults below (transformers 5.25.0 ``generation/utils.py``; 4.56 the same method
  and result). Its members that are set (not None) are the record, as ``to_dict()`` gives them.
- a tokenizer call: ``PreTrainedTokenizerBase._get_padding_truncation_strategies`` returns the padding and
  truncation strategies and the ``max_length`` the call encodes with (``model_max_length`` when truncating with
  none given; no truncation when that is "infinite"); the padding side is the call's ``padding_side`` (or
  ``tokenizer_kwargs``'s, merged as ``__call__`` merges them) else the tokenizer's, the truncation side the
  tokenizer's, as ``_encode_plus`` reads them.

Only the outermost call on a thread is recorded (an assistant model's ``generate()`` inside another is the
outer call's business); each thread keeps its own state, and records go to the callback from any thread.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftguard.model import Json

#: Top-level modules whose frames are the engine's, not the user's: a call site is the first frame outside them.
ENGINE_MODULES = frozenset(("transformers", "torch", "tokenizers", "accelerate", "peft", "vllm"))


@dataclass(frozen=True)
class Record:
    """One recorded call: which (``generate`` or ``tokenizer``), where the user's code made it (``file:line``),
    and the settings it used (JSON-ready)."""

    endpoint: str
    site: str
    body: dict[str, Json]


Emit = Callable[[Record], None]


@dataclass
class _Open:
    """The outermost call in progress on this thread, until its settings are recorded (``taken``)."""

    site: str
    owner: object
    extra: dict[str, Json] = field(default_factory=dict)
    taken: bool = False


_STATE = threading.local()
#: This package's frames are not the user's either.
_OWN = "driftguard.capture"


def call_site() -> str:
    """``file:line`` of the nearest frame outside the engines and this package (the user's call); the file
    relative to the working directory when it is inside it."""
    frame = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.split(".", 1)[0] not in ENGINE_MODULES and not name.startswith(_OWN):
            return f"{_shown(frame.f_code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]  # None at the bottom of the stack ends the loop
    return "<unknown>:0"


def _shown(filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return filename


def jsonable(value: Any) -> Json:
    """``value`` as JSON data; anything else (an object transformers keeps in a config) as its ``repr``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return repr(value)


def install(emit: Emit) -> Callable[[], None] | None:
    """Wrap the transformers methods (module docstring) so that each call's settings go to ``emit``; returns
    the function that puts the originals back, or None when transformers is not installed."""
    import importlib.util

    if importlib.util.find_spec("transformers") is None:
        return None
    from transformers import PreTrainedTokenizerBase
    from transformers.generation.utils import GenerationMixin

    wraps: list[tuple[type, str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = [
        (GenerationMixin, "generate", lambda f: _opening("generate", f)),
        (GenerationMixin, "_prepare_generation_config", lambda f: _generation_result(f, emit)),
        (PreTrainedTokenizerBase, "__call__", lambda f: _opening("tokenizer", f, _call_settings)),
        (PreTrainedTokenizerBase, "_get_padding_truncation_strategies", lambda f: _tokenizer_result(f, emit)),
    ]
    originals = [(cls, name, cls.__dict__[name]) for cls, name, _ in wraps]
    for cls, name, wrap in wraps:
        setattr(cls, name, wrap(cls.__dict__[name]))

    def undo() -> None:
        for cls, name, original in originals:
            setattr(cls, name, original)

    return undo


Settings = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], dict[str, Json]]


def _opening(endpoint: str, original: Callable[..., Any], settings: Settings | None = None) -> Callable[..., Any]:
    """The public method: note the call site while the outermost call of ``endpoint`` runs on this thread."""

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_STATE, endpoint, None) is not None:
            return original(self, *args, **kwargs)
        extra = settings(original, self, args, kwargs) if settings is not None else {}
        setattr(_STATE, endpoint, _Open(call_site(), self, extra))
        try:
            return original(self, *args, **kwargs)
        finally:
            setattr(_STATE, endpoint, None)

    return wrapper


@contextmanager
def quiet() -> Iterator[None]:
    """While the block runs on this thread, transformers calls are another engine's own (vLLM tokenizing a
    prompt with its transformers tokenizer, truncating to its context): not recorded."""
    held = {name: getattr(_STATE, name, None) for name in ("generate", "tokenizer")}
    for name, opened in held.items():
        if opened is None:
            setattr(_STATE, name, _Open("", None, taken=True))
    try:
        yield
    finally:
        for name, opened in held.items():
            setattr(_STATE, name, opened)


def _taking(endpoint: str, owner: object) -> _Open | None:
    """The open call of ``endpoint`` on this thread whose settings are still to be recorded, made on ``owner``."""
    opened: _Open | None = getattr(_STATE, endpoint, None)
    if opened is None or opened.taken or opened.owner is not owner:
        return None
    opened.taken = True
    return opened


def _generation_result(original: Callable[..., Any], emit: Emit) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        opened = _taking("generate", self)
        if opened is not None:
            config = result[0].to_dict()
            emit(Record("generate", opened.site, {str(k): jsonable(v) for k, v in config.items() if v is not None}))
        return result

    return wrapper


def _call_settings(original: Callable[..., Any], tokenizer: Any, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> dict[str, Json]:
    """The call's own ``padding_side`` and ``add_special_tokens``, merged as ``__call__`` merges its parameters
    with ``tokenizer_kwargs`` (which win) before it encodes; {} when the arguments do not bind (the call itself
    then fails as it would have)."""
    try:
        bound = inspect.signature(original).bind(tokenizer, *args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    merged = {name: bound.arguments.get(name) for name in ("padding_side", "add_special_tokens")}
    merged.update({k: v for k, v in (bound.arguments.get("tokenizer_kwargs") or {}).items() if k in merged})
    return {k: jsonable(v) for k, v in merged.items()}


def _tokenizer_result(original: Callable[..., Any], emit: Emit) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        opened = _taking("tokenizer", self)
        if opened is not None:
            padding, truncation, max_length = result[0], result[1], result[2]
            body: dict[str, Json] = {
                "padding_strategy": jsonable(getattr(padding, "value", padding)),
                "truncation_strategy": jsonable(getattr(truncation, "value", truncation)),
                "max_length": jsonable(max_length),
                "padding_side": jsonable(opened.extra.get("padding_side") or self.padding_side),
                "truncation_side": jsonable(self.truncation_side),
            }
            if "add_special_tokens" in opened.extra:
                body["add_special_tokens"] = opened.extra["add_special_tokens"]
            emit(Record("tokenizer", opened.site, body))
        return result

    return wrapper
