"""The published schemas: the JSON report validates against ``driftguard schema report``; the shipped
manifest and approvals schemas are the ones the pydantic models generate, and accept the example's files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import yaml

import driftguard
from driftguard import api, approvals, cli, manifest
from tests.dates import EXAMPLES_TODAY, examples_env

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"


def schema(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(api.schema(name))
    return data


@pytest.mark.parametrize("today", ["2026-12-01", "2027-10-21", "2027-11-30"])
def test_json_report_validates(today: str) -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=date.fromisoformat(today))
    data = json.loads(report.to_json())
    jsonschema.Draft202012Validator.check_schema(schema("report"))
    jsonschema.validate(data, schema("report"), cls=jsonschema.Draft202012Validator)
    finding = data["models"][0]["findings"][0]
    # the diff JSON names, shared with `driftguard diff --format json`
    assert {"key", "training", "deployed", "training_origin", "deployed_origin"} <= set(finding)
    assert set(finding["training_origin"]) >= {"path", "line"}


def test_schema_rejects_a_broken_report() -> None:
    data = json.loads(driftguard.check(EXAMPLE / "driftguard.yaml", today=EXAMPLES_TODAY).to_json())
    data["models"][0]["findings"][0]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema("report"), cls=jsonschema.Draft202012Validator)


def test_cli_json_validates() -> None:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--format", "json"], cwd=EXAMPLE,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **examples_env()})
    assert proc.returncode == 1, proc.stderr
    jsonschema.validate(json.loads(proc.stdout), schema("report"), cls=jsonschema.Draft202012Validator)


def test_shipped_schemas_are_generated_from_the_models() -> None:
    assert schema("manifest") == manifest.schema(), "regenerate driftguard/schemas/manifest.json"
    assert schema("approvals") == approvals.schema(), "regenerate driftguard/schemas/approvals.json"


def test_example_files_validate_against_published_schemas() -> None:
    for path in (EXAMPLE / "driftguard.yaml", ROOT / "driftguard.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema("manifest"))
    for path in (EXAMPLE / "approvals").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        data = {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}
        jsonschema.validate(data, schema("approvals"))


@pytest.mark.parametrize("name", ["manifest", "approvals", "report"])
def test_schema_command(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["schema", name]) == 0
    assert json.loads(capsys.readouterr().out)["$id"].endswith(f"/{name}.json")
