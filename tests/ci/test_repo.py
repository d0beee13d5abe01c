"""``ci.repo.repository_root``: the nearest folder holding ``.git`` (a folder, or the file a worktree or a
submodule has), found without git; the start folder itself when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.ci.repo import repository_root


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
