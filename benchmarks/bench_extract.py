"""Benchmark: whole-process ``driftguard extract`` of a Triton config vs ``python -c "import torch"`` (the
baseline), interleaved in the same run, with ``python -c pass`` as the floor.

    .venv/bin/python benchmarks/bench_extract.py [--runs 11] [--quick] [CONFIG]

Target (issue 2): extract <= 0.25x the torch import, as a paired ratio from the same run (``benchmarks/whole.py``:
cold interpreters, imports included, peak RSS from each child). ``--quick``: 5 runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from whole import ROOT, Contender, cli, paired, python, report  # benchmarks/, this script's folder

DEFAULT = ROOT / "tests" / "fixtures" / "triton" / "good" / "simple_dyna_sequence.pbtxt"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--runs", type=int, default=None, help="paired runs (default 11; 5 with --quick)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    contenders = {
        "python -c pass": Contender(python("pass")),
        "driftguard extract": Contender(cli("extract", str(args.config))),
        "python -c 'import torch'": Contender(python("import torch")),
    }
    paired(contenders, args.runs or (5 if args.quick else 11))
    ratio = report(contenders, "python -c 'import torch'", f"extract {args.config.name}")
    print(f"target: extract <= 0.25x import torch: {'met' if ratio['driftguard extract'] <= 0.25 else 'NOT met'}")


if __name__ == "__main__":
    main()
