"""Named arrays of an ``.npz`` file (parity golden inputs, recordings), read within limits and never unpickled.

``numpy.load`` trusts the archive: it inflates each member whole when asked for it, so a 6 MB file that declares
6 GiB of arrays takes 6 GiB. Here the file is opened through ``readers.files`` (regular, confined), and before any
array is read every member is checked: a ``.npy`` name (unique), stored or deflated, its ``.npy`` header (format
1.0 or 2.0, parsed by numpy's own header reader) declaring a plain dtype (no objects: nothing is unpickled), a
shape within ``rank``, and exactly the data its zip entry holds. The declared bytes of all members together are
bounded by ``golden_bytes``, and zipfile stops inflating a member at its declared size, so what is read is what
was declared. numpy is imported here only, lazily: the config-only path never loads it.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from tokenize import TokenError
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from driftguard.errors import ExtractionError
from driftguard.readers import files
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.torch_archive import archive_errors, checked_zip, first_line

if TYPE_CHECKING:
    import numpy as np

    Arrays = dict[str, np.ndarray[Any, Any]]

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_CHUNK = 1 << 20


def read(path: Path, limits: Limits = DEFAULT, what: str = "array file") -> Arrays:
    """``{name: array}`` of the ``.npz`` at ``path``, in the archive's order; ExtractionError (or LimitError)
    naming the file for anything the module docstring refuses."""
    with archive_errors(path, "not a readable .npz archive"), files.open_regular(path, what) as fh:
        size = files.size_of(fh)
        limits.check("golden_bytes", size, f"{what} of {size} bytes", str(path))
        return _arrays(fh, path, limits)


def _arrays(fh: BinaryIO, path: Path, limits: Limits) -> Arrays:
    with checked_zip(fh, path, limits) as (zf, infos):
        names = [_name(info, path) for info in infos]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ExtractionError(f"two arrays named '{dup}': ambiguous", str(path))
        declared = sum(info.file_size for info in infos)
        limits.check("golden_bytes", declared, f"arrays declaring {declared} bytes", str(path))
        out: Arrays = {}
        for name, info in zip(names, infos, strict=True):
            with zf.open(info) as member:
                out[name] = _array(member, info, name, path, limits)
        return out


def _name(info: zipfile.ZipInfo, path: Path) -> str:
    """The array name of a member (``x.npy`` -> ``x``); ExtractionError for a member numpy would not read as
    an array or that zipfile cannot inflate."""
    if not info.filename.endswith(".npy") or info.is_dir():
        raise ExtractionError(f"member '{info.filename[:80]}' is not a .npy array", str(path))
    if info.compress_type not in _METHODS:
        raise ExtractionError(f"member '{info.filename[:80]}' uses compression method {info.compress_type}",
                              str(path))
    return info.filename[: -len(".npy")]


def _array(member: IO[bytes], info: zipfile.ZipInfo, name: str, path: Path, limits: Limits) -> Any:
    """One member's array, after its header is checked against the limits and the entry's declared size."""
    import numpy as np

    fmt = np.lib.format
    version = fmt.read_magic(member)
    readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
    if version not in readers:
        raise ExtractionError(f"array '{name}': .npy format {version} is not read (1.0 and 2.0 are)", str(path))
    try:  # numpy parses the header (a Python literal, at most 10,000 characters) with ast and tokenize
        shape, fortran, dtype = readers[version](member)
    except (ValueError, TypeError, SyntaxError, TokenError, RecursionError, MemoryError) as exc:
        raise ExtractionError(f"array '{name}': not a valid .npy header ({first_line(exc)})", str(path)) from None
    if dtype.hasobject:
        raise ExtractionError(f"array '{name}' holds Python objects (a pickle): refused", str(path))
    limits.check("rank", len(shape), f"array '{name}' of {len(shape)} dimensions", str(path))
    nbytes = math.prod(shape) * dtype.itemsize
    header = member.tell()
    if header + nbytes != info.file_size:
        raise ExtractionError(f"array '{name}' declares {nbytes} bytes of data, its entry holds "
                              f"{info.file_size - header}", str(path))
    buf = bytearray(nbytes)
    view, got = memoryview(buf), 0
    while got < nbytes:
        chunk = member.read(min(_CHUNK, nbytes - got))
        if not chunk:
            raise ExtractionError(f"array '{name}' is truncated", str(path))
        view[got:got + len(chunk)] = chunk
        got += len(chunk)
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")
