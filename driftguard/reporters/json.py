"""``driftguard check --format json``: the report as JSON, valid against ``driftguard schema report``.

Values are data and are never altered; the characters that would drive a terminal (bidi and C1 controls, which
``json.dumps`` leaves raw) are spelled as ``\\uXXXX`` escapes that load back to the same characters."""

from __future__ import annotations

from driftguard.report import Report
from driftguard.reporters.escape import json_for_terminal


def render_check(report: Report) -> str:
    return json_for_terminal(report.to_json())
