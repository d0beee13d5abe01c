"""What a caller asks of the gate: one frozen ``CheckRequest`` (the manifest, which models, the day, the limits,
the roots, the stages, the approval options, the base revision and the processes), built by the facade (``api``)
and read by every step of ``gate.pipeline`` and by its wrappers (``gate.baseline`` for ``--base``,
``gate.parallel`` for ``--jobs``). Light: the manifest module (pydantic) is imported only to load one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.errors import UsageError
from driftguard.parity.request import EXECUTORS, ParityRequest
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits

if TYPE_CHECKING:  # the manifest pulls in pydantic
    from driftguard.manifest import Manifest


@dataclass(frozen=True)
class Selection:
    """Which models a run checks: all, or ``model``, narrowed to ``models`` and to one ``shard`` ``(I, N)``.

    ``known_models``: every model of the whole manifest, given when this run is to report the approvals that
    name a model the manifest lacks (``Selection.of`` gives it to a run of every model; a worker of ``--jobs``
    gets it only in its first part, whose manifest is cut down to its own models)."""

    model: str | None = None
    models: tuple[str, ...] | None = None
    shard: tuple[int, int] | None = None
    known_models: tuple[str, ...] | None = None

    @classmethod
    def of(cls, m: Manifest, model: str | None = None, models: Sequence[str] | None = None,
           shard: tuple[int, int] | None = None) -> Selection:
        """The selection of ``check(model=, models=, shard=)``: ``known_models`` set only when neither ``model``
        nor ``models`` narrows the run (a shard reports those unknown models whose names fall in it)."""
        whole = model is None and models is None
        return cls(model, None if models is None else tuple(models), shard, tuple(m.models) if whole else None)


@dataclass(frozen=True)
class Stages:
    """What runs: the rules (``rules=False``: parity alone, ``driftguard parity``) and the parity stage (a
    ``ParityRequest``, or None: not run). Approvals of ``parity.*`` keys are in scope only when parity runs, the
    others only when the rules run."""

    rules: bool = True
    parity: ParityRequest | None = None

    @property
    def parity_only(self) -> bool:
        return self.parity is not None and not self.rules


@dataclass(frozen=True)
class ApprovalOptions:
    """How far approvals are trusted. ``require_committed``: an approval whose file is not committed as it is in
    HEAD is ignored (state ``uncommitted``). ``history``: each approval names the commit and author that last
    changed its file (implied by ``require_committed``, by a ``--base`` run and by the manifest's
    ``separate_approver``). ``require_base`` (``check --base`` only): an approval counts only when its file is at the
    base revision byte for byte, so an approval the change adds or edits is ignored (state ``uncommitted``);
    ``base_files`` is where ``gate.baseline`` wrote the base revision's files. ``separate``: the manifest's
    ``separate_approver`` applies (not to the base revision's run, which reads a copy of its files, not git)."""

    require_committed: bool = False
    history: bool = False
    require_base: bool = False
    base_files: Path | None = None
    separate: bool = True


@dataclass(frozen=True)
class CheckRequest:
    """One run of the gate over a loaded manifest.

    ``today``: the day approvals are judged on. ``limits``: the reader limits (None: the manifest's ``limits:``
    over the built-in defaults), ``limit_overrides`` applied on top (``--limit NAME=N``); ``read_limits()`` gives
    the result. ``root``: the folder every artifact and the approvals must lie in (None: the manifest's folder);
    ``repo_root``: the repository every reported path is relative to (None: the nearest folder above the manifest
    holding ``.git``). ``strict``: warnings and stale approvals fail too. ``base``: a git revision the change is
    judged against (``gate.baseline``), ``changed_only`` (with ``base``): only the models the change touched.
    ``files`` (``check FILE...``, a pre-commit hook's staged files): only the models those files can affect
    (``ci.changed.models_reading``). ``jobs``: worker processes (``gate.parallel``; 0: one per CPU once there are
    enough models)."""

    manifest: Manifest
    today: date
    selection: Selection = Selection()
    limits: Limits | None = None
    limit_overrides: Mapping[str, object] = field(default_factory=dict)
    root: Path | None = None
    repo_root: Path | None = None
    strict: bool = False
    stages: Stages = Stages()
    approvals: ApprovalOptions = ApprovalOptions()
    base: str | None = None
    changed_only: bool = False
    files: tuple[str, ...] | None = None
    jobs: int = 1

    def read_limits(self) -> Limits:
        """The limits every read of this run is bounded by (UsageError for a bad override)."""
        chosen = self.limits if self.limits is not None else self.manifest.effective_limits()
        return chosen.with_overrides(self.limit_overrides)

    @property
    def base_root(self) -> Path:
        """The folder every artifact and approval must lie in."""
        return self.root if self.root is not None else self.manifest.base


def load_manifest(path_or_manifest: str | Path | Manifest, limits: Limits | None = None,
                  limit_overrides: Mapping[str, object] | None = None) -> Manifest:
    """``path_or_manifest`` loaded (read within ``limits`` or the defaults, ``limit_overrides`` on top), or
    returned as it is when it is a ``Manifest`` already. ``DriftguardError`` subclasses for a bad manifest."""
    from driftguard import manifest as manifest_mod

    if isinstance(path_or_manifest, manifest_mod.Manifest):
        return path_or_manifest
    return manifest_mod.load(path_or_manifest, (limits or DEFAULT_LIMITS).with_overrides(limit_overrides or {}))


def optional_path(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path)


def parity_request(*, device: str = "auto", executor: str = "local", workers: int | None = None,
                   shard_size: int | None = None, golden: str | None = None, attribution: bool | None = None,
                   progress: Callable[[str, int, int], None] | None = None, plots: str | None = None,
                   ray_address: str | None = None) -> ParityRequest:
    """A ``ParityRequest`` with its device, executor, workers and shard size checked (UsageError naming the
    argument)."""
    if executor not in EXECUTORS:
        raise UsageError(f"executor must be {', '.join(EXECUTORS[:-1])} or {EXECUTORS[-1]}, got '{executor}'")
    for name, n in (("workers", workers), ("shard_size", shard_size)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise UsageError(f"{name} must be a whole number of at least 1, got {n!r}")
    return ParityRequest(golden=golden, device=checked_device(device), attribution=attribution, progress=progress,
                         plots=plots, executor=executor, workers=workers, shard_size=shard_size,
                         ray_address=ray_address)


def checked_device(device: str) -> str:
    """``device`` when it is ``auto``, ``cpu`` or ``cuda``; UsageError otherwise."""
    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"device must be auto, cpu or cuda, got '{device}'")
    return device
