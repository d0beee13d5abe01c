"""``readers.npz``: the arrays numpy would read, and nothing numpy would be tricked into (objects, sizes an
archive declares falsely, more than the limits allow)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import npz
from driftguard.readers.limits import Limits


def _npy(header: dict[str, object], data: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_reads_what_numpy_reads(tmp_path: Path) -> None:
    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "ids": np.array([[1, 2], [3, 4]], dtype=np.int64),
              "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "s": np.array("text")}
    np.savez_compressed(tmp_path / "a.npz", **arrays)  # type: ignore[arg-type]  # numpy's stubs want positional
    got = npz.read(tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        assert list(got) == list(z.files)
        for name in z.files:
            np.testing.assert_array_equal(got[name], z[name])
            assert got[name].dtype == z[name].dtype


def test_object_arrays_are_refused_unread(tmp_path: Path) -> None:
    np.savez(tmp_path / "o.npz", o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ExtractionError, match="Python objects"):
        npz.read(tmp_path / "o.npz")


def test_a_header_declaring_more_than_its_entry_holds_is_refused(tmp_path: Path) -> None:
    header = {"descr": "<f8", "fortran_order": False, "shape": (1 << 30,)}
    path = _zip(tmp_path / "lie.npz", {"x.npy": _npy(header, b"\0" * 64)})
    with pytest.raises(ExtractionError, match="declares 8589934592 bytes of data, its entry holds 64"):
        npz.read(path)


def test_declared_sizes_are_bounded_before_anything_inflates(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "z.npz", x=np.zeros(100_000))
    assert (tmp_path / "z.npz").stat().st_size < 2000
    with pytest.raises(LimitError, match="arrays declaring 800128 bytes: exceeds the golden_bytes limit"):
        npz.read(tmp_path / "z.npz", Limits(golden_bytes=10_000))


@pytest.mark.parametrize(("members", "message"), [
    ({"x.npy": b"", "notes.txt": b"hi"}, "'notes.txt' is not a .npy array"),
    ({"x.npy": b"garbage!"}, "not a readable .npz archive"),
    ({"x.npy": _npy({"descr": "<f4", "fortran_order": False, "shape": (2,)}, b"\0" * 4)},
     "declares 8 bytes of data, its entry holds 4"),
])
def test_malformed_members_are_one_error_naming_the_file(tmp_path: Path, members: dict[str, bytes],
                                                          message: str) -> None:
    path = _zip(tmp_path / "bad.npz", members)
    with pytest.raises(ExtractionError, match=message) as caught:
        npz.read(path)
    assert caught.value.path == str(path)


def test_two_members_of_one_name_are_ambiguous(tmp_path: Path) -> None:
    one = _npy({"descr": "<f4", "fortran_order": False, "shape": (1,)}, b"\0" * 4)
    path = tmp_path / "dup.npz"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("x.npy", one)
        zf.writestr("x.npy", one)
    with pytest.raises(ExtractionError, match="two arrays named 'x'"):
        npz.read(path)


def test_not_a_zip_and_too_many_entries(tmp_path: Path) -> None:
    (tmp_path / "t.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ExtractionError, match=r"not a readable \.npz archive"):
        npz.read(tmp_path / "t.npz")
    np.savez(tmp_path / "m.npz", a=np.zeros(1), b=np.zeros(1), c=np.zeros(1))
    with pytest.raises(LimitError, match="zip_entries"):
        npz.read(tmp_path / "m.npz", Limits(zip_entries=2))
