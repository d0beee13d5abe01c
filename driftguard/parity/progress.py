"""A progress bar for long parity runs: one line, redrawn in place, on a stream the caller gives (the CLI passes
stderr, and only when it is a terminal and ``CI`` is not set; the library never decides to draw).

The stage reports progress through a ``ProgressHook``: ``hook(label, done, total)`` after each batch of a runner
(``label`` names the model, the run and the golden file; ``done``/``total`` count its batches). ``Bar`` is such a
hook. Light: no numpy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

ProgressHook = Callable[[str, int, int], None]


class Bar:
    """``label [#######.......] done/total batches, elapsed``, redrawn at most every ``interval`` seconds (and
    always when a run completes); ``close`` clears the line so the report that follows starts clean."""

    def __init__(self, stream: TextIO, width: int = 24, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_draw: float | None = None
        self.shown = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        now = self.clock()
        if done < total and self.last_draw is not None and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        self.draw(self.line(label, done, total, now - self.started))

    def note(self, text: str) -> None:
        """Say what is happening before the first batch (the manifest, the runners' imports and models load
        for seconds before any batch completes; a terminal that shows nothing looks hung)."""
        self.draw(f"driftguard parity: {text}")

    def line(self, label: str, done: int, total: int, elapsed: float) -> str:
        filled = self.width * done // total if total > 0 else self.width
        bar = "#" * filled + "." * (self.width - filled)
        return f"driftguard parity: {label} [{bar}] {done}/{total} batches, {elapsed:.1f} s"

    def draw(self, text: str) -> None:
        pad = max(0, self.shown - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self.shown = len(text)

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0
