"""The repository a check runs in: the folder every reported path is relative to (SARIF locations, workflow
annotations and finding fingerprints all name files from there). Found without git itself, so the
config-only install needs no gitpython."""

from __future__ import annotations

from pathlib import Path


def repository_root(start: str | Path) -> Path:
    """The nearest folder at or above ``start`` holding ``.git`` (a folder, or the file of a worktree or
    submodule), absolute; ``start`` itself (absolute) when none does."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def head_commit(root: str | Path) -> str | None:
    """The commit checked out in the git work tree at ``root`` (``repository_root``), read from ``.git``
    without git itself: ``HEAD`` holds the commit id, or names a branch whose loose ref or ``packed-refs`` line
    holds it. None when ``root`` is no work tree or the commit cannot be read (an unborn branch)."""
    git_dir = _git_dir(Path(root))
    if git_dir is None:
        return None
    common = git_dir
    commondir = _text(git_dir / "commondir")
    if commondir is not None:
        common = (git_dir / commondir).resolve()
    head = _text(git_dir / "HEAD")
    if head is None:
        return None
    if not head.startswith("ref: "):
        return head if _is_commit_id(head) else None
    ref = head[len("ref: "):].strip()
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return None
    for folder in (git_dir, common):
        found = _text(folder / ref)
        if found is not None and _is_commit_id(found):
            return found
    for line in (_text(common / "packed-refs") or "").splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _is_commit_id(sha):
            return sha
    return None


def _git_dir(root: Path) -> Path | None:
    """``root/.git``, or the folder a ``.git`` file (a worktree, a submodule) names; None without one."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    text = _text(dot_git)
    if text is None or not text.startswith("gitdir: "):
        return None
    return (root / text[len("gitdir: "):].strip()).resolve()


def _text(path: Path) -> str | None:
    """The stripped text of one of the clone's own git files, None when it cannot be read. Read directly, not
    through ``readers.files``: git never checks out a path named ``.git``, so the pull request cannot place
    these, and a worktree's git folder lies outside the checked tree by design (confinement would refuse it)."""
    try:
        return path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _is_commit_id(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
