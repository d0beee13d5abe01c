"""The approval policy at its boundaries (issue 25: the horizon's `>` vs `>=` and duplicate ids that differ only
in case survived mutation): an expiry exactly max_horizon_days after approved_on or today holds, one day more is
refused at the expires line; an approval may start today, not tomorrow; ids are one file name on a
case-insensitive file system, so two that differ in case are a duplicate."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from driftguard.approvals.store import load_dir
from driftguard.errors import ApprovalError

TODAY = date(2026, 12, 1)


def _write(folder: Path, name: str, *, ident: str, approved_on: date | None, expires: date) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    start = "" if approved_on is None else f"approved_on: {approved_on.isoformat()}\n"
    path.write_text(f"id: {ident}\nmodel: m\nkey: generation.top_p\ntraining: 0.92\ndeployed: 0.85\n"
                    f"reason: measured\napproved_by: oncall\n{start}expires: {expires.isoformat()}\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("start", ["approved_on", "today"])
def test_the_horizon_holds_to_the_day(tmp_path: Path, start: str) -> None:
    """Counted from approved_on and from today (alone when approved_on is not given): 30 days after is allowed,
    31 is not."""
    approved_on = None if start == "today" else TODAY - timedelta(days=3)
    base = TODAY if approved_on is None else approved_on
    folder = tmp_path / "approvals"
    _write(folder, "a", ident="a", approved_on=approved_on, expires=base + timedelta(days=30))
    assert [x.id for x in load_dir(folder, max_horizon_days=30, today=TODAY)] == ["a"]
    path = _write(folder, "a", ident="a", approved_on=approved_on, expires=base + timedelta(days=31))
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, max_horizon_days=30, today=TODAY)
    assert (err.value.path, err.value.line) == (str(path), 8 if approved_on is None else 9)
    assert f"is 31 days after {start}" in err.value.message and "longest allowed is 30 days" in err.value.message


def test_an_approval_may_start_today_not_tomorrow(tmp_path: Path) -> None:
    folder = tmp_path / "approvals"
    _write(folder, "a", ident="a", approved_on=TODAY, expires=TODAY + timedelta(days=5))
    assert len(load_dir(folder, today=TODAY)) == 1
    _write(folder, "a", ident="a", approved_on=TODAY + timedelta(days=1), expires=TODAY + timedelta(days=5))
    with pytest.raises(ApprovalError, match="may not start in the future") as err:
        load_dir(folder, today=TODAY)
    assert err.value.line == 8


def test_ids_that_differ_only_in_case_are_a_duplicate(tmp_path: Path) -> None:
    folder = tmp_path / "approvals"
    _write(folder, "first", ident="Top-P", approved_on=TODAY, expires=TODAY + timedelta(days=5))
    second = _write(folder, "second", ident="top-p", approved_on=TODAY, expires=TODAY + timedelta(days=5))
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, today=TODAY)
    assert err.value.message.startswith("duplicate approval id 'top-p' ('Top-P'; ids are compared ignoring case)")
    assert err.value.path == str(second)


_ENTRY = ("- id: {ident}\n  model: m\n  key: generation.top_{k}\n  training: 0.92\n  deployed: 0.85\n"
          "  reason: adopted\n  approved_by: oncall\n  expires: 2027-01-01\n")


def test_a_list_file_holds_several_approvals_each_at_its_lines(tmp_path: Path) -> None:
    """``driftguard baseline``'s file: one approval per item, each with the lines of its own fields; the ids
    are unique across the items and the folder; a broken item is reported at its line."""
    folder = tmp_path / "approvals"
    folder.mkdir()
    path = folder / "baseline.yaml"
    path.write_text("# baseline\n" + _ENTRY.format(ident="b-1", k="p") + _ENTRY.format(ident="b-2", k="k"),
                    encoding="utf-8")
    loaded = load_dir(folder, today=TODAY)
    assert [(a.id, a.approval.key, a.line, a.index, a.line_of("expires")) for a in loaded] == [
        ("b-1", "generation.top_p", 2, 0, 9), ("b-2", "generation.top_k", 10, 1, 17)]
    _write(folder, "single", ident="B-2", approved_on=None, expires=TODAY)
    with pytest.raises(ApprovalError, match=r"duplicate approval id 'B-2'.*baseline\.yaml:10"):
        load_dir(folder, today=TODAY)
    (folder / "single.yaml").unlink()
    path.write_text(_ENTRY.format(ident="b-1", k="p") + _ENTRY.format(ident="b-2", k="k").replace(
        "  expires: 2027-01-01\n", ""), encoding="utf-8")
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, today=TODAY)
    assert err.value.line == 9 and "[1].expires: required field is missing" in err.value.message
    for text in ("[]\n", "- just a string\n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ApprovalError, match="expected a mapping"):
            load_dir(folder, today=TODAY)


# Issue 25 point 2: mutants of store.py that survived the tests above (tests/mutation/store.toml). Expected
# values are the policy's own statements (the module docstring: errors at FILE:LINE; the longest horizon
# counted from approved_on and from today) written out by hand.

@pytest.mark.parametrize(("start", "tail"), [
    ("approved_on", "is 31 days after approved_on 2026-11-28; the longest allowed is 30 days"),
    ("today", "is 31 days after today; the longest allowed is 30 days"),
])
def test_the_horizon_message_names_its_start(tmp_path: Path, start: str, tail: str) -> None:
    approved_on = TODAY - timedelta(days=3) if start == "approved_on" else None
    base = approved_on or TODAY
    folder = tmp_path / "approvals"
    _write(folder, "a", ident="a", approved_on=approved_on, expires=base + timedelta(days=31))
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, max_horizon_days=30, today=TODAY)
    assert err.value.message == f"expires {(base + timedelta(days=31)).isoformat()} {tail}"


def test_an_approver_outside_the_allowlist_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "approvals"
    _write(folder, "a", ident="a", approved_on=TODAY, expires=TODAY + timedelta(days=5))
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, approvers=("alice", "bob"), today=TODAY)
    assert err.value.message == "approved by 'oncall'; allowed approvers: alice, bob" and err.value.line == 7
    assert len(load_dir(folder, approvers=("oncall",), today=TODAY)) == 1


@pytest.mark.parametrize(("first", "second", "note"), [
    ("same-id", "same-id", ""), ("Top-P", "top-p", " ('Top-P'; ids are compared ignoring case)"),
    ("top-p", "Top-P", " ('top-p'; ids are compared ignoring case)"),
])
def test_a_duplicate_id_says_when_only_the_case_differs(tmp_path: Path, first: str, second: str,
                                                         note: str) -> None:
    """Ids read from two files are equal strings, never the same object: the note is for a case difference."""
    folder = tmp_path / "approvals"
    a = _write(folder, "a", ident=first, approved_on=TODAY, expires=TODAY + timedelta(days=5))
    _write(folder, "b", ident=second, approved_on=TODAY, expires=TODAY + timedelta(days=5))
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, today=TODAY)
    assert err.value.message == f"duplicate approval id '{second}'{note} (also in {a}:1)"


def test_a_field_whose_value_is_on_the_next_line_is_reported_at_its_key(tmp_path: Path) -> None:
    """FILE:LINE names the field: with the date on the line after ``expires:``, the key's line."""
    folder = tmp_path / "approvals"
    path = _write(folder, "a", ident="a", approved_on=None, expires=TODAY + timedelta(days=40))
    path.write_text(path.read_text(encoding="utf-8").replace("expires: ", "expires:\n  "), encoding="utf-8")
    with pytest.raises(ApprovalError) as err:
        load_dir(folder, max_horizon_days=30, today=TODAY)
    assert err.value.line == 8


