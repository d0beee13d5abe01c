"""``driftguard check --format json``: the report as JSON, valid against ``driftguard schema report``."""

from __future__ import annotations

from driftguard.report import Report


def render_check(report: Report) -> str:
    return report.to_json()
