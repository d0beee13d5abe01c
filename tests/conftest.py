"""Settings every test shares."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_github_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under GitHub Actions every ``driftguard check`` the tests run (subprocesses included) would append its
    markdown report to the job summary; tests that want one set the variable themselves."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
