"""``driftguard check --format markdown``: a job-summary friendly report (a table per model)."""

from __future__ import annotations

from driftguard.report import Report
from driftguard.reporters.check_common import approval_line, cell, status, summary_line, where


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_check(report: Report) -> str:
    out = [f"## driftguard check: {'pass' if report.ok else 'FAIL'}", ""]
    for m in report.models:
        out.append(f"### {m.name}")
        out.append("")
        if not m.findings:
            out += ["No differences.", ""]
            continue
        out.append("| key | training | deployed | status | rule | training origin | deployed origin |")
        out.append("|---|---|---|---|---|---|---|")
        for f in m.findings:
            cells = [f"`{f.key}`", cell(f.training), cell(f.deployed), status(report, f), f.rule,
                     where(f.training), where(f.deployed)]
            out.append("| " + " | ".join(_md(c) for c in cells) + " |")
        out.append("")
        notes = [f for f in m.findings if f.training is None or f.deployed is None]
        out += [f"- **{f.rule}** `{f.key}`: {_md(f.message)}" for f in notes]
        if notes:
            out.append("")
    attention = report.attention
    if attention:
        out += ["**Approvals**", ""] + [f"- {_md(approval_line(a))}" for a in attention] + [""]
    out.append(f"**{summary_line(report)}**")
    return "\n".join(out) + "\n"
