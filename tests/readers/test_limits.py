"""``readers.limits``: the ``Limits`` every reader is bounded by: what a limit may be set to, overrides by name
(suffixes K, M, G), and ``check``, which raises the one-line ``LimitError``. The README's table of limits is
pinned in ``tests/test_readme_limits.py``."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from driftguard.errors import LimitError, UsageError
from driftguard.readers.limits import DEFAULT, MAX_DEPTH, MAX_LIMIT, Limits, MiB, names, parse_limit_value


@pytest.mark.parametrize(("raw", "value"), [
    (1, 1), (123, 123), ("123", 123), (" 64M ", 64 * MiB), ("2g", 2 * 1024 * MiB), ("2G", 2 * 1024 ** 3), ("1k", 1024),
    ("3M", 3 * 1024 ** 2), ("1K", 1024),
    (MAX_LIMIT, MAX_LIMIT),
    (0, None), (-1, None), (True, None), ("", None), ("k", None), ("1.5M", None), ("-3", None), ("0x10", None),
    ("1" * 19, None), (1.0, None), (None, None), ("9" * 18 + "g", None),
])
def test_parse_limit_value(raw: object, value: int | None) -> None:
    assert parse_limit_value(raw) == value


def test_overrides_by_name_leave_the_rest_at_their_defaults() -> None:
    limits = DEFAULT.with_overrides({"depth": "128", "file_bytes": "1M"})
    assert (limits.depth, limits.file_bytes) == (128, MiB)
    assert limits.objects == DEFAULT.objects
    assert DEFAULT.depth == 64, "the default is not changed"


def test_an_unknown_name_is_refused_listing_the_limits() -> None:
    with pytest.raises(UsageError, match=r"unknown limit 'dept'; limits: .*depth"):
        DEFAULT.with_overrides({"dept": 1})


def test_a_value_that_is_not_a_positive_integer_is_refused() -> None:
    with pytest.raises(UsageError, match="limit objects must be a positive integer"):
        DEFAULT.with_overrides({"objects": "lots"})
    with pytest.raises(UsageError, match="limit tensors must be a positive integer up to 2\\*\\*62"):
        Limits(tensors=0)


def test_depth_stops_below_the_interpreters_stack() -> None:
    assert MAX_DEPTH == 256  # pinned here, not only read from the module: a lower bound would refuse real trees
    assert Limits(depth=MAX_DEPTH).depth == MAX_DEPTH
    with pytest.raises(UsageError, match=f"up to {MAX_DEPTH}"):
        Limits(depth=MAX_DEPTH + 1)


def test_check_raises_only_past_the_limit() -> None:
    limits = Limits(objects=10)
    limits.check("objects", 10, "10 values")
    with pytest.raises(LimitError) as info:
        limits.check("objects", 11, "11 values", "m.json", 3)
    assert (info.value.limit, info.value.allowed, info.value.path, info.value.line) == ("objects", 10, "m.json", 3)
    assert "--limit objects=N" in str(info.value)


def test_names_are_the_fields_in_declaration_order() -> None:
    assert names()[:3] == ["file_bytes", "pickle_bytes", "pickle_ops"]
    assert set(names()) == set(Limits.__dataclass_fields__)


# Values written out by hand, never read from the module: the bound the error message states (2**62), what a count
# is (an int, never a bool or a float) and the smallest one (1), so a change to the module's constants shows here.
TWO_TO_62 = 4_611_686_018_427_387_904


def test_a_limit_may_be_set_to_exactly_2_to_the_62_and_no_higher() -> None:
    assert Limits(file_bytes=TWO_TO_62).file_bytes == TWO_TO_62
    assert parse_limit_value("4294967296g") == TWO_TO_62  # 2**32 GiB
    assert parse_limit_value("4294967297g") is None
    with pytest.raises(UsageError, match=r"up to 2\*\*62, got 4611686018427387905"):
        Limits(file_bytes=TWO_TO_62 + 1)


@pytest.mark.parametrize("value", [1, 2, 10 ** 18])
def test_every_positive_integer_up_to_the_bound_is_a_limit(value: int) -> None:
    assert Limits(objects=value).objects == value


@pytest.mark.parametrize("value", [True, 1.5, 64.0, "64", -1, -(2 ** 70)])
def test_a_limit_that_is_not_a_positive_int_is_refused(value: object) -> None:
    with pytest.raises(UsageError, match="limit objects must be a positive integer"):
        Limits(objects=value)  # type: ignore[arg-type]  # what a library caller may pass anyway


@pytest.mark.parametrize(("raw", "value"), [
    ("1", 1), ("0", None), ("0k", None), ("000", None), ("9" * 18, 999_999_999_999_999_999), ("1" * 18 + "k", None),
    ("\N{SUPERSCRIPT TWO}", None), ("\N{ARABIC-INDIC DIGIT ONE}", None),
])
def test_text_values_at_the_edges(raw: str, value: int | None) -> None:
    """One is the smallest limit, zero is none; eighteen digits are below 2**62 (about 4.6e18), so they are read;
    a digit that is not ASCII is not a number here (``int('²')`` raises, which was a crash)."""
    assert parse_limit_value(raw) == value


def test_check_allows_anything_up_to_the_limit() -> None:
    limits = Limits(objects=300)
    for found in (0, 1, 299, 300):
        limits.check("objects", found, f"{found} values")
    with pytest.raises(LimitError):
        limits.check("objects", 301, "301 values")


def test_limits_cannot_be_changed_in_place() -> None:
    """DEFAULT is shared by every reader: a change must make a copy (``with_overrides``)."""
    with pytest.raises(FrozenInstanceError):
        DEFAULT.depth = 1  # type: ignore[misc]  # the assignment under test
