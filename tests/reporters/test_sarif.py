"""``--format sarif``: the summarizer's SARIF validates against the official SARIF 2.1.0 schema, every result
points at the line that holds the offending value, approved findings carry a suppression naming the approval,
and fingerprints survive moved lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

import driftguard
from driftguard.model import Finding, Judged
from driftguard.report import ModelResult, Report
from driftguard.reporters import render_check, sarif
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
TODAY = EXAMPLES_TODAY


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


def log_of(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_check("sarif", report))
    return data


def line_at(base: Path, location: dict[str, Any]) -> str:
    phys = location["physicalLocation"]
    assert phys["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    path = base / unquote(phys["artifactLocation"]["uri"])
    return path.read_text(encoding="utf-8").splitlines()[phys["region"]["startLine"] - 1]


def field(f: Finding, side: str) -> str:
    """The name the file itself uses for the value (the last step of its pointer: ``/truncate_prompt_tokens``)."""
    value = f.deployed if side == "deployed" else f.training
    assert value is not None and value.origin.pointer
    return value.origin.pointer.rsplit("/", 1)[-1]


def test_summarizer_sarif_validates_against_the_official_schema() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    log = log_of(report)
    validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert len(run["results"]) == len(report.findings) == 2


def test_each_result_starts_on_the_line_holding_the_offending_value() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    by_print = {f.fingerprint: f for f in report.findings}
    results = log_of(report)["runs"][0]["results"]
    seen = set()
    for result in results:
        f = by_print[result["partialFingerprints"][sarif.FINGERPRINT_KEY]]
        assert f.deployed is not None and f.training is not None
        deployed_line = line_at(ROOT, result["locations"][0])
        assert field(f, "deployed") in deployed_line and str(f.deployed.value) in deployed_line
        (related,) = result["relatedLocations"]  # the training origin
        training_line = line_at(ROOT, related)
        assert field(f, "training") in training_line and str(f.training.value) in training_line
        seen.add((deployed_line.split(":")[0], training_line.strip().split(":")[0]))
    assert seen == {("top_p", '"top_p"'), ("truncate_prompt_tokens", '"model_max_length"')}


def test_rules_table_levels_and_suppressions() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    run = log_of(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    assert {r["id"] for r in rules} >= {"DG101", "DG104", "DG304", "DG401"}
    for rule in rules:  # from the rule docs: the anti-pattern and the best practice travel with each rule
        assert "**Anti-pattern**" in rule["help"]["text"] and "**Best practice**" in rule["help"]["text"]
    dg401 = next(r for r in rules if r["id"] == "DG401")
    assert dg401["defaultConfiguration"]["enabled"] is False  # opt-in
    results = {r["properties"]["key"]: r for r in run["results"]}
    for r in results.values():
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"] == "DG101"
        assert r["level"] == "error"
    approved, unapproved = results["generation.top_p"], results["preprocessing.max_length"]
    (suppression,) = approved["suppressions"]
    assert suppression["kind"] == "external" and "status" not in suppression and "state" not in suppression
    assert suppression["properties"]["approval"] == "summarizer-top-p"
    assert suppression["justification"].startswith("approved by summarizer-top-p: top_p lowered to 0.85")
    where = suppression["location"]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "examples/summarizer/approvals/summarizer-top-p.yaml"
    assert "suppressions" not in unapproved
    assert "[UNAPPROVED]" in unapproved["message"]["text"]


def test_fingerprints_survive_moved_lines_and_a_changed_value(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLE, tmp_path / "summarizer")
    manifest = tmp_path / "summarizer" / "driftguard.yaml"
    before = log_of(driftguard.check(manifest, today=TODAY))["runs"][0]["results"]
    params = tmp_path / "summarizer" / "deployment" / "sampling-params.yaml"
    params.write_text("# moved\n\n" + params.read_text().replace("truncate_prompt_tokens: 512",
                                                                  "truncate_prompt_tokens: 256"))
    after = log_of(driftguard.check(manifest, today=TODAY))["runs"][0]["results"]

    def prints(results: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return [(r["partialFingerprints"][sarif.FINGERPRINT_KEY],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results]

    assert [p for p, _ in prints(before)] == [p for p, _ in prints(after)]
    assert [line + 2 for _, line in prints(before)] == [line for _, line in prints(after)]
    for r in after:
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
            "summarizer/deployment/sampling-params.yaml"


def test_pbtxt_value_lands_on_its_line() -> None:
    """A Triton value as the extractor reads it (a real config.pbtxt) points at the line that holds it."""
    path = ROOT / "tests" / "fixtures" / "triton" / "good" / "simple_dyna_sequence.pbtxt"
    cfg = driftguard.extract(path)
    deployed = cfg["batching.max_batch_size"]
    finding = Finding("DG101", "drift.value", "batching.max_batch_size", "batching.max_batch_size: 4 != 8",
                      model="m", deployed=deployed, training=None)
    report = Report((ModelResult("m", (Judged(finding),)),), root=str(ROOT), cwd=str(ROOT))
    log = log_of(report)
    validate(log)
    (result,) = log["runs"][0]["results"]
    assert line_at(ROOT, result["locations"][0]).startswith("max_batch_size: 8")
    assert "relatedLocations" not in result
    assert result["partialFingerprints"][sarif.FINGERPRINT_KEY] == report.fingerprint(finding)


@pytest.mark.parametrize(("name", "encoded"), [("sampling params #1%.yaml", "sampling%20params%20%231%25.yaml"),
                                               ("naïve,req:v.yaml", "na%C3%AFve%2Creq%3Av.yaml")])
def test_file_names_are_percent_encoded_uris(tmp_path: Path, name: str, encoded: str) -> None:
    dst = tmp_path / "summarizer"
    shutil.copytree(EXAMPLE, dst)
    (dst / "deployment" / "sampling-params.yaml").rename(dst / "deployment" / name)
    manifest = dst / "driftguard.yaml"
    manifest.write_text(manifest.read_text().replace("deployment/sampling-params.yaml", f"'deployment/{name}'"))
    report = driftguard.check(manifest, today=TODAY)
    log = log_of(report)
    validate(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    (uri,) = uris
    assert uri == f"deployment/{encoded}"
    assert unquote(uri) == f"deployment/{name}"


def test_a_report_without_rule_docs_still_names_its_rules() -> None:
    finding = Finding("X900", "plugin.rule", "k", "k differs", model="m", severity="info")
    log = log_of(Report((ModelResult("m", (Judged(finding),)),)))
    validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["X900"]
    assert run["results"][0]["level"] == "note"
    assert run["results"][0]["locations"] == [{"logicalLocations": [{"name": "k", "fullyQualifiedName": "m/k"}]}]


def test_an_expired_approval_suppresses_nothing() -> None:
    """Code scanning hides a result that carries a suppression: the day after the summarizer's approval expires
    (it holds through 2027-10-31), its top_p finding is a failing error with no suppression, still naming the
    approval in its properties, and the log stays valid."""
    from datetime import date

    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=date(2027, 11, 1))
    log = log_of(report)
    validate(log)
    (top_p,) = [r for r in log["runs"][0]["results"] if r["properties"]["key"] == "generation.top_p"]
    assert top_p["properties"]["status"] == "expired" and top_p["properties"]["approval"] == "summarizer-top-p"
    assert top_p["level"] == "error" and "suppressions" not in top_p
    assert not report.ok


def test_base_run_marks_each_result_new_or_unchanged(tmp_path: Path) -> None:
    """With ``--base``, drift already there at the base revision is ``baselineState: unchanged`` and drift the
    change made is ``new`` (SARIF 2.1.0, 3.27.24); both keep the level the policy gives (error), and the log
    stays valid. A run without a base has no baselineState at all."""
    import os
    import subprocess

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    params = repo / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("temperature: 0.7", "temperature: 0.5"),
                      encoding="utf-8")
    log = log_of(driftguard.check(repo / "driftguard.yaml", today=TODAY, base="HEAD"))
    validate(log)
    states = {r["properties"]["key"]: (r["baselineState"], r["level"]) for r in log["runs"][0]["results"]}
    assert states == {"generation.temperature": ("new", "error"), "generation.top_p": ("unchanged", "error"),
                      "preprocessing.max_length": ("unchanged", "error")}
    plain = log_of(driftguard.check(repo / "driftguard.yaml", today=TODAY))
    assert all("baselineState" not in r for r in plain["runs"][0]["results"])


# Issue 25 point 2: mutants of sarif.py that survived the tests above. Expected values come from the SARIF 2.1.0
# schema (tests/schemas: region.startLine "minimum": 1; result.relatedLocations "locations relevant to this
# result"; reportingDescriptor shortDescription "a concise description", fullDescription "a description"), the
# module's documented contract (its docstring) and values written out by hand, not from sarif.py's code.

def _one(finding: Finding, status: str = "unapproved", approval: str | None = None,
         approvals: tuple[Any, ...] = (), rules: tuple[Any, ...] = ()) -> dict[str, Any]:
    report = Report((ModelResult(finding.model or "", (Judged(finding, status, approval),)),),
                    approvals=approvals, rules=rules)
    log = log_of(report)
    validate(log)
    result: dict[str, Any] = log["runs"][0]["results"][0]
    return result


def _at(path: str, line: int | None, pointer: str | None = None) -> Any:
    from driftguard.model import Origin, Value

    return Value(0.5, Origin(path, line, pointer))


@pytest.mark.parametrize(("line", "region"), [(1, {"startLine": 1}), (2, {"startLine": 2}), (0, None), (None, None)])
def test_start_line_is_the_values_line_from_the_first_and_none_below_it(line: int | None,
                                                                        region: dict[str, int] | None) -> None:
    """startLine is 1-based (the schema's minimum is 1), so a value on line 1 has a region with startLine
    1, and a value with no line (or an impossible line 0) has no region at all rather than an invalid one."""
    finding = Finding("DG101", "drift.value", "k", "k differs", model="m", deployed=_at("d.yaml", line))
    (location,) = _one(finding)["locations"]
    assert location["physicalLocation"].get("region") == region
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "d.yaml", "uriBaseId": "%SRCROOT%"}


def test_related_locations_are_every_value_but_the_one_the_result_points_at() -> None:
    """relatedLocations: the training value and each related value, in that order, with their own lines
    and ids 0, 1..., each message naming which value it is; the deployed value is the result's location."""
    finding = Finding("DG101", "drift.value", "k", "k differs", model="m", deployed=_at("d.yaml", 3),
                      training=_at("t.json", 7), related=(_at("r.yaml", 11),))
    result = _one(finding)
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    related = [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"],
                r["message"]["text"].split(" ")[0]) for r in result["relatedLocations"]]
    assert related == [(0, "t.json", {"startLine": 7}, "training"), (1, "r.yaml", {"startLine": 11}, "related")]


