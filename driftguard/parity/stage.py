"""The parity stage for one model: run the reference (training artifact under the training side's effective
config) and the candidate (deployed artifact under the deployment side's) on the golden inputs, compare every
output, and return findings (DG5xx) with the metrics as typed evidence.

Every runner call (set-up, each batch) runs under ``timeout_s``; past it the stage stops with one line
(ParityError, exit 2). The gate judges the findings against approvals like any other. The records it shares
with attribution, concurrency and plots live in ``model_parity``; only this module asks them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from driftguard.model import Finding, Metric, Origin, Severity, Value
from driftguard.parity import codes, golden, metrics, profiles
from driftguard.parity.model_parity import ModelParity, Run, output_kind, output_pairs, profile_for
from driftguard.parity.runners.base import Arrays, Runner

#: Key prefixes a runner that runs the artifact itself exercises: the artifact embodies them.
ARTIFACT_PREFIXES = ("precision.", "model.", "io.", "onnx.", "hparams.")


def record(model_parity: ModelParity) -> list[Path]:
    """Run the reference once per golden set and store its outputs beside the inputs."""
    written = []
    ref = model_parity.run("reference")
    try:
        for gs in model_parity.golden_sets():
            outs = ref.outputs(gs)
            written.append(golden.record(gs, outs, model_parity.provenance(gs), model=model_parity.model))
    finally:
        ref.close()
    return written


def run(model_parity: ModelParity) -> list[Finding]:
    """Parity findings for one model (see the module docstring), every run in this process, one after another
    (the ``local`` executor; ``parity.executors`` fans the same runs out and ends in ``conclude`` too)."""
    sets = model_parity.golden_sets()
    ref = model_parity.run("reference")
    cand = model_parity.run("candidate")
    references: list[Arrays] = []
    candidates: list[Arrays] = []
    try:
        for gs in sets:
            recorded = model_parity.recording(gs)
            references.append(recorded if recorded is not None else ref.outputs(gs))
            candidates.append(cand.outputs(gs))
        started = [r.runner for r in (ref, cand) if r.runner is not None]
        return conclude(model_parity, sets, references, candidates, not_exercised(model_parity, started), cand)
    finally:
        ref.close()
        cand.close()


def conclude(model_parity: ModelParity, sets: Sequence[golden.GoldenSet], references: Sequence[Arrays],
             candidates: Sequence[Arrays], unexercised: Sequence[Finding], cand: Run) -> list[Finding]:
    """The findings from each golden set's reference and candidate outputs: the comparison per set, then
    ``unexercised`` (DG510), attribution when an output fails, concurrency and plots (which run the model again,
    here, ``cand`` for concurrency). Every executor ends here, so their reports are the same."""
    findings: list[Finding] = []
    failing = False
    for gs, reference, candidate in zip(sets, references, candidates, strict=True):
        prefix = "" if len(sets) == 1 else f"{gs.path.stem}."
        found = with_inputs(compare_outputs(model_parity, reference, candidate, prefix, str(gs.path)),
                            inputs_note(model_parity, gs))
        found = with_note(found, "ran", run_note(cand))
        failing = failing or any(f.severity == Severity.ERROR for f in found)
        findings.extend(found)
    findings.extend(unexercised)
    asked = model_parity.request.attribution
    attribution_on = asked if asked is not None else model_parity.spec.attribution
    if failing and attribution_on:
        from driftguard.parity import attribution

        findings = attribution.annotate(model_parity, sets, findings, references, candidates, cand)
    if model_parity.spec.concurrency is not None:
        from driftguard.parity import concurrency

        findings.extend(concurrency.check(model_parity, sets, cand, candidates))
    if model_parity.request.plots is not None:
        from driftguard.parity import plots

        findings = plots.annotate(model_parity, sets, findings, references, candidates)
    return findings


def inputs_note(model_parity: ModelParity, gs: golden.GoldenSet) -> str | None:
    """How each side's runner turned ``gs`` into model inputs (the real tokenizer, or the tensor adapter on token
    arrays), in words; None when neither tokenizes (callables, arrays without token positions)."""
    from driftguard.parity.model_parity import runner_config
    from driftguard.parity.runners.tokenizer import describe_inputs

    parts = []
    for role, spec, config in (("reference", model_parity.spec.reference, model_parity.training),
                               ("candidate", model_parity.spec.candidate, model_parity.deployed)):
        cfg = runner_config(spec, model_parity.base, model_parity.request.device)
        said = describe_inputs(spec.runner, cfg.settings, model_parity.base, config, bool(gs.records),
                               tuple(gs.arrays))
        if said is not None:
            parts.append(f"{role} {said}")
    return "; ".join(parts) or None


def with_inputs(found: list[Finding], note: str | None) -> list[Finding]:
    """``found`` with ``note`` (``inputs_note``) closing the message of each output's verdict (DG500, DG501)."""
    return with_note(found, "inputs", note)


