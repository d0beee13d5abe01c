"""The import-linter contract that keeps extractors independent ("No extractor imports another", pyproject.toml)
lists its modules by hand; this test keeps that list in step with the registry, so a built-in extractor added to
``extractors.EXTRACTORS`` (or to an engine's ``EXTRACTOR``) without its line in the contract fails here instead of
escaping the check."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the contract is the same on 3.10

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CONTRACT = "No extractor imports another"


def _contract_modules() -> list[str]:
    contracts = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in contracts if c["name"].startswith(CONTRACT)]
    assert contract["type"] == "independence"
    modules: list[str] = contract["modules"]
    return modules


def test_every_built_in_extractor_module_is_in_the_independence_contract() -> None:
    registered = [r.module for r in extractors.EXTRACTORS.refs() if r.builtin]
    listed = _contract_modules()
    missing = [m for m in registered if m not in listed]
    assert not missing, f"add {', '.join(missing)} to the '{CONTRACT}' contract in pyproject.toml"
    # And it lists nothing the registry does not hold (a renamed or removed extractor).
    assert sorted(listed) == sorted(set(registered)), "the contract lists modules no built-in kind is"
