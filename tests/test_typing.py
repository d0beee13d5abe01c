"""The package's public names are typed for users: a script checked with ``mypy --strict`` sees
``driftguard.check(...)`` as a ``Report`` (the package root declares its lazy re-exports under ``TYPE_CHECKING``;
at run time they stay lazy, ``tests/test_light_import.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import driftguard

ROOT = Path(__file__).resolve().parents[1]

USER_SCRIPT = '''\
from datetime import date
from pathlib import Path
from typing import assert_type

import driftguard
from driftguard import CheckRequest, DriftDetected, DriftguardError, Origin, ParityRequest, Value

report = driftguard.check("driftguard.yaml", model="summarizer", jobs=2, base="main", changed_only=True)
assert_type(report, driftguard.Report)
assert_type(report.ok, bool)
for judged in report.findings:
    assert_type(judged, driftguard.Judged)
    assert_type(judged.finding, driftguard.Finding)
    assert_type(judged.status, driftguard.Status)
assert_type(driftguard.check_parity("driftguard.yaml", device="cpu", executor="threads"), driftguard.Report)
assert_type(driftguard.check("driftguard.yaml", parity=ParityRequest(device="cpu")), driftguard.Report)
config = driftguard.extract("config.pbtxt")
assert_type(config, driftguard.EffectiveConfig)
assert_type(config.values["generation.top_p"], Value)
assert_type(config.values["generation.top_p"].origin, Origin)
assert_type(driftguard.diff("a.json", "vllm:b.json"), driftguard.DiffResult)
assert_type(driftguard.golden_record("driftguard.yaml"), list[Path])
assert_type(driftguard.approve("driftguard.yaml", "m", "k", "why", date(2027, 1, 1), approved_by="me"), Path)
caught: tuple[type[Exception], ...] = (DriftguardError, DriftDetected)
request: type[CheckRequest] = driftguard.CheckRequest
'''


@pytest.mark.slow  # mypy reads the package and pydantic: ~15 s of CPU
def test_a_user_script_sees_real_types_under_mypy_strict(tmp_path: Path) -> None:
    script = tmp_path / "deploy.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    (tmp_path / "mypy.ini").write_text("[mypy]\n", encoding="utf-8")  # the user's settings: none but --strict
    # The suite's install is editable (an import hook mypy cannot follow), so the package is found on MYPYPATH;
    # --follow-imports=silent checks it as an installed package is checked: its types used, its own errors not
    # reported (the package's own mypy --strict run covers those).
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir",
                           str(tmp_path / "cache"), "--config-file", str(tmp_path / "mypy.ini"), str(script)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 1 source file" in done.stdout


def test_the_lazy_names_are_the_declared_ones() -> None:
    """What ``__getattr__`` serves is what ``TYPE_CHECKING`` declares (``__all__``), and each resolves."""
    import ast

    tree = ast.parse((ROOT / "driftguard" / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    declared = {alias.asname for n in guarded.body if isinstance(n, ast.ImportFrom) for alias in n.names}
    assert declared == set(driftguard.__all__)
    for name in driftguard.__all__:
        assert getattr(driftguard, name) is not None


def test_parity_is_the_package_and_check_parity_the_call() -> None:
    import types

    import driftguard.parity

    assert isinstance(driftguard.parity, types.ModuleType) and not callable(driftguard.parity)
    assert driftguard.check_parity.__module__ == "driftguard.api"
