"""Concurrency parity: does the candidate give the same answers when requests overlap?

Each comparison holds everything but the one thing it tests, so a batch-size effect is never read as
interference between requests:

* **determinism**: the candidate's sequential run (the one the stage compared, at the runner's ``batch_size``)
  is repeated once; a difference beyond the tolerance is nondeterminism (DG505, a warning);
* **interference**: threads send one sample per call, so their results are compared with sequential one-sample
  calls (same shapes, same batch size): a difference beyond the run-to-run noise and the tolerance means
  requests interfere (DG504): state shared between calls that should be per request;
* **batch-size sensitivity**: the sequential run at batch size 1 and at each of ``batch_sizes`` is compared with
  the run at the runner's batch size: a difference is the model's own (dynamic quantization's per-batch
  activation scales, batch-dependent kernels), reported with both batch sizes and the difference (DG506, info),
  so a verdict that holds at one batch size is not read as holding at every one.

The tolerance is ``concurrency.atol`` when the manifest sets it, else the ``atol`` of the tolerance profile of the
deployed precision (fp32 1e-5, fp16 1e-3, bf16 and int8 1e-2): above float noise, far below what a request
reading another request's state changes. Cost: 1 + 2 + (1 unless the runner's batch size is 1) + the other
``batch_sizes`` extra runs of the golden set.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from driftguard.model import Finding, Metric, Origin, Value
from driftguard.parity import codes, golden, profiles
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


def worst_of(runs: Sequence[Arrays], others: Sequence[Arrays]) -> float:
    """The largest ``max_difference`` over the golden sets, run by run."""
    return max(max_difference(a, b) for a, b in zip(runs, others, strict=True))


def threaded(run: Run, gs: golden.GoldenSet, threads: int) -> Arrays:
    """The golden set one sample per call, from ``threads`` threads at once, joined in input order."""
    from driftguard.parity.model_parity import with_timeout

    runner = run.start()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="driftguard-concurrency") as pool:
        futures = [pool.submit(runner.run, gs.batch(i, i + 1)) for i in range(gs.count)]
        parts = [with_timeout(f.result, run.timeout_s, f"{runner.describe()} from {threads} threads")
                 for f in futures]
    return golden.concat(parts)


def tolerance(model_parity: ModelParity) -> tuple[float, str]:
    """The tolerance every comparison allows and where it comes from: the manifest's ``concurrency.atol``, else
    the ``atol`` of the profile judging the outputs (the deployed precision's)."""
    spec = model_parity.spec.concurrency
    assert spec is not None
    if spec.atol is not None:
        return spec.atol, "concurrency.atol"
    name = model_parity.spec.profile or profiles.profile_for(model_parity.deployed)
    return profiles.PROFILES[name].atol, f"{name} profile atol"


@dataclass(frozen=True)
class Places:
    """Where a concurrency finding's two values come from: the manifest's section and the candidate."""

    manifest: Origin
    candidate: Origin


def check(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], cand: Run,
          sequential: Sequence[Arrays]) -> list[Finding]:
    """DG505, DG504 and DG506 findings for the candidate (see the module docstring); ``sequential`` are its
    outputs per golden set at the runner's batch size, as the stage compared them."""
    spec = model_parity.spec.concurrency
    assert spec is not None
    cand_spec = model_parity.spec.candidate
    places = Places(Origin(model_parity.manifest, pointer=f"models.{model_parity.model}.parity.concurrency",
                           source="manifest"),
                    Origin(str(cand_spec.setting("artifact") or cand_spec.setting("function") or cand_spec.runner),
                           source="candidate"))
    tol, tol_from = tolerance(model_parity)
    size = int(cand.cfg.settings.batch_size)
    noise = worst_of(sequential, [cand.outputs(gs) for gs in sets])
    out: list[Finding] = []
    if noise > tol:
        out.append(_finding(codes.Nondeterminism, "parity.concurrency.sequential",
                            f"two sequential runs of the candidate differ by up to {noise:.3g} (tolerance {tol:g}, "
                            f"{tol_from})", tol, noise, places))
    bound = max(tol, noise)
    singles = list(sequential) if size == 1 else [cand.outputs(gs, 1) for gs in sets]
    interference = max(worst_of(singles, [threaded(cand, gs, spec.threads) for gs in sets]) for _ in (1, 2))
    if interference > bound:
        out.append(_finding(codes.ConcurrencyInterference, f"parity.concurrency.threads_{spec.threads}",
                            f"one sample per call from {spec.threads} threads: outputs differ from the same "
                            f"one-sample calls made one after another by up to {interference:.3g}, beyond the "
                            f"run-to-run difference {noise:.3g} and the tolerance {tol:g} ({tol_from}): requests "
                            "interfere", bound, interference, places))
    for b in sorted({1, *spec.batch_sizes} - {size}):
        runs = singles if b == 1 else [cand.outputs(gs, b) for gs in sets]
        worst = worst_of(sequential, runs)
        if worst > bound:
            out.append(_finding(codes.BatchSizeSensitivity, f"parity.concurrency.batch_size_{b}",
                                f"at batch size {b} the outputs differ from those at batch size {size} (the runner's, "
                                f"which the verdict was measured at) by up to {worst:.3g}, beyond the run-to-run "
                                f"difference {noise:.3g} and the tolerance {tol:g} ({tol_from}): the answer depends "
                                f"on the batch, not on other requests (requests from {spec.threads} threads differ "
                                f"from one-sample calls by up to {interference:.3g})", bound, worst, places))
    return out


def _finding(check: type[codes.ParityCheck], key: str, message: str, bound: float, measured: float,
             places: Places) -> Finding:
    value: Any = measured if np.isfinite(measured) else None
    return Finding(rule=check.code, name=check.name, key=key, message=message, severity=check.severity,
                   training=Value(bound, places.manifest), deployed=Value(value, places.candidate),
                   evidence=(Metric("max_abs", value, bound, "lower", None, False),))
