"""A manifest's parity ``builder:``/``function:`` imports code only from inside the manifest's folder: a path that
leaves it (``..``, an absolute path, a symlink to a file elsewhere) is refused before anything is imported, shown
by a sentinel the outside module would write."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import load_user_function


@pytest.fixture()
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``repo/`` (the manifest's folder) with its own ``inside.py``, and ``outside.py`` beside it that writes a
    sentinel when imported."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "inside.py").write_text("def run(inputs, config):\n    return inputs\n")
    sentinel = tmp_path / "imported"
    (tmp_path / "outside.py").write_text(f"open({str(sentinel)!r}, 'w').close()\ndef run(i, c):\n    return i\n")
    return repo, sentinel


@pytest.mark.parametrize("spec", ["../outside.py:run", "{abs}:run", "link.py:run", "sub/../../outside.py:run"])
def test_code_outside_the_manifests_folder_is_refused_unimported(layout: tuple[Path, Path], spec: str) -> None:
    repo, sentinel = layout
    (repo / "link.py").symlink_to(repo.parent / "outside.py")
    (repo / "sub").mkdir()
    spec = spec.format(abs=repo.parent / "outside.py")
    with pytest.raises(ParityError, match=r"is outside .* refused"):
        load_user_function(spec, repo, "builder")
    assert not sentinel.exists()


def test_code_inside_the_manifests_folder_loads(layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    assert load_user_function("inside.py:run", repo, "function")([1], {}) == [1]
