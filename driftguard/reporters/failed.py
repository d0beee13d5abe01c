"""What a failed run leaves at each of its output paths: a report that says the run failed.

Every output is created by the run (``readers.files.create_output``), so a run that stops with exit 2 or 3 must
still put something of its own there: a file left from before, or committed by the pull request, would be taken
by a later CI step (an artifact upload, ``driftguard report``, a SARIF upload) for this run's result. Each format
says "failed" in its own terms, so whatever reads it fails too:

- **json** (and ``extract``'s yaml, which reads JSON): ``{"driftguard_error": {"exit_code", "message"}}``, which
  ``driftguard report`` refuses by name and the report schema does not accept;
- **sarif**: one run with no results and ``invocations[0].executionSuccessful: false`` with the message as an
  error notification;
- **junit**: one test case with an ``<error>``; **github**: one ``::error`` command; **markdown**, **text**
  (and a third party's format): the message as a line.

The message is escaped as every report escapes input (``reporters.escape``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from driftguard import __version__
from driftguard.reporters.escape import for_markdown, json_for_terminal, message_for_terminal
from driftguard.reporters.github import command
from driftguard.reporters.sarif import SCHEMA_URI

#: The key of a failed run's JSON report.
ERROR_KEY = "driftguard_error"


def render_error(fmt: str, exit_code: int, message: str) -> str:
    """The report of a run that failed with ``exit_code`` and ``message``, in format ``fmt`` (any name: a
    format this module does not know gets the text)."""
    shown = message_for_terminal(message.strip())
    if fmt in ("json", "yaml"):
        data = {ERROR_KEY: {"exit_code": exit_code, "message": message}}
        return json_for_terminal(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    if fmt == "sarif":
        return _sarif(exit_code, shown)
    if fmt == "junit":
        return _junit(exit_code, shown)
    if fmt == "github":
        return command("error", f"driftguard failed (exit {exit_code}): {shown}", title="driftguard") + "\n"
    if fmt == "markdown":
        return f"**driftguard failed** (exit {exit_code}): {for_markdown(shown, visible=True)}\n"
    return f"driftguard failed (exit {exit_code}): {shown}\n"


def _sarif(exit_code: int, shown: str) -> str:
    run = {
        "tool": {"driver": {"name": "driftguard", "version": __version__, "rules": []}},
        "invocations": [{"executionSuccessful": False, "exitCode": exit_code,
                         "toolExecutionNotifications": [{"level": "error", "message": {"text": shown}}]}],
        "results": [],
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _junit(exit_code: int, shown: str) -> str:
    suites = ET.Element("testsuites", name="driftguard", tests="1", failures="0", errors="1")
    suite = ET.SubElement(suites, "testsuite", name="driftguard", tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname="driftguard", name="run")
    error = ET.SubElement(case, "error", message=f"driftguard failed (exit {exit_code})", type="exit")
    error.text = shown
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
