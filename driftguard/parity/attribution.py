"""Attribution: when parity fails, find out why by running the model more times, only where a run can change
the answer.

1. The deployed artifact under the **training** config (every differing key reverted at once) and the training
   artifact under the **deployed** config separate "the artifact changed" from "the config difference explains
   it". A swap whose runner applies none of the differing keys is not run: it would repeat the candidate run
   (diverging where it does) or the reference run (diverging nowhere).
2. Each differing key the candidate's runner applies (a key set on one side only included) is reverted alone
   (the deployed config with that one key set back to its training value, or removed), and the keys are ranked
   by how many diverging golden inputs the revert restores ("reverting preprocessing.max_length 64 -> 128
   restores 30 of 32 diverging inputs"). With one such key, its revert is step 1's swap, not run again.
3. The inputs the all-keys revert restores but no single revert does are restored only by keys together: with
   two keys, by both ("7 inputs are restored only by reverting preprocessing.max_length and
   preprocessing.padding_side together"); with more, pairs are tried (most restoring keys first) while the
   budget lasts, and what no pair restores is said to need them all.

Which keys a runner applies is read from its class when it declares them there (``applies`` on the class:
onnxruntime, torch, triton-http), so no session is set up to ask; otherwise from the candidate's runner the
stage already started, and from the swapped run under the training config.

A golden input *diverges* when, for some output, its per-sample cosine falls below the profile's cosine bound,
its argmax differs (logits), its tokens differ (sequences), or (where the profile judges elementwise) one of
its elements fails the elementwise rule. Budget: k + 3 reruns of the golden set, k the differing keys the
candidate's runner applies; the result states how many it made. On by default (``attribution: false`` in the
manifest or ``--no-attribution`` turns it off). The result is added to every failing finding: in its message
and, structured, in its ``delta``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from driftguard.model import Attribution, Finding, JointRevert, Json, KeyRevert, Severity
from driftguard.parity import golden, metrics
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import Arrays

if TYPE_CHECKING:
    from driftguard.parity.model_parity import ModelParity, Run


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
             reference: Sequence[Arrays], candidate: Sequence[Arrays], cand: Run) -> list[Finding]:
    """``findings`` with the attribution added to each failing one (message and ``delta``); ``reference`` and
    ``candidate`` are the stage's outputs per golden set, ``cand`` its candidate run (asked which keys its
    runner applies only when the runner class does not declare them; set up only then, if not already)."""
    result = attribute(model_parity, sets, reference, candidate, cand)
    if result is None:
        return findings
    text = describe(result)
    return [replace(f, message=f"{f.message}; attribution: {text}", delta=None, attribution=result)
            if f.severity == Severity.ERROR and f.rule in ("DG501", "DG502", "DG503") else f for f in findings]


Mask = np.ndarray[Any, Any]


@dataclass(frozen=True)
class _Rerun:
    """One rerun, per golden input (all sets in order): whether it diverges from the reference outputs and
    whether it moved from the candidate's (beyond the same bounds); and the keys its runner applied."""

    diverges: Mask
    moved: Mask
    applied: frozenset[str]


@dataclass
class _Reruns:
    """The golden sets run again under another config or artifact, each run counted."""

    model_parity: ModelParity
    sets: Sequence[golden.GoldenSet]
    reference: Sequence[Arrays]
    candidate: Sequence[Arrays]
    count: int = 0

    def run(self, config: Mapping[str, Json], artifact_of: str = "candidate") -> _Rerun:
        """``artifact_of``'s artifact under ``config``; the keys applied are read after the run, so a runner
        that decides at set-up says too. A run that fails diverges on (and moves) every input."""
        self.count += 1
        run = self.model_parity.run("candidate", config=config, artifact_of=artifact_of)
        try:
            outs = [run.outputs(gs) for gs in self.sets]
            applied = frozenset(run.runner.applies) if run.runner is not None else frozenset()
            mp = self.model_parity
            return _Rerun(_joined(diverging(mp, r, o) for r, o in zip(self.reference, outs, strict=True)),
                          _joined(diverging(mp, c, o) for c, o in zip(self.candidate, outs, strict=True)), applied)
        except ParityError:
            every = np.ones(sum(gs.count for gs in self.sets), dtype=bool)
            return _Rerun(every, every, frozenset())
        finally:
            run.close()


