"""The one source of "today" in driftguard.

Approvals are judged on a day: whether one has expired, whether it starts in the future, how far its horizon
reaches, the ``approved_on`` that ``approve`` writes. Every such default in the library is ``clock.today()``,
never ``date.today()`` on its own, so one place decides what day it is:

* the CLI passes ``--today YYYY-MM-DD``, else ``$DRIFTGUARD_TODAY``, as an explicit ``today=`` (only the CLI
  reads the environment);
* a library caller passes ``today=`` itself;
* tests pin the day for everything in the process with :func:`pinned` (the suite's ``conftest`` does, from
  ``$DRIFTGUARD_TODAY``, so a run can be moved to another day as a whole).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

_pinned: list[date] = []


def today() -> date:
    """The day approvals are judged on when the caller names none: the innermost :func:`pinned` day, else the
    system's local date."""
    return _pinned[-1] if _pinned else date.today()


@contextmanager
def pinned(day: date) -> Iterator[date]:
    """Within the block, :func:`today` is ``day`` (nested blocks stack; the outer day comes back after)."""
    _pinned.append(day)
    try:
        yield day
    finally:
        _pinned.pop()


def parse(text: str) -> date:
    """``YYYY-MM-DD`` (surrounding blanks ignored) as a date; ValueError otherwise (the caller names the option
    or variable). The CLI reads ``--today``, ``--expires`` and ``$DRIFTGUARD_TODAY`` with it."""
    return date.fromisoformat(text.strip())
