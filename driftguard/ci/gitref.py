"""``check --base REF``: the files of a git revision, so the gate can judge what a change did.

``materialize`` writes the tree of ``REF`` under one folder of the repository (the folder the check reads:
the manifest's, or ``--root``) into a new directory, with gitpython (the ``git`` extra), without touching the
work tree, the index or any ref. Everything that reaches git is validated first: the revision is a plain
revision expression (``main``, ``origin/main``, ``HEAD~1``, a commit id; never an option, a range or a path
spec), and the folder is a path relative to the repository that stays inside it. A revision git does not
have (a shallow clone, a branch not fetched) is one clear error saying how to fetch it."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from driftguard.errors import MissingExtraError, UsageError
from driftguard.readers import files
from driftguard.readers.limits import DEFAULT, Limits

#: A revision expression: names, ``/``, ``~N``, ``^N`` (``@{...}`` is refused apart); no option (a leading
#: ``-``), no range (``..``), no path (``:``), no glob, no whitespace or control character.
_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./~^@{}+-]{0,255}")


def validate_revision(ref: str) -> str:
    """``ref`` when it is a plain revision expression; UsageError otherwise. A reflog or date revision
    (``main@{1}``, ``HEAD@{yesterday}``, ``@{-1}``) is refused: it names what this clone's reflog says, which a
    CI clone does not have (gitpython then fails deep inside, or an index past the log quietly gives HEAD)."""
    if "@{" in ref:
        raise UsageError(f"--base: '{ref}' is a reflog or date revision (@{{...}}), which depends on this clone's "
                         "history of its refs; name a branch, tag, commit id or HEAD~N")
    if not _REVISION.fullmatch(ref) or ".." in ref or ref.endswith((".", "/", ".lock")) or "//" in ref:
        raise UsageError(f"--base: '{ref}' is not a git revision (a branch, tag, commit id or HEAD~N)")
    return ref


def open_repo(root: Path, option: str = "--base") -> Any:
    """The git repository at ``root`` (gitpython); MissingExtraError without the git extra, UsageError
    naming ``option`` (what needed git) when ``root`` is no repository."""
    try:
        import git
    except ImportError:
        raise MissingExtraError(option, "git", "gitpython") from None
    try:
        return git.Repo(root, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{option}: {root} is not a git repository") from None


def resolve(root: Path, ref: str) -> str:
    """The commit id ``ref`` names in the repository at ``root``; UsageError, saying how to fetch it, when
    the repository does not have it."""
    import git

    repo = open_repo(root)
    validate_revision(ref)
    try:
        found = repo.commit(ref)
        found.tree  # noqa: B018  # a shallow clone names parents it does not have: read the object to know
        return str(found.hexsha)
    except (git.BadName, git.BadObject, ValueError):
        shallow = (Path(repo.git_dir) / "shallow").exists()
        hint = (f"fetch it first, e.g. git fetch --no-tags origin {ref.split('~')[0].split('^')[0]} "
                "(actions/checkout: fetch-depth: 0)")
        raise UsageError(f"--base: revision '{ref}' is not in {root}"
                         f"{' (a shallow clone)' if shallow else ''}; {hint}") from None


def unchanged_since(root: Path, commit: str, limits: Limits = DEFAULT) -> Callable[[Path], bool]:
    """A test for files of the work tree of the repository at ``root``: True when the file at a path is, byte
    for byte, the regular file (not a symlink) that revision ``commit`` holds there, so neither added nor edited
    since. For evidence a change must not supply itself (``driftguard parity --base``: parity recordings)."""
    tree = open_repo(root).commit(commit).tree
    top = root.resolve()

    def held(path: Path) -> bool:
        try:
            rel = Path(os.path.abspath(path)).resolve().relative_to(top)
            blob = tree.join(rel.as_posix())
        except (ValueError, KeyError, OSError, RuntimeError):
            return False
        if blob.type != "blob" or not stat.S_ISREG(blob.mode):
            return False
        data = files.read_bytes(path, limits, limit="golden_bytes", what="recording")
        digest = hashlib.sha256 if len(blob.hexsha) == 64 else hashlib.sha1  # the repository's object format
        return bool(blob.hexsha == digest(b"blob %d\0" % len(data) + data).hexdigest())

    return held


def _relative(folder: Path, root: Path) -> PurePosixPath:
    try:
        rel = folder.resolve().relative_to(root.resolve())
    except ValueError:
        raise UsageError(f"--base: {folder} is outside the repository {root}") from None
    return PurePosixPath(rel.as_posix())


def materialize(root: Path, commit: str, folder: Path, dest: Path) -> Path:
    """Write the files under ``folder`` (a folder of the repository at ``root``) as they are at ``commit`` into
    ``dest``, keeping their paths relative to the repository; returns ``dest``. Symlinks stay symlinks (the
    check confines reads to its root either way), submodules are left out."""
    repo = open_repo(root)
    sub = _relative(folder, root)
    tree = repo.commit(commit).tree
    if str(sub) != ".":
        try:
            tree = tree / str(sub)
        except KeyError:
            return dest  # the folder did not exist at that commit: nothing to check there
    for item in tree.traverse():
        if item.type != "blob":
            continue
        rel = PurePosixPath(item.path)
        if rel.is_absolute() or ".." in rel.parts:  # git never stores these; a crafted object is refused
            raise UsageError(f"--base: refused path '{item.path}' in {commit}")
        target = dest.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(item.mode):
            os.symlink(item.data_stream.read().decode("utf-8", "surrogateescape"), target)
            continue
        with open(target, "wb") as fh:
            stream = item.data_stream
            while chunk := stream.read(1 << 20):
                fh.write(chunk)
        if item.mode & 0o111:
            target.chmod(0o755)
    return dest
