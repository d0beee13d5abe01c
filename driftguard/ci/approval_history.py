"""Where each approval came from, from git: the commit (and its author) that last changed the approval file (added
it, or edited it since: re-pinning someone else's approval makes it the re-pinner's), and whether the work tree's
file is the one committed at HEAD; and who last changed a line, or a whole file, that a finding rests on.

Git authorship is what the committer typed (``user.email``), so this tells apart honest collaborators, not
identities: the platform must enforce who pushed what (branch protection requiring reviews, signed commits, or its
review API), as the README's "Approvals" says.

``check --require-committed-approvals`` ignores an approval whose file is not committed as it is (new, or
edited and not committed): in CI, an approval that is only in the work tree was written by the job itself, not
reviewed in the pull request. One ``git log`` reads the history of the whole approvals folder; the committed
check hashes each file as git does and compares it with HEAD's blob."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from driftguard.ci.gitref import open_repo
from driftguard.errors import DriftguardError
from driftguard.readers import files


@dataclass(frozen=True)
class FileHistory:
    """``commit``/``author``/``date`` of the commit that last changed the file, its add or a later edit (None
    when git has none: not added yet); ``committed``: the work tree's file is byte for byte the one in HEAD."""

    commit: str | None
    author: str | None
    date: str | None
    committed: bool


def _relative(path: str, root: Path) -> str | None:
    try:
        return PurePosixPath(Path(path).resolve().relative_to(root).as_posix()).as_posix()
    except ValueError:
        return None


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def approval_history(root: Path, folder: Path, paths: Sequence[str],
                     option: str = "--require-committed-approvals") -> dict[str, FileHistory]:
    """The history of each approval file in ``paths`` (files of ``folder``, in the repository at ``root``);
    ``option`` names what asked, for the error outside a git repository."""
    root = root.resolve()
    repo = open_repo(root, option)
    rel_folder = _relative(str(folder), root)
    added: dict[str, tuple[str, str, str]] = {}
    if rel_folder is not None and repo.head.is_valid():
        # every commit that wrote a file (added, edited, retyped: not deleted), newest first
        log = repo.git.log("--diff-filter=ACMRT", "--no-renames", "--format=%x01%H%x09%an <%ae>%x09%aI",
                           "--name-only", "-z", "--", rel_folder or ".")
        for entry in log.split("\x01"):  # "\x01SHA\tAUTHOR\tDATE\0\nPATH\0PATH\0"
            header, *names = entry.split("\0")
            fields = header.split("\t")
            if len(fields) < 3:
                continue
            who = (fields[0], "\t".join(fields[1:-1]), fields[-1])
            for name in names:
                if name.strip("\n"):
                    added.setdefault(name.lstrip("\n"), who)  # newest first: the last change of the file
    tree = repo.head.commit.tree if repo.head.is_valid() else None
    sha1 = tree is not None and len(tree.hexsha) == 40  # blob ids hashed as git does (SHA-1 repositories)
    out: dict[str, FileHistory] = {}
    for path in paths:
        rel = _relative(path, root)
        commit = author = date = None
        committed = False
        if rel is not None:
            commit, author, date = added.get(rel, (None, None, None))
            if tree is not None and sha1:
                try:
                    blob = tree.join(rel)
                    committed = blob.hexsha == _blob_id(files.read_bytes(path))
                except (KeyError, DriftguardError):
                    committed = False
        out[path] = FileHistory(commit, author, date, committed)
    return out


@dataclass(frozen=True)
class LineAuthor:
    """Who last changed one line of a file: the commit and its author (``name <email>``); ``commit`` None
    when the line is not committed yet."""

    commit: str | None
    author: str | None
    email: str | None


def line_author(root: Path, path: str, line: int) -> LineAuthor | None:
    """``git blame`` of one line of ``path`` (inside the repository at ``root``); None when git cannot say
    (outside the repository, not tracked, no such line)."""
    import git

    root = root.resolve()
    rel = _relative(path, root)
    if rel is None or line < 1:
        return None
    repo = open_repo(root, "approval_policy.separate_approver")
    try:
        out = repo.git.blame("-L", f"{line},{line}", "--porcelain", "--", rel)
    except git.GitCommandError:
        return None
    lines = out.splitlines()
    if not lines:
        return None
    commit = lines[0].split(" ", 1)[0]
    fields = dict(x.split(" ", 1) for x in lines[1:] if " " in x and not x.startswith("\t"))
    if set(commit) == {"0"}:
        return LineAuthor(None, None, None)
    email = fields.get("author-mail", "").strip("<>") or None
    return LineAuthor(commit, f"{fields.get('author', '?')} <{email or '?'}>", email)


def file_author(root: Path, path: str) -> LineAuthor | None:
    """Who last changed the file ``path`` (inside the repository at ``root``): what a value no line states (a
    default, because a line was deleted) rests on. ``commit`` None when the work tree's file differs from HEAD;
    None when git cannot say (outside the repository, not a tracked file)."""
    root = root.resolve()
    rel = _relative(path, root)
    if rel is None or not Path(path).is_file():
        return None
    repo = open_repo(root, "approval_policy.separate_approver")
    if not repo.head.is_valid():
        return None
    if repo.git.status("--porcelain", "--", rel):
        return LineAuthor(None, None, None)
    out = repo.git.log("-1", "--format=%H%x09%an%x09%ae", "--", rel)
    if not out:
        return None
    commit, name, email = [*out.split("\t"), "", ""][:3]
    return LineAuthor(commit, f"{name} <{email or '?'}>", email or None)


def email_of(author: str | None) -> str | None:
    """The address in ``name <email>``."""
    if not author or "<" not in author:
        return None
    return author.rsplit("<", 1)[1].rstrip(">").strip().lower() or None
