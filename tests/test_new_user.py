"""What a new user hits first (issue 11): the distribution name, --version, finding the manifest in a parent
folder, severity off, readable origins, dir(driftguard), and a crash that leaves a log to report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import driftguard
from driftguard import cli
from driftguard.model import Origin
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO, examples_env

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_the_distribution_is_not_the_unrelated_driftguard_on_the_index() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "driftguard-ml"
    assert all("driftguard-ml[" in dep for dep in project["optional-dependencies"]["all"])
    readme = (ROOT / "README.md").read_text()
    assert "pip install driftguard-ml" in readme and "pip install driftguard\n" not in readme
    assert "pip install 'driftguard[" not in readme


def test_missing_extra_names_this_distribution() -> None:
    from driftguard.errors import MissingExtraError

    assert "pip install 'driftguard-ml[onnx]'" in str(MissingExtraError("ONNX graphs", "onnx", "onnx"))


def test_version(tmp_path: Path) -> None:
    proc = _run("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"driftguard {driftguard.__version__} (distribution " \
                                                           "driftguard-ml)"


def test_check_finds_the_manifest_in_a_parent_folder(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "summarizer")
    deep = tmp_path / "summarizer" / "deployment" / "model_repository"
    here = _run("check", cwd=tmp_path / "summarizer", env=examples_env())
    below = _run("check", cwd=deep, env=examples_env())
    assert here.returncode == below.returncode == 1
    # paths stay relative to the working folder, as git shows them
    assert "training/tokenizer_config.json:10" in here.stdout
    assert "../../training/tokenizer_config.json:10" in below.stdout


def test_no_manifest_anywhere_is_one_clear_line(tmp_path: Path) -> None:
    proc = _run("check", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "driftguard: error: no driftguard.yaml here or in any parent folder; pass --config FILE, or write one "
        "with `driftguard init`"]


def test_severity_off_drops_a_rule(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "s")
    manifest = tmp_path / "s" / "driftguard.yaml"
    manifest.write_text(manifest.read_text() + "rules:\n  severity: {DG101: off}\n")  # YAML reads off as false
    proc = _run("check", cwd=tmp_path / "s", env=examples_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "DG101" not in proc.stdout


def test_origin_reads_as_reports_show_it() -> None:
    assert str(Origin("a/b.json", 4, "/top_p", "request")) == "a/b.json:4 (request)"
    assert str(Origin("a/b.json")) == "a/b.json"


def test_dir_shows_the_lazy_api() -> None:
    names = dir(driftguard)
    assert {"check", "diff", "extract", "parity", "Report", "Origin", "Judged", "Status", "Severity", "How"} \
        <= set(names)
    assert driftguard.Status.APPROVED == "approved" and driftguard.Judged.__module__ == "driftguard.model"


def test_an_internal_error_leaves_a_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from driftguard import api

    def broken(name: str) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "schema", broken)
    log = tmp_path / "crash.log"
    monkeypatch.setenv("DRIFTGUARD_LOG", str(log))
    assert cli.run(["schema", "report"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert f"details in {log}" in err and "RuntimeError: boom" in err
    text = log.read_text()
    assert text.startswith(f"driftguard {driftguard.__version__}, Python ")
    assert "command: driftguard schema report" in text and 'raise RuntimeError("boom")' in text


def _approval(folder: Path, ident: str, **fields: object) -> None:
    import yaml

    data = {"id": ident, "model": "summarizer", "key": "preprocessing.max_length", "training": 1024,
            "deployed": 512, "reason": "r", "approved_by": "dana", "expires": "2027-01-31", **fields}
    (folder / "approvals" / f"{ident}.yaml").write_text(yaml.safe_dump(data))


def test_an_approval_for_an_unknown_model_or_rule_is_stale_with_the_reason(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "s")
    _approval(tmp_path / "s", "typo-model", model="summariser")
    _approval(tmp_path / "s", "typo-rule", rule="DG999")
    report = driftguard.check(tmp_path / "s" / "driftguard.yaml", today=EXAMPLES_TODAY)
    notes = {a.id: a.note for a in report.approvals if a.state == "stale"}
    assert "names model 'summariser', which the manifest does not have (models: summarizer)" in notes["typo-model"]
    assert "names rule 'DG999', which does not exist" in notes["typo-rule"]


def test_an_approval_names_who_approved_it(tmp_path: Path) -> None:
    from driftguard.errors import ApprovalError

    shutil.copytree(EXAMPLE, tmp_path / "s")
    _approval(tmp_path / "s", "nobody", approved_by=None)
    with pytest.raises(ApprovalError, match="approved_by"):
        driftguard.check(tmp_path / "s" / "driftguard.yaml", today=EXAMPLES_TODAY)


def test_approve_beyond_the_horizon_names_the_option_not_an_unwritten_file(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "s")
    too_late = (EXAMPLES_TODAY + timedelta(days=366)).isoformat()
    proc = _run("approve", "summarizer", "preprocessing.max_length", "--reason", "x", "--expires", too_late,
                "--by", "dana", "--today", EXAMPLES_TODAY_ISO, cwd=tmp_path / "s")
    assert proc.returncode == 2
    assert proc.stderr == (f"driftguard: error: --expires: expires {too_late} is 366 days after approved_on "
                           f"{EXAMPLES_TODAY_ISO}; the longest allowed is 365 days "
                           "(approval_policy.max_horizon_days in driftguard.yaml)\n")
    assert "approvals/" not in proc.stderr and not (tmp_path / "s" / "approvals" /
                                                     "summarizer-preprocessing-max_length.yaml").exists()


def test_a_consistency_finding_of_a_folder_on_both_sides_is_listed_once(tmp_path: Path) -> None:
    import json

    model = tmp_path / "model"
    model.mkdir()
    (model / "generation_config.json").write_text(json.dumps({"eos_token_id": 2, "do_sample": False}))
    (model / "config.json").write_text(json.dumps({"model_type": "llama", "eos_token_id": 3}))
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training: [{path: model, kind: hf-model}]\n"
        "    deployment: [{path: model, kind: hf-model}]\n")
    report = driftguard.check(tmp_path / "driftguard.yaml")
    dg201 = [f for f in report.findings if f.rule == "DG201"]
    assert len(dg201) == 1, [f.message for f in dg201]
    text = _run("check", cwd=tmp_path).stdout
    assert text.count("DG201") == 2  # its row in the one-side table, and its details line
    row = next(line for line in text.splitlines() if line.startswith("generation.eos_token_id"))
    assert "[2] vs [3]" in row or "2 vs 3" in row, text


def test_dg103_says_the_key_once(tmp_path: Path) -> None:
    import json

    (tmp_path / "generation_config.json").write_text(json.dumps({"do_sample": False, "no_repeat_ngram_size": 3}))
    (tmp_path / "req.json").write_text(json.dumps({"prompt": "x", "temperature": 0, "max_tokens": 20}))
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
        "    deployment: [{path: req.json, kind: vllm}]\n")
    out = _run("check", cwd=tmp_path).stdout
    details = [line for line in out.splitlines() if line.startswith("  DG103 ")]
    assert details and all(line.count(line.split()[1].rstrip(":")) == 1 for line in details), out
    assert any("DG103 generation.no_repeat_ngram_size: set on the training side only (3)" in line
               for line in details), out


def test_one_side_findings_with_and_without_lines_are_told_apart() -> None:
    from driftguard.gate.pipeline import distinct
    from driftguard.model import Finding, Value

    a = Value(1, Origin("a.json", 3))
    b = Value(2, Origin("b.json"))  # a documented default: no line
    f = Finding("DG201", "x", "k", "m", related=(a, b))
    assert distinct([f, f]) == [f]
    g = Finding("DG201", "x", "k", "m", related=(b, Value(2, Origin("b.json", 1))))
    assert distinct([f, g]) == [f, g]


@pytest.mark.slow
def test_rule_options_are_checked_when_the_manifest_loads(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "s")
    manifest = tmp_path / "s" / "driftguard.yaml"
    base = manifest.read_text()
    lines = base.count("\n")
    for options, message in (
        ("DG401: {min_element: 16}", "rules.options.DG401: unknown option 'min_element'; options: min_elements, "
                                     "ignore"),
        ("DG401: {min_elements: sixteen}", "rules.options.DG401: min_elements must be a non-negative integer, "
                                           "got 'sixteen'"),
        ("DG101: {tolerance: 1}", "rules.options.DG101: this rule takes no options"),
        ("DG999: {}", "rules.options.DG999: no rule DG999 takes options"),
    ):
        manifest.write_text(base + f"rules:\n  options:\n    {options}\n")
        proc = _run("check", cwd=tmp_path / "s")
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith(f"driftguard: error: driftguard.yaml:{lines + 3}: {message}"), proc.stderr


def test_output_writes_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    proc = _run("check", "-o", str(out), cwd=EXAMPLE, env=examples_env())
    assert proc.returncode == 1 and proc.stdout == ""
    assert out.read_text().startswith("== summarizer: 2 findings, 1 failing\nkey ")
    extracted = tmp_path / "gen.json"
    proc = _run("extract", "--format", "json", "--output", str(extracted), "training/generation_config.json",
                cwd=EXAMPLE)
    assert proc.returncode == 0 and proc.stdout == ""
    assert '"kind": "hf-generation"' in extracted.read_text()
    proc = _run("check", "-o", str(tmp_path / "no" / "such" / "dir.txt"), cwd=EXAMPLE, env=examples_env())
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot write" in proc.stderr
