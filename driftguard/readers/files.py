"""Opening artifacts: regular files only, read with a byte limit, and paths kept inside the checked tree.

Every artifact, manifest and approval is opened through :func:`open_regular`: a FIFO would block a read
forever and a symlink to ``/dev/zero`` would never end, so anything that is not a regular file is refused
(the file is opened non-blocking and checked with ``fstat`` on the open descriptor, so it cannot be swapped
between the check and the read). Whole-file reads are capped by ``Limits.file_bytes`` (or the caller's limit).

:func:`confine` keeps paths that a manifest or an artifact names inside a root folder: a manifest may not
point the gate at ``/etc`` or ``../../secrets`` (symlinks resolved), and an artifact may not point a read
outside the tree being checked.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from driftguard.errors import ExtractionError
from driftguard.readers.limits import DEFAULT, Limits

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | Path, what: str = "file") -> BinaryIO:
    """Open ``path`` for binary reading; ExtractionError unless it is a regular file (symlinks followed).

    ``what`` names the expected thing in the "is a folder" message (``checkpoint file``...).
    """
    p = str(path)
    try:
        fd = os.open(p, _FLAGS)
    except FileNotFoundError:
        raise ExtractionError("no such file", p) from None
    except IsADirectoryError:
        raise ExtractionError(f"is a folder, expected a {what}", p) from None
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", p) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", p) from None
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise ExtractionError(f"is a folder, expected a {what}", p)
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ExtractionError(f"refused: {_kind(mode)}, not a regular file", p)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def size_of(fh: BinaryIO) -> int:
    """The size of an open file, from its descriptor."""
    return os.fstat(fh.fileno()).st_size


def read_bytes(path: str | Path, limits: Limits = DEFAULT, *, limit: str = "file_bytes",
               what: str = "file") -> bytes:
    """The whole file, refusing one larger than ``limits.<limit>`` (checked before and while reading)."""
    allowed: int = getattr(limits, limit)
    with open_regular(path, what) as fh:
        size = size_of(fh)
        limits.check(limit, size, f"{what} of {size} bytes", str(path))
        try:
            # ask for the size the file has (read(n) allocates n bytes up front: a 16 MiB buffer for every
            # small JSON file cost more than reading it), then for the rest of the allowance if it grew
            data = fh.read(size + 1)
            if len(data) > size:
                data += fh.read(allowed + 1 - len(data))
        except OSError as exc:
            raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    limits.check(limit, len(data), f"{what} of more than {allowed} bytes", str(path))
    return data


def read_text(path: str | Path, limits: Limits = DEFAULT, what: str = "file") -> str:
    """The file as UTF-8 text (a BOM dropped); ExtractionError with the line of the first bad byte."""
    data = read_bytes(path, limits, what=what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExtractionError(f"not UTF-8 text (byte {exc.start})", str(path), line) from None


def head(path: str | Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a regular file (for kind detection); b"" for a folder."""
    if Path(path).is_dir():
        return b""
    with open_regular(path) as fh:
        try:
            return fh.read(size)
        except OSError as exc:
            raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def exists(path: str | Path) -> bool:
    """True when something is at ``path`` (symlinks followed); ExtractionError for a name no file can have (a NUL
    byte, a name longer than the filesystem allows) instead of the ValueError/OSError Python raises."""
    p = str(path)
    if "\0" in p:
        raise ExtractionError("refused: the path contains a NUL byte", p.replace("\0", "\\0"))
    try:
        os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise ExtractionError("file name too long", p[:200] + "...") from None
        if exc.errno == errno.ELOOP:
            raise ExtractionError("too many levels of symbolic links", p) from None
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", p) from None
    return True


def is_dir(path: str | Path) -> bool:
    """``Path.is_dir`` for a name that :func:`exists` accepts."""
    return exists(path) and Path(path).is_dir()


def is_within(path: str | Path, root: str | Path) -> bool:
    """True when ``path`` (symlinks resolved) is ``root`` or lies under it."""
    try:
        real = Path(path).resolve()
        base = Path(root).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an impossible name
        return False
    return real == base or base in real.parents


def confine(path: str | Path, root: str | Path, what: str = "path", *, origin: str | None = None,
            line: int | None = None) -> Path:
    """``path`` unchanged when it (symlinks resolved) lies inside ``root``; ExtractionError otherwise.

    ``origin``/``line`` name the file that named the path (a manifest, an engine config), for the message.
    """
    exists(path)  # a NUL byte or an over-long name is its own clear error
    if not is_within(path, root):
        raise ExtractionError(f"{what} '{path}' is outside {Path(root)} (symlinks resolved): refused",
                              origin or str(path), line)
    return Path(path)
