"""Opening artifacts: regular files only, read with a byte limit, and paths kept inside the checked tree.

Every artifact, manifest and approval is opened through :func:`open_regular`: a FIFO would block a read
forever and a symlink to ``/dev/zero`` would never end, so anything that is not a regular file is refused
(the file is opened non-blocking and checked with ``fstat`` on the open descriptor, so it cannot be swapped
between the check and the read). Whole-file reads are capped by ``Limits.file_bytes`` (or the caller's limit).
A library that must open a file itself (numpy, torch, onnxruntime, safetensors) gets the path from
:func:`vetted`, which checks it the same way first.

Inside :func:`confined` (the gate over a tree, one extraction, the parity stage) every file opened and every
path probed is resolved, and a file whose link or ``..`` leads outside the block's roots is refused
(ExtractionError naming the file): a folder that a manifest names is confined, and so is every file read under
it (a model folder's ``config.json`` linked to ``/etc``), whichever reader opens it. Inside :func:`recording`,
every such path is collected as named, with each symlink met on the way and the target (``--changed-only``
decides from what was actually read).

:func:`confine` keeps paths that a manifest or an artifact names inside a root folder: a manifest may not
point the gate at ``/etc`` or ``../../secrets`` (symlinks resolved), and an artifact may not point a read
outside the tree being checked.

Every output (a report, ``init``'s manifest, a snapshot, a golden recording) is created through
:func:`create_output`: the pull request may have committed a file, a symlink or a folder named like the output,
so a stale file is removed and a fresh one created (``O_EXCL``, ``O_NOFOLLOW``), and no symlink is followed at
any component inside the working tree (each folder opened relative to the last, without following links). A
path named on the command line may lie outside the tree (components there are the user's own and followed); a
path the run chose itself (beside a file the manifest names) must lie inside it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from driftguard.errors import ExtractionError, UsageError
from driftguard.readers.limits import DEFAULT, Limits

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)


#: Symlinks followed while resolving one path before it is refused (the kernel's own ``MAXSYMLINKS``).
MAX_LINKS = 40


@dataclass(frozen=True)
class _Scope:
    """The roots opened files must resolve into (empty: anywhere), and the sets recording what was read."""

    roots: tuple[Path, ...] = ()
    seen: tuple[set[Path], ...] = ()
    #: Each root as given, with what it resolved to when the block began (``is_within`` of a path under it).
    named: tuple[tuple[str, Path], ...] = ()


_SCOPE: ContextVar[_Scope | None] = ContextVar("driftguard_read_scope", default=None)
_OPEN = _Scope()


def _scope() -> _Scope:
    return _SCOPE.get() or _OPEN


@contextmanager
def confined(*roots: str | Path) -> Iterator[None]:
    """Within the block, every file opened or vetted must resolve (symlinks and ``..``) inside one of
    ``roots``; what is being recorded stays recorded. Threads the block starts get it only through
    ``contextvars.copy_context().run``."""
    outer = _scope()
    named: list[tuple[str, Path]] = []
    for root in roots:
        with suppress(OSError, RuntimeError, ValueError):  # a root that does not resolve is resolved (and fails) anew
            named.append((str(root), Path(root).resolve()))
    token = _SCOPE.set(_Scope(tuple(_resolved(r) for r in roots), outer.seen, tuple(named)))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def confinement() -> tuple[Path, ...]:
    """The roots of the innermost :func:`confined` block (resolved); () outside any."""
    return _scope().roots


@contextmanager
def recording() -> Iterator[set[Path]]:
    """Within the block, every path opened, vetted or probed is added to the set yielded: as named (absolute),
    each symlink met resolving it, and its target."""
    outer = _scope()
    seen: set[Path] = set()
    token = _SCOPE.set(_Scope(outer.roots, (*outer.seen, seen), outer.named))
    try:
        yield seen
    finally:
        _SCOPE.reset(token)


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an impossible name
        return Path(os.path.abspath(path))


def links(path: str | Path) -> list[Path]:
    """Every symlink met resolving ``path`` (absolute, as met), in order; ExtractionError past ``MAX_LINKS``."""
    met: list[Path] = []
    given = Path(os.path.abspath(os.path.join(os.getcwd(), str(path)))) if not Path(path).is_absolute() \
        else Path(path)
    todo = list(given.parts[1:])
    current = Path(given.anchor)
    while todo:
        name = todo.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = current.parent
            continue
        step = current / name
        if not os.path.islink(step):
            current = step
            continue
        met.append(step)
        if len(met) > MAX_LINKS:
            raise ExtractionError("too many levels of symbolic links", str(path))
        target = Path(os.readlink(step))
        if target.is_absolute():
            current = Path(target.anchor)
        todo[:0] = list(target.parts[1:] if target.is_absolute() else target.parts)
    return met


def _note(path: str | Path, real: Path) -> None:
    """Record ``path`` (a read or a probe) in every active :func:`recording`."""
    seen = _scope().seen
    if not seen:
        return
    try:
        chain = links(path)
    except (OSError, ExtractionError):
        chain = []
    named = Path(os.path.abspath(path))
    for s in seen:
        s.update((named, real, *chain))


def _check_scope(path: str, what: str) -> Path:
    """``path`` resolved; ExtractionError when a :func:`confined` block is active and it resolves outside."""
    real = _resolved(path)
    scope = _scope()
    _note(path, real)
    if scope.roots and not any(real.is_relative_to(r) for r in scope.roots):  # r itself or below it
        shown = ", ".join(str(r) for r in scope.roots)
        raise ExtractionError(f"refused: this {what} resolves to '{real}', outside {shown} (a symlink or '..' "
                              "may not lead a read out of the checked tree)", path)
    return real


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
    real = _check_scope(p, what)
    try:
        fd = os.open(real, _FLAGS)
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


def vetted(path: str | Path, what: str = "file") -> Path:
    """``path`` resolved, for a library that opens the file itself (numpy, torch, onnxruntime, safetensors):
    checked as :func:`open_regular` checks what it opens (a regular file, inside the :func:`confined` roots),
    and recorded. The resolved path is what the library must open, so a link is not followed twice."""
    with open_regular(path, what):
        pass
    return _resolved(path)


def vetted_dir(path: str | Path, what: str = "folder") -> Path:
    """A folder's resolved path, refused (ExtractionError) outside the :func:`confined` roots; recorded."""
    return _check_scope(str(path), what)


