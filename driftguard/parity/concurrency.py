"""Concurrency parity: does the candidate give the same answers when requests overlap?

The candidate's sequential run (the one the stage compared) is repeated once, sequentially: a difference
between the two beyond the determinism tolerance (``concurrency.atol``) is nondeterminism (DG505, a warning).
Then the golden set is run one sample per call from ``threads`` threads at once, twice, and sequentially at each
of ``batch_sizes``: a result that differs from the sequential run by more than the run-to-run noise (and the
tolerance) is interference between requests (DG504): state shared between calls, batch-dependent kernels.
Cost: 1 + 2 + len(batch_sizes) extra runs of the golden set.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from driftguard.model import Finding, Metric, Origin, Value
from driftguard.parity import codes, golden
from driftguard.parity.runners.base import Arrays

if TYPE_CHECKING:
    from driftguard.parity.model_parity import ModelParity, Run


def max_difference(a: Arrays, b: Arrays) -> float:
    """The largest absolute difference over every output (inf when names or shapes differ or a value is NaN)."""
    if set(a) != set(b):
        return float("inf")
    worst = 0.0
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.shape != y.shape:
            return float("inf")
        if x.size == 0:
            continue
        d = np.abs(x.astype(np.float64) - y.astype(np.float64))
        if not np.all(np.isfinite(d)):
            return float("inf")
        worst = max(worst, float(d.max()))
    return worst


def threaded(run: Run, gs: golden.GoldenSet, threads: int) -> Arrays:
    """The golden set one sample per call, from ``threads`` threads at once, joined in input order."""
    from driftguard.parity.model_parity import with_timeout

    runner = run.start()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="driftguard-concurrency") as pool:
        futures = [pool.submit(runner.run, gs.batch(i, i + 1)) for i in range(gs.count)]
        parts = [with_timeout(f.result, run.timeout_s, f"{runner.describe()} from {threads} threads")
                 for f in futures]
    return golden.concat(parts)


def check(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], cand: Run,
          sequential: Sequence[Arrays]) -> list[Finding]:
    spec = model_parity.spec.concurrency
    assert spec is not None
    origin = Origin(model_parity.manifest, pointer=f"models.{model_parity.model}.parity.concurrency", source="manifest")
    cand_spec = model_parity.spec.candidate
    where = Origin(str(cand_spec.setting("artifact") or cand_spec.setting("function") or cand_spec.runner),
                   source="candidate")
    noise = max(max_difference(s, cand.outputs(gs)) for s, gs in zip(sequential, sets, strict=True))
    out: list[Finding] = []
    if noise > spec.atol:
        out.append(_finding(codes.Nondeterminism, "parity.concurrency.sequential",
                            f"two sequential runs of the candidate differ by up to {noise:.3g} (determinism "
                            f"tolerance {spec.atol:g})", spec.atol, noise, origin, where))
    bound = max(spec.atol, noise)
    seen: set[str] = set()
    for label, key, runs in _variants(cand, sets, spec.threads, spec.batch_sizes):
        worst = max(max_difference(s, r) for s, r in zip(sequential, runs, strict=True))
        if worst > bound and key not in seen:
            seen.add(key)
            out.append(_finding(codes.ConcurrencyInterference, key,
                                f"{label}: outputs differ from the sequential run by up to {worst:.3g}, beyond "
                                f"the run-to-run difference {noise:.3g} and the tolerance {spec.atol:g}: requests "
                                "interfere", bound, worst, origin, where))
    return out


def _variants(cand: Run, sets: Sequence[golden.GoldenSet], threads: int,
              batch_sizes: Sequence[int]) -> list[tuple[str, str, list[Arrays]]]:
    out = []
    for attempt in (1, 2):
        out.append((f"{threads} threads (run {attempt})", f"parity.concurrency.threads_{threads}",
                    [threaded(cand, gs, threads) for gs in sets]))
    for b in batch_sizes:
        out.append((f"batch size {b}", f"parity.concurrency.batch_size_{b}", [cand.outputs(gs, b) for gs in sets]))
    return out


def _finding(check: type[codes.ParityCheck], key: str, message: str, bound: float, measured: float,
             origin: Origin, where: Origin) -> Finding:
    value: Any = measured if np.isfinite(measured) else None
    return Finding(rule=check.code, name=check.name, key=key, message=message, severity=check.severity,
                   training=Value(bound, origin), deployed=Value(value, where),
                   evidence=(Metric("max_abs", value, bound, "lower", None, False),))
