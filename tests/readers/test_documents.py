"""``readers.documents``' detection helpers: inside one detection (``sniffing``) a file is read and parsed once,
however many kinds ask about it; outside one every call reads again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.readers import documents, files
from driftguard.readers.limits import DEFAULT, Limits, capped


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``files.read_text`` is asked for."""
    seen: list[str] = []
    real = files.read_text

    def counted(path: str | Path, limits: Limits = DEFAULT, what: str = "file") -> str:
        seen.append(str(path))
        return real(path, limits, what)

    monkeypatch.setattr(files, "read_text", counted)
    return seen


def test_a_detection_reads_a_json_file_once_per_size_cap(tmp_path: Path, reads: list[str]) -> None:
    # over 4 KiB, so the Hugging Face kinds read the file instead of parsing the head they were given: once
    # under their cap and once under documents.SNIFF_LIMIT, where each of a dozen kinds read it before
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"model": "m", "gpu_memory_utilization": 0.9, "served_model_name": "x" * 5000}))
    assert extractors.detect(path) == "vllm"
    assert reads == [str(path)] * 2


def test_sniff_reads_again_outside_a_detection(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("top_p: 0.9\n")
    head = path.read_bytes()
    assert documents.sniff(path, head) == documents.sniff(path, head) == {"top_p": 0.9}
    assert len(reads) == 2
    with documents.sniffing():
        first = documents.sniff(path, head)
        assert documents.sniff(path, head) is first
    assert len(reads) == 3


def test_a_detection_parses_each_file_under_its_own_limits(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"a": [1, 2, 3]}')
    head = path.read_bytes()
    with documents.sniffing():
        assert documents.sniff(path, head) == {"a": [1, 2, 3]}
        assert documents.sniff(path, head, limits=Limits(objects=3)) is None  # 5 values: over this limit
        other = tmp_path / "b.json"
        other.write_text("[]")
        assert documents.sniff(other, b"[]") == []


def test_capped_lowers_one_limit_and_keeps_a_lower_one() -> None:
    assert capped(DEFAULT, "file_bytes", 10).file_bytes == 10
    assert capped(DEFAULT, "file_bytes", 10).objects == DEFAULT.objects
    assert capped(Limits(file_bytes=5), "file_bytes", 10).file_bytes == 5
    assert capped(DEFAULT, "file_bytes", 10) is capped(DEFAULT, "file_bytes", 10)


def test_a_detection_parses_a_small_file_from_its_head(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"model": "m", "gpu_memory_utilization": 0.9}))
    assert extractors.detect(path) == "vllm"
    assert reads == []  # the head held the whole file: parsed from it, not opened again


def test_a_whole_head_is_held_to_the_limits_a_read_would_be(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"top_p: 0.9\n")
    head = path.read_bytes()
    with documents.sniffing(path, head):
        assert documents.sniff(path, head) == {"top_p": 0.9}
        assert documents.sniff(path, head, limits=Limits(file_bytes=5)) is None  # read_text refuses 11 bytes
    assert documents.sniff(path, head, limits=Limits(file_bytes=5)) is None
    bad = tmp_path / "b.yaml"
    bad.write_bytes(b"top_p: \xff\n")
    with documents.sniffing(bad, bad.read_bytes()):
        assert documents.sniff(bad, bad.read_bytes()) is None  # not UTF-8, as read_text says
    assert documents.sniff(bad, bad.read_bytes()) is None
    assert reads == [str(path), str(bad)]