def listing(folder: str | Path, limits: Limits = DEFAULT, what: str = "folder") -> list[Path]:
    """The entries of ``folder`` (sorted by name), at most ``limits.folder_files``; the folder itself must
    resolve inside the :func:`confined` roots."""
    vetted_dir(folder, what)
    out: list[Path] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                out.append(Path(folder) / entry.name)
                limits.check("folder_files", len(out), f"{what} of more than {limits.folder_files} entries",
                             str(folder))
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(folder)) from None
    return sorted(out)


def folder_files(folder: str | Path, limits: Limits = DEFAULT, what: str = "file") -> list[Path]:
    """Every file under ``folder``, as a library loading the folder whole would find it (symlinks followed),
    sorted: each checked as :func:`open_regular` checks a file (regular, inside the :func:`confined` roots),
    each folder met confined too, and at most ``limits.folder_files`` entries walked in all."""
    out: list[Path] = []
    walked: set[Path] = set()
    seen = 0
    todo = [Path(folder)]
    while todo:
        current = todo.pop()
        real = vetted_dir(current, what)
        if real in walked:  # a link back up the tree: walked once
            continue
        walked.add(real)
        entries = listing(current, limits, what)
        seen += len(entries)
        limits.check("folder_files", seen, f"{what} folder of more than {limits.folder_files} entries",
                     str(folder))
        for entry in entries:
            if is_dir(entry):
                todo.append(entry)
            else:
                vetted(entry, what)
                out.append(entry)
    return sorted(out)


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


#: Bytes ``head`` reads for kind detection.
HEAD_BYTES = 4096


