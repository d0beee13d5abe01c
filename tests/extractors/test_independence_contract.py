"""The import-linter contract that keeps extractors independent ("No extractor imports another", pyproject.toml)
covers every built-in extractor: each module the registry holds (the model-file kinds and the engines' kinds)
matches one of its module expressions, and no extractor is among the shared helpers whose imports it allows.
An extractor registered outside those expressions, or made a "helper", fails here instead of escaping the
check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from driftguard import extractors

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the contract is the same on 3.10

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CONTRACT = "No extractor imports another"


def _contract() -> dict[str, Any]:
    contracts = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in contracts if c["name"].startswith(CONTRACT)]
    assert contract["type"] == "independence"
    return dict(contract)


def _matches(expression: str, module: str) -> bool:
    """import-linter's module expressions: ``*`` is one name, ``**`` any number of them."""
    pattern = re.escape(expression).replace(r"\*\*", "[\\w.]+").replace(r"\*", "\\w+")
    return re.fullmatch(pattern, module) is not None


def test_every_built_in_extractor_module_is_in_the_independence_contract() -> None:
    contract = _contract()
    registered = [r.module for r in extractors.EXTRACTORS.refs() if r.builtin]
    missing = [m for m in registered if not any(_matches(e, m) for e in contract["modules"])]
    assert not missing, f"add {', '.join(missing)} to the '{CONTRACT}' contract in pyproject.toml"
    # The imports it allows are those of the shared helpers (and the package's own of base), never of a kind.
    allowed = [line.partition("->")[2].strip() for line in contract.get("ignore_imports", [])]
    assert allowed and not set(allowed) & set(registered), "the contract lets a module import an extractor"


def test_the_expressions_match_as_import_linter_reads_them() -> None:
    assert _matches("driftguard.extractors.*", "driftguard.extractors.vllm")
    assert not _matches("driftguard.extractors.*", "driftguard.extractors")
    assert not _matches("driftguard.extractors.*", "driftguard.extractors.sub.vllm")
    assert _matches("driftguard.**", "driftguard.extractors.sub.vllm")
