"""Benchmark: whole-process ``driftguard extract`` of a Triton config vs ``python -c "import torch"``.

    .venv/bin/python benchmarks/bench_extract.py [--runs 11] [CONFIG]

Target (issue 2): extract <= 0.25x the torch import, medians from the same run, interleaved so machine
noise hits both alike. Also times ``python -c pass`` as the floor.
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
DEFAULT = ROOT / "tests" / "fixtures" / "triton" / "good" / "simple_dyna_sequence.pbtxt"


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", default=str(DEFAULT))
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "driftguard extract": [sys.executable, "-m", "driftguard", "extract", args.config],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    }
    # An installed package has its .pyc files; a checkout run with PYTHONDONTWRITEBYTECODE=1 would compile
    # every module on every start and measure the compiler, not driftguard.
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "driftguard"), quiet=1)
    for cmd in cmds.values():  # warm the page cache
        timed(cmd)
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(args.runs):
        for name, cmd in cmds.items():
            samples[name].append(timed(cmd))
    med = {k: statistics.median(v) for k, v in samples.items()}
    for k, v in med.items():
        print(f"{k:28s} median {v * 1000:7.1f} ms over {args.runs} runs")
    ratio = med["driftguard extract"] / med["python -c 'import torch'"]
    print(f"ratio extract / import torch: {ratio:.3f} (target <= 0.25)")


if __name__ == "__main__":
    main()
