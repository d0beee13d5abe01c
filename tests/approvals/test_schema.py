"""What an approval file may say (``approvals/schema.py``), at each boundary: the id's characters and its
128-character limit, non-empty texts, dates written YYYY-MM-DD and nothing a reader cannot check at a glance,
both values pinned for an exact key (issue 25: "a pins schema accepting anything"), a glob only when allowed, an
approval not starting after it ends. Expected values are the schema's documented rules written out by hand."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from driftguard.approvals.schema import Approval

BASE: dict[str, Any] = {"id": "a-1", "model": "m", "key": "generation.top_p", "training": 0.92, "deployed": 0.85,
                        "reason": "measured", "approved_by": "oncall", "expires": "2027-01-31"}


def _with(**changes: Any) -> dict[str, Any]:
    data = {**BASE, **changes}
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()


def _refused(data: Any, match: str = "") -> str:
    with pytest.raises(ValidationError) as err:
        Approval.model_validate(data)
    assert match in str(err.value), str(err.value)
    return str(err.value)


def test_a_complete_approval_is_accepted() -> None:
    a = Approval.model_validate(BASE)
    assert (a.id, a.expires, a.approved_on, a.pins_values) == ("a-1", date(2027, 1, 31), None, True)


@pytest.mark.parametrize(("ident", "ok"), [
    ("a", True), ("A.b_c-9", True), ("9x", True), ("x" * 128, True), ("x" * 129, False),
    ("-a", False), (".a", False), ("_a", False), ("a b", False), ("a/b", False), ("", False),
])
def test_an_id_is_a_file_name_of_at_most_128_characters(ident: str, ok: bool) -> None:
    if ok:
        assert Approval.model_validate(_with(id=ident)).id == ident
    else:
        _refused(_with(id=ident))


def test_a_bad_id_says_what_an_id_is_and_a_number_is_no_id() -> None:
    _refused(_with(id="a b"), "'a b' is not an approval id: letters, digits")
    _refused(_with(id=7))


@pytest.mark.parametrize("field", ["model", "key", "reason", "approved_by"])
def test_texts_may_not_be_empty_and_one_character_is_enough(field: str) -> None:
    _refused(_with(**{field: ""}))
    assert getattr(Approval.model_validate(_with(**{field: "x"})), field) == "x"


@pytest.mark.parametrize("field", ["reason", "approved_by"])
def test_reason_and_approver_may_not_be_blank(field: str) -> None:
    _refused(_with(**{field: "   "}), "must not be blank")


@pytest.mark.parametrize("value", [1798761600, "2027-01-31T00:00", "31.01.2027", "2027-1-31",
                                   datetime(2027, 1, 31, 0, 0)])
@pytest.mark.parametrize("field", ["expires", "approved_on"])
def test_dates_are_calendar_dates_written_yyyy_mm_dd(field: str, value: Any) -> None:
    _refused(_with(**{field: value}), "must be a date written YYYY-MM-DD")


def test_a_date_may_be_a_date_and_approved_on_may_be_null() -> None:
    a = Approval.model_validate(_with(expires=date(2027, 1, 31), approved_on=None))
    assert (a.expires, a.approved_on) == (date(2027, 1, 31), None)
    assert Approval.model_validate(_with(approved_on="2027-01-01")).approved_on == date(2027, 1, 1)


@pytest.mark.parametrize(("missing", "message"), [
    (("training",), "set training (null"), (("deployed",), "set deployed (null"),
    (("training", "deployed"), "set training and deployed (null"),
])
def test_an_exact_key_pins_both_values(missing: tuple[str, ...], message: str) -> None:
    """Leaving one out would approve any value there: refused, naming what to set (null for an unset side)."""
    _refused(_with(**{m: _DROP for m in missing}), message)
    assert Approval.model_validate(_with(training=None, deployed=None)).pins_values


def test_a_glob_needs_allow_wildcard_and_may_leave_the_values_open() -> None:
    _refused(_with(key="generation.*"), "is a glob: set allow_wildcard: true")
    open_glob = Approval.model_validate(_with(key="generation.*", allow_wildcard=True, training=_DROP,
                                              deployed=_DROP))
    assert not open_glob.pins_values
    one = Approval.model_validate(_with(key="generation.*", allow_wildcard=True, deployed=_DROP))
    assert not one.pins_values
    both = Approval.model_validate(_with(key="generation.*", allow_wildcard=True))
    assert both.pins_values


@pytest.mark.parametrize(("approved_on", "ok"), [("2027-01-30", True), ("2027-01-31", True), ("2027-02-01", False)])
def test_an_approval_may_start_on_its_last_day_not_after(approved_on: str, ok: bool) -> None:
    if ok:
        assert Approval.model_validate(_with(approved_on=approved_on)).approved_on == date.fromisoformat(approved_on)
    else:
        _refused(_with(approved_on=approved_on), "approved_on is after expires")


@pytest.mark.parametrize("data", [[BASE], "a-1", None, 7])
def test_anything_but_a_mapping_is_a_validation_error(data: Any) -> None:
    _refused(data)


def test_unknown_fields_are_refused_and_an_approval_is_frozen() -> None:
    _refused(_with(expiry="2027-01-31"), "Extra inputs are not permitted")
    a = Approval.model_validate(BASE)
    with pytest.raises(ValidationError):
        a.reason = "changed"  # type: ignore[misc]
