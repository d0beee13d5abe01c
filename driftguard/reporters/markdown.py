"""``driftguard check --format markdown``: a job-summary friendly report (a table per model, then the reason of
every approval the report names).

The summary is rendered by GitHub, so everything from input goes through ``escape.for_markdown``: no HTML, link,
image or autolink can come out of a value, a key, a path or an approval's reason, and no cell can end early."""

from __future__ import annotations

from driftguard.report import Report
from driftguard.reporters.check_common import (
    approval_line,
    base_lines,
    cell,
    history,
    status,
    summary_line,
    where,
)
from driftguard.reporters.escape import code_for_markdown, for_markdown


def _shown(text: str) -> str:
    """Display text (a shared helper's, already escaped for the terminal) or a message as markdown."""
    return for_markdown(text, visible=True)


def render_check(report: Report) -> str:
    out = [f"## driftguard check: {'pass' if report.ok else 'FAIL'}", ""]
    for m in report.models:
        out.append(f"### {for_markdown(m.name)}")
        out.append("")
        if not m.findings:
            out += ["No differences.", ""]
            continue
        out.append("| key | training | deployed | status | rule | training origin | deployed origin |")
        out.append("|---|---|---|---|---|---|---|")
        for f in m.findings:
            cells = [code_for_markdown(f.key), _shown(cell(f.training)), _shown(cell(f.deployed)),
                     _shown(status(report, f)), for_markdown(f.rule), _shown(where(f.training)),
                     _shown(where(f.deployed))]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        notes = [f for f in m.findings if f.training is None or f.deployed is None]
        out += [f"- **{for_markdown(f.rule)}** {code_for_markdown(f.key)}: {_shown(f.message)}"
                for f in notes]
        if notes:
            out.append("")
    attention = report.attention
    if attention:
        out += ["**Approvals**", ""] + [f"- {_shown(approval_line(a))}" for a in attention] + [""]
    if report.approvals:
        out += ["<details><summary>Approval reasons</summary>", ""]
        out += [f"- {code_for_markdown(a.id)} ({for_markdown(a.state)}): {for_markdown(a.reason)}"
                + (f" ({_shown(history(a))})" if history(a) else "") for a in report.approvals]
        out += ["", "</details>", ""]
    changes = base_lines(report)
    if changes:
        out += [f"- {_shown(line)}" for line in changes] + [""]
    out.append(f"**{summary_line(report)}**")
    return "\n".join(out) + "\n"
