"""``driftguard check --format text``: per model, a table of key, training value, deployed value, status and
origins, the findings within one side (consistency, policy) with the values they name, then the approvals
that need attention and one summary line. Everything from input goes through ``escape.for_terminal``: one
value is one line, and no control character reaches the terminal. The table fits ``style.width`` and status
words are coloured when ``style.color`` says so (``reporters.style``)."""

from __future__ import annotations

from collections.abc import Callable

from driftguard.model import Judged, Status
from driftguard.report import Report, fails
from driftguard.reporters.check_common import (
    approval_line,
    base_lines,
    cell,
    history_lines,
    status,
    summary_line,
    where,
)
from driftguard.reporters.escape import for_terminal, message_for_terminal
from driftguard.reporters.style import PLAIN, Style, status_colour
from driftguard.reporters.table import fit, render

HEADERS = ["key", "training", "deployed", "status", "rule", "training origin", "deployed origin"]
#: Findings about values within one side (no training/deployed pair): the values they name instead.
ONE_SIDE_HEADERS = ["key", "values", "status", "rule", "origins"]


def render_check(report: Report, style: Style = PLAIN) -> str:
    out: list[str] = []
    for m in report.models:
        c = m.counts()
        out.append(f"== {for_terminal(m.name)}: {c['findings']} finding{'s' if c['findings'] != 1 else ''}, "
                   f"{c['failing']} failing")
        if not m.findings:
            out.append("no differences")
        pairs = [f for f in m.findings if f.training is not None or f.deployed is not None]
        within = [f for f in m.findings if f.training is None and f.deployed is None]
        if pairs:
            rows = [[for_terminal(f.key), cell(f.training), cell(f.deployed), status(report, f),
                     for_terminal(f.rule), where(f.training), where(f.deployed)] for f in pairs]
            natural = render(HEADERS, rows)
            if style.width is None or max(map(len, natural.splitlines())) <= style.width:
                out.append(natural if not style.color else render(HEADERS, rows, paint=_painter(style, 3)))
            else:  # too wide for the terminal: one block per finding, every cell on its own line
                out.extend(_blocks(report, pairs, style))
        if within:
            if pairs:
                out.append("")
            rows = [[for_terminal(f.key), _values(f), status(report, f), for_terminal(f.rule), _origins(f)]
                    for f in within]
            out.append(render(ONE_SIDE_HEADERS, rows, style.width, keep_tail=(4,), paint=_painter(style, 2),
                              whole=(0,)))
        notes = [f"  {for_terminal(f.rule)} {for_terminal(f.key)}: {message_for_terminal(_unprefixed(f))}"
                 for f in m.findings if f.training is None or f.deployed is None or f.evidence or _says_why(f)]
        if notes and not style.quiet:
            out.append("details:")
            out.extend(notes)
        if not style.quiet and m.name and any(f.status == Status.UNAPPROVED and fails(f, report.strict)
                                              for f in m.findings):
            out.append(_fit(f"to accept one: driftguard approve {for_terminal(m.name)} KEY --reason TEXT "
                            "--expires YYYY-MM-DD", style))
        out.append("")
    attention = report.attention
    if attention:
        out.append("approvals:")
        out.extend(f"  {approval_line(a)}" for a in attention)
        out.append("")
    origins = history_lines(report)
    if origins:
        out.append("approval provenance:")
        out.extend(f"  {line}" for line in origins)
        out.append("")
    changes = base_lines(report)
    if changes:
        out.extend(changes)
        out.append("")
    line = _fit(summary_line(report), style)
    out.append(style.paint(line, status_colour(line)))
    return "\n".join(out) + "\n"


def _fit(line: str, style: Style) -> str:
    """``line`` wrapped to the terminal's width (continuations indented), as it is when it fits."""
    if style.width is None or len(line) <= style.width:
        return line
    import textwrap

    return "\n".join(textwrap.wrap(line, style.width, subsequent_indent="  "))


def _unprefixed(f: Judged) -> str:
    """The message without the key it starts with (the note names the key already)."""
    return f.message.removeprefix(f"{f.key}: ")


def _says_why(f: Judged) -> bool:
    """Whether a finding's message says more than its table row: anything but a bare ``key: training A !=
    deployed B`` (whose default each value is, a template's first differing line, how many weight tensors match
    none), which the terminal shows too, not only JSON, SARIF and the annotations."""
    if f.training is None or f.deployed is None:
        return True
    return f.message != f"{f.key}: training {f.training.value!r} != deployed {f.deployed.value!r}"


def _painter(style: Style, column: int) -> Callable[[int, str], str] | None:
    def paint(i: int, text: str) -> str:
        if i != column:
            return text
        word = text.rstrip()
        return style.paint(word, status_colour(word)) + text[len(word):]

    return paint if style.color else None


def _blocks(report: Report, findings: list[Judged], style: Style) -> list[str]:
    """Findings as blocks: ``key  status  rule`` then one line per side, value and origin, cut to the width."""
    width = style.width or 10**9
    out = []
    for f in findings:
        word = status(report, f)
        head = f"{for_terminal(f.key)}  {style.paint(word, status_colour(word))}  {for_terminal(f.rule)}"
        out.append(head)
        for name, v in (("training", f.training), ("deployed", f.deployed)):
            value, origin = cell(v), where(v)
            line = f"  {name}  {value}  {origin}"
            if len(line) <= width:
                out.append(line)
            else:
                out.append(f"  {name}  {fit(value, max(10, width - 12))}")
                out.append(f"            {fit(origin, max(10, width - 12), path=True)}")
    return out


def _values(f: Judged) -> str:
    """The values a one-side finding names, ``a vs b``."""
    if not f.related:
        return "-"
    return " vs ".join(cell(v) for v in f.related)


def _origins(f: Judged) -> str:
    return ", ".join(where(v) for v in f.related) or "-"
