"""torch checkpoints as torch itself reads them: the zip archive's ``data.pkl`` or a legacy file's object
pickle, through the safe unpickler, never executing and never importing torch.

Zip format (``torch.save`` since 1.6), read with the rules of torch's ``PyTorchStreamReader``
(caffe2/serialize/inline_container.cc), so the gate judges the object tree the deployed model loads:

* the archive name is the folder of the first entry; an entry outside that folder (a second prefix, a root-level
  ``data.pkl``) is refused, as torch refuses it;
* ``<archive>/version`` (or ``<archive>/.data/version``) must exist and ``<archive>/data.pkl`` is the pickle;
* an archive holding two entries of one name is **ambiguous** (torch finds one by a binary search over the
  sorted directory, zipfile the last): refused rather than guessed;
* only stored and deflated entries (what torch's miniz reads); encrypted entries refused;
* ``data.pkl`` is read within ``Limits.pickle_bytes`` (its declared size, and zipfile stops at that size, so a
  zip bomb is refused before it inflates) and the archive's entry count within ``Limits.zip_entries``.

Legacy format (before 1.6): four pickles in a row (magic number, protocol version, system info, the object
tree) followed by raw storage bytes, read as ``torch.serialization._legacy_load`` reads them; only the pickles
are read, within ``Limits.pickle_bytes``.
"""

from __future__ import annotations

import os
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from driftguard.errors import ExtractionError
from driftguard.readers import files
from driftguard.readers import pickle as safe_pickle
from driftguard.readers.limits import DEFAULT, Limits

#: The first bytes of a legacy (pre-1.6, non-zip) torch file: pickle protocol 2 of torch's magic number.
LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."
ZIP_MAGIC = b"PK\x03\x04"
#: torch/serialization.py MAGIC_NUMBER and PROTOCOL_VERSION.
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Where a checkpoint keeps its weights (first that is a mapping holding tensors wins).
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "weights")
#: Training state that is not the model's weights.
NOT_WEIGHTS = ("optimizer", "optimizer_state_dict", "optimizer_states", "scheduler", "lr_scheduler",
               "lr_schedulers", "scaler", "callbacks", "loops")

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def is_legacy(head: bytes) -> bool:
    return head.startswith(LEGACY_MAGIC)


def entry_count(fh: BinaryIO) -> int | None:
    """The archive's entry count from its end-of-central-directory record, before zipfile indexes it."""
    try:
        end = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # stable since Python 2; no public API
    except (OSError, ValueError):
        return None
    if not end:
        return None
    return int(end[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]  # the same private record


#: What ``zipfile`` raises for a damaged or hostile archive (an OSError is the file's, not the archive's).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, RuntimeError,
              OverflowError)


@contextmanager
def archive_errors(path: Path, what: str) -> Iterator[None]:
    """Inside the block, a zip archive's errors (``ZIP_ERRORS``) are ``ExtractionError("<what>: <first line>")``
    and an OSError ``ExtractionError("cannot read: ...")``, both naming ``path``; an ExtractionError (a limit, a
    refusal) passes unchanged."""
    try:
        yield
    except ExtractionError:
        raise
    except ZIP_ERRORS as exc:
        raise ExtractionError(f"{what}: {first_line(exc)}", str(path)) from None
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


@contextmanager
def checked_zip(fh: BinaryIO, path: Path, limits: Limits) -> Iterator[tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]]:
    """The zip archive in ``fh`` and its entries, its entry count checked against ``zip_entries`` twice: from the
    central directory's own count before ``zipfile`` reads the directory (``entry_count``), and as listed."""
    count = entry_count(fh)
    if count is not None:
        limits.check("zip_entries", count, f"zip archive of {count} entries", str(path))
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        limits.check("zip_entries", len(infos), f"zip archive of {len(infos)} entries", str(path))
        yield zf, infos


