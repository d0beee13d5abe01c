"""``driftguard approve``: run the check of one model, decide whether the key may be approved (it drifts now,
no approval covers it yet, the manifest's policy allows the approver and the expiry), and write the approval
through ``approvals.write``, pinned to today's training and deployed values."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.approvals import write
from driftguard.errors import ApprovalError, UsageError
from driftguard.gate import pipeline
from driftguard.gate.request import CheckRequest, Selection, load_manifest
from driftguard.model import Judged, Status
from driftguard.report import Report

if TYPE_CHECKING:
    from driftguard.approvals import Approval
    from driftguard.manifest import Manifest


def approve(path_or_manifest: str | Path | Manifest, model: str, key: str, reason: str, expires: date, *,
            approved_by: str | None, approval_id: str | None, evidence: str | None, today: date) -> Path:
    """Write ``approvals/<id>.yaml`` accepting the current drift of ``key`` for ``model``; the file written.

    UsageError, naming the field, when an argument is wrong (no ``approved_by``, a blank reason, an expiry
    before ``today``, an id that is not ``[A-Za-z0-9][A-Za-z0-9._-]*``), when the key does not drift now, when
    an approval covers it already, when the policy refuses it or when the file exists."""
    checked_arguments(approved_by, expires, today)
    m = load_manifest(path_or_manifest)
    aid = approval_id or f"{model}-{key}".replace(".", "-").replace("*", "all")
    fields: dict[str, object] = {"id": aid, "model": model, "key": key, "reason": reason, "approved_by": approved_by,
                                 "approved_on": today.isoformat(), "expires": expires.isoformat(),
                                 "evidence": evidence, "training": None, "deployed": None}
    write.new_approval(fields)  # the arguments first: a bad id or reason is reported before the check runs
    report = pipeline.run(CheckRequest(m, today, Selection.of(m, model)))
    finding = drifting(report, model, key)
    fields["training"] = None if finding.training is None else finding.training.value
    fields["deployed"] = None if finding.deployed is None else finding.deployed.value
    approval = write.new_approval(fields)
    target = write.target(m.base / m.approvals, m.base, m.path, approval)
    allowed(m, approval, target, today)
    return write.write(target, approval)


def checked_arguments(approved_by: str | None, expires: date, today: date) -> None:
    """UsageError, naming the field, for no approver or an expiry before ``today``."""
    if approved_by is None or not approved_by.strip():
        raise UsageError("approved_by: an approval must name who approved it")
    if expires < today:
        raise UsageError(f"expires: {expires.isoformat()} is before today ({today.isoformat()})")


def drifting(report: Report, model: str, key: str) -> Judged:
    """The finding of ``key`` an approval pins (the first by rule code); UsageError when the key has none or
    an approval covers it already (naming that approval, its file and its expiry)."""
    hits = [f for f in report.findings if f.key == key]
    if not hits:
        keys = sorted({f.key for f in report.findings})
        raise UsageError(f"no finding for '{key}' in model '{model}'; findings now: {', '.join(keys) or 'none'}")
    covering = next((f for f in hits if f.status == Status.APPROVED and f.approval), None)
    if covering is not None:
        ref = next((a for a in report.approvals if a.id == covering.approval), None)
        where = f" ({ref.location()})" if ref is not None else ""
        raise UsageError(f"'{key}' of model '{model}' is already approved by {covering.approval}{where}, until "
                         f"{ref.expires if ref else '?'}; edit that approval (or let it expire) instead of adding "
                         "a second one")
    return sorted(hits, key=lambda f: f.rule)[0]


def allowed(m: Manifest, approval: Approval, target: Path, today: date) -> None:
    """The manifest's approval policy (approvers, horizon) applied to ``approval`` before it is written;
    UsageError naming the option (``--by``, ``--expires``) that breaks it."""
    from driftguard.approvals import LoadedApproval, check_policy

    try:
        check_policy(LoadedApproval(approval, str(target), None), approvers=m.approvers,
                     max_horizon_days=m.approval_policy.max_horizon_days, today=today)
    except ApprovalError as exc:
        by = "approver" in exc.message
        option, setting = ("--by", "approvers") if by else ("--expires", "approval_policy.max_horizon_days")
        raise UsageError(f"{option}: {exc.message} ({setting} in {m.path})") from None
