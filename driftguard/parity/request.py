"""What a caller asks of the parity stage. Light (no numpy): ``api`` builds it before anything heavy loads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ParityRequest:
    """Another golden path than the manifest's, the device (``auto``, ``cpu``, ``cuda``), and attribution on
    or off (None: the manifest's choice). ``progress``: called ``(label, done, total)`` after each runner batch
    (``parity.progress.Bar`` draws it); ``plots``: a folder for one picture per failing output
    (``parity.plots``)."""

    golden: str | None = None
    device: str = "auto"
    attribution: bool | None = None
    progress: Callable[[str, int, int], None] | None = field(default=None, compare=False)
    plots: str | None = None
