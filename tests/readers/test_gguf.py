"""The GGUF header reader: files written by llama.cpp's own ``gguf`` package, its tables checked against that
package's constants, and hand-built hostile headers (each an ExtractionError or LimitError naming the file)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import gguf as reader
from driftguard.readers.limits import Limits

np = pytest.importorskip("numpy")
gguf = pytest.importorskip("gguf")


def _str(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, kind: int, payload: bytes) -> bytes:
    return _str(key) + struct.pack("<I", kind) + payload


def _file(path: Path, *pairs: bytes, tensors: int = 0, kv_count: int | None = None, version: int = 3,
          tail: bytes = b"") -> Path:
    count = len(pairs) if kv_count is None else kv_count
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", version, tensors, count) + b"".join(pairs) + tail)
    return path


def _write(path: Path, build: object, endianess: object = None) -> Path:
    kwargs = {} if endianess is None else {"endianess": endianess}
    w = gguf.GGUFWriter(str(path), "llama", **kwargs)
    build(w)  # type: ignore[operator]
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _agree(ours: dict[int, str], theirs: dict[int, str]) -> None:
    """Ours holds only the package's entries, spelled as it spells them, and every one it had when written
    (gguf 0.19.0); a type a later release adds reads by its number until the table has it."""
    assert {k: v for k, v in theirs.items() if k in ours} == ours
    assert all(k > max(ours) for k in set(theirs) - set(ours))


def test_tables_are_the_gguf_packages() -> None:
    """The value, file and ggml type tables are llama.cpp's (gguf-py constants), entry for entry."""
    assert {k: v[0] for k, v in reader.VALUE_TYPES.items()} == {t.value: t.name for t in gguf.GGUFValueType}
    _agree(reader.FILE_TYPES, {t.value: t.name.removeprefix("MOSTLY_").removeprefix("ALL_")
                               for t in gguf.LlamaFileType})
    _agree(reader.GGML_TYPES, {t.value: t.name for t in gguf.GGMLQuantizationType})
    assert struct.pack("<I", gguf.GGUF_MAGIC) == reader.MAGIC
    assert gguf.GGUF_VERSION in reader.VERSIONS


def _rich(w: gguf.GGUFWriter) -> None:
    w.add_context_length(2048)
    w.add_token_list(["<s>", "</s>", "hello", "wörld"])
    w.add_token_scores([0.0, 0.0, -1.5, -2.0])
    w.add_float32("test.f32", 0.9)
    w.add_float64("test.f64", 0.1)
    w.add_bool("test.flag", True)
    w.add_int8("test.i8", -3)
    w.add_uint64("test.u64", 2**63)
    w.add_array("test.nested", [[1, 2], [3]])
    w.add_tensor("a.weight", np.zeros((3, 5), dtype=np.float16))
    w.add_tensor("b.weight", np.zeros((7,), dtype=np.float32))


def test_reads_what_the_gguf_writer_wrote(tmp_path: Path) -> None:
    header = reader.read(_write(tmp_path / "m.gguf", _rich))
    meta = header.metadata
    assert header.version == 3 and not header.big_endian
    assert meta["general.architecture"] == "llama"
    assert meta["llama.context_length"] == 2048
    assert meta["tokenizer.ggml.tokens"] == reader.ArrayInfo("STRING", 4)
    assert meta["tokenizer.ggml.scores"] == reader.ArrayInfo("FLOAT32", 4)
    assert meta["test.f32"] == 0.9  # the float32 read back as its shortest decimal
    assert meta["test.f64"] == 0.1
    assert meta["test.flag"] is True
    assert meta["test.i8"] == -3
    assert meta["test.u64"] == 2**63
    assert meta["test.nested"] == reader.ArrayInfo("ARRAY", 2)
    assert header.tensors == [("a.weight", "F16", 15), ("b.weight", "F32", 7)]


def test_agrees_with_gguf_reader(tmp_path: Path) -> None:
    """Every scalar the package's own reader sees, with the same value."""
    path = _write(tmp_path / "m.gguf", _rich)
    theirs = gguf.GGUFReader(str(path))
    ours = reader.read(path).metadata
    assert list(ours) == [k for k in theirs.fields if not k.startswith("GGUF.")]
    for key, field in theirs.fields.items():
        if key.startswith("GGUF.") or field.types[0] == gguf.GGUFValueType.ARRAY:
            continue
        want = field.contents()
        assert ours[key] == (pytest.approx(want, rel=1e-7) if isinstance(want, float) else want), key


def test_big_endian(tmp_path: Path) -> None:
    path = _write(tmp_path / "be.gguf", _rich, gguf.GGUFEndian.BIG)
    header = reader.read(path)
    assert header.big_endian and header.version == 3
    assert header.metadata["llama.context_length"] == 2048
    assert header.metadata["tokenizer.ggml.tokens"] == reader.ArrayInfo("STRING", 4)
    assert header.tensors[0] == ("a.weight", "F16", 15)


