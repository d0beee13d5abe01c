"""Loading the approvals folder: every ``*.yaml``/``*.yml`` entry, one approval each (or, in a file that
``driftguard baseline`` writes, a list of them), validated, with duplicate ids (ignoring case), approvers
outside the allowlist, approvals dated after today and expiries beyond the maximum horizon reported as
``ApprovalError`` at ``FILE:LINE``.

The folder and every file in it must lie inside ``root`` (the manifest's folder) once symlinks are resolved,
and each entry must be a regular file: a pull request may add approval files, so it could otherwise point the
gate at a FIFO or at a file outside the repository. Each file is read bounded (``readers.yaml_doc``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from driftguard import clock
from driftguard.approvals.schema import Approval
from driftguard.errors import ApprovalError, DriftguardError
from driftguard.readers import files, yaml_doc
from driftguard.readers.limits import DEFAULT, Limits

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedApproval:
    """An approval with the file and line it was read from."""

    approval: Approval
    path: str
    line: int | None
    field_lines: Mapping[str, int] = field(default_factory=dict)
    #: its place in a file holding a list of approvals (``driftguard baseline``'s); None for a file of one
    index: int | None = None

    def line_of(self, name: str) -> int | None:
        """The line of a top-level field (the approval's first line when absent)."""
        return self.field_lines.get(name, self.line)

    @property
    def id(self) -> str:
        return self.approval.id


def load_file(path: Path, limits: Limits = DEFAULT) -> LoadedApproval:
    """One approval file (a regular file within ``limits``) holding one approval, validated."""
    loaded = load_entries(path, limits)
    if len(loaded) != 1 or loaded[0].index is not None:
        raise ApprovalError("expected one approval (a mapping), found a list", str(path), 1)
    return loaded[0]


def load_entries(path: Path, limits: Limits = DEFAULT) -> list[LoadedApproval]:
    """The approvals of one file (a regular file within ``limits``), validated: a mapping is one approval, a
    list of mappings (``driftguard baseline``'s file) one approval per item, each with its own lines."""
    doc = yaml_doc.load(path, ApprovalError, limits, what="approval file")
    if isinstance(doc.data, dict):
        return [_entry(doc, doc.data, ())]
    if isinstance(doc.data, list) and doc.data:
        return [_entry(doc, item, (i,)) for i, item in enumerate(doc.data)]
    raise ApprovalError("expected a mapping (id, model, key, training, deployed, reason, expires), or a list of "
                        "them", str(path), yaml_doc.line_of(doc, ()))


def _entry(doc: yaml_doc.YamlDoc, data: object, at: tuple[int, ...]) -> LoadedApproval:
    """The approval at ``at`` in ``doc`` (``()``: the whole document; ``(i,)``: item i of its list)."""
    if not isinstance(data, dict):
        raise ApprovalError("expected a mapping (id, model, key, training, deployed, reason, expires)",
                            doc.path, yaml_doc.line_of(doc, at))
    try:
        approval = Approval.model_validate(data)
    except ValidationError as exc:
        yaml_doc.raise_validation(doc, exc, ApprovalError, at, schema=Approval)
        raise  # unreachable
    lines = {str(k): yaml_doc.line_of(doc, (*at, str(k)), key=True) or 1 for k in data}
    first = yaml_doc.line_of(doc, at)
    return LoadedApproval(approval, doc.path, lines.get("id", first), lines, at[0] if at else None)


def load_dir(folder: Path, *, approvers: Sequence[str] = (), max_horizon_days: int | None = None,
             today: date | None = None, root: Path | None = None,
             limits: Limits = DEFAULT) -> list[LoadedApproval]:
    """Every approval under ``folder`` (sorted by file name); a missing folder holds none.

    ``root``: the folder the approvals folder and every approval file must lie in, symlinks resolved (the
    manifest's folder; default ``folder`` itself)."""
    root = root if root is not None else folder
    _confine(folder, root, "approvals folder")
    if not files.exists(folder):
        return []
    if not folder.is_dir():
        raise ApprovalError("approvals must be a folder", str(folder))
    entries = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)
    out: list[LoadedApproval] = []
    seen: dict[str, LoadedApproval] = {}
    for entry in entries:
        _confine(entry, root, "approval file")
        for loaded in load_entries(entry, limits):
            # ids name files, and on a case-insensitive file system A-x.yaml and a-x.yaml are one file
            first = seen.get(loaded.id.casefold())
            if first is not None:
                same = "" if first.id == loaded.id else f" ('{first.id}'; ids are compared ignoring case)"
                raise ApprovalError(f"duplicate approval id '{loaded.id}'{same} (also in {first.path}:{first.line})",
                                    loaded.path, loaded.line)
            seen[loaded.id.casefold()] = loaded
            check_policy(loaded, approvers=approvers, max_horizon_days=max_horizon_days, today=today)
            out.append(loaded)
    return out


def _confine(path: Path, root: Path, what: str) -> None:
    try:
        files.confine(path, root, what)
    except DriftguardError as exc:
        raise ApprovalError(exc.message, exc.path, exc.line) from None


def check_policy(loaded: LoadedApproval, *, approvers: Sequence[str] = (), max_horizon_days: int | None = None,
                 today: date | None = None) -> None:
    """The manifest's rules for approvals: allowed approvers, no start after ``today``, and the longest horizon,
    counted from ``approved_on`` and from ``today`` (an approval dated in the future would stretch it)."""
    a = loaded.approval
    today = today or clock.today()
    if approvers and a.approved_by not in approvers:
        who = f"'{a.approved_by}'" if a.approved_by else "nobody (approved_by missing)"
        raise ApprovalError(f"approved by {who}; allowed approvers: {', '.join(approvers)}", loaded.path,
                            loaded.line_of("approved_by"))
    if a.approved_on is not None and a.approved_on > today:
        raise ApprovalError(f"approved_on {a.approved_on.isoformat()} is after today ({today.isoformat()}): an "
                            "approval may not start in the future", loaded.path, loaded.line_of("approved_on"))
    if max_horizon_days is not None:
        for start, name in ((a.approved_on, "approved_on"), (today, "today")):
            if start is not None and (a.expires - start).days > max_horizon_days:
                raise ApprovalError(
                    f"expires {a.expires.isoformat()} is {(a.expires - start).days} days after {name}"
                    f"{'' if name == 'today' else ' ' + start.isoformat()}; the longest allowed is "
                    f"{max_horizon_days} days", loaded.path, loaded.line_of("expires"))
