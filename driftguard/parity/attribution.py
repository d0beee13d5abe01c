"""Attribution: when parity fails, find out why by running the model more times.

1. The deployed artifact under the **training** config, and the training artifact under the **deployed**
   config, separate "the artifact changed" from "the config changed".
2. Each differing key the candidate's runner applies is reverted alone (the deployed config with that one key
   set back to its training value), and the keys are ranked by how many diverging golden inputs the revert
   restores ("reverting preprocessing.max_length 64 -> 128 restores 30 of 32 diverging inputs").

A golden input *diverges* when, for some output, its per-sample cosine falls below the profile's cosine bound,
its argmax differs (logits), its tokens differ (sequences), or (where the profile judges elementwise) one of
its elements fails the elementwise rule. Cost: 2 + K extra runs of the golden set, K the number of differing
keys a runner applies; on by default (``attribution: false`` in the manifest or ``--no-attribution`` turns it
off). The result is added to every failing finding: in its message and, structured, in its ``delta``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from driftguard.model import Attribution, Finding, Json, KeyRevert, Severity
from driftguard.parity import golden, metrics
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import Arrays

if TYPE_CHECKING:
    from driftguard.parity.model_parity import ModelParity


def diverging(model_parity: ModelParity, reference: Arrays, candidate: Arrays) -> np.ndarray[Any, Any]:
    """Per golden sample: True where it diverges (see the module docstring)."""
    from driftguard.parity.model_parity import output_kind, output_pairs, profile_for

    n = next(iter(reference.values())).shape[0] if reference else 0
    out = np.zeros(n, dtype=bool)
    pairs, only_ref, only_cand = output_pairs(reference, candidate)
    if only_ref or only_cand:
        return np.ones(n, dtype=bool)
    for rname, cname in pairs:
        r, c = np.asarray(reference[rname]), np.asarray(candidate[cname])
        if output_kind(model_parity, rname, r) == "sequence":
            r, c = metrics.pad_sequences(r, c)
        if r.shape != c.shape or r.ndim == 0:
            return np.ones(n, dtype=bool)
        prof, _ = profile_for(model_parity, rname)
        kind = output_kind(model_parity, rname, r)
        rf, cf = r.reshape(n, -1).astype(np.float64), c.reshape(n, -1).astype(np.float64)
        bad = ~np.all(np.isfinite(cf), axis=1)
        if kind == "sequence":
            bad |= ~np.all(rf == cf, axis=1)
        else:
            bound = prof.bounds.get("cosine_min", prof.bounds.get("cosine_mean"))
            if bound is not None:
                bad |= metrics.per_sample_cosine(rf, cf) < bound
            if kind == "logits" and r.shape[-1] > 1:
                bad |= np.any(np.argmax(r, axis=-1).reshape(n, -1) != np.argmax(c, axis=-1).reshape(n, -1), axis=1)
            if "elementwise_fraction" in prof.bounds:
                absdiff = np.abs(cf - rf)
                rel = absdiff / np.where(rf == 0, metrics.EPSILON, np.abs(rf))
                bad |= np.any((absdiff > prof.atol) & (rel > prof.rtol), axis=1)
        out |= bad
    return out


def annotate(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], findings: list[Finding],
             reference: Sequence[Arrays], candidate: Sequence[Arrays]) -> list[Finding]:
    """``findings`` with the attribution added to each failing one (message and ``delta``); ``reference`` and
    ``candidate`` are the stage's outputs per golden set."""
    result = attribute(model_parity, sets, reference, candidate)
    if result is None:
        return findings
    text = describe(result)
    return [replace(f, message=f"{f.message}; attribution: {text}", delta=None, attribution=result)
            if f.severity == Severity.ERROR and f.rule in ("DG501", "DG502", "DG503") else f for f in findings]


def attribute(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], reference: Sequence[Arrays],
              candidate: Sequence[Arrays]) -> Attribution | None:
    """The attribution, or None when no golden input diverges on its own."""
    base = [diverging(model_parity, r, c) for r, c in zip(reference, candidate, strict=True)]
    total = int(sum(int(b.sum()) for b in base))
    count = sum(gs.count for gs in sets)
    if total == 0:
        return None

    def diverged_with(role: str, config: Mapping[str, Json], artifact_of: str) -> list[np.ndarray[Any, Any]]:
        run = model_parity.run(role, config=config, artifact_of=artifact_of)
        try:
            return [diverging(model_parity, r, run.outputs(gs)) for r, gs in zip(reference, sets, strict=True)]
        except ParityError:
            return [np.ones(gs.count, dtype=bool) for gs in sets]
        finally:
            run.close()

    # the deployed artifact under the training config, and the training artifact under the deployed config
    swapped_config = diverged_with("candidate", model_parity.training, "candidate")
    swapped_artifact = diverged_with("candidate", model_parity.deployed, "reference")
    probe = model_parity.run("candidate")
    try:
        applies = set(probe.start().applies)
    finally:
        probe.close()
    ranked: list[KeyRevert] = []
    for key in sorted(k for k in model_parity.differing if k in applies):
        config = dict(model_parity.deployed)
        if key in model_parity.training:
            config[key] = model_parity.training[key]
        else:
            config.pop(key, None)
        now = diverged_with("candidate", config, "candidate")
        restored = int(sum(int((b & ~a).sum()) for b, a in zip(base, now, strict=True)))
        ranked.append(KeyRevert(key, model_parity.training.get(key), model_parity.deployed.get(key), restored, total))
    ranked.sort(key=lambda r: (-r.restores, r.key))
    return Attribution(total, count, int(sum(int(b.sum()) for b in swapped_config)),
                       int(sum(int(b.sum()) for b in swapped_artifact)), tuple(ranked))


def describe(result: Attribution) -> str:
    """One line: artifact vs config, then the keys ranked."""
    a, c = result.deployed_artifact_training_config, result.training_artifact_deployed_config
    parts = [f"{result.diverging} of {result.inputs} golden inputs diverge; the deployed artifact under the "
             f"training config diverges on {a}, the training artifact under the deployed config on {c}"]
    if a == 0 and c > 0:
        parts.append("the config difference explains it")
    elif c == 0 and a > 0:
        parts.append("the artifact changed")
    elif a > 0 and c > 0:
        parts.append("both the artifact and the config contribute")
    for r in result.keys:
        parts.append(f"reverting {r.key} {r.deployed!r} -> {r.training!r} restores {r.restores} of {r.of}")
    if not result.keys:
        parts.append("no differing key is applied by the runner, so none could be reverted")
    return "; ".join(parts)
