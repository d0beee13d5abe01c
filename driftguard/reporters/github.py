"""``driftguard check --format github``: GitHub Actions workflow commands, so the pull request shows each drift
on the line that holds it.

``::error file=F,line=L,title=T::message`` for every finding that fails the gate, ``::warning`` for an
unapproved warning that does not (and for stale approvals, approvals expiring soon and approvals ignored as not
committed, on the approval file's line), ``::notice`` for info. Approved findings say nothing here (the
summary lists them).

Escaping is exactly what GitHub's toolkit does (``@actions/core`` ``command.ts``): in the message ``%`` becomes
``%25``, CR ``%0D`` and LF ``%0A``; in a property value ``:`` and ``,`` become ``%3A`` and ``%2C`` too. Before
that, text from input goes through ``escape.for_terminal`` like every report, so a newline inside a value shows
as ``\\n`` instead of ending the command early; a command is therefore always one line and no value can start a
command of its own (``::add-mask::``, ``::stop-commands::``). The only real line breaks are the ones this module
puts between the lines of a message."""

from __future__ import annotations

import os

from driftguard.model import ApprovalState, Judged, Severity, Status
from driftguard.report import ApprovalRef, Report, fails, primary_origin
from driftguard.reporters.check_common import approval_line, cell, status, where
from driftguard.reporters.escape import for_terminal, message_for_terminal


def escape_data(text: str) -> str:
    """A command's message, as ``escapeData`` in GitHub's toolkit."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value, as ``escapeProperty`` in GitHub's toolkit."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """``::name key=value,...::message``; properties that are None or empty are left out, as the toolkit does."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None and v != "")
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _file(report: Report, path: str) -> str | None:
    rel = report.repo_path(path)
    return None if os.path.isabs(rel) else for_terminal(rel)


def _level(report: Report, f: Judged) -> str | None:
    if f.status == Status.APPROVED:
        return None
    if f.status == Status.INFO or f.severity == Severity.INFO:
        return "notice"
    return "error" if fails(f, report.strict) else "warning"


def _finding(report: Report, f: Judged) -> str | None:
    level = _level(report, f)
    if level is None:
        return None
    origin = primary_origin(f)
    model = for_terminal(f.model or "")
    lines = [message_for_terminal(f.message), f"status: {status(report, f)}"]
    if f.training is not None:
        lines.append(f"training: {cell(f.training)} ({where(f.training, report)})")
    if f.deployed is not None:
        lines.append(f"deployed: {cell(f.deployed)} ({where(f.deployed, report)})")
    if f.status == Status.UNAPPROVED and f.model:
        lines.append(f"to accept it: driftguard approve {model} {for_terminal(f.key)} --reason TEXT "
                     "--expires YYYY-MM-DD")
    title = f"driftguard {f.rule} {model}: {for_terminal(f.key)}" if model else f"driftguard {f.rule} {f.key}"
    return command(level, "\n".join(lines), file=_file(report, origin.path) if origin else None,
                   line=origin.line if origin else None, title=title)


def _approval(report: Report, a: ApprovalRef) -> str | None:
    if a.state == ApprovalState.STALE:
        title = f"driftguard stale approval {for_terminal(a.id)}"
    elif a.state == ApprovalState.SELF_APPROVED:
        title = f"driftguard approval {for_terminal(a.id)} is self-approved"
    elif a.state == ApprovalState.UNCOMMITTED:
        title = f"driftguard approval {for_terminal(a.id)} ignored: not committed"
    elif a.expiring and a.state != ApprovalState.EXPIRED:
        title = f"driftguard approval {for_terminal(a.id)} expires soon"
    else:
        return None
    return command("warning", approval_line(a, report), file=_file(report, a.path), line=a.line, title=title)


def render_check(report: Report) -> str:
    out = [c for c in (_finding(report, f) for f in report.findings) if c is not None]
    out += [c for c in (_approval(report, a) for a in report.approvals) if c is not None]
    return "".join(line + "\n" for line in out)
