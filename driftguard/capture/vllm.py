"""The vLLM hooks of ``driftguard.capture``: the ``SamplingParams`` each request of an offline ``LLM.generate()`` or
``LLM.chat()`` ran with.

``LLM.generate`` and ``LLM.chat`` are wrapped at the class to note the caller's file and line; the values are read
where vLLM hands each request to its engine, ``LLM._add_request(prompt, params, ...)``, after ``generate`` put the
model's defaults in place of a missing ``sampling_params`` (``get_default_sampling_params()``: the model's
generation_config.json through ``get_diff_sampling_param()``) and paired a list of them with the prompts
(vllm-project/vllm v0.32.0 ``vllm/entrypoints/llm.py`` ``LLM.generate``/``LLM.chat``,
``vllm/entrypoints/common/offline.py`` ``_render_and_add_requests``/``_add_request``). Each request's parameters are
recorded as ``SamplingParams`` holds them, before the engine sees them: every public member that is set (not None),
the bookkeeping ones (``output_kind``, which ``_add_request`` itself sets, ``skip_clone``...) left out; beside
them, under ``engine``, the model the LLM loaded, its context length and its dtype as vLLM resolved them. A ``chat``
call's record says the messages went through the chat template; a ``generate`` call's says nothing of it (the
program may have rendered the prompts itself).

Only calls inside the outermost ``generate``/``chat`` of a thread are recorded (``chat`` calls ``generate``;
``beam_search`` calls it per step with parameters of its own making, which are vLLM's, not the program's).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from driftguard.capture.hf import Emit, Record, call_site, jsonable, quiet
from driftguard.errors import UsageError
from driftguard.model import Json

#: SamplingParams members that steer vLLM's bookkeeping, not what a request generates.
BOOKKEEPING = frozenset(("output_kind", "skip_clone", "output_text_buffer_length", "stream_interval",
                         "skip_reading_prefix_cache", "trace_decode_token_ids", "routed_experts_prompt_start"))
#: The record's endpoint names: ``generate`` takes the prompts as given, ``chat`` renders the messages.
ENDPOINTS = {"generate": "vllm-generate", "chat": "vllm-chat"}


@dataclass
class _Open:
    site: str
    owner: object
    endpoint: str


_STATE = threading.local()


def install(emit: Emit) -> Callable[[], None] | None:
    """Wrap ``LLM.generate``, ``LLM.chat`` and ``LLM._add_request`` (module docstring) so that each request's
    parameters go to ``emit``; returns the function that puts the originals back, or None when vLLM is not
    installed. A vLLM whose ``LLM`` lacks those methods cannot be captured: a UsageError naming them."""
    if importlib.util.find_spec("vllm") is None:
        return None
    from vllm import LLM

    missing = [name for name in ("generate", "chat", "_add_request") if name not in _members(LLM)]
    if missing:
        raise UsageError(f"driftguard.capture cannot record this vLLM: vllm.LLM has no {', '.join(missing)}")
    wraps: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
        "generate": lambda f: _opening("generate", f),
        "chat": lambda f: _opening("chat", f),
        "_add_request": lambda f: _adding(f, emit),
    }
    originals = [(cls, name, cls.__dict__[name]) for name in wraps for cls in (_owner(LLM, name),)]
    for cls, name, original in originals:
        setattr(cls, name, wraps[name](original))

    def undo() -> None:
        for cls, name, original in originals:
            setattr(cls, name, original)

    return undo


def _members(cls: type) -> set[str]:
    return {name for klass in cls.__mro__ for name in vars(klass)}


def _owner(cls: type, name: str) -> type:
    """The class of ``cls``'s MRO that defines ``name`` (``_add_request`` lives on a mixin in v0.32)."""
    return next(klass for klass in cls.__mro__ if name in vars(klass))


def _opening(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_STATE, "open", None) is not None:
            return original(self, *args, **kwargs)
        _STATE.open = _Open(call_site(), self, ENDPOINTS[kind])
        try:
            with quiet():  # vLLM's own tokenizer calls (truncating to its context) are not the program's
                return original(self, *args, **kwargs)
        finally:
            _STATE.open = None

    return wrapper


def _adding(original: Callable[..., Any], emit: Emit) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened: _Open | None = getattr(_STATE, "open", None)
        params = args[1] if len(args) > 1 else kwargs.get("params")
        if opened is not None and opened.owner is self and params is not None and hasattr(params, "temperature"):
            emit(Record(opened.endpoint, opened.site, {**settings(params), **engine(self)}))
        return original(self, *args, **kwargs)

    return wrapper


def settings(params: Any) -> dict[str, Json]:
    """A ``SamplingParams``' public members that are set, JSON-ready (a msgspec Struct in v0.10+, a plain class
    before)."""
    names = getattr(type(params), "__struct_fields__", None) or tuple(vars(params))
    out: dict[str, Json] = {}
    for name in names:
        if name.startswith("_") or name in BOOKKEEPING:
            continue
        value = getattr(params, name, None)
        if value is not None:
            out[name] = jsonable(value)
    return out


#: The engine's resolved ``ModelConfig`` members a record carries, under ``engine``: the model it loaded, the
#: context it took (from the model when the program set none) and the dtype ``auto`` became.
ENGINE = ("model", "max_model_len", "dtype")


def engine(llm: Any) -> dict[str, Json]:
    """``{"engine": {...}}``: the members of ``ENGINE`` the LLM's ``model_config`` holds (``llm.model_config``,
    else ``llm.llm_engine.model_config``); {} when it has none."""
    config = getattr(llm, "model_config", None) or getattr(getattr(llm, "llm_engine", None), "model_config", None)
    if config is None:
        return {}
    found = {name: getattr(config, name, None) for name in ENGINE}
    out: dict[str, Json] = {n: (str(v).removeprefix("torch.") if n == "dtype" else jsonable(v))
                            for n, v in found.items() if v is not None}
    return {"engine": out} if out else {}