def test_a_finding_with_only_related_values_points_at_the_first_and_relates_the_rest() -> None:
    finding = Finding("DG101", "drift.value", "k", "k differs", model="m",
                      related=(_at("a.yaml", 2), _at("b.yaml", 5), _at("c.yaml", 8)))
    result = _one(finding)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.yaml"
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in result["relatedLocations"]] == \
        ["b.yaml", "c.yaml"]


def test_the_other_sides_value_is_related_even_where_an_equal_origin_is_written() -> None:
    """The training value read at the same place as the deployed one (an equal Origin, another object) is still
    the other side's value: its related location says so, with the value."""
    finding = Finding("DG101", "drift.value", "k", "k differs", model="m", deployed=_at("same.yaml", 4, "/k"),
                      training=_at("same.yaml", 4, "/k"))
    (related,) = _one(finding)["relatedLocations"]
    assert related["message"]["text"].startswith("training value 0.5 ")
    seen_twice = Finding("DG101", "drift.value", "k", "k differs", model="m", deployed=_at("same.yaml", 4, "/k"),
                         related=(_at("same.yaml", 4, "/k"),))
    (related,) = _one(seen_twice)["relatedLocations"]
    assert related["message"]["text"].startswith("related value 0.5 ")


@pytest.mark.parametrize(("model", "text"), [("m", "m: k differs [UNAPPROVED]"), (None, "k differs [UNAPPROVED]")])
def test_the_message_names_the_model_when_there_is_one(model: str | None, text: str) -> None:
    finding = Finding("DG101", "drift.value", "k", "k differs", model=model, deployed=_at("d.yaml", 1))
    result = _one(finding)
    assert result["message"]["text"] == text
    fqn = "m/k" if model else "k"
    assert result["locations"][0]["logicalLocations"] == [{"name": "k", "fullyQualifiedName": fqn}]


