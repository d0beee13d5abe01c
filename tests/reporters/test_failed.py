"""``reporters.failed``: what a failed run leaves at its outputs says so in every format (and validates where the
format has a schema), so whatever reads it fails too."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from driftguard.reporters.failed import ERROR_KEY, render_error
from tests.reporters.test_sarif import validate

MESSAGE = "request.json:1: not JSON \x1b[2J\nPASS"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_json_names_the_failure_and_keeps_the_message(fmt: str) -> None:
    data = json.loads(render_error(fmt, 2, MESSAGE))
    assert data == {ERROR_KEY: {"exit_code": 2, "message": MESSAGE}}


def test_sarif_is_a_valid_log_of_an_unsuccessful_run_without_results() -> None:
    log = json.loads(render_error("sarif", 3, MESSAGE))
    validate(log)
    (run,) = log["runs"]
    assert run["results"] == [] and run["invocations"][0]["executionSuccessful"] is False
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "error" and note["message"]["text"] == "request.json:1: not JSON \\x1b[2J\\nPASS"


def test_junit_has_one_erroring_test_case() -> None:
    root = ET.fromstring(render_error("junit", 2, MESSAGE))
    assert root.get("errors") == "1"
    error = root.find("testsuite/testcase/error")
    assert error is not None and "exit 2" in (error.get("message") or "") and "\x1b" not in (error.text or "")


@pytest.mark.parametrize(("fmt", "start"), [("github", "::error title=driftguard::driftguard failed (exit 2): "),
                                            ("markdown", "**driftguard failed** (exit 2): "),
                                            ("text", "driftguard failed (exit 2): "),
                                            ("a-third-party-format", "driftguard failed (exit 2): ")])
def test_line_formats_are_one_escaped_line(fmt: str, start: str) -> None:
    text = render_error(fmt, 2, MESSAGE)
    assert text.startswith(start) and text.count("\n") == 1 and "\x1b" not in text