def _joined(masks: Iterable[Mask]) -> Mask:
    """Per-set masks as one, the sets in order."""
    parts = [np.asarray(m, dtype=bool) for m in masks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def considered(model_parity: ModelParity) -> list[str]:
    """The keys a revert may change: those that differ between the sides, and those set on one side only."""
    one_sided = set(model_parity.training).symmetric_difference(model_parity.deployed)
    return sorted(set(model_parity.differing) | one_sided)


def reverted(model_parity: ModelParity, keys: Iterable[str]) -> dict[str, Json]:
    """The deployed config with ``keys`` set back to their training values (removed where training has none)."""
    config = dict(model_parity.deployed)
    for key in keys:
        if key in model_parity.training:
            config[key] = model_parity.training[key]
        else:
            config.pop(key, None)
    return config


def attribute(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], reference: Sequence[Arrays],
              candidate: Sequence[Arrays], cand: Run) -> Attribution | None:
    """The attribution, or None when no golden input diverges on its own (see the module docstring)."""
    base = _joined(diverging(model_parity, r, c) for r, c in zip(reference, candidate, strict=True))
    total = int(base.sum())
    if total == 0:
        return None
    keys = considered(model_parity)
    reruns = _Reruns(model_parity, sets, reference, candidate)
    skipped: list[str] = []
    declared = model_parity.declared_applies("candidate")
    cand_applies = declared if declared is not None else frozenset(cand.start().applies)
    # 1. the deployed artifact under the training config: every key reverted at once
    if declared is not None and not declared.intersection(keys):
        all_reverted = base.copy()
        skipped.append("the deployed artifact under the training config, which is the candidate run as its runner "
                       "applies no differing key")
    else:
        swapped = reruns.run(model_parity.training)
        all_reverted = swapped.diverges
        cand_applies |= swapped.applied
    ref_applies = model_parity.declared_applies("reference")
    if ref_applies is not None and not ref_applies.intersection(keys):
        swapped_artifact = np.zeros_like(base)
        skipped.append("the training artifact under the deployed config, which is the reference run as its runner "
                       "applies no differing key")
    else:
        swapped_artifact = reruns.run(model_parity.deployed, "reference").diverges
    applied = [k for k in keys if k in cand_applies]
    budget = len(applied) + 3
    # 2. each applied key alone
    restored: dict[str, Mask] = {}
    moved: dict[str, Mask] = {}
    for key in applied:
        if len(applied) == 1:
            restored[key] = base & ~all_reverted
            skipped.append(f"reverting {key} alone, which is the deployed artifact under the training config as it "
                           f"is the only differing key the runner applies")
        else:
            single = reruns.run(reverted(model_parity, [key]))
            restored[key], moved[key] = base & ~single.diverges, single.moved
    ranked = sorted((KeyRevert(k, model_parity.training.get(k), model_parity.deployed.get(k),
                               int(restored[k].sum()), total) for k in applied), key=lambda r: (-r.restores, r.key))
    # 3. what only keys together restore
    alone = np.zeros_like(base)
    for mask in restored.values():
        alone |= mask
    joint = _joint(model_parity, [r.key for r in ranked], base & ~all_reverted & ~alone, moved, reruns, budget,
                   total)
    return Attribution(total, int(base.size), int(all_reverted.sum()), int(swapped_artifact.sum()), tuple(ranked),
                       joint, reruns.count, budget, tuple(skipped))


def _joint(model_parity: ModelParity, ranked: Sequence[str], unexplained: Mask, moved: Mapping[str, Mask],
           reruns: _Reruns, budget: int, total: int) -> tuple[JointRevert, ...]:
    """The groups of ``ranked`` keys (most restoring first) that restore the ``unexplained`` inputs (restored by
    reverting every key, by no single one). Two keys: that pair, no rerun. More: pairs while reruns are left in
    ``budget``, first those whose keys each moved the most unexplained inputs when reverted alone (``moved``: a
    key whose revert changes nothing, a no-op value, comes last), then in rank order; what remains is put on the
    group of all."""
    if not unexplained.any() or len(ranked) < 2:
        return ()
    if len(ranked) == 2:
        return (JointRevert(tuple(ranked), int(unexplained.sum()), total),)
    out: list[JointRevert] = []
    pairs = sorted(itertools.combinations(ranked, 2),
                   key=lambda pair: -int((unexplained & moved[pair[0]] & moved[pair[1]]).sum()))
    tried = 0
    for pair in pairs:
        if reruns.count >= budget or not unexplained.any():
            break
        tried += 1
        hit = unexplained & ~reruns.run(reverted(model_parity, pair)).diverges
        if hit.any():
            out.append(JointRevert(pair, int(hit.sum()), total))
            unexplained = unexplained & ~hit
    if unexplained.any():
        out.append(JointRevert(tuple(ranked), int(unexplained.sum()), total, only=len(ranked) == 3 and
                               tried == len(pairs)))
    return tuple(out)


def describe(result: Attribution) -> str:
    """One line: artifact vs config, the keys ranked, what only keys together restore, the reruns it took."""
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
        parts.append(f"reverting {r.key} {_shown(r.deployed)} -> {_shown(r.training)} restores {r.restores} of "
                     f"{r.of}")
    for j in result.joint:
        parts.append(_joint_words(j))
    if not result.keys:
        parts.append("no differing key is applied by the runner, so none could be reverted")
    runs = f"{result.reruns} rerun{'' if result.reruns == 1 else 's'} of a budget of {result.budget}"
    parts.append(runs + (f"; not rerun: {', and '.join(result.skipped)}" if result.skipped else ""))
    return "; ".join(parts)


def _shown(value: Json) -> str:
    """A key's value as the message shows it; a side that sets none shows ``unset``."""
    return "unset" if value is None else repr(value)


def _joint_words(j: JointRevert) -> str:
    inputs = f"{j.restores} input{' is' if j.restores == 1 else 's are'}"
    keys = " and ".join(j.keys) if len(j.keys) == 2 else ", ".join(j.keys[:-1]) + f" and {j.keys[-1]}"
    if j.only:
        return f"{inputs} restored only by reverting {keys} together"
    return f"{inputs} restored by reverting {keys} together, by no single key and by no pair tried within the budget"
