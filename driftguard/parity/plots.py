"""One picture per failing output, for people who would rather look than read (``driftguard parity --plots
DIR``): the histogram of the absolute error ``|candidate − reference|`` (log count, the profile's ``atol``
marked) and the per-sample cosine in golden order (its bounds and mean marked).

Written as ``DIR/<model>.<output>.png`` (the golden file's stem before the output when a folder holds several
sets); the failing findings of that output name the file in ``delta.plot``. matplotlib (the ``[plots]`` extra)
is imported only here, only when pictures are asked for, and drawn without pyplot (no global state, no
display).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from driftguard.errors import MissingExtraError
from driftguard.model import Finding
from driftguard.parity import codes, golden, metrics
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import Arrays
from driftguard.readers import files

if TYPE_CHECKING:
    from driftguard.parity.model_parity import ModelParity

#: The findings that say an output's numbers are wrong (a picture helps); form mismatches have no numbers.
FAILING = (codes.OutputBeyondTolerance.code, codes.NonFiniteOutput.code)


def annotate(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], findings: list[Finding],
             references: Sequence[Arrays], candidates: Sequence[Arrays]) -> list[Finding]:
    """Draw one picture per failing output into ``model_parity.request.plots`` and name it in those findings'
    ``delta.plot``; other findings are returned as they are."""
    from driftguard.parity.model_parity import profile_for

    assert model_parity.request.plots is not None
    folder = Path(model_parity.request.plots)
    plotted: dict[str, str] = {}  # finding key prefix "parity.<set>.<output>." -> picture path
    for gs, reference, candidate in zip(sets, references, candidates, strict=True):
        prefix = "" if len(sets) == 1 else f"{gs.path.stem}."
        for label, failing in _failing_outputs(findings, prefix).items():
            ref, cand = _arrays(reference, candidate, label)
            if ref is None or cand is None or ref.shape != cand.shape:
                continue
            target = folder / _file_name(f"{model_parity.model}.{prefix}{label}")
            draw(target, f"{model_parity.model}: output '{label}' ({gs.path.name})", ref, cand, failing,
                 profile_for(model_parity, label)[0].atol)
            plotted[f"parity.{prefix}{label}."] = str(target)
    out = []
    for f in findings:
        path = next((p for k, p in plotted.items() if _owns(k, f)), None)
        if path is None:
            out.append(f)
            continue
        out.append(replace(f, plot=path))
    return out


def _owns(prefix: str, f: Finding) -> bool:
    return f.rule in FAILING and f.key.startswith(prefix) and "." not in f.key[len(prefix):]


def _failing_outputs(findings: Sequence[Finding], prefix: str) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.rule not in FAILING or not f.evidence or f.evidence[0].output is None:
            continue
        label = f.evidence[0].output
        if _owns(f"parity.{prefix}{label}.", f):
            out.setdefault(label, []).append(f)
    return out


def _arrays(reference: Arrays, candidate: Arrays, label: str) -> tuple[Any, Any]:
    ref = reference.get(label)
    cand = candidate.get(label)
    if cand is None and len(candidate) == 1 and len(reference) == 1:  # one output each, named differently
        cand = next(iter(candidate.values()))
    return (None if ref is None else np.asarray(ref)), (None if cand is None else np.asarray(cand))


def _file_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem) + ".png"


def draw(target: Path, title: str, reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any],
         failing: Sequence[Finding], atol: float) -> Path:
    """Write the picture for one output (PNG); ``atol`` is the elementwise rule's. Returns ``target``."""
    fig = figure(title, reference, candidate, failing, atol)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with files.create_output(target, what="--plots") as fh:  # fresh, never through a committed symlink
            fig.savefig(fh, format="png", dpi=100)
    except OSError as exc:
        raise ParityError(f"cannot write the picture: {exc.strerror or exc}", str(target)) from None
    return target


def figure(title: str, reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any],
           failing: Sequence[Finding], atol: float) -> Any:
    """The matplotlib ``Figure`` ``draw`` saves: the error histogram and the per-sample cosine, the worst sample
    circled, the legends below the axes."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("parity --plots", "plots", "matplotlib") from None
    evidence = {e.name: e for f in failing for e in f.evidence}
    ref = np.asarray(reference, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(cand - ref).ravel()
        cos = metrics.per_sample_cosine(ref, cand) if ref.ndim else np.ones(1)
    fig = Figure(figsize=(10, 5), layout="constrained")
    FigureCanvasAgg(fig)
    hist, scatter = fig.subplots(1, 2)
    finite = err[np.isfinite(err)]
    hist.hist(finite if finite.size else np.zeros(1), bins=50, color="tab:blue")
    hist.set_yscale("log")
    hist.set_title("absolute error |candidate − reference|")
    hist.set_xlabel("absolute error")
    hist.set_ylabel("elements (log)")
    hist.axvline(atol, color="tab:orange", linestyle=":", label=f"atol {atol:g}")
    for name in ("max_abs", "p99_abs", "mean_abs"):
        e = evidence.get(name)
        if e is not None and e.bound is not None:
            hist.axvline(float(e.bound), color="tab:red", linestyle="--", label=f"{name} bound {e.bound:g}")
    if err.size != finite.size:
        hist.text(0.98, 0.95, f"{err.size - finite.size} non-finite", transform=hist.transAxes, ha="right",
                  va="top", color="tab:red")
    scatter.plot(np.arange(len(cos)), cos, "o", markersize=3, color="tab:blue", label="per-sample cosine")
    scatter.set_title("per-sample cosine")
    scatter.set_xlabel("golden sample")
    scatter.set_ylabel("cosine")
    if np.isfinite(cos).any():
        scatter.axhline(float(np.nanmean(cos)), color="tab:gray", linestyle=":", label="mean")
    for name in ("cosine_min", "cosine_mean", "cosine"):
        e = evidence.get(name)
        if e is not None and e.bound is not None:
            scatter.axhline(float(e.bound), color="tab:red", linestyle="--", label=f"{name} bound {e.bound:g}")
    worst = metrics.worst_samples(cos, 1)
    if worst and np.isfinite(worst[0][1]):
        i, c = worst[0]
        scatter.plot([i], [c], "o", markersize=8, markerfacecolor="none", color="tab:red",
                     label=f"worst: sample {i}, cosine {c:.4g}")
    # Legends below the plots, never over the data (the worst sample sat under the scatter's legend).
    for ax in (hist, scatter):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize="small", ncols=2, frameon=False)
    shown = ", ".join(_verdict(f) for f in failing)
    fig.suptitle(f"{title}: {shown}", fontsize="medium")
    return fig


def _verdict(f: Finding) -> str:
    if f.rule == codes.NonFiniteOutput.code:
        return "NaN/Inf"
    e = f.evidence[0]
    shown = "not finite" if e.value is None else f"{e.value:.6g}"
    return f"{e.name} {shown} {'>' if e.better == 'lower' else '<'} {e.bound:g}"
