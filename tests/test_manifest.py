"""A manifest artifact that is missing, of an unknown kind, of a kind that cannot be told, or outside the
checked tree: ``driftguard check`` exits 2 with one line naming the manifest file and the entry's line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ManifestError
from driftguard.manifest import Artifact, Manifest, ModelSpec, load

HEAD = "version: 1\nmodels:\n  m:\n    training:\n      - path: generation_config.json\n    deployment:\n"


def check(tmp_path: Path, deployment: str) -> str:
    (tmp_path / "generation_config.json").write_text('{"temperature": 0.7}\n')
    (tmp_path / "tgi.json").write_text('{"parameters": {"temperature": 0.7}}\n')
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "driftguard.yaml").write_text(HEAD + deployment)
    res = subprocess.run([sys.executable, "-m", "driftguard", "check"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0].removeprefix("driftguard: error: ")


def test_missing_artifact_names_the_manifest_line_of_its_path(tmp_path: Path) -> None:
    line = check(tmp_path, "      - kind: tgi\n        path: deploy/request.json\n")
    assert line == "driftguard.yaml:8: models.m.deployment[0].path: 'deploy/request.json': no such file or folder"


def test_unknown_kind_names_the_manifest_line_of_its_kind(tmp_path: Path) -> None:
    line = check(tmp_path, "      - path: tgi.json\n        kind: tgi-server\n")
    assert line.startswith("driftguard.yaml:8: models.m.deployment[0].kind: unknown kind 'tgi-server'; known "
                           "kinds: triton, ")


def test_flow_style_entry_names_its_own_line(tmp_path: Path) -> None:
    line = check(tmp_path, "      - {path: tgi.json, kind: tgix}\n")
    assert line.startswith("driftguard.yaml:7: models.m.deployment[0].kind: unknown kind 'tgix'")


def test_undetectable_kind_names_the_manifest_line_of_its_path(tmp_path: Path) -> None:
    line = check(tmp_path, "      - path: notes.txt\n")
    assert line.startswith("driftguard.yaml:7: models.m.deployment[0].path: 'notes.txt': cannot tell what kind")


def test_artifact_outside_the_tree_names_the_manifest_line(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "outside.json").write_text('{"temperature": 0.7}\n')
    line = check(inner, "      - path: ../outside.json\n        kind: tgi\n")
    assert line.startswith("driftguard.yaml:7: models.m.deployment[0].path: '../outside.json': artifact ")
    assert "outside" in line and "refused" in line


def test_api_error_carries_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "generation_config.json").write_text('{"temperature": 0.7}\n')
    (tmp_path / "driftguard.yaml").write_text(HEAD + "      - path: gone.json\n")
    with pytest.raises(ManifestError) as info:
        api.check(tmp_path / "driftguard.yaml")
    assert (info.value.path, info.value.line) == (str(tmp_path / "driftguard.yaml"), 7)


def test_an_entry_built_in_code_has_no_line() -> None:
    m = Manifest(models={"m": ModelSpec(training=[Artifact(path="a.json")], deployment=[Artifact(path="x.json")])})
    assert m.artifact_at("m", "deployment", 0, "path") == ("models.m.deployment[0].path", None)


def test_a_worker_manifest_keeps_the_lines_of_its_models(tmp_path: Path) -> None:
    (tmp_path / "driftguard.yaml").write_text(HEAD + "      - path: gone.json\n        kind: tgi\n")
    m = load(tmp_path / "driftguard.yaml")
    assert m.artifact_at("m", "deployment", 0, "kind") == ("models.m.deployment[0].kind", 8)
    assert m.artifact_at("m", "deployment", 0, "set") == ("models.m.deployment[0].set", 7)  # the entry's line
    assert m.for_models(["m"]).artifact_at("m", "deployment", 0, "path") == ("models.m.deployment[0].path", 7)


def test_readme_shows_the_real_line(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = check(tmp_path, "      - kind: tgi\n        path: deploy/request.json\n")
    assert f"`driftguard: error: {line}`" in readme


def test_a_worker_process_names_the_line_too(tmp_path: Path) -> None:
    """--jobs 2: the entry is checked in a worker process, which gets only its models' part of the manifest."""
    second = "  n:\n    training:\n      - path: generation_config.json\n    deployment:\n      - path: gone.json\n"
    (tmp_path / "generation_config.json").write_text('{"temperature": 0.7}\n')
    (tmp_path / "driftguard.yaml").write_text(HEAD + "      - path: generation_config.json\n" + second)
    res = subprocess.run([sys.executable, "-m", "driftguard", "check", "--jobs", "2"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stderr.startswith("driftguard: error: driftguard.yaml:12: models.n.deployment[0].path: 'gone.json'")


# --- issue 23 point 7: the error points at the cause, with the closest name --------------------------------

def test_a_misspelt_side_is_the_error_not_the_missing_side(tmp_path: Path) -> None:
    """``deploymnet:`` was "deployment: required field is missing (and 1 more)" at the model's line."""
    (tmp_path / "driftguard.yaml").write_text(HEAD.replace("    deployment:\n", "    deploymnet:\n")
                                              + "      - path: tgi.json\n")
    res = subprocess.run([sys.executable, "-m", "driftguard", "check"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    line = res.stderr.strip().removeprefix("driftguard: error: ")
    assert res.returncode == 2
    assert line == "driftguard.yaml:6: models.m.deploymnet: unknown field; did you mean deployment?"


def test_a_misspelt_field_anywhere_gets_the_closest_name(tmp_path: Path) -> None:
    line = check(tmp_path, "      - path: tgi.json\n        knd: tgi\nrules:\n  ignore_kyes: [x]\n")
    assert line == "driftguard.yaml:8: models.m.deployment[0].knd: unknown field; did you mean kind? " \
                   "(and one more at rules.ignore_kyes)"


def test_a_misspelt_kind_gets_the_closest_kind(tmp_path: Path) -> None:
    line = check(tmp_path, "      - path: tgi.json\n        kind: tgj\n")
    assert line.startswith("driftguard.yaml:8: models.m.deployment[0].kind: unknown kind 'tgj'; known kinds: ")
    assert line.endswith("; did you mean tgi?")


@pytest.mark.parametrize(("rules", "where", "code", "near"), [
    ("  select: [DG101, DG1O2]\n", "rules.select[1]", "DG1O2", "DG102"),
    ("  enable: [DG9*]\n", "rules.enable[0]", "DG9*", None),
    ("  severity:\n    DG101: warning\n    DG5O5: error\n", "rules.severity.DG5O5", "DG5O5", "DG505"),
])
def test_an_unknown_rule_code_is_reported_at_its_line(tmp_path: Path, rules: str, where: str, code: str,
                                                      near: str | None) -> None:
    """Unknown codes in select/enable/severity were a line-less "unknown rule" from the check."""
    text = "      - path: tgi.json\n        kind: tgi\nrules:\n" + rules
    line = check(tmp_path, text)
    number = len(HEAD.splitlines()) + len(text.splitlines())  # each case's bad entry is on the last line
    hint = f"; did you mean {near}?" if near else ""
    assert line.startswith(f"driftguard.yaml:{number}: {where}: no rule or parity check '{code}'; known: DG101, ")
    assert line.endswith(f"DG505, DG506, DG510{hint}")


def test_a_wrong_kind_names_the_manifest_line_that_chose_it(tmp_path: Path) -> None:
    """A file read as the kind the manifest forced: the reader's error names that ``kind:`` line too."""
    line = check(tmp_path, "      - path: generation_config.json\n        kind: tgi\n")
    assert line.startswith("generation_config.json:1: ")
    assert line.endswith("(read as kind 'tgi', set by models.m.deployment[0].kind at driftguard.yaml:8)")


def test_the_cli_shorthand_is_an_artifact_entry(tmp_path: Path) -> None:
    """``- KIND:PATH`` (and ``path: KIND:PATH``), as ``driftguard extract`` takes it."""
    (tmp_path / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7}\n')
    (tmp_path / "tgi.json").write_text('{"inputs": "hi", "parameters": {"do_sample": true, "temperature": 0.5}}\n')
    for entry in ("      - tgi:tgi.json\n", "      - path: tgi:tgi.json\n",
                  "      - path: tgi.json\n        kind: tgi\n"):
        (tmp_path / "driftguard.yaml").write_text(HEAD + entry)
        m = load(tmp_path / "driftguard.yaml")
        assert (m.models["m"].deployment[0].path, m.models["m"].deployment[0].kind) == ("tgi.json", "tgi")
        report = api.check(tmp_path / "driftguard.yaml")
        assert ("generation.temperature", 0.5) in [(f.key, f.deployed and f.deployed.value) for f in report.failing]
    (tmp_path / "driftguard.yaml").write_text(HEAD + "      - tgi.json\n")
    assert load(tmp_path / "driftguard.yaml").models["m"].deployment[0].kind is None  # a bare path: detected


@pytest.mark.parametrize(("rules", "where", "glob", "near"), [
    ("  ignore_keys: [vllm.*, generation.temprature]\n", "rules.ignore_keys[1]", "generation.temprature",
     "generation.temperature"),
    ("  tolerances:\n    - {key: generaton.*, abs: 0.1}\n", "rules.tolerances[0].key", "generaton.*", None),
])
def test_a_key_glob_that_can_name_no_key_is_an_error(tmp_path: Path, rules: str, where: str, glob: str,
                                                     near: str | None) -> None:
    """A typo in ``ignore_keys`` or a tolerance ignored nothing, silently."""
    text = "      - path: tgi.json\n        kind: tgi\nrules:\n" + rules
    line = check(tmp_path, text)
    number = len(HEAD.splitlines()) + len(text.splitlines())
    hint = f"; did you mean {near}?" if near else ""
    assert line == (f"driftguard.yaml:{number}: {where}: '{glob}' names no key (the README's key vocabulary, or a "
                    f"format's namespace such as vllm.*){hint}")


@pytest.mark.parametrize("glob", ["generation.*", "io.*.shape", "io.inputs.input_ids.dtype", "vllm.unknown_fields.*",
                                  "parity.*", "*", "generation.top_?"])
def test_globs_that_can_name_keys_load(tmp_path: Path, glob: str) -> None:
    (tmp_path / "driftguard.yaml").write_text(HEAD + f"      - path: tgi.json\nrules:\n  ignore_keys: ['{glob}']\n")
    assert load(tmp_path / "driftguard.yaml").rules.ignore_keys == [glob]


@pytest.mark.parametrize(("sizes", "ok"), [("[1, 4]", True), ("[0]", False), ("[2, -1]", False)])
def test_concurrency_batch_sizes_are_at_least_one(tmp_path: Path, sizes: str, ok: bool) -> None:
    """A batch of 0 fell back to the runner's own size (nothing compared, nothing said) and a negative one ran
    nothing and reported a DG506 "by up to inf": the manifest refuses both, at the line."""
    (tmp_path / "driftguard.yaml").write_text(
        HEAD + "      - path: x.json\n    parity:\n      golden: g.npz\n"
        "      reference: {runner: onnxruntime, artifact: a.onnx}\n"
        "      candidate: {runner: onnxruntime, artifact: b.onnx}\n"
        f"      concurrency:\n        batch_sizes: {sizes}\n")
    if ok:
        load(tmp_path / "driftguard.yaml")
        return
    with pytest.raises(ManifestError) as info:
        load(tmp_path / "driftguard.yaml")
    assert "batch_sizes" in str(info.value) and "greater than or equal to 1" in str(info.value)
    assert info.value.line == 13
