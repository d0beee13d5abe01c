"""Comparing normalized values: the hot path of every diff.

A plain recursive comparison (``1 == 1.0``, floats equal within a relative tolerance that absorbs a float32
round trip, order ignored for keys whose meaning is a set). Only when two nested values *differ* do we ask
deepdiff for a structured delta, so the 35-50x cost of deepdiff is paid per finding, not per leaf.
This module imports nothing from driftguard.
"""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from typing import Any

#: Default relative tolerance: float32 has ~7 significant digits, so 0.92 written by a float32 engine
#: (0.9200000166893005) is the same setting as 0.92.
FLOAT_REL_TOL = 1e-6


def values_equal(a: Any, b: Any, *, rel_tol: float = FLOAT_REL_TOL, abs_tol: float = 0.0,
                 unordered: bool = False) -> bool:
    """True when two normalized values mean the same thing.

    ints and floats compare numerically (huge ints exactly); bools only equal bools; lists element-wise
    (as multisets when ``unordered``); dicts key-wise.
    """
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float) and tb in (int, float):
        if ta is int and tb is int:
            return bool(a == b)
        try:
            fa, fb = float(a), float(b)
        except OverflowError:  # an int beyond any float (1e309): never equal to a float
            return False
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return fa == fb or math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=abs_tol)
    if ta is list and tb is list:
        if len(a) != len(b):
            return False
        if unordered:
            a, b = _sorted_for_compare(a), _sorted_for_compare(b)
        return all(values_equal(x, y, rel_tol=rel_tol, abs_tol=abs_tol) for x, y in zip(a, b, strict=True))
    if ta is dict and tb is dict:
        if a.keys() != b.keys():
            return False
        return all(values_equal(a[k], b[k], rel_tol=rel_tol, abs_tol=abs_tol, unordered=unordered) for k in a)
    return bool(a == b) and ta is tb


def _sort_key(v: Any) -> tuple[str, Any]:
    # Numbers sort by value whatever their type (1 and 1.0 pair up); everything else by type, then repr.
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
        return ("0", v)
    return ("1" + type(v).__name__, repr(v))


def _sorted_for_compare(items: list[Any]) -> list[Any]:
    return sorted(items, key=_sort_key)


def structured_delta(a: Any, b: Any, *, unordered: bool = False) -> dict[str, Any] | None:
    """A JSON-able description of how two *differing nested* values differ (deepdiff), else None.

    Only called for values already known to differ, and only for lists and dicts.
    """
    if not isinstance(a, (list, dict)) or not isinstance(b, (list, dict)):
        return None
    from deepdiff import DeepDiff  # lazy: deepdiff costs ~100 ms to import

    dd = DeepDiff(a, b, ignore_order=unordered, ignore_numeric_type_changes=True,
                  math_epsilon=None, verbose_level=1)
    out: dict[str, Any] = {}
    for kind, items in sorted(dd.to_dict().items()):
        out[kind] = _jsonable(items)
    return out or None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, AbstractSet)):  # deepdiff's SetOrdered is a Set, not a set
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, AbstractSet) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
