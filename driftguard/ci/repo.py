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
