"""How text output fits the terminal it goes to: the width to fit (``COLUMNS``, else the terminal's, else none:
a log or a pipe gets every cell whole) and whether to colour status words (a terminal, unless ``NO_COLOR``;
``FORCE_COLOR`` forces it, see https://no-color.org and https://force-color.org). Chosen once by the CLI and
passed to the text reporters, which stay pure functions of their arguments."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TextIO

_RESET = "\x1b[0m"
_CODES = {"red": "\x1b[1;31m", "green": "\x1b[32m", "yellow": "\x1b[33m", "dim": "\x1b[2m"}


@dataclass(frozen=True)
class Style:
    """``width``: columns to fit (None: do not cut); ``color``: colour status words; ``quiet``: the table and
    the verdict only, without the details under it and the command that accepts a finding (``--quiet``)."""

    width: int | None = None
    color: bool = False
    quiet: bool = False

    def paint(self, text: str, colour: str | None) -> str:
        """``text`` in ``colour`` (a name of ``_CODES``) when colour is on; as is otherwise."""
        if not self.color or colour is None or not text:
            return text
        return f"{_CODES[colour]}{text}{_RESET}"

    @classmethod
    def for_stream(cls, stream: TextIO, environ: Mapping[str, str] | None = None) -> Style:
        """The style for output written to ``stream``."""
        env = os.environ if environ is None else environ
        tty = bool(getattr(stream, "isatty", lambda: False)())
        width: int | None = None
        columns = env.get("COLUMNS", "").strip()
        if columns.isdigit() and int(columns) > 0:
            width = int(columns)
        elif tty:
            import shutil

            width = shutil.get_terminal_size().columns
        force = env.get("FORCE_COLOR", "")
        if force and force != "0":
            color = True
        elif env.get("NO_COLOR", ""):
            color = False
        else:
            color = tty and env.get("TERM", "") != "dumb"
        return cls(width, color)

    def quieted(self, quiet: bool) -> Style:
        """This style, terse when ``quiet``."""
        return replace(self, quiet=quiet) if quiet != self.quiet else self


#: Plain output: no cut, no colour (what libraries and tests get unless they ask).
PLAIN = Style()


def status_colour(text: str) -> str | None:
    """The colour of a status cell or verdict: failing red, approved or passing green, warnings yellow."""
    if text.startswith(("UNAPPROVED", "EXPIRED", "FAIL")):
        return "red"
    if text.startswith(("approved by", "PASS")):
        return "green"
    if text.startswith("unapproved"):
        return "yellow"
    if text == "info":
        return "dim"
    return None
