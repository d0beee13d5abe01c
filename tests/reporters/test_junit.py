"""``--format junit``: a test case per model x rule that ran, a failure exactly where the gate fails, and XML
that parses whatever the input held."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import driftguard
from driftguard.model import Finding, Judged, Origin, Value
from driftguard.report import ApprovalRef, ModelResult, Report
from driftguard.reporters import render_check
from driftguard.rules.engine import selected_rules
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY


def test_summarizer_one_case_per_rule_one_failure() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    root = ET.fromstring(render_check("junit", report))
    suite = root.find("testsuite[@name='summarizer']")
    assert suite is not None
    cases = suite.findall("testcase")
    ran = [cls.code for cls, _ in selected_rules()]
    assert [c.get("name", "").split()[0] for c in cases] == ran  # every rule that ran, DG401 (opt-in) not
    assert "DG401" not in ran and suite.get("tests") == str(len(ran))
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["DG101 drift.value"]
    failure = failed[0].find("failure")
    assert failure is not None and failure.get("message") == "1 failing: preprocessing.max_length"
    assert (failure.text or "").startswith("preprocessing.max_length: training 1024 != deployed 512 [UNAPPROVED]")
    out = failed[0].find("system-out")
    assert out is not None and "[approved by summarizer-top-p]" in (out.text or "")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (str(len(ran) + 1), "1", "0")


def test_no_failure_once_the_gate_passes(tmp_path: Path) -> None:
    dst = tmp_path / "summarizer"
    shutil.copytree(EXAMPLE, dst)
    params = dst / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    report = driftguard.check(dst / "driftguard.yaml", today=TODAY)
    assert report.ok
    root = ET.fromstring(render_check("junit", report))
    assert root.get("failures") == "0" and not root.findall(".//failure")


def test_stale_approvals_fail_only_when_they_fail_the_gate() -> None:
    stale = ApprovalRef("old", "approvals/old.yaml", 1, "m", "k", "2027-01-01", 30, "stale")
    lenient = Report((ModelResult("m", ()),), (stale,))
    strict = Report((ModelResult("m", ()),), (stale,), fail_on_stale=True)
    assert lenient.ok and not strict.ok
    assert not ET.fromstring(render_check("junit", lenient)).findall(".//failure")
    (failure,) = ET.fromstring(render_check("junit", strict)).findall(".//failure")
    assert "stale approval old (approvals/old.yaml:1)" in (failure.text or "")


def test_control_characters_cannot_break_the_xml() -> None:
    key = "k\x00\x1b[2J\x0c]]><x/>--"
    finding = Finding("DG101", "drift.value", key, f"{key} differs", model="m\x07<",
                      deployed=Value("v\x00", Origin("d\x1b.yaml", 1)), training=Value(1, Origin("t.json", 2)))
    text = render_check("junit", Report((ModelResult("m\x07<", (Judged(finding),)),)))
    root = ET.fromstring(text)
    (failure,) = root.findall(".//failure")
    assert "k\\x00\\x1b[2J\\x0c]]><x/>--" in (failure.get("message") or "")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "m\\x07<"
