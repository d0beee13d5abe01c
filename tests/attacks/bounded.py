"""Run the CLI on a crafted input in a child process and measure what it cost (wall time, peak RSS).

The hostile-input acceptance is per input: the verdict (exit 2 for bad input), nothing executed, and the work
bounded: ``WALL_LIMIT_S`` seconds and ``RSS_LIMIT_MIB`` MiB of peak resident memory, measured in the child by
``VmHWM`` of ``/proc/self/status`` (unlike ``ru_maxrss``, which Linux keeps across ``exec`` and so would count
the forking test process, the high-water mark belongs to the child's own address space). These are bounds that
catch unbounded work (a zip bomb, alias expansion, a self-referencing pickle walked as a tree), not speed
targets: a genuine run takes a fraction of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

WALL_LIMIT_S = 5.0
RSS_LIMIT_MIB = 500.0

# The child runs the CLI in-process and reports its own peak RSS on a last stderr line.
_CHILD = r"""
import json, os, resource, sys
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
from driftguard.cli import run
try:
    rc = run(json.loads(sys.argv[1]))
finally:
    sys.stdout.flush()
    try:
        with open("/proc/self/status") as fh:
            peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))  # KiB
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write("\n@@peak_rss_kib=%d\n" % peak)
    sys.stderr.flush()
sys.exit(rc)
"""


@dataclass(frozen=True)
class Run:
    rc: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mib: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def assert_input_error(self, *needles: str) -> None:
        """Exit 2 with exactly one ``driftguard: error:`` line (no traceback) containing every needle."""
        assert self.rc == 2, f"rc {self.rc}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"
        assert len(self.error_lines) == 1, self.stderr[-3000:]
        line = self.error_lines[0]
        assert line.startswith("driftguard: error: "), line
        assert "Traceback" not in self.stderr
        for needle in needles:
            assert needle in line, f"{needle!r} not in {line!r}"

    def assert_bounded(self) -> None:
        assert self.wall_s <= WALL_LIMIT_S, f"took {self.wall_s:.2f} s (limit {WALL_LIMIT_S} s)"
        assert self.peak_rss_mib <= RSS_LIMIT_MIB, f"peak RSS {self.peak_rss_mib:.0f} MiB (limit {RSS_LIMIT_MIB})"


def run_cli(argv: Sequence[str], cwd: str | Path | None = None, timeout: float = 4 * WALL_LIMIT_S,
            env: dict[str, str] | None = None) -> Run:
    """``driftguard ARGV`` in a child process; a run past ``timeout`` is killed and reported as rc -9."""
    start = time.perf_counter()
    try:
        res = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(list(argv))], capture_output=True,
                             text=True, timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})},
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Run(-9, out, f"killed after {timeout} s", time.perf_counter() - start, 0.0)
    wall = time.perf_counter() - start
    stderr, _, tail = res.stderr.rpartition("\n@@peak_rss_kib=")
    peak = int(tail.strip()) / 1024 if tail.strip().isdigit() else 0.0
    if not tail.strip().isdigit():
        stderr = res.stderr
    return Run(res.returncode, res.stdout, stderr, wall, peak)


def sentinel_absent(path: Path) -> None:
    """The no-execution proof: a crafted file's payload would have created ``path``."""
    assert not path.exists(), f"{path} exists: the artifact's code ran"
