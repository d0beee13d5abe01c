"""Benchmark: diff of two generated 100k-leaf configs, driftguard vs DeepDiff's default, same data, same run.

    .venv/bin/python benchmarks/bench_diff.py [--leaves 100000] [--repeat 5]

Targets (issue 2): driftguard's diff <= 100 ms and >= 15x faster than DeepDiff. Prints medians and the ratio.
The data: nested dicts (fan-out 10, depth 5) of floats, ints, strings, bools and small lists; 1% of leaves
differ. driftguard compares effective configs (flat {key: Value}); the time to flatten is reported too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

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
    return EffectiveConfig("bench", path, values)


def median_time(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leaves", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    a = generate(args.leaves, 1)
    b = mutate(a, 0.01, 2)
    fa, fb = flatten(a, "a"), flatten(b, "b")
    n_findings = len(diff_configs(fa, fb))
    t_flat = median_time(lambda: (flatten(a, "a"), flatten(b, "b")), args.repeat)
    t_dg = median_time(lambda: diff_configs(fa, fb), args.repeat)
    from deepdiff import DeepDiff

    t_dd = median_time(lambda: DeepDiff(a, b), max(1, args.repeat // 2 or 1))
    print(f"leaves per config: {len(fa)}; findings: {n_findings}")
    print(f"driftguard diff (median of {args.repeat}): {t_dg * 1000:.1f} ms")
    print(f"flattening both configs:           {t_flat * 1000:.1f} ms")
    print(f"DeepDiff default (median):          {t_dd * 1000:.1f} ms")
    print(f"ratio DeepDiff / driftguard diff:   {t_dd / t_dg:.1f}x "
          f"(including flattening: {t_dd / (t_dg + t_flat):.1f}x)")


if __name__ == "__main__":
    main()
