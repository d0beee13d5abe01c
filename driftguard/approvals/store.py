"""Loading the approvals folder: every ``*.yaml``/``*.yml`` file, one approval each, validated, with
duplicate ids, approvers outside the allowlist and expiries beyond the maximum horizon reported as
``ApprovalError`` at ``FILE:LINE``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from driftguard import yamlfile
from driftguard.approvals.schema import Approval
from driftguard.errors import ApprovalError


@dataclass(frozen=True)
class LoadedApproval:
    """An approval with the file and line it was read from."""

    approval: Approval
    path: str
    line: int | None
    field_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int | None:
        """The line of a top-level field (the approval's first line when absent)."""
        return self.field_lines.get(name, self.line)

    @property
    def id(self) -> str:
        return self.approval.id


def load_file(path: Path) -> LoadedApproval:
    """One approval file, validated."""
    doc = yamlfile.load(path, ApprovalError)
    if not isinstance(doc.data, dict):
        raise ApprovalError("expected a mapping (id, model, key, training, deployed, reason, expires)",
                            str(path), yamlfile.line_of(doc, ()))
    try:
        approval = Approval.model_validate(doc.data)
    except ValidationError as exc:
        yamlfile.raise_validation(doc, exc, ApprovalError)
        raise  # unreachable
    lines = {str(k): yamlfile.line_of(doc, (str(k),), key=True) or 1 for k in doc.data}
    first = yamlfile.line_of(doc, ())
    return LoadedApproval(approval, str(path), lines.get("id", first), lines)


def load_dir(folder: Path, *, approvers: Sequence[str] = (), max_horizon_days: int | None = None,
             today: date | None = None) -> list[LoadedApproval]:
    """Every approval under ``folder`` (sorted by file name); a missing folder holds none."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise ApprovalError("approvals must be a folder", str(folder))
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    out: list[LoadedApproval] = []
    seen: dict[str, LoadedApproval] = {}
    for f in files:
        loaded = load_file(f)
        first = seen.get(loaded.id)
        if first is not None:
            raise ApprovalError(f"duplicate approval id '{loaded.id}' (also in {first.path}:{first.line})",
                                loaded.path, loaded.line)
        seen[loaded.id] = loaded
        check_policy(loaded, approvers=approvers, max_horizon_days=max_horizon_days, today=today)
        out.append(loaded)
    return out


def check_policy(loaded: LoadedApproval, *, approvers: Sequence[str] = (), max_horizon_days: int | None = None,
                 today: date | None = None) -> None:
    """The manifest's rules for approvals: allowed approvers and the longest horizon."""
    a = loaded.approval
    if approvers and a.approved_by not in approvers:
        who = f"'{a.approved_by}'" if a.approved_by else "nobody (approved_by missing)"
        raise ApprovalError(f"approved by {who}; allowed approvers: {', '.join(approvers)}", loaded.path,
                            loaded.line_of("approved_by"))
    if max_horizon_days is not None:
        start = a.approved_on or today or date.today()
        if (a.expires - start).days > max_horizon_days:
            raise ApprovalError(
                f"expires {a.expires.isoformat()} is {(a.expires - start).days} days after "
                f"{'approved_on' if a.approved_on else 'today'}; the longest allowed is {max_horizon_days} days",
                loaded.path, loaded.line_of("expires"))
