"""Benchmark: diff of two generated configs, driftguard vs DeepDiff's default, same data, same run.

    .venv/bin/python benchmarks/bench_diff.py [--leaves 100000] [--repeat 5] [--cli-leaves 10000] [--runs 5]
                                              [--quick]

Headline, whole processes as a user runs them (``benchmarks/whole.py``): ``driftguard diff hf-config:A
hf-config:B`` (the CLI, a cold interpreter, imports included) against ``python -c`` loading the same two JSON
files and running ``DeepDiff`` on them (the baseline), ``--cli-leaves`` leaves each (a ``model_type`` added so
that the files are configs the hf-config kind reads; it keeps each top-level object as one value), with
``python -c pass`` as the floor; paired ratios to DeepDiff. Secondary, in process (imports excluded): the diff
of two 100k-leaf effective configs (flat {key: Value}) against DeepDiff on the nested dicts; the time to
flatten is reported too. Targets (issue 2): driftguard's in-process diff <= 100 ms and >= 15x faster than
DeepDiff. The data: nested dicts (fan-out 10, depth 5) of floats, ints, strings, bools and small lists; 1% of
leaves differ. ``--quick``: 20k leaves in process, 2k for the CLI, 3 runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from whole import Contender, cli, paired, python, report  # benchmarks/, this script's folder

from driftguard.api import diff_configs
from driftguard.model import EffectiveConfig, Origin, Value


def generate(leaves: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    root: dict[str, Any] = {}
    for i in range(leaves):
        node = root
        path = [f"k{(i // 10**d) % 10}" for d in range(4, 0, -1)]
        for p in path:
            node = node.setdefault(p, {})
        kind = i % 5
        value: Any = (rng.random(), rng.randint(0, 10**6), f"s{rng.randint(0, 99)}", bool(i % 2),
                      [rng.randint(0, 9) for _ in range(3)])[kind]
        node[f"leaf{i}"] = value
    return root


def mutate(tree: dict[str, Any], fraction: float, seed: int) -> dict[str, Any]:
    import copy

    rng = random.Random(seed)
    out = copy.deepcopy(tree)

    def walk(node: dict[str, Any]) -> None:
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v)
            elif rng.random() < fraction:
                node[k] = v + 1 if isinstance(v, (int, float)) and not isinstance(v, bool) else "changed"

    walk(out)
    return out


def flatten(tree: dict[str, Any], path: str) -> EffectiveConfig:
    values: dict[str, Value] = {}
    origin = Origin(path)

    def walk(node: dict[str, Any], prefix: str) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(v, key)
            else:
                values[key] = Value(v, origin)

    walk(tree, "")
    return EffectiveConfig("hf-config", path, values)  # a registered kind: diff_configs reads its traits


def median_time(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def whole_process(leaves: int, runs: int) -> None:
    """The CLI against DeepDiff, each a cold interpreter reading the same two files."""
    a = generate(leaves, 1)
    b = mutate(a, 0.01, 2)
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        paths = []
        for name, tree in (("a", a), ("b", b)):
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps({"model_type": "bert", **tree}))
            paths.append(str(path))
        deepdiff = ("import json, sys; from deepdiff import DeepDiff; "
                    f"d = DeepDiff(json.load(open({paths[0]!r})), json.load(open({paths[1]!r}))); print(len(d))")
        contenders = {
            "python -c pass": Contender(python("pass")),
            "driftguard diff (CLI)": Contender(cli("diff", f"hf-config:{paths[0]}", f"hf-config:{paths[1]}",
                                                   "--limit", "objects=10000000"), ok=(1,)),
            "DeepDiff (python -c)": Contender(python(deepdiff)),
        }
        paired(contenders, runs)
    report(contenders, "DeepDiff (python -c)", f"whole process, {leaves} leaves per file")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leaves", type=int, default=None, help="in process (default 100000; 20000 with --quick)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cli-leaves", type=int, default=None, help="whole process (default 10000; 2000 --quick)")
    ap.add_argument("--runs", type=int, default=None, help="whole-process paired runs (default 5; 3 --quick)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    leaves = args.leaves or (20_000 if args.quick else 100_000)
    whole_process(args.cli_leaves or (2_000 if args.quick else 10_000), args.runs or (3 if args.quick else 5))
    a = generate(leaves, 1)
    b = mutate(a, 0.01, 2)
    fa, fb = flatten(a, "a"), flatten(b, "b")
    n_findings = len(diff_configs(fa, fb))
    t_flat = median_time(lambda: (flatten(a, "a"), flatten(b, "b")), args.repeat)
    t_dg = median_time(lambda: diff_configs(fa, fb), args.repeat)
    from deepdiff import DeepDiff

    t_dd = median_time(lambda: DeepDiff(a, b), max(1, args.repeat // 2 or 1))
    print(f"in process (imports excluded): leaves per config: {len(fa)}; findings: {n_findings}")
    print(f"  driftguard diff (median of {args.repeat}): {t_dg * 1000:.1f} ms")
    print(f"  flattening both configs:           {t_flat * 1000:.1f} ms")
    print(f"  DeepDiff default (median):          {t_dd * 1000:.1f} ms (baseline)")
    print(f"  driftguard / DeepDiff:              {t_dg / t_dd:.3f}x "
          f"(including flattening: {(t_dg + t_flat) / t_dd:.3f}x)")


if __name__ == "__main__":
    main()
