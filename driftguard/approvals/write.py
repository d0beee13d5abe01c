"""Writing approval files: one approval (``driftguard approve``), its fields checked as the schema checks them,
then ``approvals/<id>.yaml`` created inside the approvals folder, never through a symlink, never over a file;
or approvals added to the list file ``driftguard baseline`` keeps (``extend``), its earlier text kept byte for
byte and the new file moved into place whole."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from driftguard.approvals.schema import Approval
from driftguard.errors import UsageError


def new_approval(fields: Mapping[str, object]) -> Approval:
    """``fields`` as an ``Approval``; UsageError naming the first field that is wrong (``expires: ...``)."""
    from pydantic import ValidationError

    try:
        return Approval.model_validate(dict(fields))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = ".".join(str(p) for p in first["loc"]) or "approval"
        raise UsageError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None


def target(folder: Path, base: Path, origin: str, approval: Approval) -> Path:
    """Where ``approval`` is written: ``<folder>/<id>.yaml``, ``folder`` confined to ``base`` (a
    ``DriftguardError`` naming ``origin``, the manifest, otherwise)."""
    from driftguard.readers.files import confine

    return confine(folder, base, "approvals folder", origin=origin) / f"{approval.id}.yaml"


def write(path: Path, approval: Approval) -> Path:
    """``approval`` rendered (``approvals.render``) into the new file ``path`` (its folder made when missing);
    UsageError when the file exists. Returns ``path``."""
    from driftguard.approvals import render

    try:
        return _create(path, render(approval))
    except FileExistsError:
        raise UsageError(f"{path} exists; choose another --id or edit that file") from None


def _create(path: Path, text: str) -> Path:
    """``text`` written to the new file ``path`` (its folder made when missing); FileExistsError when it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # never through a symlink, never over an existing file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def extend(path: Path, held: str | None, approvals: Sequence[Approval], header: str) -> Path:
    """``approvals`` added as items of the list file ``path``: created as ``header`` (comment lines) and the
    items when ``held`` (its text as read) is None, else ``held`` kept byte for byte with the items after it,
    written beside it and moved over it in one step (the name replaced, never a file a symlink points at).
    UsageError when a file to be created appeared meanwhile."""
    from driftguard.approvals import render_list

    items = render_list(approvals)
    if held is None:
        try:
            return _create(path, header + items)
        except FileExistsError:
            raise UsageError(f"{path} appeared while the check ran; run again") from None
    spare = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        _create(spare, held + ("" if held.endswith("\n") else "\n") + items)
        os.replace(spare, path)
    finally:
        spare.unlink(missing_ok=True)
    return path
