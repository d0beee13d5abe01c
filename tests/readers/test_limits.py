"""``readers.limits``: the ``Limits`` every reader is bounded by: what a limit may be set to, overrides by name
(suffixes K, M, G), and ``check``, which raises the one-line ``LimitError``. The README's table of limits is
pinned in ``tests/test_readme_limits.py``."""

from __future__ import annotations

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
    assert MAX_DEPTH == 512  # pinned here, not only read from the module: a lower bound would refuse real trees
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
