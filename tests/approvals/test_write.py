"""``approvals.write``: an approval built from fields (the first wrong one named), where it goes (inside the
approvals folder), and the file written once, never through a symlink or over another file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftguard.approvals import load_file, write
from driftguard.errors import DriftguardError, UsageError

FIELDS: dict[str, object] = {"id": "m-key", "model": "m", "key": "generation.top_p", "reason": "measured",
                             "approved_by": "dana", "approved_on": "2026-12-01", "expires": "2027-03-01",
                             "evidence": None, "training": 0.92, "deployed": 0.85}


def test_new_approval_names_the_first_wrong_field() -> None:
    assert write.new_approval(FIELDS).id == "m-key"
    with pytest.raises(UsageError, match=r"^id: "):
        write.new_approval({**FIELDS, "id": "../escape"})
    with pytest.raises(UsageError, match=r"^reason: "):
        write.new_approval({**FIELDS, "reason": "  "})


def test_write_creates_the_file_once(tmp_path: Path) -> None:
    approval = write.new_approval(FIELDS)
    target = write.target(tmp_path / "approvals", tmp_path, "driftguard.yaml", approval)
    assert target == tmp_path / "approvals" / "m-key.yaml"
    assert write.write(target, approval) == target  # the folder is made
    loaded = load_file(target)
    assert (loaded.approval.key, loaded.approval.training, loaded.approval.deployed) == ("generation.top_p", 0.92,
                                                                                        0.85)
    with pytest.raises(UsageError, match="exists; choose another --id"):
        write.write(target, approval)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_never_through_a_symlink_or_outside_the_root(tmp_path: Path) -> None:
    approval = write.new_approval(FIELDS)
    outside = tmp_path / "outside.yaml"
    (tmp_path / "repo" / "approvals").mkdir(parents=True)
    link = tmp_path / "repo" / "approvals" / "m-key.yaml"
    link.symlink_to(outside)
    with pytest.raises(UsageError):  # O_EXCL refuses the dangling link: nothing is written through it
        write.write(link, approval)
    assert not outside.exists()
    with pytest.raises(DriftguardError):
        write.target(tmp_path / "elsewhere", tmp_path / "repo", "driftguard.yaml", approval)