def with_note(found: list[Finding], label: str, note: str | None) -> list[Finding]:
    """``found`` with ``label: note`` closing the message of each output's verdict (DG500, DG501)."""
    if note is None:
        return found
    judged = (codes.OutputWithinProfile.code, codes.OutputBeyondTolerance.code)
    return [replace(f, message=f"{f.message}; {label}: {note}") if f.rule in judged else f for f in found]


def run_note(cand: Run) -> str:
    """How the candidate ran, beside its metrics, since verdicts (INT8 ones above all) depend on it: the
    runner, where it runs (the execution provider or torch device, from the runner class's ``execution(cfg)``
    where it has one, else the device asked for) and the batch size."""
    from driftguard.parity.runners import RUNNERS

    execution = getattr(RUNNERS.load(cand.cfg.runner), "execution", None)
    where = execution(cand.cfg) if callable(execution) else f"device {cand.cfg.device}"
    return f"candidate {cand.cfg.runner} on {where}, batch size {cand.cfg.settings.batch_size}"


def compare_outputs(model_parity: ModelParity, reference: Arrays, candidate: Arrays, prefix: str,
                    golden_path: str) -> list[Finding]:
    """Findings for every output pair: DG503 form mismatches, DG502 non-finite values, DG501 per metric beyond
    its bound, DG500 (info) for an output within its profile."""
    cand_origin = Origin(_artifact_name(model_parity, "candidate"), source="candidate")
    ref_origin = Origin(_artifact_name(model_parity, "reference"), source="reference")
    out: list[Finding] = []
    pairs, only_ref, only_cand = output_pairs(reference, candidate)
    for name in only_ref:
        out.append(_finding(codes.OutputMismatch, f"parity.{prefix}{name}",
                            f"output '{name}' of the reference has no counterpart in the candidate "
                            f"(candidate outputs: {', '.join(sorted(candidate)) or 'none'})",
                            Value(list(reference[name].shape), ref_origin), None))
    for name in only_cand:
        out.append(_finding(codes.OutputMismatch, f"parity.{prefix}{name}",
                            f"output '{name}' of the candidate has no counterpart in the reference "
                            f"(reference outputs: {', '.join(sorted(reference)) or 'none'})",
                            None, Value(list(candidate[name].shape), cand_origin)))
    for rname, cname in pairs:
        r, c = np.asarray(reference[rname]), np.asarray(candidate[cname])
        label = cname if rname == cname else f"{rname}"
        key = f"parity.{prefix}{label}"
        if output_kind(model_parity, rname, r) == "sequence":  # generated with different lengths: compared as tokens
            r, c = metrics.pad_sequences(r, c)
        if r.shape != c.shape:
            out.append(_finding(codes.OutputMismatch, key, f"output '{label}': shape {list(r.shape)} in the "
                                f"reference, {list(c.shape)} in the candidate",
                                Value(list(r.shape), ref_origin), Value(list(c.shape), cand_origin)))
            continue
        kind = output_kind(model_parity, rname, r)
        prof, bounds = profile_for(model_parity, rname)
        m = metrics.compare(r, c, atol=prof.atol, rtol=prof.rtol, kind=kind)
        out.extend(judge(label, key, m, kind, prof, bounds, ref_origin, cand_origin, golden_path))
    return out


#: Metrics that only apply to one kind of output.
KIND_METRICS = {"argmax_agreement": "logits", "topk_overlap": "logits", "exact_match": "sequence",
                "token_agreement": "sequence"}


def judge(label: str, key: str, m: metrics.OutputMetrics, kind: str, prof: profiles.Profile,
          bounds: Mapping[str, Value], ref_origin: Origin, cand_origin: Origin, golden_path: str) -> list[Finding]:
    """The findings for one output's metrics under its profile. ``bounds`` (``profile_for``): each bound as a
    Value with where it came from; a DG501 finding shows the one it broke in its ``training`` slot (as reports
    always have) and judges the metric it names (``Finding.measured``), which approvals read."""
    values = m.as_dict()
    evidence = []
    for name, better in profiles.METRICS.items():
        v = values.get(name)
        if KIND_METRICS.get(name, kind) != kind or (kind == "logits" and name in KIND_METRICS and v is None):
            continue  # not applicable to this output (argmax of an embedding, tokens of logits, one class)
        if kind == "sequence" and name not in KIND_METRICS:
            continue  # token ids are compared as tokens, not as numbers
        bound = prof.bounds.get(name)
        metric = Metric(name, v, bound, better, label)
        evidence.append(Metric(name, v, bound, better, label, None if bound is None else metric.within(bound)))
    out: list[Finding] = []
    if m.nonfinite_candidate or m.nonfinite_reference:
        out.append(_finding(codes.NonFiniteOutput, f"{key}.nonfinite",
                            f"output '{label}' has non-finite values (NaN or Inf): {m.nonfinite_reference} in the "
                            f"reference, {m.nonfinite_candidate} in the candidate, of {m.elements}",
                            Value(m.nonfinite_reference, ref_origin), Value(m.nonfinite_candidate, cand_origin),
                            tuple(evidence)))
    summary = _summary(m, kind)
    worst = _where(m, kind)
    # Non-finite values are DG502's verdict; the metrics they poison are not reported again one by one.
    failed = [] if out else [e for e in evidence if e.passed is False]
    for e in failed:
        ordered = (e, *(x for x in evidence if x is not e))
        shown = "not finite" if e.value is None else f"{e.value:.6g}"
        out.append(_finding(codes.OutputBeyondTolerance, f"{key}.{e.name}",
                            f"output '{label}': {e.name} {shown} {'>' if e.better == 'lower' else '<'} "
                            f"{e.bound:.6g} ({bounds[e.name].origin.source or prof.name}; golden {golden_path}); "
                            f"{summary}{worst}", bounds[e.name],
                            Value(e.value, cand_origin), ordered, measured=e))
    if not out:
        out.append(_finding(codes.OutputWithinProfile, key,
                            f"output '{label}' within the {prof.name} profile; {summary}",
                            Value(prof.name, Origin(ref_origin.path, source="profile")),
                            Value("within", cand_origin), tuple(evidence)))
    return out