def test_token_list_is_skipped_not_read(tmp_path: Path) -> None:
    """150,000 tokens: counted by walking their length prefixes within the byte budget."""
    path = _write(tmp_path / "vocab.gguf", lambda w: w.add_token_list([f"tok{i}" for i in range(150_000)]))
    assert reader.read(path).metadata["tokenizer.ggml.tokens"].length == 150_000  # type: ignore[union-attr]
    with pytest.raises(LimitError, match="gguf_header_bytes") as err:
        reader.read(path, Limits(gguf_header_bytes=100_000))
    assert err.value.path == str(path)


def _assert_refused(path: Path, match: str, limits: Limits | None = None) -> None:
    with pytest.raises(ExtractionError, match=match) as err:
        reader.read(path, limits or Limits())
    assert err.value.path == str(path)


def test_no_magic(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"GGML" + bytes(20))
    _assert_refused(path, "no GGUF magic")
    (tmp_path / "empty.gguf").write_bytes(b"")
    _assert_refused(tmp_path / "empty.gguf", "no GGUF magic")


@pytest.mark.parametrize("version", [1, 4, 0x1234])
def test_unknown_version(tmp_path: Path, version: int) -> None:
    _assert_refused(_file(tmp_path / "v.gguf", version=version), f"version {version} ")


def test_huge_kv_count(tmp_path: Path) -> None:
    with pytest.raises(LimitError, match="objects"):
        reader.read(_file(tmp_path / "kv.gguf", kv_count=2**63))
    _assert_refused(_file(tmp_path / "kv2.gguf", kv_count=1000), "declares 1000 entries")


def test_huge_tensor_count(tmp_path: Path) -> None:
    with pytest.raises(LimitError, match="tensors"):
        reader.read(_file(tmp_path / "t.gguf", tensors=2**64 - 1))
    _assert_refused(_file(tmp_path / "t2.gguf", tensors=5), "tensor count declares 5 entries")


def test_truncated_file(tmp_path: Path) -> None:
    full = _write(tmp_path / "m.gguf", _rich).read_bytes()
    cut = tmp_path / "cut.gguf"
    for size in (6, 20, 30, len(full) // 3):
        cut.write_bytes(full[:size])
        _assert_refused(cut, "runs past the end of the file|declares")


def test_string_longer_than_the_file(tmp_path: Path) -> None:
    pair = _str("general.name") + struct.pack("<IQ", 8, 10_000) + b"abc"
    _assert_refused(_file(tmp_path / "s.gguf", pair), "string value of 'general.name' of 10000 bytes .* runs past")
    huge = _str("k") + struct.pack("<IQ", 8, 2**62)
    with pytest.raises(LimitError, match="file_bytes"):
        reader.read(_file(tmp_path / "s2.gguf", huge))


def test_array_longer_than_the_file(tmp_path: Path) -> None:
    pair = _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2**40))
    _assert_refused(_file(tmp_path / "a.gguf", pair), "declares 1099511627776 entries")
    pair = _kv("scores", 9, struct.pack("<IQ", 6, 2**61)) + bytes(8)
    _assert_refused(_file(tmp_path / "b.gguf", pair), "declares")


def test_unknown_value_type(tmp_path: Path) -> None:
    _assert_refused(_file(tmp_path / "u.gguf", _kv("x", 13, bytes(8))), "'x' has unknown value type 13")
    _assert_refused(_file(tmp_path / "ua.gguf", _kv("y", 9, struct.pack("<IQ", 99, 1))),
                    "array of unknown value type 99")


def test_bool_other_than_0_or_1(tmp_path: Path) -> None:
    _assert_refused(_file(tmp_path / "b.gguf", _kv("flag", 7, b"\x02")), "bool of byte 2")


def test_duplicate_key(tmp_path: Path) -> None:
    pair = _kv("a", 4, struct.pack("<I", 1))
    _assert_refused(_file(tmp_path / "d.gguf", pair, pair), "duplicate metadata key 'a'")


def test_not_utf8(tmp_path: Path) -> None:
    _assert_refused(_file(tmp_path / "n.gguf", _kv("k", 8, _str(b"\xff\xfe"))), "not UTF-8")


def test_nested_arrays_bounded_by_depth(tmp_path: Path) -> None:
    nested = struct.pack("<IQ", 4, 0)
    for _ in range(10):
        nested = struct.pack("<IQ", 9, 1) + nested
    with pytest.raises(LimitError, match="depth"):
        reader.read(_file(tmp_path / "n.gguf", _kv("deep", 9, nested)), Limits(depth=5))
    assert reader.read(_file(tmp_path / "ok.gguf", _kv("deep", 9, nested))).metadata["deep"] == \
        reader.ArrayInfo("ARRAY", 1)


def test_tensor_rank_bounded(tmp_path: Path) -> None:
    info = _str("w") + struct.pack("<I", 100) + bytes(100 * 8 + 12)
    with pytest.raises(LimitError, match="rank"):
        reader.read(_file(tmp_path / "r.gguf", tensors=1, tail=info))


def test_folder_and_fifo_refused(tmp_path: Path) -> None:
    import os

    _assert_refused(tmp_path, "is a folder")
    fifo = tmp_path / "p.gguf"
    os.mkfifo(fifo)
    _assert_refused(fifo, "not a regular file|FIFO")
