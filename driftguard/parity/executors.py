"""Executors: where the parity runs go. ``local`` runs every model in this process, one run after another
(``stage.run``); ``threads`` and ``ray`` fan the runs out, one work unit per model × golden shard, and merge.

A shard is one golden file, or a slice of a large one. Its bounds are whole batches of both runners (multiples
of the least common multiple of their batch sizes), so a unit runs exactly the batches the local run would;
recorded references are read here, not rerun. A unit sets up the model's reference (when its set has no
recording) and candidate runners, runs them on its slice and tears them down. The outputs are joined per golden
set in input order and handed to ``stage.conclude``, the same comparison, attribution, concurrency and plots
the local run ends in (those reruns stay in this process), so the report is the local run's.

``threads``: ``workers`` threads in this process (default: one per CPU); the runners' own code must be safe to
run side by side (separate runner objects, shared modules). ``ray``: the Ray cluster at ``ray_address``, or a
local instance of ``workers`` CPUs started here and shut down afterwards; a Ray already initialized in this
process is used as it is and left running. Every node needs driftguard and the artifacts and your builder or
function files at the same paths; the golden slices travel with the units. Ray is imported only here, only
for ``ray`` (the ``[ray]`` extra).
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from driftguard.errors import DriftguardError
from driftguard.model import Finding
from driftguard.parity import golden, stage
from driftguard.parity.errors import ParityError
from driftguard.parity.model_parity import ModelParity
from driftguard.parity.request import EXECUTORS, ParityRequest
from driftguard.parity.runners.base import Arrays

A = TypeVar("A")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` on every item and returns the results in the items' order; ``done(n)`` after each finishes."""

    workers: int

    def map(self, fn: Callable[[A], R], items: Sequence[A], done: Callable[[int], None]) -> list[R]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Unit:
    """One work unit: a model's runs on one golden shard (``samples``: only the shard's)."""

    model_parity: ModelParity
    model: int
    set_index: int
    samples: golden.GoldenSet
    reference: bool  # False where the set's reference outputs are recorded


@dataclass(frozen=True)
class UnitResult:
    """A unit's outputs and its DG510 finding, or the user error that stopped it (raised again here)."""

    reference: Arrays | None = None
    candidate: Arrays | None = None
    unexercised: tuple[Finding, ...] = ()
    error: DriftguardError | None = None


def run_models(parities: Sequence[ModelParity], request: ParityRequest) -> list[list[Finding]]:
    """Each model's parity findings (``stage.run``'s), in the order of ``parities``, run by ``request.executor``."""
    if request.executor == "local":
        return [stage.run(model_parity) for model_parity in parities]
    executor = open_executor(request)
    try:
        return fan_out(parities, executor, request)
    finally:
        executor.close()


def open_executor(request: ParityRequest) -> Executor:
    if request.executor == "threads":
        return ThreadsExecutor(request.workers or os.cpu_count() or 1)
    if request.executor == "ray":
        return RayExecutor(request.ray_address, request.workers)
    raise ParityError(f"unknown executor '{request.executor}'; executors: {', '.join(EXECUTORS)}")


def fan_out(parities: Sequence[ModelParity], executor: Executor, request: ParityRequest) -> list[list[Finding]]:
    plans = [(model_parity, model_parity.golden_sets()) for model_parity in parities]
    total_sets = sum(len(sets) for _, sets in plans)
    units: list[Unit] = []
    recordings: list[list[Arrays | None]] = []
    for i, (model_parity, sets) in enumerate(plans):
        recorded = [model_parity.recording(gs) for gs in sets]
        recordings.append(recorded)
        shipped = replace(model_parity, request=replace(model_parity.request, progress=None, plots=None,
                                                        trusted_recordings=None))
        for j, gs in enumerate(sets):
            for start, stop in shards(gs.count, batch_step(model_parity), request.shard_size,
                                      math.ceil(executor.workers / total_sets)):
                units.append(Unit(shipped, i, j, shard(gs, start, stop), recorded[j] is None))
    progress = request.progress
    label = f"parity on {executor.workers} {request.executor} worker{'s' if executor.workers != 1 else ''}"
    results = executor.map(run_unit, units, (lambda n: progress(label, n, len(units))) if progress else _ignore)
    for result in results:
        if result.error is not None:
            raise result.error
    out = []
    for i, (model_parity, sets) in enumerate(plans):
        mine = [(u, r) for u, r in zip(units, results, strict=True) if u.model == i]
        references: list[Arrays] = []
        candidates: list[Arrays] = []
        for j in range(len(sets)):
            parts = [r for u, r in mine if u.set_index == j]
            kept = recordings[i][j]
            references.append(kept if kept is not None else _join(model_parity, [p.reference for p in parts]))
            candidates.append(_join(model_parity, [p.candidate for p in parts]))
        # Every unit of a model starts the same candidate; the reference only where its set is not recorded. The
        # local run reports the runners it started over all sets: a unit that ran the reference saw them all.
        unexercised = next((r.unexercised for u, r in mine if u.reference), mine[0][1].unexercised)
        cand = model_parity.run("candidate")  # started only if concurrency parity runs it again
        try:
            out.append(stage.conclude(model_parity, sets, references, candidates, list(unexercised), cand))
        finally:
            cand.close()
    return out


