"""A plain aligned text table, shared by the text reporters."""

from __future__ import annotations

from collections.abc import Sequence

from driftguard.reporters.escape import has_control


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 60,
           keep_tail: Sequence[int] = ()) -> str:
    """Left-aligned columns separated by two spaces; cells longer than ``max_width`` are cut with '…'.

    Columns listed in ``keep_tail`` (origins: ``path:line``) are cut at the start instead, so the file name
    and line survive.

    Cells are display text the caller made safe (``escape.for_terminal``); a control character in one is a
    bug in that caller, and one cell would then be able to forge rows, so it is refused.
    """
    bad = next((c for row in rows for c in row if has_control(c)), None)
    if bad is not None:
        raise ValueError(f"table cell not escaped for the terminal: {bad!r}")
    def fit(i: int, c: str) -> str:
        if len(c) <= max_width:
            return c
        return "…" + c[-(max_width - 1):] if i in keep_tail else c[: max_width - 1] + "…"

    cut = [[fit(i, c) for i, c in enumerate(row)] for row in rows]
    widths = [len(h) for h in headers]
    for row in cut:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in cut]
    return "\n".join(lines)
