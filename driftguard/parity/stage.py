"""The parity stage for one model: run the reference (training artifact under the training side's effective
config) and the candidate (deployed artifact under the deployment side's) on the golden inputs, compare every
output, and return findings (DG5xx) with the metrics as typed evidence.

Every runner call (set-up, each batch) runs under ``timeout_s``; past it the stage stops with one line
(ParityError, exit 2). The caller (``api``) judges the findings against approvals like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from driftguard.model import Finding, How, Json, Metric, Origin, Severity, Value
from driftguard.parity import codes, golden, metrics, profiles
from driftguard.parity import runners as runners_mod
from driftguard.parity.errors import ParityError
from driftguard.parity.request import ParityRequest
from driftguard.parity.runners.base import Arrays, Runner, RunnerConfig

if TYPE_CHECKING:
    from driftguard.manifest import Parity, ParityRunner

T = TypeVar("T")

#: Key prefixes a runner that runs the artifact itself exercises: the artifact embodies them.
ARTIFACT_PREFIXES = ("precision.", "model.", "io.", "onnx.", "hparams.")


@dataclass
class Run:
    """A runner with its config, set up lazily and torn down by ``close``."""

    cfg: RunnerConfig[Any]
    config: dict[str, Json]
    timeout_s: float
    runner: Runner | None = None
    calls: list[str] = field(default_factory=list)
    label: str = ""
    progress: Callable[[str, int, int], None] | None = None

    def start(self) -> Runner:
        if self.runner is None:
            runner = runners_mod.make(self.cfg, self.config)
            with_timeout(runner.setup, self.timeout_s, f"setting up {runner.describe()}")
            self.runner = runner
        return self.runner

    def outputs(self, gs: golden.GoldenSet, batch_size: int | None = None) -> Arrays:
        runner = self.start()
        size = batch_size or self.cfg.settings.batch_size
        parts = []
        total = -(-gs.count // size)
        for start in range(0, gs.count, size):
            batch = gs.batch(start, min(gs.count, start + size))
            parts.append(with_timeout(partial(runner.run, batch), self.timeout_s,
                                      f"{runner.describe()} on {gs.path.name}"))
            if self.progress is not None:
                self.progress(f"{self.label} on {gs.path.name}", len(parts), total)
        try:
            return golden.concat(parts)
        except (KeyError, ValueError) as exc:
            raise ParityError(f"{runner.describe()} gave outputs that do not join across batches: {exc}") from None

    def close(self) -> None:
        if self.runner is not None:
            self.runner.teardown()
            self.runner = None


def with_timeout(fn: Callable[[], T], timeout_s: float, what: str) -> T:
    """``fn()`` in a worker thread; ParityError when it runs past ``timeout_s`` (the thread is abandoned: a
    daemon, it ends with the process)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="driftguard-parity", daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        raise ParityError(f"{what} did not finish within {timeout_s:g} s (parity timeout_s)")
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def runner_config(spec: ParityRunner, base: Path, device: str) -> RunnerConfig[Any]:
    """The runner a manifest entry names, with its settings validated by the runner's own model."""
    from pydantic import ValidationError

    try:
        settings = spec.settings()
    except ValidationError as exc:  # a manifest built in code (a file's was checked when it loaded)
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ParityError(f"runner {spec.runner}: {where + ': ' if where else ''}{first['msg']}") from None
    return RunnerConfig(spec.runner, settings, base, device)


def plain(values: Mapping[str, Value]) -> dict[str, Json]:
    return {k: values[k].value for k in sorted(values)}


@dataclass(frozen=True)
class ModelParity:
    """One model's parity inputs, resolved."""

    model: str
    spec: Parity
    base: Path
    manifest: str
    training: dict[str, Json]
    deployed: dict[str, Json]
    differing: tuple[str, ...] = ()
    request: ParityRequest = field(default_factory=ParityRequest)

    def golden_sets(self) -> list[golden.GoldenSet]:
        path = self.request.golden if self.request.golden is not None else str(self.base / self.spec.golden)
        return golden.load(Path(path))

    def run(self, role: str, config: Mapping[str, Json] | None = None, artifact_of: str | None = None) -> Run:
        """The reference or candidate run; ``config``/``artifact_of`` swap in the other side's (attribution)."""
        spec = self.spec.reference if (artifact_of or role) == "reference" else self.spec.candidate
        own = self.training if role == "reference" else self.deployed
        swapped = " (attribution)" if config is not None or artifact_of is not None else ""
        return Run(runner_config(spec, self.base, self.request.device), dict(own if config is None else config),
                   self.spec.timeout_s, label=f"{self.model} {role}{swapped}", progress=self.request.progress)

    def provenance(self, gs: golden.GoldenSet) -> golden.Provenance:
        spec = self.spec.reference
        cfg = runner_config(spec, self.base, self.request.device)
        parts = []
        artifact = cfg.path(spec.setting("artifact"))
        if artifact is not None:
            parts.append(golden.artifact_digest(artifact))
        for user_code in (spec.setting("builder"), spec.setting("function")):
            if user_code:
                parts.append(user_code)
        return golden.Provenance(inputs=gs.digest, artifact=" ".join(parts) or "none",
                                 config=golden.config_digest(self.training), runner=spec.runner)


