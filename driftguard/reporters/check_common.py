"""What the ``check`` reporters share: how a finding's status and an approval's expiry are worded.

Every helper returns display text: whatever came from input (values, paths, ids, keys) has been through
``escape.for_terminal`` (notes through ``message_for_terminal``), so the text reporter prints it as is and the
markdown reporter passes it to ``escape.for_markdown(..., visible=True)``."""

from __future__ import annotations

from driftguard.model import ApprovalState, Change, Judged, Severity, Status, Value
from driftguard.report import ApprovalRef, Report
from driftguard.reporters.configs import show
from driftguard.reporters.escape import for_terminal, message_for_terminal


def cell(v: Value | None) -> str:
    """A side's value for a table cell; ``-`` when the side does not have the key."""
    return "-" if v is None else show(v.value)


def where(v: Value | None, report: Report | None = None) -> str:
    """``file:line`` (with the precedence layer that supplied it, or ``default``) for a table cell; with
    ``report``, the file relative to the repository root (``Report.repo_path``), as CI annotations name it."""
    if v is None:
        return "-"
    origin = v.origin
    path = report.repo_path(origin.path) if report is not None else origin.path
    loc = for_terminal(f"{path}:{origin.line}" if origin.line is not None else path)
    if v.origin.source:
        loc += f" ({for_terminal(v.origin.source)})"
    elif not v.explicit:
        loc += " (default)"
    return loc


def ago(days: int) -> str:
    """``in 12 days``, ``today``, ``3 days ago``."""
    if days == 0:
        return "today"
    n = abs(days)
    unit = "day" if n == 1 else "days"
    return f"in {n} {unit}" if days > 0 else f"{n} {unit} ago"


def status(report: Report, f: Judged) -> str:
    """``approved by ID``, ``EXPIRED: ID expired 2025-01-31 (30 days ago)``, ``UNAPPROVED``, ``info``."""
    approval = for_terminal(f.approval or "")
    if f.status == Status.APPROVED:
        return f"approved by {approval}"
    if f.status == Status.EXPIRED:
        ref = report.approval(f.approval)
        when = f" expired {for_terminal(ref.expires)} ({ago(ref.days)})" if ref else " expired"
        return f"EXPIRED: {approval}{when}"
    if f.status == Status.UNAPPROVED:
        if f.change == Change.EXISTING:
            return f"unapproved {f.severity}, already at base"
        return "UNAPPROVED" if f.severity == Severity.ERROR or (report.strict and f.severity == Severity.WARNING) \
            else f"unapproved {f.severity}"
    return for_terminal(f.status)


def approval_line(a: ApprovalRef, report: Report | None = None) -> str:
    """One approval that needs attention (stale, expired, expiring soon), as display text; with ``report``,
    its file relative to the repository root."""
    path = report.repo_path(a.path) if report is not None else a.path
    ident, expires = for_terminal(a.id), for_terminal(a.expires)
    where_ = for_terminal(f"{path}:{a.line}" if a.line is not None else path)
    if a.state == ApprovalState.STALE:
        note = f"; {message_for_terminal(a.note)}" if a.note else ""
        return (f"stale approval {ident} ({where_}): matches no finding of {for_terminal(a.model)} "
                f"{for_terminal(a.key)}{note}")
    if a.state == ApprovalState.EXPIRED:
        return f"expired approval {ident} ({where_}): expired {expires} ({ago(a.days)})"
    if a.state == ApprovalState.SELF_APPROVED:
        note = f": {message_for_terminal(a.note)}" if a.note else ""
        return f"self-approved approval {ident} ({where_}) approves nothing{note}"
    if a.state == ApprovalState.UNCOMMITTED:
        return f"uncommitted approval {ident} ({where_}): ignored, the file is not committed as it is in HEAD"
    return f"approval {ident} ({where_}) expires {expires} ({ago(a.days)})"


def base_lines(report: Report) -> list[str]:
    """``check --base``: what the change did, then one line per finding it resolved (display text)."""
    if report.base is None:
        return []
    b = report.base
    changes = [f.change for f in report.findings]
    skipped = f"; {b.unchanged} unchanged model{'s' if b.unchanged != 1 else ''} not checked" if b.unchanged else ""
    out = [f"against {for_terminal(b.ref)} ({b.commit[:12]}): {changes.count(Change.INTRODUCED)} introduced by the "
           f"change, {changes.count(Change.EXISTING)} already there, {len(b.resolved)} resolved{skipped}"]
    out += [f"resolved: {for_terminal(f.model or '')} {for_terminal(f.key)} ({for_terminal(f.rule)}): "
            f"{message_for_terminal(f.message)}" for f in b.resolved]
    return out


def history(a: ApprovalRef) -> str:
    """``added in abc123def456 by Ann <ann@example.com> on 2026-11-02`` (git-aware runs), else empty."""
    if a.added_in is None:
        return "not committed yet" if a.state == ApprovalState.UNCOMMITTED else ""
    return (f"added in {a.added_in[:12]} by {for_terminal(a.added_by or '?')} on "
            f"{for_terminal((a.added_on or '?')[:10])}")


def history_lines(report: Report) -> list[str]:
    """One line per approval with its history, when the run read it from git (display text)."""
    if not any(a.added_in is not None or a.state == ApprovalState.UNCOMMITTED for a in report.approvals):
        return []
    return [f"{for_terminal(a.id)} ({for_terminal(a.state)}): {history(a) or 'not in git history'}"
            for a in report.approvals]


def summary_line(report: Report) -> str:
    s = report.summary()
    verdict = "PASS" if report.ok else "FAIL"
    parts = [f"{s['unapproved']} unapproved", f"{s['approved']} approved", f"{s['expired']} expired"]
    if s["info"]:
        parts.append(f"{s['info']} info")
    tail = f"; {s['stale_approvals']} stale approval{'s' if s['stale_approvals'] != 1 else ''}"
    if s["expiring_approvals"]:
        tail += f", {s['expiring_approvals']} expiring soon"
    models = f"{s['models']} model{'s' if s['models'] != 1 else ''}"
    return f"{verdict}: {models}, {s['findings']} finding{'s' if s['findings'] != 1 else ''} " \
           f"({', '.join(parts)}){tail}"
