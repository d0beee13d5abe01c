"""Benchmark: a whole-process, config-only ``driftguard check`` of examples/summarizer against
``python -c "import torch"``, interleaved in the same run.

    .venv/bin/python benchmarks/bench_check.py [--runs 11]

Target (issue 3): the check's median wall time <= 0.25x the torch import's median. Each run is a fresh
interpreter (``sys.executable``), so start-up, imports, parsing, rules and rendering are all counted. The
check exits 1 on purpose (the example's truncation drift is unapproved); any other exit code is an error.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = [sys.executable, "-m", "driftguard", "check", "--config", "examples/summarizer/driftguard.yaml"]
TORCH = [sys.executable, "-c", "import torch"]


def timed(cmd: list[str], ok: tuple[int, ...]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    # An installed package has its .pyc files; a checkout run with PYTHONDONTWRITEBYTECODE=1 would compile
    # every module on every start and measure the compiler, not driftguard.
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "driftguard"), quiet=1)
    timed(CHECK, (1,))  # warm the OS file cache and .pyc files for both
    timed(TORCH, (0,))
    check: list[float] = []
    torch: list[float] = []
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        check.append(timed(CHECK, (1,)))
        torch.append(timed(TORCH, (0,)))
    c, t = statistics.median(check), statistics.median(torch)
    print(f"driftguard check examples/summarizer  median {c * 1000:7.1f} ms  (min {min(check) * 1000:.1f}, "
          f"max {max(check) * 1000:.1f}, n={args.runs})")
    print(f"python -c 'import torch'              median {t * 1000:7.1f} ms  (min {min(torch) * 1000:.1f}, "
          f"max {max(torch) * 1000:.1f}, n={args.runs})")
    print(f"ratio check / import torch: {c / t:.3f}  (target <= 0.25: {'met' if c / t <= 0.25 else 'NOT met'})")


if __name__ == "__main__":
    main()