def record(model_parity: ModelParity) -> list[Path]:
    """Run the reference once per golden set and store its outputs beside the inputs."""
    written = []
    ref = model_parity.run("reference")
    try:
        for gs in model_parity.golden_sets():
            outs = ref.outputs(gs)
            written.append(golden.record(gs, outs, model_parity.provenance(gs)))
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
            recorded = golden.load_recording(gs, model_parity.provenance(gs))
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
        found = compare_outputs(model_parity, reference, candidate, prefix, str(gs.path))
        failing = failing or any(f.severity == Severity.ERROR for f in found)
        findings.extend(found)
    findings.extend(unexercised)
    asked = model_parity.request.attribution
    attribution_on = asked if asked is not None else model_parity.spec.attribution
    if failing and attribution_on:
        from driftguard.parity import attribution

        findings = attribution.annotate(model_parity, sets, findings, references, candidates)
    if model_parity.spec.concurrency is not None:
        from driftguard.parity import concurrency

        findings.extend(concurrency.check(model_parity, sets, cand, candidates))
    if model_parity.request.plots is not None:
        from driftguard.parity import plots

        findings = plots.annotate(model_parity, sets, findings, references, candidates)
    return findings


def output_kind(model_parity: ModelParity, name: str, array: np.ndarray[Any, Any]) -> str:
    spec = model_parity.spec.outputs.get(name)
    if spec is not None and spec.kind is not None:
        return spec.kind
    lowered = name.lower()
    if np.issubdtype(array.dtype, np.floating) and any(w in lowered for w in ("logit", "score", "prob")):
        return "logits"
    if np.issubdtype(array.dtype, np.integer) and any(w in lowered for w in ("token", "sequence", "ids")):
        return "sequence"
    return "tensor"


def profile_for(model_parity: ModelParity, output: str) -> tuple[profiles.Profile, dict[str, Value]]:
    """The profile judging ``output`` and each of its bounds as a Value saying where it came from: ``explicit``
    when the manifest wrote it (its tolerances, or the output's), ``default`` when the profile supplied it."""
    name = model_parity.spec.profile or profiles.profile_for(model_parity.deployed)
    base = profiles.PROFILES[name]
    where = {k: (Origin(model_parity.manifest, source=f"{name} profile"), How.DEFAULT) for k in base.bounds}
    spec = model_parity.spec
    prof = base.with_overrides({str(k): v for k, v in spec.tolerances.items()}, spec.atol, spec.rtol)
    pointer = f"models.{model_parity.model}.parity"
    for k in model_parity.spec.tolerances:
        where[k] = (Origin(model_parity.manifest, pointer=f"{pointer}.tolerances.{k}", source="manifest"), How.EXPLICIT)
    out = model_parity.spec.outputs.get(output)
    if out is not None:
        prof = prof.with_overrides({str(k): v for k, v in out.tolerances.items()}, out.atol, out.rtol)
        for k in out.tolerances:
            where[k] = (Origin(model_parity.manifest, pointer=f"{pointer}.outputs.{output}.tolerances.{k}",
                               source="manifest"), How.EXPLICIT)
    return prof, {k: Value(prof.bounds.get(k), origin, how) for k, (origin, how) in where.items()}


def _pairs(reference: Arrays, candidate: Arrays) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    if len(reference) == 1 and len(candidate) == 1:
        return [(next(iter(reference)), next(iter(candidate)))], [], []
    both = [n for n in reference if n in candidate]
    return [(n, n) for n in both], [n for n in reference if n not in candidate], \
        [n for n in candidate if n not in reference]


def compare_outputs(model_parity: ModelParity, reference: Arrays, candidate: Arrays, prefix: str,
                    golden_path: str) -> list[Finding]:
    """Findings for every output pair: DG503 form mismatches, DG502 non-finite values, DG501 per metric beyond
    its bound, DG500 (info) for an output within its profile."""
    cand_origin = Origin(_artifact_name(model_parity, "candidate"), source="candidate")
    ref_origin = Origin(_artifact_name(model_parity, "reference"), source="reference")
    out: list[Finding] = []
    pairs, only_ref, only_cand = _pairs(reference, candidate)
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
    # Non-finite values are DG502's verdict; the metrics they poison are not reported again one by one.
    failed = [] if out else [e for e in evidence if e.passed is False]
    for e in failed:
        ordered = (e, *(x for x in evidence if x is not e))
        shown = "not finite" if e.value is None else f"{e.value:.6g}"
        out.append(_finding(codes.OutputBeyondTolerance, f"{key}.{e.name}",
                            f"output '{label}': {e.name} {shown} {'>' if e.better == 'lower' else '<'} "
                            f"{e.bound:.6g} ({bounds[e.name].origin.source or prof.name}; golden {golden_path}); "
                            f"{summary}", bounds[e.name],
                            Value(e.value, cand_origin), ordered, measured=e))
    if not out:
        out.append(_finding(codes.OutputWithinProfile, key,
                            f"output '{label}' within the {prof.name} profile; {summary}",
                            Value(prof.name, Origin(ref_origin.path, source="profile")),
                            Value("within", cand_origin), tuple(evidence)))
    return out


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
