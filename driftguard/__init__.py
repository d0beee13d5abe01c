"""driftguard: catch silent drift between how a model was trained and how it is served.

The public API is imported lazily so that ``import driftguard`` stays fast and pulls in no heavy library; type
checkers see the real imports (``TYPE_CHECKING``), so ``driftguard.check(...)`` is typed ``Report``:

    import driftguard
    cfg = driftguard.extract("model_repository/summarizer/config.pbtxt")
    with driftguard.capture("eval.snapshot.json"): evaluate()  # what generate() and tokenizers used
    result = driftguard.diff("hf/generation_config.json", "vllm:serving/request.json")
    report = driftguard.check_parity("driftguard.yaml")   # runs models: needs the [parity] extra
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what the lazy names below are, for type checkers (never imported here at run time); "X as X"
    # re-exports them under mypy --strict (no implicit re-export)
    from driftguard.api import DiffResult as DiffResult
    from driftguard.api import approve as approve
    from driftguard.api import check as check
    from driftguard.api import check_parity as check_parity
    from driftguard.api import diff as diff
    from driftguard.api import extract as extract
    from driftguard.api import golden_record as golden_record
    from driftguard.api import snapshot as snapshot
    from driftguard.capture import capture as capture
    from driftguard.errors import DriftDetected as DriftDetected
    from driftguard.errors import DriftguardError as DriftguardError
    from driftguard.gate.request import CheckRequest as CheckRequest
    from driftguard.model import Change as Change
    from driftguard.model import EffectiveConfig as EffectiveConfig
    from driftguard.model import Finding as Finding
    from driftguard.model import How as How
    from driftguard.model import Judged as Judged
    from driftguard.model import Origin as Origin
    from driftguard.model import Severity as Severity
    from driftguard.model import Status as Status
    from driftguard.model import Value as Value
    from driftguard.parity.request import ParityRequest as ParityRequest
    from driftguard.report import Report as Report

_LAZY = {
    "extract": "driftguard.api",
    "diff": "driftguard.api",
    "DiffResult": "driftguard.api",
    "check": "driftguard.api",
    "check_parity": "driftguard.api",
    "golden_record": "driftguard.api",
    "approve": "driftguard.api",
    "snapshot": "driftguard.api",
    "capture": "driftguard.capture",
    "CheckRequest": "driftguard.gate.request",
    "ParityRequest": "driftguard.parity.request",
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