def _approval(reason: str) -> Any:
    from driftguard.report import ApprovalRef

    return ApprovalRef("a-1", "approvals/a-1.yaml", 3, "m", "k", "2027-01-31", 30, "used", reason=reason)


@pytest.mark.parametrize(("approvals", "justification", "where"), [
    ((), "approved by a-1", None),
    ((_approval(""),), "approved by a-1", {"uri": "approvals/a-1.yaml", "uriBaseId": "%SRCROOT%"}),
    ((_approval("accepted for v2"),), "approved by a-1: accepted for v2",
     {"uri": "approvals/a-1.yaml", "uriBaseId": "%SRCROOT%"}),
])
def test_a_suppression_justifies_with_the_approvals_reason_where_there_is_one(
        approvals: tuple[Any, ...], justification: str, where: dict[str, str] | None) -> None:
    """An approved result carries one external suppression; its justification names the approval and
    its reason (none: no trailing colon), its location the approval file when the report lists it."""
    finding = Finding("DG101", "drift.value", "k", "k differs", model="m", deployed=_at("d.yaml", 1))
    (suppression,) = _one(finding, "approved", "a-1", approvals)["suppressions"]
    assert suppression["justification"] == justification
    assert suppression.get("location", {}).get("physicalLocation", {}).get("artifactLocation") == where


