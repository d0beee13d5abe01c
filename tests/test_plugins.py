"""``driftguard.plugins``: the one cached scan of installed entry points, grouped by ``driftguard.*`` group, and
``clear_cache`` that makes a distribution put on sys.path after the scan visible (a real dist-info, no mocks)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftguard import plugins


def _dist(root: Path, name: str, group: str, entries: dict[str, str]) -> None:
    meta = root / f"{name}-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (meta / "entry_points.txt").write_text(f"[{group}]\n{lines}\n")


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder on sys.path to put distributions in; the scan is forgotten before and after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    yield tmp_path
    plugins.clear_cache()


def test_a_group_lists_its_entry_points_in_discovery_order(on_path: Path) -> None:
    _dist(on_path, "plugtestone", "driftguard.plugtest", {"b": "json:dumps", "a": "json:loads"})
    found = plugins.entry_points("driftguard.plugtest")
    assert [(ep.name, ep.value) for ep in found] == [("b", "json:dumps"), ("a", "json:loads")]
    assert found[0].load() is __import__("json").dumps


def test_an_unknown_group_is_empty_and_other_projects_groups_are_not_kept(on_path: Path) -> None:
    _dist(on_path, "plugtesttwo", "console_scripts", {"plugtesttwo": "json:dumps"})
    assert plugins.entry_points("driftguard.nosuchgroup") == ()
    assert plugins.entry_points("console_scripts") == ()


def test_the_scan_is_cached_until_cleared(on_path: Path) -> None:
    assert plugins.entry_points("driftguard.plugtestlate") == ()
    _dist(on_path, "plugtestlate", "driftguard.plugtestlate", {"x": "json:dumps"})
    assert plugins.entry_points("driftguard.plugtestlate") == (), "the first scan is reused"
    plugins.clear_cache()
    assert [ep.name for ep in plugins.entry_points("driftguard.plugtestlate")] == ["x"]


def test_plugins_imports_nothing_of_driftguard() -> None:
    # Every registry imports it; an import of driftguard here would be a cycle waiting to happen.
    tree = ast.parse(Path(plugins.__file__).read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert imported and not [m for m in imported if m.split(".")[0] == "driftguard"]
