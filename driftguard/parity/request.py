"""What a caller asks of the parity stage. Light (no numpy): ``api`` builds it before anything heavy loads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParityRequest:
    """Another golden path than the manifest's, the device (``auto``, ``cpu``, ``cuda``), and attribution on
    or off (None: the manifest's choice)."""

    golden: str | None = None
    device: str = "auto"
    attribution: bool | None = None