def head(path: str | Path, size: int = HEAD_BYTES) -> bytes:
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
    finally:
        if _scope().seen:
            _note(p, _resolved(p))  # a probe is a read too: a file that appears or goes changes what is read
    return True


def is_dir(path: str | Path) -> bool:
    """``Path.is_dir`` for a name that :func:`exists` accepts."""
    return exists(path) and Path(path).is_dir()


def is_within(path: str | Path, root: str | Path) -> bool:
    """True when ``path`` (symlinks resolved) is ``root`` or lies under it. A root of the :func:`confined` block
    under way is taken as resolved when the block began, as the block's own checks take it (a gate run confines
    thousands of artifacts to one root)."""
    given = str(root)
    try:
        real = Path(path).resolve()
        base = next((b for name, b in _scope().named if name == given), None) or Path(root).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an impossible name
        return False
    return real.is_relative_to(base)  # real == base or base in real.parents, without building each parent


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


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _place(path: str | Path, tree: str | Path, named: bool, what: str) -> tuple[str, list[str], str]:
    """Where an output goes: (the folder to start from, the folders below it to walk without following a
    symlink, the file name). Paths are made absolute and normalised by name (``a/../b`` is ``b``), so a
    ``..`` never climbs out of a symlinked folder."""
    shown = str(path)
    if "\0" in shown:
        raise UsageError(f"{what}: refused: the path contains a NUL byte")
    target = os.path.normpath(os.path.abspath(shown))
    base = os.path.normpath(os.path.abspath(str(tree)))
    folder, name = os.path.split(target)
    if not name or shown.endswith((os.sep, "/")):
        raise UsageError(f"{what}: {shown} names a folder, expected a file")
    rel = os.path.relpath(folder, base)
    if rel == ".":
        return base, [], name
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        if not named:
            raise UsageError(f"{what}: {shown} is outside {tree}: refused (name an outside path on the command "
                             "line to write there)")
        return folder, [], name  # the user named an outside folder: it is theirs, symlinks and all
    return base, rel.split(os.sep), name


def _open_folder(start: str, parts: list[str], shown: str, what: str) -> int:
    """A descriptor of ``start/parts...``, each of ``parts`` opened relative to the last and never through a
    symlink; UsageError naming the symlink or the missing folder."""
    try:
        fd = os.open(start, _FOLDER_FLAGS)
    except OSError as exc:
        raise UsageError(f"{what}: cannot write {shown}: {exc.strerror or exc}") from None
    walked = start
    for part in parts:
        walked = os.path.join(walked, part)
        try:
            nxt = os.open(part, _FOLDER_FLAGS | _NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            link = _is_link(part, fd)
            os.close(fd)
            if link:
                raise UsageError(f"{what}: refused to write {shown}: {walked} is a symlink (a committed symlink "
                                 "would redirect the write); name a path without one") from None
            raise UsageError(f"{what}: cannot write {shown}: {exc.strerror or exc}") from None
        os.close(fd)
        fd = nxt
    return fd


def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=folder).st_mode)
    except OSError:
        return False


def _device(name: str, folder: int) -> bool:
    """True for a character device or FIFO at ``name`` (``-o /dev/null``): a stream the user named, written to
    as it is. Removing it to create a fresh file (as a stale output is) would, run as root, replace the
    machine's /dev/null with a regular file."""
    try:
        mode = os.lstat(name, dir_fd=folder).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _remove_stale(name: str, folder: int, shown: str, what: str) -> None:
    """Remove what is at ``name`` in ``folder`` (a stale output, or a symlink itself, never its target);
    UsageError for a folder there."""
    try:
        mode = os.lstat(name, dir_fd=folder).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"{what}: cannot write {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{what}: cannot write {shown}: a folder is there")
    try:
        os.unlink(name, dir_fd=folder)
    except OSError as exc:
        raise UsageError(f"{what}: cannot remove the old {shown}: {exc.strerror or exc}") from None


