"""The torch and onnxruntime floors: an older release is refused in one line before it loads anything, the
installed ones pass, and ``pyproject.toml`` asks for the same floors the run-time check enforces."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from driftguard.errors import DependencyError
from driftguard.readers import floors

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("version", "release"), [
    ("2.13.0+cpu", (2, 13, 0)), ("2.6.0", (2, 6, 0)), ("2.6.0rc1", (2, 6, 0)), ("2.5.1+cu121", (2, 5, 1)),
    ("1.27.0", (1, 27, 0)), ("1.26.0.dev20260501", (1, 26, 0)), ("2.6", (2, 6)), ("", ()),
])
def test_release_reads_the_numeric_part(version: str, release: tuple[int, ...]) -> None:
    assert floors.release(version) == release


@pytest.mark.parametrize(("package", "version"), [
    ("torch", "2.5.1"), ("torch", "2.4.0+cpu"), ("torch", "1.13.1"),
    ("onnxruntime", "1.26.0"), ("onnxruntime", "1.24.3"), ("onnxruntime", "1.17.0"),
])
def test_older_releases_are_refused_in_one_line(package: str, version: str) -> None:
    with pytest.raises(DependencyError) as caught:
        floors.check(package, version)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{package} {version} is older than {floors.FLOORS[package].text}")
    assert f"pip install '{package}>={floors.FLOORS[package].text}'" in message


@pytest.mark.parametrize(("package", "version"), [
    ("torch", "2.6.0"), ("torch", "2.13.0"), ("torch", "2.13.0+cpu"), ("onnxruntime", "1.27.0"),
    ("onnxruntime", "1.32.0"),
])
def test_floor_and_newer_releases_pass(package: str, version: str) -> None:
    floors.check(package, version)


def test_the_installed_libraries_are_above_their_floors() -> None:
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    floors.check("torch", torch.__version__)
    floors.check("onnxruntime", ort.__version__)


def test_pyproject_extras_ask_for_the_same_floors() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    wanted = {f"{name}>={'.'.join(map(str, floor.release[:2]))}" for name, floor in floors.FLOORS.items()}
    assert "torch>=2.6" in extras["torch"]
    assert wanted <= set(extras["parity"]), extras["parity"]
