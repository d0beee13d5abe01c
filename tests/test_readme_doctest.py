"""The README's console examples are true: every block marked ``<!-- doctest -->`` is run, command by command,
in a copy of the repository, and every line it shows appears in what the command printed, in order (``...``
stands for lines left out). Exit codes shown with ``$ echo $?`` are checked too.

The outputs depend on the day the shipped, dated approvals are judged on; the README says they are as of
``EXAMPLES_TODAY`` and the blocks run with ``DRIFTGUARD_TODAY`` set to it, so they print the same on any day."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO, examples_env

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- doctest -->"


def blocks() -> list[tuple[int, list[tuple[str, list[str]]]]]:
    """``(line, [(command, expected lines)])`` for every marked console block."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        assert lines[i + 1].startswith("```console"), f"README.md:{i + 1}: {MARK} must precede a console block"
        steps: list[tuple[str, list[str]]] = []
        j = i + 2
        while not lines[j].startswith("```"):
            text = lines[j]
            if text.startswith("$ "):
                command = text[2:]
                while command.endswith("\\"):
                    j += 1
                    command = command[:-1] + " " + lines[j].strip()
                steps.append((re.sub(r"\s+#\s.*$", "", command).strip(), []))
            else:
                steps[-1][1].append(text.rstrip())
            j += 1
        out.append((i + 2, steps))
    return out


BLOCKS = blocks()


def test_every_console_block_is_run() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    unmarked = [i + 1 for i, line in enumerate(lines) if line.startswith("```console") and lines[i - 1] != MARK]
    assert not unmarked, f"README.md: console blocks not run by this test, lines {unmarked}: mark them {MARK}"
    assert len(BLOCKS) >= 9


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A copy of the repository's tracked files (commands may write: approve writes an approval)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    dst = tmp_path / "repo"
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dst / name)
    return dst


def _param(line: int, steps: list[tuple[str, list[str]]]) -> object:
    """A block that builds a model (``build.py``) takes seconds: it runs with ``--slow`` (CI), not by default."""
    builds = any("build.py" in command for command, _ in steps)
    return pytest.param(line, steps, id=f"README.md:{line}", marks=[pytest.mark.slow] if builds else [])


@pytest.mark.parametrize(("line", "steps"), [_param(n, s) for n, s in BLOCKS])
def test_console_block(checkout: Path, line: int, steps: list[tuple[str, list[str]]]) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           **examples_env()}
    last = 0
    for command, expected in steps:
        if command == "echo $?":
            assert expected == [str(last)], f"README.md:{line}: exit code shown {expected}, got {last}"
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=checkout, capture_output=True, text=True, env=env,
                              timeout=300)
        last = proc.returncode
        got = [x.rstrip() for x in (proc.stdout + proc.stderr).splitlines()]
        at = 0
        for want in expected:
            if want == "...":
                continue
            assert want in got[at:], (f"README.md:{line}: `{command}` does not print\n  {want}\nit printed:\n"
                                      + "\n".join(got))
            at = got.index(want, at) + 1


def section(title: str) -> str:
    """The README's text under the ``## title`` heading, up to the next ``## `` heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def test_the_readme_says_which_day_its_outputs_are_for() -> None:
    """The quick start says the outputs are as of ``EXAMPLES_TODAY`` and how to reproduce them, and every date the
    README gives as "today" (``DRIFTGUARD_TODAY=``, ``--today``, "as of") is that one."""
    quick_start = " ".join(section("Quick start").split())
    assert f"as of **{EXAMPLES_TODAY_ISO}**" in quick_start
    assert f"DRIFTGUARD_TODAY={EXAMPLES_TODAY_ISO} .venv/bin/driftguard check" in quick_start
    assert f"--today {EXAMPLES_TODAY_ISO}" in quick_start
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    stated = re.findall(r"(?:DRIFTGUARD_TODAY=|--today |as of \**)(\d{4}-\d{2}-\d{2})", text)
    assert len(stated) >= 6 and set(stated) == {EXAMPLES_TODAY_ISO}, stated


def test_the_shipped_approvals_hold_quietly_on_the_examples_day() -> None:
    """Every shipped approval started by ``EXAMPLES_TODAY`` and is not within its manifest's warning window then
    (the README's outputs show no warning), and the quick start names its expiry date."""
    quick_start = " ".join(section("Quick start").split())
    files = sorted([*(ROOT / "approvals").glob("*.yaml"), *(ROOT / "examples").glob("*/approvals/*.yaml")])
    assert len(files) >= 4, files
    for path in files:
        approval = yaml.safe_load(path.read_text(encoding="utf-8"))
        manifest = yaml.safe_load((path.parent.parent / "driftguard.yaml").read_text(encoding="utf-8"))
        warn = manifest.get("approval_policy", {}).get("warn_expiring_days", 30)
        assert approval["approved_on"] <= EXAMPLES_TODAY, path
        assert (approval["expires"] - EXAMPLES_TODAY).days > warn, path
        assert approval["expires"].isoformat() in quick_start, path
