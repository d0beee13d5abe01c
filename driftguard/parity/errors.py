"""The parity stage's input error: a golden file, a runner spec, a builder, a timeout. Shown on one line, exit 2."""

from __future__ import annotations

from driftguard.errors import DriftguardError


class ParityError(DriftguardError):
    """Parity could not run on the user's inputs: a missing or malformed golden file, a recording that no longer
    matches (re-record), a golden input the graph refuses, a builder that raises, a runner past its timeout."""
