"""Which ``--set NAME=VALUE`` (a manifest artifact's ``set:``) fill nothing.

A name no placeholder of the given artifacts has is a typo or a misunderstanding (``--set TYPE_=FP32`` for
``TYPE_#DTYPE``): silently accepting it would leave the user guessing why the placeholder stays unfilled. An
extractor module that reads templates exposes ``placeholders(path, options) -> {name: lines}``; kinds without
one have no placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from driftguard import extractors
from driftguard.extractors.base import ExtractOptions

#: ``{artifact as given: {placeholder name: lines}}``
Found = dict[str, dict[str, tuple[int, ...]]]


def placeholders(path: str | Path, kind: str | None, options: ExtractOptions) -> dict[str, tuple[int, ...]]:
    """The template placeholders ``--set`` can fill in one artifact, ``{name: lines}`` ({} for a kind without
    templates). ``kind`` None: detected, as ``extractors.extract`` does."""
    p = Path(path)
    module = extractors.get(kind or extractors.detect(p))
    scan = getattr(module, "placeholders", None)
    return dict(scan(p, options)) if scan is not None else {}


def unused(artifacts: Sequence[tuple[str | None, str | Path]], options: ExtractOptions) -> tuple[list[str], Found]:
    """The names of ``options.substitutions`` that no placeholder of ``artifacts`` (``(kind or None, path)``)
    has, and every artifact's placeholders (for the message). Reads nothing when there is nothing to fill."""
    if not options.substitutions:
        return [], {}
    found: Found = {str(path): placeholders(path, kind, options) for kind, path in artifacts}
    names = {name for per_file in found.values() for name in per_file}
    return sorted(n for n in options.substitutions if n not in names), found


def message(names: Sequence[str], found: Mapping[str, Mapping[str, Sequence[int]]], flag: str = "--set") -> str:
    """One line: which names fill nothing, in which files, and the placeholders those files do have (``flag``
    empty: the names quoted, for a manifest's ``set:``)."""
    what = ", ".join(f"{flag} {n}" if flag else f"'{n}'" for n in names)
    verb = "fills" if len(names) == 1 else "fill"
    if len(found) == 1:
        listed = describe_names(next(iter(found.values())))
    else:
        listed = "; ".join(f"{path}: {describe_names(per)}" for path, per in found.items())
    return (f"{what} {verb} nothing: no template placeholder of that name in {', '.join(found)} "
            f"(placeholders: {listed})")


def describe_names(names: Mapping[str, Sequence[int]]) -> str:
    """``DTYPE (lines 4, 5), MAX_BATCH (line 3)``, or ``none``."""
    if not names:
        return "none"
    return ", ".join(f"{name} ({'line' if len(lines) == 1 else 'lines'} {', '.join(map(str, lines))})"
                     for name, lines in names.items())
