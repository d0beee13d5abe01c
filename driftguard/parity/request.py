"""What a caller asks of the parity stage. Light (no numpy): ``api`` builds it before anything heavy loads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Where the runs go (``parity.executors``).
EXECUTORS = ("local", "threads", "ray")


@dataclass(frozen=True)
class ParityRequest:
    """Another golden path than the manifest's, the device (``auto``, ``cpu``, ``cuda``), and attribution on
    or off (None: the manifest's choice). ``progress``: called ``(label, done, total)`` after each runner batch
    (``parity.progress.Bar`` draws it); ``plots``: a folder for one picture per failing output
    (``parity.plots``).

    ``executor``: where the runs go (``parity.executors``): ``local`` (one process, one run after another; the
    default), ``threads`` (``workers`` threads in this process) or ``ray`` (a Ray cluster at ``ray_address``, else
    a local instance of ``workers`` CPUs started and shut down around the run). ``shard_size``: golden samples
    per work unit (rounded up to whole runner batches; default: each set split so the units fill the workers).

    ``trusted_recordings``: where the change is not trusted (``driftguard parity --base REF``), whether the
    trusted revision holds a recording (``<stem>.<model>.reference.npz``) byte for byte; one it does not (added or
    edited by the change) is not used, the reference runs instead. None: every recording is used."""

    golden: str | None = None
    device: str = "auto"
    attribution: bool | None = None
    progress: Callable[[str, int, int], None] | None = field(default=None, compare=False)
    plots: str | None = None
    executor: str = "local"
    workers: int | None = None
    shard_size: int | None = None
    ray_address: str | None = None
    trusted_recordings: Callable[[Path], bool] | None = field(default=None, compare=False)
