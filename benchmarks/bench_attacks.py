"""The hostile inputs of ``tests/attacks`` against their targets: at most 5 s of wall time and 500 MiB of peak
memory per input, whole-process (interpreter start and imports included, as a user's gate would run it).

    .venv/bin/python benchmarks/bench_attacks.py [-k EXPR] [--json OUT]

The tests prove boundedness by what the code did (the limit that stopped it, the bytes read, the peak RSS; see
``tests/attacks/bounded.py``) and never time anything, since a slow or loaded machine would fail them; the time
target is measured here, by hand, on the same inputs: this runs the attack tests (``pytest tests/attacks``, ``-k``
passed on) with a plugin that times every CLI child the tests start and keeps the peak RSS (``VmHWM``) the child
reports. The inputs are the runs a test checks with ``assert_bounded``; each is one row: wall seconds, peak MiB,
exit status, test. Exit status 1 when an input is over a target or a test failed. Run it on an idle machine and
say which: the load average and core count are printed first. ``benchmarks/fuzz.py`` measures the same targets
on mutated inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
WALL_TARGET_S = 5.0
RSS_TARGET_MIB = 500.0


@dataclass
class Measured:
    test: str
    argv: list[str]
    rc: int
    wall_s: float
    peak_rss_mib: float | None
    attack: bool = False


class Timer:
    """A pytest plugin: wraps each test module's ``run_cli`` (tests/attacks/bounded.py) to time the child, and
    ``Run.assert_bounded`` to mark the runs that are attack inputs."""

    def __init__(self) -> None:
        self.runs: list[Measured] = []
        self._by_run: dict[int, Measured] = {}
        self._keep: list[object] = []  # the Run objects, so that their ids stay unique
        self.failed = 0

    def _timed(self, run_cli: Callable[..., Any]) -> Callable[..., Any]:
        def timed(argv: list[str], *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            res = run_cli(argv, *args, **kwargs)
            wall = time.perf_counter() - start
            test = os.environ.get("PYTEST_CURRENT_TEST", "?").removesuffix(" (call)").removesuffix(" (setup)")
            measured = Measured(test, list(argv), res.rc, wall, res.peak_rss_mib)
            self.runs.append(measured)
            self._by_run[id(res)] = measured
            self._keep.append(res)
            return res

        timed.__wrapped__ = run_cli  # type: ignore[attr-defined]  # marks it wrapped once
        return timed

    def _marking(self, assert_bounded: Callable[..., None]) -> Callable[..., None]:
        def marking(run: Any, *args: Any, **kwargs: Any) -> None:
            measured = self._by_run.get(id(run))
            if measured is not None:
                measured.attack = True
            assert_bounded(run, *args, **kwargs)

        marking.__wrapped__ = assert_bounded  # type: ignore[attr-defined]
        return marking

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # pytest imports bounded.py twice (``attacks.bounded`` for the relative imports, ``tests.attacks.bounded``
        # for the absolute ones), and each test module bound run_cli by name: patch every copy where it is used.
        for name, bounded in list(sys.modules.items()):
            run = getattr(bounded, "Run", None) if name.endswith("attacks.bounded") else None
            if run is not None and not hasattr(run.assert_bounded, "__wrapped__"):
                run.assert_bounded = self._marking(run.assert_bounded)
        for item in session.items:
            module = getattr(item, "module", None)
            run_cli = getattr(module, "run_cli", None)
            if run_cli is not None and not hasattr(run_cli, "__wrapped__"):
                setattr(module, "run_cli", self._timed(run_cli))  # noqa: B010  # a module found at run time

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed += 1


def _short(test: str, width: int = 100) -> str:
    text = test.removeprefix("tests/attacks/").encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else text[: width - 3] + "..."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="expr", default="", help="pytest -k expression: a subset of the attack tests")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args()

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"targets {WALL_TARGET_S:g} s, {RSS_TARGET_MIB:g} MiB per input", flush=True)
    timer = Timer()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))  # the tests import ``tests.dates``, ``tests.attacks.bounded``
    pytest_args = ["tests/attacks", "-q", "-p", "no:cacheprovider", "--no-header"]
    if args.expr:
        pytest_args += ["-k", args.expr]
    status = pytest.main(pytest_args, plugins=[timer])

    attacks = [m for m in timer.runs if m.attack]
    seen: dict[str, int] = {}
    for m in attacks:  # a test that checks several inputs: number them
        seen[m.test] = seen.get(m.test, 0) + 1
        if seen[m.test] > 1:
            m.test += f" #{seen[m.test]}"
    over = [m for m in attacks if m.wall_s > WALL_TARGET_S or (m.peak_rss_mib or 0.0) > RSS_TARGET_MIB]
    print(f"\n{'wall s':>7} {'peak MiB':>9} {'rc':>3}  attack input (test)")
    for m in sorted(attacks, key=lambda m: -m.wall_s):
        flag = "  OVER" if m in over else ""
        rss = f"{m.peak_rss_mib:9.0f}" if m.peak_rss_mib is not None else f"{'?':>9}"
        print(f"{m.wall_s:7.2f} {rss} {m.rc:3d}  {_short(m.test)}{flag}")
    if attacks:
        slowest = max(attacks, key=lambda m: m.wall_s)
        largest = max(attacks, key=lambda m: m.peak_rss_mib or 0.0)
        walls = sorted(m.wall_s for m in attacks)
        print(f"\n{len(attacks)} attack inputs ({len(timer.runs)} CLI runs in all): wall median "
              f"{walls[len(walls) // 2]:.2f} s, max {slowest.wall_s:.2f} s ({_short(slowest.test, 70)}); peak RSS max "
              f"{largest.peak_rss_mib or 0:.0f} MiB ({_short(largest.test, 70)}); over a target: {len(over)}")
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in timer.runs], indent=1) + "\n", encoding="utf-8")
    if status != 0 or timer.failed:
        print(f"pytest exit status {int(status)}: the figures above include failing tests")
    return 1 if over or status != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
