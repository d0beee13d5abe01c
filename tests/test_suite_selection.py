"""The developer's default run leaves out the slow tests, and CI does not: ``.ci/run`` runs the README's test
command with ``--slow``, and without the flag the slow tests are deselected (counted), never skipped quietly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command_with_the_slow_tests() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^```bash\n(.*?)\n```", quick, re.M | re.S)
    assert commands[1] == "bash scripts/setup.sh test && .venv/bin/python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh test\n" in ci
    runs = [line.strip() for line in ci.splitlines() if "-m pytest" in line]
    assert runs == ["python -m pytest -q -p no:cacheprovider --slow --allowed-skips-only"]


def _collect(*extra: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "tests/test_readme_doctest.py", *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def test_slow_tests_are_deselected_by_default_and_run_with_slow() -> None:
    fast, everything = _collect(), _collect("--slow")
    fast_ids = [line for line in fast if "::" in line]
    all_ids = [line for line in everything if "::" in line]
    builds = [i for i in all_ids if i not in fast_ids]
    # The README blocks that build a model (build.py) are the slow ones here; every other block runs by default.
    assert builds and set(fast_ids) < set(all_ids)
    assert any(f"{len(builds)} deselected" in line for line in fast), fast[-3:]
    assert not any("deselected" in line for line in everything), everything[-3:]
