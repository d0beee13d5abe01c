"""The gate's tests share one request: a check of the summarizer example as of the examples' day."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import manifest as manifest_mod
from driftguard.gate.request import CheckRequest, Selection
from tests.dates import EXAMPLES_TODAY

MANIFEST = Path(__file__).resolve().parents[2] / "examples" / "summarizer" / "driftguard.yaml"


@pytest.fixture(scope="module")
def request_() -> CheckRequest:
    m = manifest_mod.load(MANIFEST)
    return CheckRequest(m, EXAMPLES_TODAY, Selection.of(m))
