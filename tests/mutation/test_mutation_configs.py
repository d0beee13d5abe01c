"""The mutation-testing configs under ``tests/mutation/`` (Cosmic Ray; README "Development") stay runnable and
honest: each names an existing module and existing tests, is listed in the README's table, and leaves out the
``|`` replacements only where ``|`` is in annotations alone (where every replacement is equivalent); every row of
``equivalent.txt`` names a configured module, a line that exists and a reason."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest

try:
    from tomllib import loads as toml_loads
except ImportError:  # Python 3.10: the TOML reader Cosmic Ray itself installs (dev extra)
    from toml import loads as toml_loads

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFIGS = sorted(HERE.glob("*.toml"))
BIT_OR = "core/ReplaceBinaryOperator_BitOr_.*"


def _config(path: Path) -> dict[str, object]:
    section: dict[str, object] = toml_loads(path.read_text(encoding="utf-8"))["cosmic-ray"]
    return section


def _module(path: Path) -> str:
    module = _config(path)["module-path"]
    assert isinstance(module, str)
    return module


def test_there_is_a_config_per_documented_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(CONFIGS) >= 3
    for path in CONFIGS:
        assert f"| `tests/mutation/{path.name}` | `{_module(path)}` |" in readme, path.name


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_a_config_runs_one_module_against_existing_tests_on_one_local_worker(path: Path) -> None:
    config = _config(path)
    assert (ROOT / _module(path)).is_file()
    command = config["test-command"]
    assert isinstance(command, str)
    tests = [word for word in shlex.split(command) if word.startswith("tests/")]
    assert tests, "a config names the tests it runs against, never the whole suite"
    assert all((ROOT / t).is_file() for t in tests), tests
    assert config["distributor"] == {"name": "local"}


def _runtime_bit_or(tree: ast.Module) -> list[int]:
    """Lines of a ``|`` evaluated at run time: outside every annotation (the module has ``from __future__
    import annotations``, so its annotations are strings, never evaluated)."""
    annotations: set[int] = set()
    for node in ast.walk(tree):
        for ann in _annotations(node):
            annotations.update(id(sub) for sub in ast.walk(ann))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and id(node) not in annotations]


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
        return [node.annotation]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
        return [node.returns]
    return []


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_bit_or_is_left_out_only_where_every_bit_or_is_an_annotation(path: Path) -> None:
    config = _config(path)
    filters = config.get("filters", {})
    assert isinstance(filters, dict)
    if BIT_OR not in filters.get("operators-filter", {}).get("exclude-operators", []):
        return
    source = (ROOT / _module(path)).read_text(encoding="utf-8")
    assert "from __future__ import annotations" in source
    assert _runtime_bit_or(ast.parse(source)) == []


def test_the_check_finds_a_runtime_bit_or() -> None:
    tree = ast.parse("from __future__ import annotations\ndef f(a: int | None) -> int | None:\n    return a | 2\n")
    assert _runtime_bit_or(tree) == [3]


def test_each_equivalent_mutant_names_a_configured_module_a_line_and_a_reason() -> None:
    modules = {_module(path) for path in CONFIGS}
    rows = [line.split("\t") for line in (HERE / "equivalent.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    for row in rows:
        assert len(row) == 5, row
        module, line, operator, code, reason = row
        assert module in modules, row
        source = (ROOT / module).read_text(encoding="utf-8").splitlines()
        assert source[int(line) - 1].strip() == code, f"{module}:{line} is no longer {code!r}"
        assert operator.startswith("core/") and len(reason) > 20, row


def test_the_annotations_filter_finds_annotations_only() -> None:
    """tests/mutation/annotations_filter.py skips a mutant whose text lies inside an annotation (columns in
    characters, as Cosmic Ray counts them, also after a non-ASCII character), never one in evaluated code."""
    from tests.mutation.annotations_filter import annotation_spans, inside

    source = ("from __future__ import annotations\n"
              "def f(a: int | None, é: str | None = None) -> float | None:\n"
              "    return a | 2\n"
              "x: dict[str, int | None] = {}\n")
    spans = annotation_spans(source)
    line = source.splitlines()[1]
    for col in (line.index("int | None") + 4, line.index("str | None") + 4, line.index("float | None") + 6):
        assert inside((2, col), (2, col + 1), spans), col
    bar = source.splitlines()[3].index("|")
    assert inside((4, bar), (4, bar + 1), spans)  # x: dict[str, int | None]
    bar = source.splitlines()[2].index("|")
    assert not inside((3, bar), (3, bar + 1), spans)  # return a | 2
    assert not inside((2, 0), (2, 3), spans)  # def
