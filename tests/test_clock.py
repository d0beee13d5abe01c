"""One "today" (``driftguard.clock``): ``clock.pinned`` stacks; the CLI judges approvals on ``--today``, else
``$DRIFTGUARD_TODAY``, else the system date; a malformed ``$DRIFTGUARD_TODAY`` is one line, exit 2; ``approve``
writes the day it was given as ``approved_on``."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from driftguard import api, clock
from tests import dates

EXPIRES = date(2026, 11, 21)  # the demo approval's last day
BEFORE = EXPIRES - timedelta(days=40)  # approved then (outside the 30-day warning window)
AFTER = EXPIRES + timedelta(days=10)  # expired 10 days ago then


def test_pinned_days_stack_and_unwind() -> None:
    outer = clock.today()  # the run's day, pinned by conftest
    assert outer == dates.today()
    with clock.pinned(BEFORE) as day:
        assert day == BEFORE and clock.today() == BEFORE
        with clock.pinned(AFTER):
            assert clock.today() == AFTER
        assert clock.today() == BEFORE
        with pytest.raises(RuntimeError), clock.pinned(EXPIRES):
            assert clock.today() == EXPIRES
            raise RuntimeError("left by an error")
        assert clock.today() == BEFORE
    assert clock.today() == outer


def test_parse_reads_iso_days_only() -> None:
    assert clock.parse(" 2026-12-01\n") == date(2026, 12, 1)
    for bad in ("2026-13-01", "01/12/2026", "", "tomorrow"):
        with pytest.raises(ValueError):
            clock.parse(bad)


def demo(tmp: Path, expires: date = EXPIRES, approved_on: date | None = None) -> Path:
    """A model whose top_p drifts 0.92 -> 0.85, approved until ``expires``."""
    (tmp / "generation_config.json").write_text('{"do_sample": true, "top_k": 40, "top_p": 0.92}\n',
                                                encoding="utf-8")
    (tmp / "params.yaml").write_text("top_k: 40\ntop_p: 0.85\n", encoding="utf-8")
    (tmp / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  demo:\n    training:\n      - path: generation_config.json\n    deployment:\n"
        "      - path: params.yaml\n        kind: vllm\napprovals: approvals\n", encoding="utf-8")
    (tmp / "approvals").mkdir()
    approved_on = approved_on or expires - timedelta(days=60)
    (tmp / "approvals" / "demo-top-p.yaml").write_text(
        "id: demo-top-p\nmodel: demo\nkey: generation.top_p\ntraining: 0.92\ndeployed: 0.85\nreason: tested\n"
        f"approved_by: alice\napproved_on: {approved_on}\nexpires: {expires}\n", encoding="utf-8")
    return tmp


def cli(*args: str, cwd: Path, today_env: str | None) -> subprocess.CompletedProcess[str]:
    """``driftguard ARGS`` in a subprocess with ``$DRIFTGUARD_TODAY`` set to ``today_env``, or unset (None)."""
    env = {k: v for k, v in os.environ.items() if k != "DRIFTGUARD_TODAY"}
    if today_env is not None:
        env["DRIFTGUARD_TODAY"] = today_env
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def test_today_option_beats_the_variable(tmp_path: Path) -> None:
    demo(tmp_path)
    expired = cli("check", cwd=tmp_path, today_env=AFTER.isoformat())
    assert expired.returncode == 1, expired.stdout + expired.stderr
    assert f"EXPIRED: demo-top-p expired {EXPIRES} (10 days ago)" in expired.stdout
    approved = cli("check", "--today", BEFORE.isoformat(), cwd=tmp_path, today_env=AFTER.isoformat())
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "approved by demo-top-p" in approved.stdout and "EXPIRED" not in approved.stdout
    # and the other way round: the option moves the day past the expiry the variable's day is before
    expired = cli("check", "--today", AFTER.isoformat(), cwd=tmp_path, today_env=BEFORE.isoformat())
    assert expired.returncode == 1 and f"expired {EXPIRES} (10 days ago)" in expired.stdout, expired.stdout


def test_the_variable_beats_the_system_date(tmp_path: Path) -> None:
    # the one test that reads the system date: it is what the CLI falls back to when nothing names a day
    def judged_on_the_system_date() -> tuple[date, list[subprocess.CompletedProcess[str]]] | None:
        system = date.today()
        folder = tmp_path / system.isoformat()
        folder.mkdir()
        demo(folder, expires=system - timedelta(days=5))
        runs = [cli("check", cwd=folder, today_env=None),  # unset
                cli("check", cwd=folder, today_env=" "),  # blank is unset
                cli("check", cwd=folder, today_env=(system - timedelta(days=10)).isoformat())]
        return (system, runs) if date.today() == system else None  # None: midnight passed while it ran

    judged = judged_on_the_system_date() or judged_on_the_system_date()
    assert judged is not None
    system, (unset, blank, moved) = judged
    for proc in (unset, blank):
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert f"EXPIRED: demo-top-p expired {system - timedelta(days=5)} (5 days ago)" in proc.stdout
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "approved by demo-top-p" in moved.stdout
    assert (f"approval demo-top-p (approvals/demo-top-p.yaml:1) expires {system - timedelta(days=5)} (in 5 days)"
            in moved.stdout), moved.stdout


@pytest.mark.parametrize("command", [["check"], ["approve", "demo", "generation.top_p", "--reason", "r", "--expires",
                                                 "2027-01-01", "--by", "bob", "--id", "again"]],
                         ids=["check", "approve"])
@pytest.mark.parametrize("value", ["2026-13-01", "01/12/2026", "next week"])
def test_a_malformed_variable_is_one_line_naming_it(tmp_path: Path, command: list[str], value: str) -> None:
    demo(tmp_path)
    proc = cli(*command, cwd=tmp_path, today_env=value)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr == f"driftguard: error: DRIFTGUARD_TODAY expects YYYY-MM-DD, got '{value}'\n"
    assert proc.stdout == "" and not (tmp_path / "approvals" / "again.yaml").exists()


def test_a_malformed_option_names_the_option(tmp_path: Path) -> None:
    demo(tmp_path)
    proc = cli("check", "--today", "2026-02-30", cwd=tmp_path, today_env=BEFORE.isoformat())
    assert proc.returncode == 2
    assert proc.stderr == "driftguard: error: --today expects YYYY-MM-DD, got '2026-02-30'\n"


def approved_on(folder: Path, ident: str, *, remove: bool = True) -> str:
    """The ``approved_on`` of ``approvals/IDENT.yaml``; the file is removed, so the next ``approve`` of the same
    drift is not refused as approved already."""
    path = folder / "approvals" / f"{ident}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if remove:
        path.unlink()
    return str(data["approved_on"])


def test_approve_writes_the_pinned_day(tmp_path: Path) -> None:
    """``approved_on`` is ``--today``, else ``$DRIFTGUARD_TODAY``; in the library, ``today=``, else the clock's
    pinned day. Each is also the day the approval is judged on (a day after the old approval's expiry)."""
    folder = demo(tmp_path, expires=date(2026, 1, 31), approved_on=date(2026, 1, 1))  # expired by then
    approve = ["approve", "demo", "generation.top_p", "--reason", "r", "--expires", "2027-01-01", "--by", "bob"]
    proc = cli(*approve, "--id", "by-variable", cwd=folder, today_env="2026-06-01")
    assert proc.returncode == 0, proc.stderr
    assert approved_on(folder, "by-variable") == "2026-06-01"
    proc = cli(*approve, "--id", "by-option", "--today", "2026-07-01", cwd=folder, today_env="2026-06-01")
    assert proc.returncode == 0, proc.stderr
    assert approved_on(folder, "by-option") == "2026-07-01"
    with clock.pinned(date(2026, 8, 1)):
        api.approve(folder / "driftguard.yaml", "demo", "generation.top_p", "r", date(2027, 1, 1),
                    approved_by="bob", approval_id="by-clock")
    assert approved_on(folder, "by-clock") == "2026-08-01"
    api.approve(folder / "driftguard.yaml", "demo", "generation.top_p", "r", date(2027, 1, 1), approved_by="bob",
                approval_id="by-argument", today=date(2026, 9, 1))
    assert approved_on(folder, "by-argument", remove=False) == "2026-09-01"
    # an approval dated after the day it is judged on is refused: the pinned day is the one both sides use
    proc = cli("check", cwd=folder, today_env="2026-08-15")
    assert proc.returncode == 2
    assert proc.stderr.startswith("driftguard: error: approvals/by-argument.yaml:")
    assert "approved_on 2026-09-01 is after today (2026-08-15)" in proc.stderr