def _where(m: metrics.OutputMetrics, kind: str) -> str:
    """Where a failing output is worst: the element of the largest absolute error and the samples of lowest
    cosine (``; max_abs at (2, 0); worst samples #2 (cosine -1), #0 (0.894)``); empty for token sequences,
    whose first divergence the summary already gives."""
    if kind == "sequence" or m.max_abs_at is None:
        return ""
    at = "(" + ", ".join(str(i) for i in m.max_abs_at) + ")"
    worst = ", ".join(f"#{i} ({'cosine ' if n == 0 else ''}{c:.3g})" for n, (i, c) in enumerate(m.worst_samples))
    return f"; max_abs at {at}" + (f"; worst samples {worst}" if worst else "")


def _summary(m: metrics.OutputMetrics, kind: str = "tensor") -> str:
    def g(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3g}"

    if kind == "sequence":  # token ids: differences between ids mean nothing, only agreement does
        return (f"exact match {g(m.exact_match)}, token agreement {g(m.token_agreement)}, first divergence "
                f"{'none' if m.first_divergence is None else m.first_divergence}")
    parts = [f"max_abs {g(m.max_abs)}", f"mean_abs {g(m.mean_abs)}", f"max_rel {g(m.max_rel)}",
             f"elementwise {m.elementwise_failures}/{m.elements} beyond atol {m.atol:g} and rtol {m.rtol:g}",
             f"cosine min {g(m.cosine_min)} mean {g(m.cosine_mean)}", f"SQNR {g(m.sqnr_db)} dB"]
    if m.argmax_agreement is not None:
        parts.append(f"argmax agreement {g(m.argmax_agreement)}, top-{m.top_k} overlap {g(m.topk_overlap)}")
    if m.token_agreement is not None:
        parts.append(f"exact match {g(m.exact_match)}, token agreement {g(m.token_agreement)}, first divergence "
                     f"{'none' if m.first_divergence is None else m.first_divergence}")
    return ", ".join(parts)


def _finding(check: type[codes.ParityCheck], key: str, message: str, training: Value | None,
             deployed: Value | None, evidence: tuple[Metric, ...] = (), measured: Metric | None = None) -> Finding:
    return Finding(rule=check.code, name=check.name, key=key, message=message, severity=check.severity,
                   training=training, deployed=deployed, evidence=evidence, measured=measured)


def _artifact_name(model_parity: ModelParity, role: str) -> str:
    spec = model_parity.spec.reference if role == "reference" else model_parity.spec.candidate
    artifact, function, url = spec.setting("artifact"), spec.setting("function"), spec.setting("url")
    return str(artifact or function or (f"{url}/{spec.setting('model')}" if url else spec.runner))


def exercised(runner: Runner) -> Callable[[str], bool]:
    applies = set(runner.applies)
    runs_artifact = runner.runs_artifact  # declared by the runner class: the artifact embodies ARTIFACT_PREFIXES

    def hit(key: str) -> bool:
        return key in applies or (runs_artifact and key.startswith(ARTIFACT_PREFIXES))

    return hit


def not_exercised(model_parity: ModelParity, started: Sequence[Runner]) -> list[Finding]:
    """DG510 (info): keys that differ between the sides that neither runner applies."""
    checks = [exercised(r) for r in started]
    missed = sorted(k for k in model_parity.differing if not any(c(k) for c in checks))
    if not missed:
        return []
    return [_finding(codes.NotExercised, "parity.not_exercised",
                     f"{len(missed)} differing key{'s' if len(missed) != 1 else ''} not exercised by parity "
                     f"(no runner applies {'it' if len(missed) == 1 else 'them'}): {', '.join(missed)}",
                     None, Value(missed, Origin(model_parity.manifest, pointer=f"models.{model_parity.model}.parity")))]
