"""``approvals.write``: an approval built from fields (the first wrong one named), where it goes (inside the
approvals folder), and the file written once, never through a symlink or over another file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from driftguard.approvals import Approval, load_file, write
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


def test_new_approval_names_the_first_of_several_wrong_fields_without_pydantic_prefix() -> None:
    # id comes before reason in the approval (README "Approvals"): the first wrong field is named, the message
    # as the schema words it, without pydantic's "Value error, " prefix
    with pytest.raises(UsageError, match=r"^id: ") as caught:
        write.new_approval({**FIELDS, "id": "../escape", "reason": "  "})
    assert "Value error" not in str(caught.value)


def test_write_makes_missing_folders_and_writes_beside_other_approvals(tmp_path: Path) -> None:
    folder = tmp_path / "deploy" / "configs" / "approvals"  # two folders above it missing as well
    first = write.write(folder / "m-key.yaml", write.new_approval(FIELDS))
    second = write.write(folder / "m-other.yaml", write.new_approval({**FIELDS, "id": "m-other"}))
    assert sorted(p.name for p in folder.iterdir()) == ["m-key.yaml", "m-other.yaml"]
    assert (load_file(first).approval.id, load_file(second).approval.id) == ("m-key", "m-other")


def test_a_written_approval_is_an_ordinary_file_read_write_for_its_owner_read_for_others(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write.write(tmp_path / "m-key.yaml", write.new_approval(FIELDS))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # rw-r--r--, as git checks out a file


# One item of a `driftguard baseline` list file, written out by hand as the README shows one ("Adopting the gate
# where drift exists"): the fields in the approval's order, the dates quoted, no evidence line when there is none.
ITEM = ("- id: m-key\n"
        "  model: m\n"
        "  key: generation.top_p\n"
        "  training: 0.92\n"
        "  deployed: 0.85\n"
        "  reason: measured\n"
        "  approved_by: dana\n"
        "  approved_on: '2026-12-01'\n"
        "  expires: '2027-03-01'\n")
HEADER = "# driftguard baseline\n"


def test_extend_creates_a_new_list_file_as_the_header_then_the_items(tmp_path: Path) -> None:
    path = tmp_path / "approvals" / "baseline.yaml"
    assert write.extend(path, None, [write.new_approval(FIELDS)], HEADER) == path
    assert path.read_text(encoding="utf-8") == HEADER + ITEM


def test_extend_refuses_a_list_file_that_appeared_while_the_check_ran(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("- someone else's\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"baseline\.yaml appeared while the check ran; run again$"):
        write.extend(path, None, [write.new_approval(FIELDS)], HEADER)
    assert path.read_text(encoding="utf-8") == "- someone else's\n"


@pytest.mark.parametrize(("held", "expected"), [
    ("# kept\n- id: old\n", "# kept\n- id: old\n" + ITEM),
    ("# kept\n- id: old", "# kept\n- id: old\n" + ITEM),  # no newline at the end: one is added, nothing else
])
def test_extend_keeps_the_held_text_byte_for_byte_and_adds_the_items_after_it(tmp_path: Path, held: str,
                                                                              expected: str) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(held, encoding="utf-8")
    assert write.extend(path, held, [write.new_approval(FIELDS)], HEADER) == path
    assert path.read_text(encoding="utf-8") == expected
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.yaml"]  # no spare file left beside it


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_extend_replaces_the_name_never_the_file_a_symlink_points_at(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("# not ours\n", encoding="utf-8")
    path = tmp_path / "baseline.yaml"
    path.symlink_to(elsewhere)
    write.extend(path, "# not ours\n", [write.new_approval(FIELDS)], HEADER)
    assert not path.is_symlink()
    assert path.read_text(encoding="utf-8") == "# not ours\n" + ITEM
    assert elsewhere.read_text(encoding="utf-8") == "# not ours\n"


# The approval file as written (``approvals.render``, ``approvals.render_list``; README "Adopting the gate" shows
# the list): block style, one field a line, in the schema's order (id, model, key, allow_wildcard, rule, training,
# deployed, reason, approved_by, approved_on, expires, evidence), the unset optional fields left out but training
# and deployed always there (null: unset on that side), text as typed, long lines folded at a space once past 100
# columns. Each expected text written out by hand.


def _approval(**fields: object) -> Approval:
    return write.new_approval({**FIELDS, "evidence": None, **fields})


def test_render_writes_every_field_in_schema_order_and_leaves_out_the_unset_ones() -> None:
    from driftguard.approvals import render

    assert render(_approval(deployed=None, reason="mesuré, größer")) == (
        "id: m-key\nmodel: m\nkey: generation.top_p\ntraining: 0.92\ndeployed: null\nreason: mesuré, größer\n"
        "approved_by: dana\napproved_on: '2026-12-01'\nexpires: '2027-03-01'\n")
    assert render(_approval(key="generation.*", allow_wildcard=True, rule="DG101", training=None,
                            evidence="runs/42")) == (
        "id: m-key\nmodel: m\nkey: generation.*\nallow_wildcard: true\nrule: DG101\ntraining: null\n"
        "deployed: 0.85\nreason: measured\napproved_by: dana\napproved_on: '2026-12-01'\nexpires: '2027-03-01'\n"
        "evidence: runs/42\n")


def test_a_long_reason_is_folded_at_the_first_space_past_100_columns() -> None:
    from driftguard.approvals import render, render_list

    # "reason: " is 8 columns: 92 x end at column 100, not past it; 93 end at 101, past it
    at_100 = "x" * 92 + " b c"
    assert render(_approval(reason=at_100)).splitlines()[5:7] == [
        "reason: " + "x" * 92 + " b", "  c"]
    past_100 = "x" * 93 + " b c"
    assert render(_approval(reason=past_100)).splitlines()[5:7] == [
        "reason: " + "x" * 93, "  b c"]
    # in a list each field is indented by two ("  reason: ", 10 columns)
    listed = render_list([_approval(reason="x" * 90 + " b c"), _approval(id="n", reason="x" * 91 + " b c")])
    lines = listed.splitlines()
    assert lines[0] == "- id: m-key" and lines[5:7] == ["  reason: " + "x" * 90 + " b", "    c"]
    assert lines[10] == "- id: n" and lines[15:17] == ["  reason: " + "x" * 91, "    b c"]


def test_render_list_writes_text_as_typed() -> None:
    from driftguard.approvals import render_list

    assert "  reason: mesuré, größer\n" in render_list([_approval(reason="mesuré, größer")])