def test_rule_descriptions_fall_back_from_doc_to_summary_to_name() -> None:
    """shortDescription, fullDescription and help: the docstring's first line, the whole
    docstring; where one is missing the next best text, never an empty string."""
    from driftguard.model import Severity
    from driftguard.report import RuleInfo

    rules = (RuleInfo("DG101", "drift.value", Severity.ERROR, "S1", "D1"),
             RuleInfo("DG102", "drift.other", Severity.WARNING, "S2", ""),
             RuleInfo("DG103", "drift.third", Severity.INFO, "", ""),
             RuleInfo("X900", "plugin.rule", Severity.WARNING, "", "D4", opt_in=True))
    finding = Finding("DG101", "drift.value", "k", "k differs", model="m", deployed=_at("d.yaml", 1))
    report = Report((ModelResult("m", (Judged(finding),)),), rules=rules)
    log = log_of(report)
    validate(log)
    table = {r["id"]: (r["shortDescription"]["text"], r["fullDescription"]["text"], r["help"]["text"],
                       r["defaultConfiguration"], r["properties"]["tags"])
             for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert table == {
        "DG101": ("S1", "D1", "D1", {"level": "error", "enabled": True}, ["driftguard", "DG1xx"]),
        "DG102": ("S2", "S2", "S2", {"level": "warning", "enabled": True}, ["driftguard", "DG1xx"]),
        "DG103": ("drift.third", "drift.third", "drift.third", {"level": "note", "enabled": True},
                  ["driftguard", "DG1xx"]),
        "X900": ("plugin.rule", "D4", "D4", {"level": "warning", "enabled": False}, ["driftguard", "plugin"]),
    }


def test_the_summarizers_rules_are_tagged_by_their_hundreds() -> None:
    rules = log_of(driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY))["runs"][0]["tool"]["driver"]["rules"]
    tags = {r["id"]: r["properties"]["tags"] for r in rules}
    assert tags["DG101"] == ["driftguard", "DG1xx"] and tags["DG401"] == ["driftguard", "DG4xx"]
    assert all(t[1] == f"DG{code[2]}xx" for code, t in tags.items())


def test_the_log_is_utf8_json_indented_by_two() -> None:
    """The file is UTF-8 (GitHub code scanning reads it so): text outside ASCII is written as itself, not as
    \\u escapes; two-space indentation as every driftguard JSON output."""
    finding = Finding("DG101", "drift.value", "k", "température differs", model="modèle",
                      deployed=_at("d.yaml", 1))
    text = render_check("sarif", Report((ModelResult("modèle", (Judged(finding),)),)))
    assert "modèle: température differs" in text and "\\u00e8" not in text
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == '  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",'
    assert text.endswith("}\n")
