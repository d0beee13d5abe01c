"""``driftguard check --format text``: per model, a table of key, training value, deployed value, status and
origins, then the approvals that need attention and one summary line. Everything from input goes through
``escape.for_terminal``: one value is one line, and no control character reaches the terminal."""

from __future__ import annotations

from driftguard.report import Report
from driftguard.reporters.check_common import (
    approval_line,
    base_lines,
    cell,
    provenance_lines,
    status,
    summary_line,
    where,
)
from driftguard.reporters.escape import for_terminal, message_for_terminal
from driftguard.reporters.table import render

HEADERS = ["key", "training", "deployed", "status", "rule", "training origin", "deployed origin"]


def render_check(report: Report) -> str:
    out: list[str] = []
    for m in report.models:
        c = m.counts()
        out.append(f"== {for_terminal(m.name)}: {c['findings']} finding{'s' if c['findings'] != 1 else ''}, "
                   f"{c['failing']} failing")
        if not m.findings:
            out.append("no differences")
        else:
            rows = [[for_terminal(f.key), cell(f.training), cell(f.deployed), status(report, f),
                     for_terminal(f.rule), where(f.training), where(f.deployed)] for f in m.findings]
            out.append(render(HEADERS, rows, max_width=90, keep_tail=(5, 6)))
            notes = [f"  {for_terminal(f.rule)} {for_terminal(f.key)}: {message_for_terminal(f.message)}"
                     for f in m.findings if f.training is None or f.deployed is None]
            if notes:
                out.append("details:")
                out.extend(notes)
        out.append("")
    attention = report.attention
    if attention:
        out.append("approvals:")
        out.extend(f"  {approval_line(a)}" for a in attention)
        out.append("")
    origins = provenance_lines(report)
    if origins:
        out.append("approval provenance:")
        out.extend(f"  {line}" for line in origins)
        out.append("")
    changes = base_lines(report)
    if changes:
        out.extend(changes)
        out.append("")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"
