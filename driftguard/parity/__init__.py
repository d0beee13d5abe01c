"""The parity stage: run the model as trained and as deployed on golden inputs and compare the outputs.

``golden`` (load, hash, record), ``runners/`` (one module per runner behind ``runners.base.Runner``, heavy
imports inside them), ``metrics`` (pure numpy), ``profiles`` (tolerances per precision), ``stage`` (one model:
reference and candidate runs, comparison, findings), ``codes`` (the DG5xx documentation ``explain`` prints).

Importing this package imports nothing heavy: numpy, torch and onnxruntime are imported by the modules that
use them, and only ``api`` (for ``driftguard parity`` and ``check --parity``) imports those. Rules never import
parity (an import-linter contract).
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    """``driftguard.parity(...)`` is the library call (``api.parity``, returning a ``Report``), and
    ``driftguard.parity`` is also this package: once a submodule is imported the package is what the name holds,
    so the package itself forwards a call to the API. The import is dynamic on purpose (the stage never imports
    the API; this only serves a caller who already holds ``driftguard``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from importlib import import_module

        return import_module("driftguard.api").parity(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
