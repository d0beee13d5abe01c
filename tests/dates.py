"""Dates in tests come from here, never from the calendar directly, so the suite gives the same verdicts on any
day (and on a run moved to another day with ``DRIFTGUARD_TODAY=YYYY-MM-DD``).

* ``today()`` is the run's one "today": ``driftguard.clock.today()``, which ``conftest.pytest_configure`` pins
  for the whole run (in this process, and through ``$DRIFTGUARD_TODAY`` in every CLI the tests start). Dated
  test data is built relative to it (``days(30)``, ``days(-1)``).
* ``EXAMPLES_TODAY`` is the day the shipped, committed approvals (``approvals/``, ``examples/*/approvals/``:
  approved 2026-11-02 and 2026-11-15, expiring 2027-10-31 and 2027-11-14) and the README's outputs are
  documented for. Tests of the shipped examples and the README doctest judge them as of that day (``--today``
  or ``DRIFTGUARD_TODAY``), so those outputs do not change as the calendar moves.
"""

from __future__ import annotations

from datetime import date, timedelta

from driftguard import clock

EXAMPLES_TODAY = date(2026, 12, 1)
EXAMPLES_TODAY_ISO = EXAMPLES_TODAY.isoformat()


def today() -> date:
    """The run's pinned "today"."""
    return clock.today()


def days(n: int) -> date:
    """``n`` days after the run's today (before it when negative)."""
    return clock.today() + timedelta(days=n)


def iso(n: int = 0) -> str:
    """``days(n)`` as ``YYYY-MM-DD``."""
    return days(n).isoformat()


def examples_env() -> dict[str, str]:
    """Environment overrides that judge the shipped examples as of ``EXAMPLES_TODAY`` in a CLI subprocess."""
    return {"DRIFTGUARD_TODAY": EXAMPLES_TODAY_ISO}
