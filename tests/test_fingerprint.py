"""A finding's fingerprint: model, rule, key and the repository path of the file it points at; never a line
number, whatever folder the check ran in. The Report carries the repository root so paths are relative to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import driftguard
from driftguard.model import Finding, Origin, Value
from driftguard.report import ModelResult, Report, fingerprint
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY


def prints(report: Report) -> dict[str, str]:
    return {f.key: f.fingerprint or "" for f in report.findings}


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The summarizer in a repository of its own (a ``.git`` folder marks the root), one folder down."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLE, tmp_path / "models" / "summarizer")
    return tmp_path


def test_every_finding_is_stamped_and_the_json_report_carries_it() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    found = prints(report)
    assert set(found) == {"generation.top_p", "preprocessing.max_length"}
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in found.values())
    assert len(set(found.values())) == 2
    data = report.to_dict()
    assert {f["key"]: f["fingerprint"] for f in data["models"][0]["findings"]} == found
    f = next(f for f in report.findings if f.key == "preprocessing.max_length")
    assert f.fingerprint == fingerprint("summarizer", "DG101", "preprocessing.max_length",
                                        "examples/summarizer/deployment/sampling-params.yaml")


def test_root_is_the_repository_and_paths_are_relative_to_it_from_any_folder(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    at_root = driftguard.check("driftguard.yaml", today=TODAY)
    monkeypatch.chdir(EXAMPLE)
    in_example = driftguard.check("driftguard.yaml", today=TODAY)
    absolute = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    assert Path(at_root.root) == Path(in_example.root) == Path(absolute.root) == ROOT
    assert prints(at_root) == prints(in_example) == prints(absolute)
    for report in (at_root, in_example, absolute):
        paths = {report.repo_path(o.path) for f in report.findings for o in f.origins()}
        assert paths == {"examples/summarizer/deployment/sampling-params.yaml",
                         "examples/summarizer/training/generation_config.json",
                         "examples/summarizer/training/tokenizer_config.json"}


def test_moving_lines_keeps_the_fingerprint_changing_the_file_or_key_does_not(repo: Path) -> None:
    manifest = repo / "models" / "summarizer" / "driftguard.yaml"
    before = driftguard.check(manifest, today=TODAY)
    params = repo / "models" / "summarizer" / "deployment" / "sampling-params.yaml"
    params.write_text("# a new header\n# and another line\n" + params.read_text().replace("top_p: 0.85", "top_p: 0.8"))
    after = driftguard.check(manifest, today=TODAY)
    line = {f.key: f.deployed.origin.line for r in (before, after) for f in r.findings if f.deployed}
    moved = [f.deployed.origin.line for f in after.findings if f.deployed]
    assert moved != [f.deployed.origin.line for f in before.findings if f.deployed], line
    assert prints(after) == prints(before)
    assert Path(after.root) == repo.resolve()
    shutil.move(params, params.with_name("request.yaml"))
    text = manifest.read_text().replace("deployment/sampling-params.yaml", "deployment/request.yaml")
    manifest.write_text(text)
    renamed = driftguard.check(manifest, today=TODAY)
    assert set(prints(renamed).values()).isdisjoint(prints(before).values())


def test_no_repository_the_manifest_folder_is_the_root(tmp_path: Path) -> None:
    dst = tmp_path / "summarizer"
    shutil.copytree(EXAMPLE, dst)
    if any((p / ".git").exists() for p in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder lies inside a git repository")
    report = driftguard.check(dst / "driftguard.yaml", today=TODAY)
    assert Path(report.root) == dst.resolve()
    assert {report.repo_path(f.deployed.origin.path) for f in report.findings if f.deployed} == {
        "deployment/sampling-params.yaml"}


def test_fingerprint_ignores_line_value_and_message() -> None:
    def finding(line: int, value: float, message: str) -> Finding:
        return Finding("DG101", "drift.value", "generation.top_p", message, model="m",
                       training=Value(0.9, Origin("t.json", 3)), deployed=Value(value, Origin("/r/d.yaml", line)))

    report = Report((ModelResult("m", ()),), root="/r", cwd="/r")
    a = report.fingerprint(finding(4, 0.85, "x"))
    assert a == report.fingerprint(finding(40, 0.5, "y"))
    assert a == fingerprint("m", "DG101", "generation.top_p", "d.yaml")
    assert a != fingerprint("m", "DG102", "generation.top_p", "d.yaml")
    assert a != fingerprint("n", "DG101", "generation.top_p", "d.yaml")
    # no field can forge a separator, and any string is accepted (a lone surrogate from a file name too)
    assert fingerprint("a", "R", "b\0c", "f") != fingerprint("a", "R", "b", "c\0f")
    assert fingerprint("a", "R", "k", "\udcff") != fingerprint("a", "R", "k", "\udcfe")
    outside = Report((), root="/r", cwd="/elsewhere")
    assert outside.repo_path("x.yaml") == "x.yaml"
    assert outside.repo_path("/r/sub/x.yaml") == "sub/x.yaml"
