"""Approval history for one check run (``--require-committed-approvals``, ``approval_history``,
``approval_policy.separate_approver``): which commit and author last changed each approval, which approvals are not
committed, and which approved a value their own author changed. Git is read by ``driftguard.ci.approval_history``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.model import ApprovalState, Judged, Origin, Status
from driftguard.report import ApprovalRef

if TYPE_CHECKING:
    from driftguard.approvals import LoadedApproval, Outcome
    from driftguard.ci.approval_history import FileHistory
    from driftguard.manifest import Manifest


@dataclass(frozen=True)
class ApprovalHistory:
    """The approvals' history for one check (empty when the run is not git-aware)."""

    files: Mapping[str, FileHistory] = field(default_factory=dict)
    #: the approvals not counted, each with why
    ignored: tuple[tuple[LoadedApproval, str], ...] = ()
    active: bool = False

    @classmethod
    def read(cls, repo: Path, m: Manifest, approvals: Sequence[LoadedApproval], wanted: bool,
             require_committed: bool, base_files: Path | None = None) -> ApprovalHistory:
        """Read from git when ``wanted``, ``require_committed`` or ``base_files``; with ``require_committed``, the
        approvals whose file is not committed as it is in HEAD are ``ignored``; with ``base_files`` (the base
        revision's files, ``--require-base-approvals``), those whose file is not there byte for byte."""
        if not (wanted or require_committed or base_files is not None):
            return cls()
        from driftguard.ci.approval_history import approval_history

        files = approval_history(repo, m.base / m.approvals, [a.path for a in approvals],
                                    "--require-committed-approvals" if require_committed else "--base")
        ignored = []
        for a in approvals:
            if require_committed and not files[a.path].committed:
                ignored.append((a, "ignored: the file is not committed as it is in HEAD"))
            elif base_files is not None and not _on_base(a.path, repo, base_files):
                ignored.append((a, "ignored: the file is not on the base revision as it is "
                                   "(--require-base-approvals): the change adds or edits it"))
        return cls(files, tuple(ignored), True)

    def separate(self, judge: Callable[[Sequence[LoadedApproval]], Outcome], approvals: Sequence[LoadedApproval],
                 findings: tuple[Judged, ...], refs: tuple[ApprovalRef, ...], repo: Path, today: date,
                 names: Sequence[str]) -> tuple[tuple[Judged, ...], tuple[ApprovalRef, ...]]:
        """``approval_policy.separate_approver``: an approval passes a finding only when git shows it was last
        changed by someone else than who last changed the lines the finding rests on (``_rejections``). A
        rejected approval is set aside and the findings judged again by the others (``judge``: ``approvals.apply``
        with the run's settings); it is listed as ``self-approved`` with the reason."""
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
        from: whoever last changed the approval must not have last changed any line the finding rests on, on
        either side (``training``, ``deployed``, ``related``), nor, for a value no line states (a default, where a
        line may have been deleted), the file it comes from. What git cannot attribute (an approval or a line not
        committed, a line git cannot blame) does not pass."""
        from driftguard.ci.approval_history import email_of

        by_id = {r.id: r for r in refs}
        out: dict[str, str] = {}
        for f in findings:
            if f.status != Status.APPROVED or f.approval is None:
                continue
            ref = by_id.get(f.approval)
            if ref is None or ref.added_by is None:
                out[f.approval] = "the approval file is not committed: who changed it cannot be told"
                continue
            approver = email_of(ref.added_by)
            for v in (f.deployed, f.training, *f.related):  # the deployed side first, as reports point
                why = None if v is None else _attributed(repo, v.origin, approver)
                if why is not None:
                    out[f.approval] = why
                    break
        return out

    def kept(self, approvals: Sequence[LoadedApproval]) -> list[LoadedApproval]:
        dropped = [a for a, _ in self.ignored]
        return [a for a in approvals if a not in dropped]

    def refs(self, refs: tuple[ApprovalRef, ...], today: date, names: Sequence[str]) -> tuple[ApprovalRef, ...]:
        """The report's approvals with the ignored ones added and each one's commit, author and date."""
        if not self.active:
            return refs
        out = sorted((*refs, *_uncommitted(self.ignored, today, names)), key=lambda r: r.id)
        return tuple(replace(r, added_in=self.files[r.path].commit, added_by=self.files[r.path].author,
                             added_on=self.files[r.path].date) if r.path in self.files else r for r in out)


def _attributed(repo: Path, origin: Origin, approver: str | None) -> str | None:
    """Why the approval does not pass for a value from ``origin`` (None: it may): git cannot tell who changed
    its line, the line or file is not committed, or ``approver`` changed it last."""
    from driftguard.ci.approval_history import file_author, line_author

    try:
        where = Path(origin.path).resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        where = origin.path
    if origin.line is not None:
        where = f"{where}:{origin.line}"
        who = line_author(repo, origin.path, origin.line)
        if who is None:
            return f"git cannot tell who changed {where}"
    else:
        who = file_author(repo, origin.path)
        if who is None:  # not a tracked file (an engine's default): nothing a change wrote
            return None
    if who.commit is None:
        return f"{where} is not committed: who changed it cannot be told"
    if who.email is not None and who.email.lower() == approver:
        return f"{where} was last changed in {who.commit[:12]} by {who.author}, who also last changed the approval"
    return None


def _on_base(path: str, repo: Path, base_files: Path) -> bool:
    """Whether the approval file ``path`` (in the repository at ``repo``) is the same bytes among the base
    revision's files, written under ``base_files`` at their repository paths. Both are read through
    ``readers.files`` (regular files, bounded); the base copy inside ``base_files`` only, which lies outside the
    checked tree. An approval that cannot be read so is not the base revision's (it does not count)."""
    from driftguard.errors import DriftguardError
    from driftguard.readers import files

    try:
        rel = Path(path).resolve().relative_to(repo.resolve())
        change = files.read_bytes(path, what="approval")
        with files.confined(base_files):
            base = files.read_bytes(base_files / rel, what="approval on the base revision")
    except (ValueError, DriftguardError):
        return False
    return base == change


def _uncommitted(ignored: Sequence[tuple[LoadedApproval, str]], today: date,
                 names: Sequence[str]) -> list[ApprovalRef]:
    """Approvals ``--require-committed-approvals`` or ``--require-base-approvals`` ignored, as the report lists
    them."""
    return [ApprovalRef(id=a.id, path=a.path, line=a.line, model=a.approval.model, key=a.approval.key,
                        expires=a.approval.expires.isoformat(), days=(a.approval.expires - today).days,
                        state=ApprovalState.UNCOMMITTED, reason=a.approval.reason, note=why)
            for a, why in ignored if a.approval.model in names]