def create_output(path: str | Path, *, tree: str | Path = ".", named: bool = True,
                  what: str = "output") -> BinaryIO:
    """A new, empty regular file at ``path``, open for binary writing, whatever was there before (a stale
    file or a symlink is removed, never followed; a folder is an error).

    ``tree`` is the folder whose contents a pull request controls (default: the working folder): no symlink is
    followed at any folder between it and the file. ``named``: the path came from the command line, so it may
    lie outside ``tree`` (its folders outside are followed); otherwise a path outside ``tree`` is refused.
    ``what`` names the option in messages (``--format sarif``). UsageError (exit 2) for anything refused.
    """
    shown = str(path)
    start, parts, name = _place(path, tree, named, what)
    if os.open not in os.supports_dir_fd:  # no openat (Windows): the same checks by name
        return _create_by_name(start, parts, name, shown, what, named)
    folder = _open_folder(start, parts, shown, what)
    try:
        if _device(name, folder):  # /dev/null, /dev/stdout, a FIFO: written to, never removed
            if not named:
                raise UsageError(f"{what}: refused to write {shown}: not a regular file")
            fd = os.open(name, os.O_WRONLY | _NOFOLLOW, dir_fd=folder)
            return os.fdopen(fd, "wb")
        _remove_stale(name, folder, shown, what)
        try:
            fd = os.open(name, _WRITE_FLAGS, 0o644, dir_fd=folder)
        except OSError as exc:  # something appeared between the removal and the creation: refused
            raise UsageError(f"{what}: cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        os.close(folder)
    return os.fdopen(fd, "wb")


def _create_by_name(start: str, parts: list[str], name: str, shown: str, what: str, named: bool) -> BinaryIO:
    """:func:`create_output` where folders cannot be opened relative to each other: each folder checked with
    ``lstat`` (a symlink placed between the check and the write is a race the platform leaves open)."""
    walked = Path(start)
    for part in parts:
        walked = walked / part
        if walked.is_symlink():
            raise UsageError(f"{what}: refused to write {shown}: {walked} is a symlink; name a path without one")
    target = walked / name
    if target.is_dir() and not target.is_symlink():
        raise UsageError(f"{what}: cannot write {shown}: a folder is there")
    if target.exists() and not target.is_symlink() and not target.is_file():  # a device or FIFO: written to
        if not named:
            raise UsageError(f"{what}: refused to write {shown}: not a regular file")
        return open(target, "wb")  # the caller closes it, as it closes the fd-based one
    try:
        target.unlink(missing_ok=True)
        fd = os.open(target, _WRITE_FLAGS, 0o644)
    except OSError as exc:
        raise UsageError(f"{what}: cannot write {shown}: {exc.strerror or exc}") from None
    return os.fdopen(fd, "wb")


def write_output(path: str | Path, data: str | bytes, *, tree: str | Path = ".", named: bool = True,
                 what: str = "output") -> Path:
    """``data`` (text as UTF-8) written to a fresh file at ``path`` (:func:`create_output`); returns ``path``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with create_output(path, tree=tree, named=named, what=what) as fh:
        try:
            fh.write(raw)
        except OSError as exc:
            raise UsageError(f"{what}: cannot write {path}: {exc.strerror or exc}") from None
    return Path(path)


def remove_output(path: str | Path, *, tree: str | Path = ".", named: bool = True, what: str = "output") -> None:
    """Remove a stale output at ``path`` before a run starts (never through a symlink), so a run that dies
    before writing leaves nothing a later step could take for its result. Nothing there is fine."""
    shown = str(path)
    start, parts, name = _place(path, tree, named, what)
    if os.open not in os.supports_dir_fd:
        target = Path(start).joinpath(*parts, name)
        if not any(p.is_symlink() for p in (Path(start).joinpath(*parts[:i + 1]) for i in range(len(parts)))) \
                and (target.is_symlink() or target.is_file()):
            with suppress(OSError):
                target.unlink()
        return
    try:
        folder = _open_folder(start, parts, shown, what)
    except UsageError:
        return  # the write itself says what is wrong with the path, with the run's result
    try:
        if not _device(name, folder):
            _remove_stale(name, folder, shown, what)
    finally:
        os.close(folder)