def test_load_file_takes_one_approval_not_a_list(tmp_path: Path) -> None:
    from driftguard.approvals.store import load_file

    folder = tmp_path / "approvals"
    single = _write(folder, "a", ident="a", approved_on=None, expires=TODAY)
    assert load_file(single).id == "a"
    for items in (1, 2):
        listed = folder / f"list{items}.yaml"
        listed.write_text("".join(_ENTRY.format(ident=f"l-{i}", k="p") for i in range(items)), encoding="utf-8")
        with pytest.raises(ApprovalError) as err:
            load_file(listed)
        assert (err.value.message, err.value.line) == ("expected one approval (a mapping), found a list", 1)


def test_an_approval_file_outside_the_root_is_an_approval_error(tmp_path: Path) -> None:
    """A pull request may add a symlink: a file resolving outside the manifest's folder is refused as an
    approval error naming the file, like any other broken approval."""
    root = tmp_path / "repo"
    folder = root / "approvals"
    outside = _write(tmp_path / "elsewhere", "x", ident="x", approved_on=None, expires=TODAY)
    folder.mkdir(parents=True)
    (folder / "x.yaml").symlink_to(outside)
    with pytest.raises(ApprovalError):
        load_dir(folder, today=TODAY, root=root)


def test_the_policy_options_are_keyword_only_and_a_loaded_approval_is_frozen(tmp_path: Path) -> None:
    """approvers, max_horizon_days and today are never taken by position (a list of approvers in the horizon's
    place would pass unnoticed), and what was read cannot be changed afterwards."""
    import dataclasses

    from driftguard.approvals.store import check_policy

    folder = tmp_path / "approvals"
    _write(folder, "a", ident="a", approved_on=None, expires=TODAY)
    (loaded,) = load_dir(folder, today=TODAY)
    with pytest.raises(TypeError):
        load_dir(folder, ("oncall",))  # type: ignore[misc]
    with pytest.raises(TypeError):
        check_policy(loaded, ("oncall",))  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.line = 2  # type: ignore[misc]