def first_line(exc: BaseException) -> str:
    """An exception's message in one line of at most 200 characters (its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _refuse(path: Path, message: str) -> ExtractionError:
    return ExtractionError(f"refused checkpoint archive: {message}", str(path))


def read_data_pkl(path: Path, limits: Limits = DEFAULT) -> bytes:
    """The bytes of ``<archive>/data.pkl`` as torch would read them; ExtractionError for an archive torch
    would refuse, an ambiguous one, or a corrupt one."""
    with archive_errors(path, "corrupt or truncated checkpoint archive"), \
            files.open_regular(path, "checkpoint file") as fh, checked_zip(fh, path, limits) as (zf, infos):
        info = _data_pkl(path, infos)
        limits.check("pickle_bytes", info.file_size, f"data.pkl of {info.file_size} bytes", str(path))
        with zf.open(info) as member:
            data = member.read(limits.pickle_bytes + 1)
        limits.check("pickle_bytes", len(data), "data.pkl", str(path))
        return data


def _data_pkl(path: Path, infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    if not infos:
        raise _refuse(path, "the zip archive is empty")
    first = infos[0].filename
    if "/" not in first:
        raise _refuse(path, f"entry '{first}' is not in a folder (torch reads '<archive>/data.pkl')")
    prefix = first.split("/", 1)[0] + "/"
    names = Counter(i.filename for i in infos)
    dup = next((n for n, c in names.items() if c > 1), None)
    if dup is not None:
        raise _refuse(path, f"two entries named '{dup}': ambiguous (torch and zipfile would read different ones)")
    outside = next((n for n in names if not n.startswith(prefix)), None)
    if outside is not None:
        raise _refuse(path, f"entry '{outside}' is outside the archive folder '{prefix}' (torch refuses it)")
    if prefix + "version" not in names and prefix + ".data/version" not in names:
        raise _refuse(path, f"no '{prefix}version' record: not a torch.save archive")
    target = prefix + "data.pkl"
    if target not in names:
        raise ExtractionError(f"zip archive has no {target}: not a torch.save checkpoint", str(path))
    info = next(i for i in infos if i.filename == target)
    if info.flag_bits & 0x1:
        raise _refuse(path, f"'{target}' is encrypted")
    if info.compress_type not in _METHODS:
        raise _refuse(path, f"'{target}' uses compression method {info.compress_type} (torch reads stored and "
                            "deflated entries only)")
    return info


class _Bounded:
    """A read-only file view that refuses to hand out more than ``limit`` bytes in total."""

    def __init__(self, fh: BinaryIO, limit: int, path: str, limits: Limits) -> None:
        self._fh = fh
        self._left = limit
        self._path = path
        self._limits = limits

    def _take(self, n: int) -> int:
        if n < 0 or n > self._left:
            n = self._left + 1
        return n

    def _spent(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            self._limits.check("pickle_bytes", self._limits.pickle_bytes + 1, "legacy checkpoint pickles",
                               self._path)
        return data

    def read(self, n: int = -1) -> bytes:
        return self._spent(self._fh.read(self._take(n)))

    def readline(self, n: int = -1) -> bytes:
        return self._spent(self._fh.readline(self._take(n)))

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def peek(self, n: int = 0) -> bytes:
        return b""


def load_legacy(path: Path, limits: Limits = DEFAULT) -> Any:
    """A legacy (non-zip) checkpoint's object tree, read as ``torch.serialization._legacy_load`` reads it."""
    with files.open_regular(path, "checkpoint file") as fh:
        stream: Any = _Bounded(fh, limits.pickle_bytes, str(path), limits)
        magic = safe_pickle.load(stream, str(path), limits)
        if magic != MAGIC_NUMBER:
            raise ExtractionError("invalid legacy torch magic number: corrupt file?", str(path))
        version = safe_pickle.load(stream, str(path), limits)
        if version != PROTOCOL_VERSION:
            raise ExtractionError(f"invalid legacy torch protocol version {version!r}", str(path))
        safe_pickle.load(stream, str(path), limits)  # system info: byte order, type sizes
        return safe_pickle.load(stream, str(path), limits, legacy=True)


def load_checkpoint(path: Path, limits: Limits = DEFAULT) -> Any:
    """The checkpoint's object tree with tensors as TensorRecords, zip or legacy, without torch."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    return _load_cached(str(path), st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, limits)


@lru_cache(maxsize=4)
def _load_cached(path: str, dev: int, ino: int, mtime_ns: int, size: int, limits: Limits) -> Any:
    # Detection and extraction read the same file back to back; the cache (keyed by the file's identity and
    # the limits) keeps that to one parse. Entries are never shared between different files.
    p = Path(path)
    head = files.head(p, len(LEGACY_MAGIC))
    if is_zip(head):
        return safe_pickle.loads(read_data_pkl(p, limits), path, limits)
    if is_legacy(head):
        return load_legacy(p, limits)
    if not head:
        raise ExtractionError("empty file: not a torch checkpoint", path)
    raise ExtractionError("not a torch checkpoint (neither a torch.save zip archive nor a legacy torch file)",
                          path)


def check_archive(path: Path, limits: Limits = DEFAULT) -> None:
    """Refuse what the metadata reader refuses (ambiguous or torch-refused archives, limits) before a weights
    reader (DG401) hands the file to ``torch.load``: both must judge the same file."""
    load_checkpoint(path, limits)
