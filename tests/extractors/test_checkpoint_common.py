"""The restricted unpickler itself: what it turns into records, what it refuses."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError, RefusedError
from driftguard.extractors import checkpoint_common as pr
from driftguard.readers.limits import MAX_DEPTH, Limits


def test_protocol_0_namespace_via_copyreg_reconstructor() -> None:
    import argparse

    data = pickle.dumps({"args": argparse.Namespace(lr=0.5, tags=("a", "b"))}, protocol=0)
    assert b"copy_reg\n_reconstructor" in data  # protocols 0/1 spell object construction with copyreg._reconstructor
    out = pr.to_plain(pr.loads(data, "p0.pkl"))
    assert out == {"args": {"lr": 0.5, "tags": ["a", "b"]}}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_values_all_protocols(protocol: int) -> None:
    import collections

    value = {"od": collections.OrderedDict(a=1), "s": {3, 1}, "b": b"\x00\xff", "c": 1 + 2j, "n": None}
    out = pr.to_plain(pr.loads(pickle.dumps(value, protocol=protocol), "x.pkl"))
    assert out == {"od": {"a": 1}, "s": [1, 3], "b": "<2 bytes>", "c": "(1+2j)", "n": None}


@pytest.mark.parametrize("obj", [pickle.loads, print, ValueError("x")])
def test_anything_not_allowlisted_is_refused(obj: object) -> None:
    data = pickle.dumps(obj, protocol=2)
    with pytest.raises(RefusedError, match="refused pickle global"):
        pr.loads(data, "x.pkl")


def test_pathlib_is_recorded_not_built() -> None:
    data = pickle.dumps(Path("/runs/out"), protocol=2)
    assert pr.to_plain(pr.loads(data, "p.pkl")) == "/runs/out"


def test_bytearray_of_a_size_is_refused() -> None:
    data = b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x7f\x85R."  # bytearray(2**31 - 2**24)
    with pytest.raises(ExtractionError, match="bytearray"):
        pr.loads(data, "x.pkl")


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(ExtractionError, match="corrupt checkpoint pickle"):
        pr.loads(b"\x80\x02}q\x00(X\x01\x00\x00", "x.pkl")


def test_weights_summary_majority_by_elements() -> None:
    out = pr.weights_summary([("a", 10, "float16"), ("b", 4, "float32"), ("c", 4, "float32"),
                              ("ids", 100, "int64")])
    assert out["precision"] == "float16"
    assert out["parameters"] == 118
    assert out["count"] == 4


def test_deep_nesting_is_a_limit_not_a_crash() -> None:
    # {"x": [[[...]]]} 5000 lists deep: 5000 EMPTY_LIST then 4999 APPEND (too deep for pickle.dumps to write)
    data = b"\x80\x02}X\x01\x00\x00\x00x" + b"]" * 5000 + b"a" * 4999 + b"s."
    with pytest.raises(LimitError, match="depth limit"):
        pr.loads(data, "deep.pkl")
    with pytest.raises(LimitError, match="depth limit"):
        pr.loads(data, "deep.pkl", Limits(depth=MAX_DEPTH))  # the most a depth limit may be raised to
    shallower = b"\x80\x02}X\x01\x00\x00\x00x" + b"]" * 200 + b"a" * 199 + b"s."
    assert pr.loads(shallower, "deep.pkl", Limits(depth=MAX_DEPTH)) is not None
