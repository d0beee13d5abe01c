"""Whole-process measurement shared by the benchmarks: each command runs as a user runs it, a cold interpreter
from spawn to exit (start-up and imports included), the contenders interleaved run by run so that machine noise
hits them alike, and each reported as a ratio to a named baseline measured in the same run.

A ratio is paired: run i of a contender over run i of the baseline, then the median and min-max of those ratios
(with the medians and min-max of the raw times beside them). Peak RSS is the child's own maximum resident set,
from GNU time's ``%M`` when ``/usr/bin/time`` exists: a ``wait4`` in this process would report at least this
process's own RSS, since a child started by ``vfork`` and ``exec`` keeps its parent's high-water mark.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GNU_TIME = shutil.which("time") if Path("/usr/bin/time").exists() else None


def cli(*args: str) -> list[str]:
    """``driftguard ARGS`` as installed (``python -m driftguard`` of this interpreter: the console script does
    the same import and call)."""
    return [sys.executable, "-m", "driftguard", *args]


def python(code: str) -> list[str]:
    """``python -c CODE`` of this interpreter."""
    return [sys.executable, "-c", code]


@dataclass
class Contender:
    """A command, the exit codes that mean it did its job, and its runs."""

    cmd: list[str]
    ok: tuple[int, ...] = (0,)
    env: dict[str, str] | None = None  # added to the environment (PYTHONPATH of another checkout)
    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)


def run_once(c: Contender, cwd: Path = ROOT) -> None:
    """Run ``c.cmd`` once from spawn to exit, recording its wall time and peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        cmd = [GNU_TIME, "-f", "%M", "-o", out.name, *c.cmd] if GNU_TIME else c.cmd
        start = time.perf_counter()
        env = {**os.environ, **c.env} if c.env else None
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        elapsed = time.perf_counter() - start
        if proc.returncode not in c.ok:
            raise SystemExit(f"{' '.join(c.cmd)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        c.seconds.append(elapsed)
        text = out.read().strip().splitlines()
        if text and text[-1].isdigit():
            c.peak_mib.append(int(text[-1]) / 1024)


def paired(contenders: dict[str, Contender], runs: int, warmup: int = 1, cwd: Path = ROOT) -> None:
    """``warmup`` untimed rounds (page cache, .pyc files), then ``runs`` rounds, each running every contender
    once in turn. The package is compiled first: an installed package has its .pyc files, and a checkout run
    with PYTHONDONTWRITEBYTECODE=1 would measure the compiler on every start."""
    compileall.compile_dir(str(ROOT / "driftguard"), quiet=1)
    for _ in range(warmup):
        for c in contenders.values():
            run_once(c, cwd)
            c.seconds.clear()
            c.peak_mib.clear()
    for _ in range(runs):
        for c in contenders.values():
            run_once(c, cwd)


def _spread(values: Sequence[float], scale: float, unit: str, digits: int = 1) -> str:
    med = statistics.median(values) * scale
    return f"{med:.{digits}f} {unit} ({min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f})"


def report(contenders: dict[str, Contender], baseline: str, title: str) -> dict[str, float]:
    """Print one line per contender (median time and peak RSS, min-max) and its paired ratio to ``baseline``;
    returns the median ratio of each contender."""
    base = contenders[baseline]
    n = len(base.seconds)
    print(f"{title}: whole processes, {n} paired runs, medians (min-max); baseline: {baseline}")
    ratios: dict[str, float] = {}
    width = max(len(k) for k in contenders)
    for name, c in contenders.items():
        line = f"  {name:{width}s}  {_spread(c.seconds, 1000, 'ms')}"
        if c.peak_mib:
            line += f"   peak RSS {_spread(c.peak_mib, 1, 'MiB')}"
        if name != baseline:
            paired_ratios = [a / b for a, b in zip(c.seconds, base.seconds, strict=True)]
            ratios[name] = statistics.median(paired_ratios)
            line += (f"   {ratios[name]:.3f}x baseline ({min(paired_ratios):.3f}x-{max(paired_ratios):.3f}x, "
                     "paired)")
        print(line)
    return ratios
