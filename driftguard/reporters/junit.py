"""``driftguard check --format junit``: JUnit XML, for CI systems that show test results.

One ``<testsuite>`` per model and one ``<testcase>`` per rule that ran on it (``classname`` the model, ``name``
the rule's code and dotted name); a rule with findings that fail the gate gets one ``<failure>`` listing them,
and approved or non-failing findings are listed in the case's ``<system-out>``. A last suite, ``approvals``,
fails when stale approvals fail the gate (``--strict``, ``fail_on_stale``), so the XML has a failure exactly
when ``check`` exits 1.

Everything from input is escaped for the terminal first (XML 1.0 cannot hold most control characters at
all), then ElementTree escapes the markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from driftguard.model import Judged
from driftguard.report import ModelResult, Report, fails
from driftguard.reporters.check_common import approval_line, cell, status, summary_line, where
from driftguard.reporters.escape import for_terminal, message_for_terminal


def _line(report: Report, f: Judged) -> str:
    return (f"{message_for_terminal(f.message)} [{status(report, f)}] "
            f"training {cell(f.training)} ({where(f.training, report)}), deployed {cell(f.deployed)} "
            f"({where(f.deployed, report)})")


def _suite(report: Report, m: ModelResult) -> ET.Element:
    names = {f.rule: f.name for f in m.findings}
    codes = sorted(set(m.rules) | set(names))
    rules = {r.code: r.name for r in report.rules}
    suite = ET.Element("testsuite", name=for_terminal(m.name))
    failures = 0
    for code in codes:
        name = rules.get(code) or names.get(code, "")
        case = ET.SubElement(suite, "testcase", classname=for_terminal(m.name),
                             name=f"{for_terminal(code)} {for_terminal(name)}".strip())
        found = [f for f in m.findings if f.rule == code]
        failing = [f for f in found if fails(f, m.strict or report.strict)]
        if failing:
            failures += 1
            first = failing[0]
            message = f"{len(failing)} failing: " + ", ".join(for_terminal(f.key) for f in failing)
            failure = ET.SubElement(case, "failure", message=message, type=for_terminal(first.rule))
            failure.text = "\n".join(_line(report, f) for f in failing)
        rest = [f for f in found if f not in failing]
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(_line(report, f) for f in rest)
    suite.set("tests", str(len(codes)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite


def _approvals(report: Report) -> ET.Element:
    suite = ET.Element("testsuite", name="approvals", tests="1", errors="0", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="approvals", name="stale approvals")
    stale = report.stale
    fail = bool(stale) and (report.strict or report.fail_on_stale)
    if fail:
        ET.SubElement(case, "failure", message=f"{len(stale)} stale approval(s)", type="stale").text = \
            "\n".join(approval_line(a, report) for a in stale)
    elif report.attention:
        ET.SubElement(case, "system-out").text = "\n".join(approval_line(a, report) for a in report.attention)
    suite.set("failures", "1" if fail else "0")
    return suite


def render_check(report: Report) -> str:
    suites = [_suite(report, m) for m in report.models] + [_approvals(report)]
    root = ET.Element("testsuites", name="driftguard")
    root.extend(suites)
    for attr in ("tests", "failures", "errors"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in suites)))
    root.append(ET.Comment(f" {summary_line(report)} ".replace("--", "- -")))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
