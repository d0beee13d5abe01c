"""Hostile safetensors headers: every crafted header is exit 2 with one line (the limit that stopped the parse,
where one did), with bounded reads and memory."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from driftguard.readers.limits import DEFAULT

from .bounded import Run, run_cli


def write(tmp_path: Path, header: bytes | dict[str, Any], data: bytes = b"", size: int | None = None) -> Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw) if size is None else size) + raw + data)
    return path


def check(path: Path, *needles: str, limit: str | None = None, read_at_most: int | None = None) -> Run:
    res = run_cli(["extract", str(path)])
    res.assert_input_error(str(path), *needles)
    if limit is not None:
        res.assert_limit(limit)
    res.assert_bounded(read_at_most)
    return res


def test_honest_header_extracts(tmp_path: Path) -> None:
    path = write(tmp_path, {"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 2],
                                                                    "data_offsets": [0, 16]}}, b"\0" * 16)
    assert run_cli(["extract", str(path)]).rc == 0


def test_header_size_past_the_format_cap(tmp_path: Path) -> None:
    check(write(tmp_path, b"{}", size=2**63), "format's limit")


def test_header_size_past_file_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, b"{" + b" " * (DEFAULT.file_bytes + 1) + b"}")
    # Refused from the 8-byte size prefix: the header is never read (4096 bytes: the kind detection's head).
    check(path, limit="file_bytes", read_at_most=4096 + 8)


def test_truncated_header(tmp_path: Path) -> None:
    check(write(tmp_path, b"{}", size=4096), "truncated")


@pytest.mark.slow
def test_more_tensors_than_the_limit_stops_while_parsing(tmp_path: Path) -> None:
    entries = b",".join(b'"t%d":{}' % i for i in range(DEFAULT.tensors + 10))
    check(write(tmp_path, b"{" + entries + b"}"), f"more than {DEFAULT.tensors} tensors", limit="tensors")


def test_rank_past_the_limit(tmp_path: Path) -> None:
    check(write(tmp_path, {"w": {"dtype": "F32", "shape": [1] * (DEFAULT.rank + 1), "data_offsets": [0, 4]}},
                b"\0" * 4), "tensor 'w'", limit="rank")


def test_integer_digits_past_the_limit(tmp_path: Path) -> None:
    header = b'{"w": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 4]}}'
    check(write(tmp_path, header, b"\0" * 4), limit="int_digits")


def test_huge_dims_are_refused_without_a_giant_product(tmp_path: Path) -> None:
    header = {"w": {"dtype": "F32", "shape": [2**64 - 1] * DEFAULT.rank, "data_offsets": [0, 4]}}
    check(write(tmp_path, header, b"\0" * 4), "tensor 'w'", "more F32 elements than its 4 bytes")


def test_dims_past_u64(tmp_path: Path) -> None:
    check(write(tmp_path, {"w": {"dtype": "F32", "shape": [2**64], "data_offsets": [0, 4]}}, b"\0" * 4),
          "non-negative ints")


def test_deeply_nested_json(tmp_path: Path) -> None:
    check(write(tmp_path, b'{"w":' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "nested too deeply")


@pytest.mark.slow
@pytest.mark.parametrize("metadata", [{"format": 1}, {"format": {"a": "b"}}, {"format": None}, ["pt"], "pt"])
def test_metadata_must_map_strings_to_strings(tmp_path: Path, metadata: Any) -> None:
    check(write(tmp_path, {"__metadata__": metadata}), "__metadata__")


@pytest.mark.slow
@pytest.mark.parametrize("header", [
    b"[]", b"{", b"\xff\xfe", b'{"w": 1}', b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}',
    b'{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 4]}}', b'{"w": {"dtype": "F32", "shape": [NaN]}}',
    b'{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}',
    b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [false, true]}}',
])
def test_malformed_headers(tmp_path: Path, header: bytes) -> None:
    check(write(tmp_path, header, b"\0" * 4))
