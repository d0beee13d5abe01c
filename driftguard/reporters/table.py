"""A plain aligned text table, shared by the text reporters: columns fit a width when one is given (the widest
columns give way first; origins keep their file name and line, eliding the middle of the path; the key column is
never cut, since a cut key names no key), and are never cut when none is (a log or a pipe gets every cell
whole)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from driftguard.reporters.escape import has_control

#: No column is squeezed below this many characters (or its header's length); origins first give way down to
#: ``PATH_COLUMN``, which keeps a file name and its line.
MIN_COLUMN = 10
PATH_COLUMN = 28


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int | None = None,
           keep_tail: Sequence[int] = (), paint: Callable[[int, str], str] | None = None,
           whole: Sequence[int] = ()) -> str:
    """Left-aligned columns separated by two spaces.

    ``width``: the line length to fit; the widest columns are narrowed first, down to ``MIN_COLUMN``. A cell
    longer than its column is cut with '…' at its end, or, in the ``keep_tail`` columns (origins:
    ``path:line (layer)``), in the middle of the path so the file name, line and layer survive.
    ``paint(column, padded_cell)`` colours a cell after layout (colour codes take no width). ``whole``: columns
    never narrowed (the key: ``generation.repetition_…`` names no key); the line is then wider than ``width``
    when the others cannot give enough.

    Cells are display text the caller made safe (``escape.for_terminal``); a control character in one is a
    bug in that caller, and one cell would then be able to forge rows, so it is refused.
    """
    bad = next((c for row in rows for c in row if has_control(c)), None)
    if bad is not None:
        raise ValueError(f"table cell not escaped for the terminal: {bad!r}")
    widths = [len(h) for h in headers]
    for row in rows:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    if width is not None:
        # Origins give way first (their file name and line survive the cut), then the widest columns.
        excess = sum(widths) + 2 * (len(widths) - 1) - width
        others = [i for i in range(len(widths)) if i not in keep_tail and i not in whole]
        for columns, least in ((keep_tail, PATH_COLUMN), (others, MIN_COLUMN)):
            floor = {i: max(len(headers[i]), least) for i in columns}
            while excess > 0:
                if not floor:
                    break
                i = max(floor, key=lambda j: widths[j] - floor[j])
                if widths[i] <= floor[i]:
                    break
                widths[i] -= 1
                excess -= 1
    cut = [[fit(c, widths[i], i in keep_tail) for i, c in enumerate(row)] for row in rows]

    def line(cells: Sequence[str], painted: bool) -> str:
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells)]
        if painted and paint is not None:
            padded = [paint(i, c) for i, c in enumerate(padded)]
        return "  ".join(padded).rstrip()

    lines = [line(headers, False), "  ".join("-" * w for w in widths)]
    lines += [line(row, True) for row in cut]
    return "\n".join(lines)


def fit(cell: str, width: int, path: bool = False) -> str:
    """``cell`` in at most ``width`` characters: cut at the end with '…', or, for a ``path`` (an origin such as
    ``deployment/model_repository/m/config.pbtxt:12 (request)``), in the middle of the path."""
    if len(cell) <= width:
        return cell
    if not path:
        return cell[: width - 1] + "…"
    slash = cell.rfind("/", 0, cell.find(":") if ":" in cell else len(cell))
    head, tail = (cell[:slash], cell[slash:]) if slash > 0 else ("", cell)
    room = width - len(tail) - 1
    if room >= 1 and head:
        return head[:room] + "…" + tail
    return "…" + cell[-(width - 1):]
