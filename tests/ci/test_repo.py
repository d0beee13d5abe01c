"""``ci.repo.repository_root``: the nearest folder holding ``.git`` (a folder, or the file a worktree or a
submodule has), found without git; the start folder itself when there is none. ``head_commit``: the commit
checked out, read from ``.git`` without git (what binds a report to its run)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from driftguard.ci.repo import head_commit, repository_root


def test_the_nearest_git_folder_at_or_above_the_start(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "models" / "a"
    deep.mkdir(parents=True)
    assert repository_root(deep) == tmp_path.resolve()
    assert repository_root(tmp_path) == tmp_path.resolve()
    assert repository_root(str(deep)) == tmp_path.resolve(), "a str start is taken too"


def test_a_git_file_marks_a_worktree_or_submodule_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "vendor" / "sub"
    sub.mkdir(parents=True)
    (sub / ".git").write_text("gitdir: ../../.git/modules/sub\n")
    assert repository_root(sub / ".") == sub.resolve()


def test_without_git_the_start_itself_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tmp_path may lie inside a checkout on some machines; the walk stops at the first .git it meets.
    start = tmp_path / "plain"
    start.mkdir()
    above = [p for p in start.resolve().parents if (p / ".git").exists()]
    monkeypatch.chdir(tmp_path)
    expected = above[0] if above else start.resolve()
    assert repository_root("plain") == expected
    assert repository_root("plain").is_absolute()


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def _repo(folder: Path) -> Path:
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "commit", "-q", "--allow-empty", "-m", "x")
    return folder


def test_head_commit_is_the_commit_git_has_checked_out(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    repo = _repo(tmp_path / "r")
    sha = _git(repo, "rev-parse", "HEAD")
    assert head_commit(repo) == sha  # a branch with a loose ref
    _git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists() and head_commit(repo) == sha  # packed
    _git(repo, "checkout", "-q", "--detach")
    assert head_commit(repo) == sha  # a detached HEAD holds the id
    _git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"))
    assert head_commit(tmp_path / "wt") == sha  # a worktree's .git file


def test_head_commit_is_none_without_a_commit_to_name(tmp_path: Path) -> None:
    assert head_commit(tmp_path) is None  # no repository
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/unborn\n")
    assert head_commit(tmp_path) is None  # an unborn branch
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/../../../etc/passwd\n")
    assert head_commit(tmp_path) is None  # a ref that climbs out is not read
