"""Benchmark: a whole-process, config-only ``driftguard check`` of examples/summarizer against
``python -c "import torch"`` (the baseline), interleaved in the same run, with ``python -c pass`` as the floor.

    .venv/bin/python benchmarks/bench_check.py [--runs 11] [--quick] [--baseline DIR]

Target (issue 24): the check's paired ratio <= 0.1x the torch import (issue 3's was 0.25x). Each run is a fresh
interpreter (``benchmarks/whole.py``), so start-up, imports, parsing, rules and rendering are all counted; peak
RSS is each child's own. The check exits 1 on purpose (the example's truncation drift is unapproved); any other
exit code is an error. ``--quick``: 5 runs. Profile the start-up with
``python -X importtime -m driftguard check --config examples/summarizer/driftguard.yaml``.

Also timed, as floors: the libraries every check imports whatever driftguard does (pydantic validates the
manifest and approvals; PyYAML reads them; protobuf's text format reads config.pbtxt; argparse, hashlib for
finding fingerprints, importlib.metadata for plug-ins): what is left of the target for driftguard's own code.

``--baseline DIR``: a checkout of another revision (``git worktree add /tmp/base REV``), its check timed in the
same run (its ``driftguard`` imported from DIR), shown as a paired ratio. Every check runs from the example's
folder with ``PYTHONPATH`` naming its checkout, so each imports the package it is meant to.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
from pathlib import Path

from whole import ROOT, Contender, cli, paired, python, report  # benchmarks/, this script's folder

FLOOR = "import pydantic.main, yaml, google.protobuf.text_format, argparse, hashlib, importlib.metadata"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=None, help="paired runs (default 11; 5 with --quick)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", type=Path, help="a checkout of another revision, timed alongside")
    args = parser.parse_args()
    this = "driftguard check examples/summarizer"
    contenders = {
        "python -c pass": Contender(python("pass")),
        "floor: import pydantic.main": Contender(python("import pydantic.main")),
        "floor: + yaml, protobuf, argparse, hashlib, importlib.metadata": Contender(python(FLOOR)),
        this: Contender(cli("check"), ok=(1,), env={"PYTHONPATH": str(ROOT)}),
    }
    if args.baseline is not None:
        base = args.baseline.resolve()
        compileall.compile_dir(str(base / "driftguard"), quiet=1)
        contenders["check (baseline)"] = Contender(cli("check"), ok=(1,), env={"PYTHONPATH": str(base)})
    contenders["python -c 'import torch'"] = Contender(python("import torch"))
    paired(contenders, args.runs or (5 if args.quick else 11), cwd=ROOT / "examples" / "summarizer")
    ratio = report(contenders, "python -c 'import torch'", "config-only check")
    if args.baseline is not None:
        pairs = [a / b for a, b in zip(contenders[this].seconds, contenders["check (baseline)"].seconds, strict=True)]
        print(f"this / baseline (paired): {statistics.median(pairs):.3f} ({min(pairs):.3f}-{max(pairs):.3f})")
    print(f"target: check <= 0.1x import torch: {'met' if ratio[this] <= 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
