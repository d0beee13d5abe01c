"""Writing one approval file (``driftguard approve``): the fields checked as the schema checks them, then
``approvals/<id>.yaml`` created inside the approvals folder, never through a symlink, never over a file."""

from __future__ import annotations

import os
from collections.abc import Mapping
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

    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # never through a symlink, never over an existing file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        raise UsageError(f"{path} exists; choose another --id or edit that file") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(render(approval))
    return path
