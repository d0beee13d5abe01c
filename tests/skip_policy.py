"""Which skips a CI run accepts (``--allowed-skips-only``, which ``.ci/run`` passes). A test may skip only for
hardware or a service a CI machine does not have, or for a table case that does not apply; a skip for any other
reason (an import missing, so that a whole folder would skip quietly) fails the run, naming each test and why.
Loaded by ``conftest.py`` (``pytest_plugins``); a plug-in of its own so that its test can load it alone."""

from __future__ import annotations

import sys

import pytest

#: The reasons a skip may give in CI (substrings of the reason).
ALLOWED = (
    "needs CUDA",  # tests/parity/test_gpu.py: no GPU on CI
    "no Triton server answers",  # a live Triton server, when one is set with TRITON_URL
    "has no top_k",  # tests/rules/test_decoding.py: the engine table row does not apply
    "the kind's own format",  # tests/extractors/test_no_misreading.py: a kind forced on its own format
    "; the sets are ",  # tests/engines/test_transformers_fields.py: exact sets only under the pinned version
)

_SKIPPED: list[tuple[str, str]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--allowed-skips-only", action="store_true",
                     help="fail the run when a test skips for a reason skip_policy.ALLOWED does not list (CI)")


def _record(report: pytest.CollectReport | pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and isinstance(report.longrepr, tuple):
        _SKIPPED.append((report.nodeid, str(report.longrepr[2])))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _record(report)  # a module-level importorskip skips the whole module here


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _record(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.getoption("--allowed-skips-only"):
        return
    refused = [(node, why) for node, why in _SKIPPED if not any(reason in why for reason in ALLOWED)]
    for node, why in refused:
        sys.stderr.write(f"skipped for a reason CI does not accept: {node}: {why}\n")
    if refused and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
