"""``driftguard check --format sarif``: SARIF 2.1.0 for GitHub code scanning (``upload-sarif``).

One result per finding: ``ruleId`` and ``ruleIndex`` into ``tool.driver.rules`` (one entry per rule of the
installation, from its documentation), ``level`` from the severity, the location of the value the finding
points at (the deployed one, else the training one) with ``region.startLine`` on the line that holds it, the
other side's value (and any related value) as ``relatedLocations``, and ``partialFingerprints`` from the
finding's fingerprint (model, rule, key, repository path: the alert survives moved lines). An approved finding
carries a ``suppressions`` entry (``kind: external``) naming the approval, its file and its reason. A
``--base`` run gives each result its ``baselineState``: ``unchanged`` for drift already there at the base
revision, ``new`` for drift the change made; the level stays the policy's (code scanning shows both, and the
gate fails on the new ones only).

Paths are repository-relative URIs (``uriBaseId: %SRCROOT%``), percent-encoded, so a file name cannot break
out of its URI. Texts meant for people (messages, justifications) have their controls escaped as in every
report; values under ``properties`` are data, exactly the input's. A pure function of the Report."""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from driftguard import __version__
from driftguard.model import Change, Judged, Origin, Severity, Status, Value
from driftguard.report import Report, RuleInfo, primary_origin
from driftguard.reporters.check_common import cell, status, where
from driftguard.reporters.escape import for_terminal, json_for_terminal, message_for_terminal

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: The ``partialFingerprints`` key: versioned, so a change of recipe is a new key, not a silent re-keying.
FINGERPRINT_KEY = "driftguardFingerprint/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
#: ``check --base``: a finding's change as SARIF's ``baselineState`` (3.27.24).
BASELINE_STATES = {Change.EXISTING: "unchanged", Change.INTRODUCED: "new"}


def _uri(report: Report, path: str) -> dict[str, str]:
    rel = report.repo_path(path)
    if os.path.isabs(rel):  # outside the repository: an absolute file URI
        return {"uri": PurePath(rel).as_uri()}
    return {"uri": quote(rel.encode("utf-8", "surrogatepass"), safe="/"), "uriBaseId": "%SRCROOT%"}


def _physical(report: Report, path: str, line: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"artifactLocation": _uri(report, path)}
    if line is not None and line >= 1:
        out["region"] = {"startLine": line}
    return out


def _related(report: Report, f: Judged, primary: Origin | None) -> list[dict[str, Any]]:
    values: list[tuple[str, Value]] = []
    if f.training is not None and f.training.origin is not primary:
        values.append(("training value", f.training))
    if f.deployed is not None and f.deployed.origin is not primary:
        values.append(("deployed value", f.deployed))
    values.extend(("related value", v) for v in f.related if v.origin is not primary)
    return [{"id": i, "physicalLocation": _physical(report, v.origin.path, v.origin.line),
             "message": {"text": f"{label} {cell(v)} ({where(v, report)})"}}
            for i, (label, v) in enumerate(values)]


def _suppressions(report: Report, f: Judged) -> list[dict[str, Any]]:
    if f.status != Status.APPROVED or f.approval is None:
        return []
    ref = report.approval(f.approval)
    # No ``status``: the published 2.1.0 schema calls it ``state`` where the standard's text says ``status``;
    # a suppression without either is an accepted one for every consumer, and valid against both.
    out: dict[str, Any] = {"kind": "external",
                           "justification": f"approved by {for_terminal(f.approval)}"
                                            + (f": {for_terminal(ref.reason)}" if ref and ref.reason else ""),
                           "properties": {"approval": f.approval}}
    if ref is not None:
        out["location"] = {"physicalLocation": _physical(report, ref.path, ref.line)}
        out["properties"]["expires"] = ref.expires
    return [out]


def _result(report: Report, f: Judged, index: int) -> dict[str, Any]:
    origin = primary_origin(f)
    model = f.model or ""
    text = f"{for_terminal(model)}: {message_for_terminal(f.message)} [{status(report, f)}]" if model \
        else f"{message_for_terminal(f.message)} [{status(report, f)}]"
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": text},
    }
    if f.change is not None:
        out["baselineState"] = BASELINE_STATES[f.change]
    logical = [{"name": f.key, "fullyQualifiedName": f"{model}/{f.key}" if model else f.key}]
    if origin is not None:
        out["locations"] = [{"physicalLocation": _physical(report, origin.path, origin.line),
                             "logicalLocations": logical}]
    else:
        out["locations"] = [{"logicalLocations": logical}]
    related = _related(report, f, origin)
    if related:
        out["relatedLocations"] = related
    out["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint or report.fingerprint(f)}
    suppressions = _suppressions(report, f)
    if suppressions:
        out["suppressions"] = suppressions
    props: dict[str, Any] = {"model": model, "key": f.key, "status": f.status,
                             "training": None if f.training is None else f.training.value,
                             "deployed": None if f.deployed is None else f.deployed.value}
    if f.approval is not None:
        props["approval"] = f.approval
    out["properties"] = props
    return out


def _rule(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary or info.name},
        "fullDescription": {"text": info.doc or info.summary or info.name},
        "help": {"text": info.doc or info.summary or info.name},
        "defaultConfiguration": {"level": LEVELS.get(info.severity, "warning"), "enabled": not info.opt_in},
        "properties": {"tags": ["driftguard", f"DG{info.code[2:3]}xx" if info.code.startswith("DG") else "plugin"]},
    }


def _rules(report: Report) -> list[RuleInfo]:
    """The report's rule table, plus a bare entry for any rule a finding names that the table lacks."""
    rules = {r.code: r for r in report.rules}
    for f in report.findings:
        rules.setdefault(f.rule, RuleInfo(f.rule, f.name, f.severity, f.name, f.name))
    return [rules[c] for c in sorted(rules)]


def to_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log (one run) as a JSON-ready dict."""
    rules = _rules(report)
    index = {r.code: i for i, r in enumerate(rules)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "driftguard", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule(r) for r in rules]}},
            "columnKind": "unicodeCodePoints",
            "results": [_result(report, f, index[f.rule]) for f in report.findings],
        }],
    }


def render_check(report: Report) -> str:
    return json_for_terminal(json.dumps(to_sarif(report), indent=2, ensure_ascii=False)) + "\n"
