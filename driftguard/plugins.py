"""Third-party plug-ins: one scan of the installed distributions' entry points per process.

``importlib.metadata.entry_points()`` reads every installed distribution's metadata (tens of milliseconds in a
venv with torch in it); the extractor and rule registries both need it, so they share this one cached scan.
This module imports nothing from driftguard.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint


@cache
def _by_group() -> dict[str, tuple[EntryPoint, ...]]:
    from importlib.metadata import entry_points as scan

    # Python 3.10/3.11 return SelectableGroups, 3.12+ EntryPoints: both have .groups and .select(group=).
    found = scan()
    return {g: tuple(found.select(group=g)) for g in sorted(found.groups) if g.startswith("driftguard.")}


def entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of one ``driftguard.*`` group, in discovery order."""
    return _by_group().get(group, ())


def clear_cache() -> None:
    """Forget the scan (tests that install a plug-in on sys.path call this)."""
    _by_group.cache_clear()
