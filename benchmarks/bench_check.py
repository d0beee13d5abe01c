"""Benchmark: a whole-process, config-only ``driftguard check`` of examples/summarizer against
``python -c "import torch"`` (the baseline), interleaved in the same run, with ``python -c pass`` as the floor.

    .venv/bin/python benchmarks/bench_check.py [--runs 11] [--quick]

Target (issue 24): the check's paired ratio <= 0.1x the torch import (issue 3's was 0.25x). Each run is a fresh
interpreter (``benchmarks/whole.py``), so start-up, imports, parsing, rules and rendering are all counted; peak
RSS is each child's own. The check exits 1 on purpose (the example's truncation drift is unapproved); any other
exit code is an error. ``--quick``: 5 runs. Profile the start-up with
``python -X importtime -m driftguard check --config examples/summarizer/driftguard.yaml``.
"""

from __future__ import annotations

import argparse

from whole import Contender, cli, paired, python, report  # benchmarks/, this script's folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=None, help="paired runs (default 11; 5 with --quick)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    contenders = {
        "python -c pass": Contender(python("pass")),
        "driftguard check examples/summarizer": Contender(
            cli("check", "--config", "examples/summarizer/driftguard.yaml"), ok=(1,)),
        "python -c 'import torch'": Contender(python("import torch")),
    }
    paired(contenders, args.runs or (5 if args.quick else 11))
    ratio = report(contenders, "python -c 'import torch'", "config-only check")
    ours = ratio["driftguard check examples/summarizer"]
    print(f"target: check <= 0.1x import torch: {'met' if ours <= 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
