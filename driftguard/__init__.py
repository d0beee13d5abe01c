"""driftguard: catch silent drift between how a model was trained and how it is served.

The public API is imported lazily so that ``import driftguard`` stays fast and pulls in no heavy library:

    import driftguard
    cfg = driftguard.extract("model_repository/summarizer/config.pbtxt")
    result = driftguard.diff("hf/generation_config.json", "vllm:serving/request.json")
    report = driftguard.parity("driftguard.yaml")   # runs models: needs the [parity] extra
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "extract": "driftguard.api",
    "diff": "driftguard.api",
    "DiffResult": "driftguard.api",
    "check": "driftguard.api",
    "parity": "driftguard.api",
    "golden_record": "driftguard.api",
    "Report": "driftguard.report",
    "EffectiveConfig": "driftguard.model",
    "Value": "driftguard.model",
    "Origin": "driftguard.model",
    "Finding": "driftguard.model",
    "Judged": "driftguard.model",
    "Severity": "driftguard.model",
    "Status": "driftguard.model",
    "Change": "driftguard.model",
    "How": "driftguard.model",
    "DriftguardError": "driftguard.errors",
    "DriftDetected": "driftguard.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'driftguard' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    """The lazy API too, so that ``dir(driftguard)`` and completion show it."""
    return sorted({*globals(), *_LAZY})


__all__ = sorted(_LAZY)
