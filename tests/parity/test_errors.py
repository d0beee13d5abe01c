"""``driftguard.parity.errors``: a parity input error is a ``DriftguardError``, so it is one line and exit 2,
through the CLI as everywhere (``tests/test_fail_closed.py`` runs a bad golden file end to end)."""

from __future__ import annotations

import pickle

from driftguard.errors import DriftguardError
from driftguard.parity.errors import ParityError


def test_a_parity_error_is_an_input_error_pointing_at_its_file() -> None:
    err = ParityError("golden file has no inputs", "golden/inputs.npz", 1)
    assert isinstance(err, DriftguardError)
    assert str(err) == "golden/inputs.npz:1: golden file has no inputs"


def test_a_parity_error_survives_pickling_whole() -> None:
    err = ParityError("runner timed out after 5 s", "driftguard.yaml", 12)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ParityError
    assert (str(back), back.path, back.line) == (str(err), err.path, err.line)