def _ignore(n: int) -> None:
    pass


def _join(model_parity: ModelParity, parts: Sequence[Arrays | None]) -> Arrays:
    try:
        return golden.concat([p for p in parts if p is not None])
    except (KeyError, ValueError) as exc:
        raise ParityError(f"model '{model_parity.model}': outputs of its golden shards do not join: {exc}") from None


def batch_step(model_parity: ModelParity) -> int:
    """Shard bounds fall on batch bounds of both runners, so each runs the batches the local run does."""
    spec = model_parity.spec
    return math.lcm(spec.reference.settings().batch_size, spec.candidate.settings().batch_size)


def shards(count: int, step: int, shard_size: int | None, per_set: int) -> list[tuple[int, int]]:
    """``[start, stop)`` bounds over ``count`` samples: ``shard_size`` samples each (default: ``per_set``
    shards), rounded up to a multiple of ``step``."""
    size = shard_size if shard_size is not None else math.ceil(count / max(1, per_set))
    size = step * max(1, math.ceil(size / step))
    return [(start, min(count, start + size)) for start in range(0, count, size)]


def shard(gs: golden.GoldenSet, start: int, stop: int) -> golden.GoldenSet:
    """Samples ``start:stop`` of a golden set, keeping its path and digest (they name it in findings)."""
    if gs.records:
        return golden.GoldenSet(gs.path, gs.digest, records=gs.records[start:stop])
    return golden.GoldenSet(gs.path, gs.digest, arrays={k: v[start:stop] for k, v in gs.arrays.items()})


#: Runner set-up (imports, user modules loaded from files, model loading) one at a time in a process: the
#: threads executor's units would otherwise race in ``load_user_function`` and in first imports.
_SETUP = threading.Lock()


def run_unit(unit: Unit) -> UnitResult:
    """The work unit, wherever it runs: the reference (unless recorded) and the candidate on the shard, in the
    local run's order. A user error is returned, not raised, so it arrives here whole (file, line, message)."""
    model_parity = unit.model_parity
    ref = model_parity.run("reference") if unit.reference else None
    cand = model_parity.run("candidate")
    try:
        reference = None
        if ref is not None:
            with _SETUP:
                ref.start()
            reference = ref.outputs(unit.samples)
        with _SETUP:
            cand.start()
        candidate = cand.outputs(unit.samples)
        started = [r.runner for r in (ref, cand) if r is not None and r.runner is not None]
        return UnitResult(reference, candidate, tuple(stage.not_exercised(model_parity, started)))
    except DriftguardError as exc:
        return UnitResult(error=exc)
    finally:
        if ref is not None:
            ref.close()
        cand.close()


class ThreadsExecutor:
    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ParityError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def map(self, fn: Callable[[A], R], items: Sequence[A], done: Callable[[int], None]) -> list[R]:
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="driftguard-unit") as pool:
            # each unit in a copy of this context: the read confinement (``readers.files.confined``) holds there
            futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
            results = []
            for n, future in enumerate(futures, 1):
                results.append(future.result())
                done(n)
        return results

    def close(self) -> None:
        pass


class RayExecutor:
    """Units as Ray tasks of one CPU each, on the cluster at ``address`` or on a local instance started here."""

    def __init__(self, address: str | None, workers: int | None) -> None:
        self.ray = import_ray()
        self.owned = False
        if not self.ray.is_initialized():
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            if address and address not in ("auto", "local"):
                probe(address)
            try:
                self.ray.init(address=address or "local", num_cpus=None if address else workers,
                              include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
            except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError... for one cause
                raise ParityError(f"--executor ray: could not start or reach {where}: {_first_line(exc)}") from None
            self.owned = True
        self.workers = max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def map(self, fn: Callable[[A], R], items: Sequence[A], done: Callable[[int], None]) -> list[R]:
        remote = self.ray.remote(num_cpus=1, max_retries=0)(fn)
        refs = [remote.remote(item) for item in items]
        pending = list(refs)
        try:
            while pending:
                _, pending = self.ray.wait(pending, num_returns=1)
                done(len(refs) - len(pending))
            return [self.ray.get(r) for r in refs]
        except self.ray.exceptions.RayTaskError:
            raise  # a bug in driftguard on the worker: shown with its traceback
        except self.ray.exceptions.RayError as exc:
            raise ParityError(f"--executor ray: a Ray worker failed: {_first_line(exc)}") from None

    def close(self) -> None:
        if self.owned:
            self.ray.shutdown()
            self.owned = False


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ParityError("--executor ray needs Ray: pip install 'driftguard-ml[ray]'") from None
    return ray


def probe(address: str, timeout_s: float = 5.0) -> None:
    """One clear line when nothing answers at ``address`` (``host:port`` or ``ray://host:port``): Ray itself
    retries an unreachable cluster for minutes."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ParityError(f"--executor ray: the Ray address '{address}' is not host:port")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ParityError(f"--executor ray: no Ray cluster answers at {address} ({exc.strerror or exc})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
