"""One model's parity, the records the stage and its helpers share: ``ModelParity`` (a model's parity inputs,
resolved: its manifest section, folder, both sides' effective configs, the request), ``Run`` (a runner with its
config, set up lazily, every call under the parity timeout), and the per-output facts (``output_kind``,
``profile_for``, ``output_pairs``).

This module sits below everything in the parity stage that uses it: ``stage`` orchestrates (runs, compares,
then asks ``attribution``, ``concurrency`` and ``plots``), and none of those imports ``stage`` back.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from driftguard.model import How, Json, Origin, Value
from driftguard.parity import golden, profiles
from driftguard.parity import runners as runners_mod
from driftguard.parity.errors import ParityError
from driftguard.parity.request import ParityRequest
from driftguard.parity.runners.base import Arrays, Runner, RunnerConfig
from driftguard.readers.limits import DEFAULT, Limits

if TYPE_CHECKING:
    from driftguard.manifest import Parity, ParityRunner

T = TypeVar("T")


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

    # in a copy of this context: the read confinement (``readers.files.confined``) holds in the thread
    t = threading.Thread(target=contextvars.copy_context().run, args=(target,), name="driftguard-parity",
                         daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        raise ParityError(f"{what} did not finish within {timeout_s:g} s (parity timeout_s)")
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def runner_config(spec: ParityRunner, base: Path, device: str, limits: Limits = DEFAULT) -> RunnerConfig[Any]:
    """The runner a manifest entry names, with its settings validated by the runner's own model."""
    from pydantic import ValidationError

    try:
        settings = spec.settings()
    except ValidationError as exc:  # a manifest built in code (a file's was checked when it loaded)
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ParityError(f"runner {spec.runner}: {where + ': ' if where else ''}{first['msg']}") from None
    return RunnerConfig(spec.runner, settings, base, device, limits)


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
    limits: Limits = DEFAULT

    def golden_sets(self) -> list[golden.GoldenSet]:
        path = self.request.golden if self.request.golden is not None else str(self.base / self.spec.golden)
        return golden.load(Path(path), self.limits)

    def recording(self, gs: golden.GoldenSet) -> Arrays | None:
        """The reference outputs recorded for ``gs`` that this run may use (``golden.load_recording``)."""
        return golden.load_recording(gs, partial(self.provenance, gs), self.limits, self.request.trusted_recordings,
                                     model=self.model)

    def run(self, role: str, config: Mapping[str, Json] | None = None, artifact_of: str | None = None) -> Run:
        """The reference or candidate run; ``config``/``artifact_of`` swap in the other side's (attribution)."""
        spec = self.spec.reference if (artifact_of or role) == "reference" else self.spec.candidate
        own = self.training if role == "reference" else self.deployed
        swapped = " (attribution)" if config is not None or artifact_of is not None else ""
        return Run(runner_config(spec, self.base, self.request.device, self.limits),
                   dict(own if config is None else config),
                   self.spec.timeout_s, label=f"{self.model} {role}{swapped}", progress=self.request.progress)

    def declared_applies(self, role: str) -> frozenset[str] | None:
        """The keys the ``role``'s runner applies whatever its config, as its class declares them (``applies`` on
        the class), read without setting it up; None for a runner that decides per config or at set-up (only a
        started one can say)."""
        spec = self.spec.reference if role == "reference" else self.spec.candidate
        declared = getattr(runners_mod.RUNNERS.load(spec.runner), "applies", None)
        return declared if isinstance(declared, frozenset) else None

    def provenance(self, gs: golden.GoldenSet) -> golden.Provenance:
        spec = self.spec.reference
        cfg = runner_config(spec, self.base, self.request.device, self.limits)
        parts = []
        artifact = cfg.path(spec.setting("artifact"))
        if artifact is not None:
            parts.append(golden.artifact_digest(artifact, self.limits))
        for user_code in (spec.setting("builder"), spec.setting("function")):
            if user_code:
                parts.append(user_code)
        return golden.Provenance(inputs=gs.digest, artifact=" ".join(parts) or "none",
                                 config=golden.config_digest(self.training), runner=spec.runner)


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


def output_pairs(reference: Arrays, candidate: Arrays) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    if len(reference) == 1 and len(candidate) == 1:
        return [(next(iter(reference)), next(iter(candidate)))], [], []
    both = [n for n in reference if n in candidate]
    return [(n, n) for n in both], [n for n in reference if n not in candidate], \
        [n for n in candidate if n not in reference]
