"""Approval history for one check run (``--require-committed-approvals``, ``approval_history``,
``approval_policy.separate_approver``): which commit and author added each approval, which approvals are not
committed, and which approved a value their own author changed. Git is read by ``driftguard.ci.approval_history``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.model import ApprovalState, Judged, Status
from driftguard.report import ApprovalRef

if TYPE_CHECKING:
    from driftguard.approvals import LoadedApproval, Outcome
    from driftguard.ci.approval_history import FileHistory
    from driftguard.manifest import Manifest


@dataclass(frozen=True)
class ApprovalHistory:
    """The approvals' history for one check (empty when the run is not git-aware)."""

    files: Mapping[str, FileHistory] = field(default_factory=dict)
    ignored: tuple[LoadedApproval, ...] = ()
    active: bool = False

    @classmethod
    def read(cls, repo: Path, m: Manifest, approvals: Sequence[LoadedApproval], wanted: bool,
             require_committed: bool) -> ApprovalHistory:
        """Read from git when ``wanted`` or ``require_committed``; with ``require_committed``, the approvals
        whose file is not committed as it is in HEAD are ``ignored``."""
        if not (wanted or require_committed):
            return cls()
        from driftguard.ci.approval_history import approval_history

        files = approval_history(repo, m.base / m.approvals, [a.path for a in approvals],
                                    "--require-committed-approvals" if require_committed else "--base")
        ignored = tuple(a for a in approvals if require_committed and not files[a.path].committed)
        return cls(files, ignored, True)

    def separate(self, judge: Callable[[Sequence[LoadedApproval]], Outcome], approvals: Sequence[LoadedApproval],
                 findings: tuple[Judged, ...], refs: tuple[ApprovalRef, ...], repo: Path, today: date,
                 names: Sequence[str]) -> tuple[tuple[Judged, ...], tuple[ApprovalRef, ...]]:
        """``approval_policy.separate_approver``: an approval passes a finding only when git shows it was added
        by someone else than who last changed the deployed value's line. A rejected approval is set aside and
        the findings judged again by the others (``judge``: ``approvals.apply`` with the run's settings); it is
        listed as ``self-approved`` with the reason."""
        first = {r.id: r for r in refs}
        excluded: dict[str, str] = {}
        while True:
            new = {k: v for k, v in self._rejections(findings, refs, repo).items() if k not in excluded}
            if not new:
                break
            excluded.update(new)
            outcome = judge([a for a in approvals if a.id not in excluded])
            findings, refs = outcome.findings, self.refs(outcome.approvals, today, names)
        rejected = [replace(first[i], state=ApprovalState.SELF_APPROVED, note=why) for i, why in excluded.items()]
        return findings, tuple(sorted((*(r for r in refs if r.id not in excluded), *rejected), key=lambda r: r.id))

    @staticmethod
    def _rejections(findings: Sequence[Judged], refs: Sequence[ApprovalRef], repo: Path) -> dict[str, str]:
        """``{approval id: why}`` for the approvals that approved a finding git does not show them separate
        from. What git cannot attribute (an approval or a line not committed, a file git does not track) does
        not pass; a value no file states (a default) has no line to attribute and is left as it is."""
        from driftguard.ci.approval_history import email_of, line_author

        by_id = {r.id: r for r in refs}
        out: dict[str, str] = {}
        for f in findings:
            origin = f.deployed.origin if f.deployed is not None else None
            if f.status != Status.APPROVED or f.approval is None or origin is None or origin.line is None:
                continue
            ref = by_id.get(f.approval)
            who = line_author(repo, origin.path, origin.line)
            try:
                where = f"{Path(origin.path).resolve().relative_to(repo.resolve()).as_posix()}:{origin.line}"
            except ValueError:
                where = origin.location()
            if ref is None or ref.added_by is None:
                out[f.approval] = "the approval file is not committed: who added it cannot be told"
            elif who is None:
                out[f.approval] = f"git cannot tell who changed {where}"
            elif who.commit is None:
                out[f.approval] = f"{where} is not committed: who changed it cannot be told"
            elif who.email is not None and who.email.lower() == email_of(ref.added_by):
                out[f.approval] = (f"{where} was last changed in {who.commit[:12]} by {who.author}, who also "
                                   "added the approval")
        return out

    def kept(self, approvals: Sequence[LoadedApproval]) -> list[LoadedApproval]:
        return [a for a in approvals if a not in self.ignored]

    def refs(self, refs: tuple[ApprovalRef, ...], today: date, names: Sequence[str]) -> tuple[ApprovalRef, ...]:
        """The report's approvals with the ignored ones added and each one's commit, author and date."""
        if not self.active:
            return refs
        out = sorted((*refs, *_uncommitted(self.ignored, today, names)), key=lambda r: r.id)
        return tuple(replace(r, added_in=self.files[r.path].commit, added_by=self.files[r.path].author,
                             added_on=self.files[r.path].date) if r.path in self.files else r for r in out)


def _uncommitted(ignored: Sequence[LoadedApproval], today: date, names: Sequence[str]) -> list[ApprovalRef]:
    """Approvals ``--require-committed-approvals`` ignored, as the report lists them."""
    return [ApprovalRef(id=a.id, path=a.path, line=a.line, model=a.approval.model, key=a.approval.key,
                        expires=a.approval.expires.isoformat(), days=(a.approval.expires - today).days,
                        state=ApprovalState.UNCOMMITTED, reason=a.approval.reason,
                        note="ignored: the file is not committed as it is in HEAD")
            for a in ignored if a.approval.model in names]
