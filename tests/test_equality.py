"""compare.values_equal and structured_delta, called directly: the float32 round-trip tolerance (neither 0 nor
loose), NaN, bools apart from ints, huge ints exact, lists as multisets only when asked, dicts key-wise."""

from __future__ import annotations

import math
import struct

import pytest

from driftguard.equality import FLOAT_REL_TOL, structured_delta, values_equal


def f32(x: float) -> float:
    """``x`` after a float32 round trip, as an engine that stores float32 writes it back."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


# --- numbers --------------------------------------------------------------------------------------------

def test_default_tolerance_is_the_float32_round_trip() -> None:
    assert FLOAT_REL_TOL == 1e-6


@pytest.mark.parametrize("x", [0.92, 0.85, 0.6, 0.1, 1e-5, 3.3e38, -0.7])
def test_float32_round_trip_is_equal(x: float) -> None:
    assert f32(x) != x  # really a different double
    assert values_equal(x, f32(x))
    assert values_equal(f32(x), x)


@pytest.mark.parametrize(("a", "b"), [
    (0.92, 0.93),            # a real change: unequal even for a 1e-2 tolerance
    (0.92, 0.9201),          # 1.1e-4 relative: unequal unless the tolerance is loose (1e-2)
    (0.92, 0.92 * (1 + 3e-6)),  # just outside 1e-6
    (1.0, 0.0),
    (0.0, 1e-300),           # no absolute slack by default
    (math.inf, -math.inf),
    (math.inf, 1e308),
])
def test_different_numbers_are_unequal(a: float, b: float) -> None:
    assert not values_equal(a, b)
    assert not values_equal(b, a)


def test_the_tolerance_sits_at_one_in_a_million() -> None:
    assert values_equal(0.92, 0.92 * (1 + 5e-7))      # inside 1e-6 (fails with rel_tol 0)
    assert not values_equal(0.92, 0.92 * (1 + 3e-6))  # outside 1e-6 (passes with 1e-5 or looser)
    assert values_equal(1000.0, 1000.0005)
    assert not values_equal(1000.0, 1000.01)


def test_explicit_tolerances_are_honoured() -> None:
    assert values_equal(0.92, 0.9201, rel_tol=1e-3)
    assert not values_equal(0.92, 0.95, rel_tol=1e-3)
    assert values_equal(0.7, 0.72, abs_tol=0.05)
    assert not values_equal(0.7, 0.8, abs_tol=0.05)
    assert not values_equal(0.92, f32(0.92), rel_tol=0.0)  # zero tolerance: the round trip shows


def test_ints_and_floats_compare_numerically() -> None:
    assert values_equal(1, 1.0)
    assert values_equal(1.0, 1)
    assert values_equal(512, 512)
    assert not values_equal(512, 513)
    assert not values_equal(1, 1.5)


def test_huge_ints_compare_exactly() -> None:
    big = 2**53
    assert float(big) == float(big + 1)  # a float comparison would call these equal
    assert not values_equal(big, big + 1)
    assert not values_equal(big + 1, big)
    assert values_equal(10**30, 10**30)
    assert not values_equal(int(1e30), 10**30)  # transformers' VERY_LARGE_INTEGER is not 10**30


def test_nan() -> None:
    nan = float("nan")
    assert values_equal(nan, float("nan"))
    assert values_equal(nan, nan)
    assert not values_equal(nan, 1.0)
    assert not values_equal(1.0, nan)
    assert not values_equal(nan, 0)
    assert not values_equal(nan, math.inf)


def test_bools_are_not_ints() -> None:
    assert values_equal(True, True)
    assert values_equal(False, False)
    assert not values_equal(True, False)
    assert not values_equal(True, 1)
    assert not values_equal(1, True)
    assert not values_equal(False, 0)
    assert not values_equal(0.0, False)
    assert not values_equal([True], [1])


def test_other_types_equal_only_themselves() -> None:
    assert values_equal("int8", "int8")
    assert not values_equal("int8", "INT8")
    assert values_equal(None, None)
    assert not values_equal(None, 0)
    assert not values_equal("1", 1)
    assert not values_equal(1, "1")
    assert not values_equal({1}, frozenset({1}))  # == holds, types differ
    assert values_equal("x", "".join(["x"]))  # equal, not identical


# --- lists and dicts ------------------------------------------------------------------------------------

def test_lists_are_ordered_unless_asked() -> None:
    assert values_equal([1, 2], [1, 2])
    assert not values_equal([1, 2], [2, 1])
    assert values_equal([1, 2], [2, 1], unordered=True)
    assert values_equal(["</s>", "\n\n"], ["\n\n", "</s>"], unordered=True)
    assert values_equal([2, "a"], ["a", 2], unordered=True)


def test_unordered_lists_are_multisets() -> None:
    assert not values_equal([1, 1, 2], [1, 2, 2], unordered=True)
    assert not values_equal([1, 2], [1, 2, 2], unordered=True)
    assert not values_equal([1, 2, 3], [1, 2], unordered=True)
    assert not values_equal([], [0], unordered=True)
    assert values_equal([], [], unordered=True)


def test_list_elements_use_the_tolerance() -> None:
    assert values_equal([0.92, 0.5], [f32(0.92), f32(0.5)])
    assert not values_equal([0.92], [0.9201])
    assert values_equal([0.92], [0.9201], rel_tol=1e-3)
    assert values_equal([0.7], [0.72], abs_tol=0.05)
    assert values_equal([0.92, 0.3], [f32(0.3), f32(0.92)], unordered=True)


def test_dicts_compare_key_wise() -> None:
    assert values_equal({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1.0})
    assert not values_equal({"a": 1}, {"a": 1, "b": 2})
    assert not values_equal({"a": 1}, {"b": 1})
    assert not values_equal({"a": 1}, {"a": 2})
    assert values_equal({"t": 0.92}, {"t": f32(0.92)})
    assert not values_equal({"t": 0.92}, {"t": 0.9201})
    assert values_equal({"t": 0.92}, {"t": 0.9201}, rel_tol=1e-3)
    assert values_equal({"t": 0.7}, {"t": 0.72}, abs_tol=0.05)
    assert values_equal({"ids": [1, 2]}, {"ids": [2, 1]}, unordered=True)
    assert not values_equal({"ids": [1, 2]}, {"ids": [2, 1]})
    assert values_equal({"x": {"y": float("nan")}}, {"x": {"y": float("nan")}})


def test_containers_of_different_kinds_differ() -> None:
    assert not values_equal([1], {"0": 1})
    assert not values_equal([1], 1)
    assert not values_equal({}, [])
    assert not values_equal([1, 2], (1, 2))


# --- structured_delta -----------------------------------------------------------------------------------

def test_delta_only_for_containers() -> None:
    assert structured_delta(1, 2) is None
    assert structured_delta("a", ["a"]) is None
    assert structured_delta([1, 2], [1, 2]) is None


def test_delta_of_lists_and_dicts() -> None:
    changed = structured_delta([1, 2], [1, 3])
    assert changed == {"values_changed": {"root[1]": {"new_value": 3, "old_value": 2}}}
    added = structured_delta({"a": 1}, {"a": 1, "b": 2})
    assert added is not None and list(added) == ["dictionary_item_added"]
    assert structured_delta([1, 2], [2, 1], unordered=True) is None
    assert structured_delta([1, 2], [2, 1]) is not None


def test_ints_and_floats_share_the_tolerance() -> None:
    assert values_equal(1, 1.0000001)
    assert values_equal(1.0000001, 1)
    assert values_equal(1000, 1000.0005)
    assert not values_equal(1000, 1000.01)


def test_delta_needs_containers_on_both_sides() -> None:
    assert structured_delta(["a"], "a") is None
    assert structured_delta({"a": 1}, 1) is None


def test_delta_ignores_int_float_spelling() -> None:
    assert structured_delta([1, 2], [1.0, 3]) == {"values_changed": {"root[1]": {"new_value": 3, "old_value": 2}}}
    # an int becoming a float is a changed value, not a changed type
    assert structured_delta({"x": 1}, {"x": 1.5}) == {"values_changed": {"root['x']": {"new_value": 1.5,
                                                                                     "old_value": 1}}}


def test_delta_keeps_null_and_sorts_paths() -> None:
    # deepdiff lists b first; sorting by path (not by the change) puts a first
    delta = structured_delta({"b": 1, "a": "x"}, {"b": None, "a": 1})
    assert delta is not None
    changes = delta["type_changes"]
    assert list(changes) == ["root['a']", "root['b']"]
    assert changes["root['b']"]["new_value"] is None  # JSON null, not the string 'None'


def test_delta_lists_added_paths_without_values() -> None:
    added = structured_delta({"a": 1}, {"a": 1, "b": 2})
    assert added is not None and list(added) == ["dictionary_item_added"]
    assert not isinstance(added["dictionary_item_added"], dict)  # verbose_level 1: paths only


def test_delta_added_paths_are_a_sorted_list() -> None:
    added = structured_delta({"a": 1}, {"a": 1, "c": 3, "b": 2})
    assert added == {"dictionary_item_added": ["root['b']", "root['c']"]}


def test_unordered_mixes_ints_and_integral_floats() -> None:
    assert values_equal([2.0, 1], [1.0, 2], unordered=True)
