"""``gate.baseline`` (``check --base REF``) run on a ``CheckRequest`` against a git repository built in the test:
the head run and the base revision's run go through the pipeline (``gate.parallel``), the head one reading the
approvals' provenance, and ``--changed-only`` narrows both to the models the change touched."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from driftguard import manifest as manifest_mod
from driftguard.errors import UsageError
from driftguard.gate import baseline
from driftguard.gate.request import CheckRequest, Selection
from tests import dates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.EXAMPLES_TODAY
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=ENV, timeout=60)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The summarizer at the root of a repository, committed once."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baseline")
    return root


def request_for(repo: Path, base: str = "HEAD~1", changed_only: bool = False) -> CheckRequest:
    m = manifest_mod.load(repo / "driftguard.yaml")
    return CheckRequest(m, TODAY, Selection.of(m), base=base, changed_only=changed_only)


def commit_top_p(repo: Path) -> None:
    params = repo / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("top_p: 0.85", "top_p: 0.8"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "top_p 0.8")


def test_the_change_is_judged_against_the_base_revisions_check(repo: Path) -> None:
    commit_top_p(repo)
    report = baseline.run(request_for(repo))
    changes = {f.key: f.change for f in report.findings}
    assert changes == {"generation.top_p": "introduced", "preprocessing.max_length": "existing"}
    assert report.base is not None and report.base.ref == "HEAD~1" and report.base.unchanged == 0
    # the head run reads who added each approval, although the request did not ask for provenance
    assert {a.id: a.added_by for a in report.approvals} == {"summarizer-top-p": "t <t@example.invalid>"}


def test_changed_only_leaves_out_the_models_the_change_did_not_touch(repo: Path) -> None:
    (repo / "NOTES.md").write_text("docs only\n", encoding="utf-8")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "docs")
    report = baseline.run(request_for(repo, changed_only=True))
    assert report.models == () and report.base is not None and report.base.unchanged == 1
    commit_top_p(repo)
    touched = baseline.run(request_for(repo, changed_only=True))
    assert [m.name for m in touched.models] == ["summarizer"] and touched.base is not None
    assert touched.base.unchanged == 0


def test_what_is_not_a_revision_is_refused_before_git_runs(repo: Path) -> None:
    with pytest.raises(UsageError):
        baseline.run(request_for(repo, base="--output=x"))


def rev(repo: Path, ref: str) -> str:
    out = subprocess.run(["git", "rev-parse", ref], cwd=repo, check=True, capture_output=True, text=True, env=ENV,
                         timeout=60)
    return out.stdout.strip()


@pytest.fixture()
def three(tmp_path: Path) -> Path:
    """Models a, b and c in that order, each on its own generation_config.json per side (no drift), committed."""
    root = tmp_path / "three"
    models = ""
    for name in ("a", "b", "c"):
        for side in ("train", "deploy"):
            (root / name / side).mkdir(parents=True)
            (root / name / side / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7}\n',
                                                                       encoding="utf-8")
        models += (f"  {name}:\n    training:\n      - path: {name}/train/generation_config.json\n"
                   f"    deployment:\n      - path: {name}/deploy/generation_config.json\n")
    (root / "approvals").mkdir()
    (root / "approvals" / ".keep").write_text("", encoding="utf-8")
    (root / "driftguard.yaml").write_text(f"version: 1\nmodels:\n{models}", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "three models")
    return root


def set_temperature(repo: Path, model: str, value: float) -> None:
    config = repo / model / "deploy" / "generation_config.json"
    config.write_text(json.dumps({"do_sample": True, "temperature": value}) + "\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", f"{model} temperature {value}")


def test_unchanged_counts_the_wanted_models_the_change_did_not_touch(three: Path) -> None:
    """README "Judging the change": the report counts the models --changed-only left out."""
    set_temperature(three, "c", 0.5)
    m = manifest_mod.load(three / "driftguard.yaml")
    every = baseline.run(CheckRequest(m, TODAY, Selection.of(m), base="HEAD~1", changed_only=True))
    assert [x.name for x in every.models] == ["c"] and every.base is not None and every.base.unchanged == 2
    assert [(f.key, f.change) for f in every.findings] == [("generation.temperature", "introduced")]
    two = baseline.run(CheckRequest(m, TODAY, Selection.of(m, None, ("b", "c")), base="HEAD~1", changed_only=True))
    assert [x.name for x in two.models] == ["c"] and two.base is not None and two.base.unchanged == 1


def test_a_changed_limit_is_one_dg601_on_the_first_model_only(three: Path) -> None:
    """README "What a gate run trusts": a change to a trusted setting is one DG601 warning per setting; a
    manifest-wide limit is reported once, on the first model of the run."""
    manifest = three / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "limits:\n  int_digits: 500\n", encoding="utf-8")
    git(three, "commit", "-q", "-am", "raise int_digits")
    report = baseline.run(request_for(three))
    assert [(f.model, f.rule, f.key, f.change) for f in report.findings] == [
        ("a", "DG601", "limits.int_digits", "introduced")]


def test_changed_only_reads_an_approval_within_the_trusted_limits(three: Path) -> None:
    """An approval the change adds names its model, and so makes it affected, when it is read within the limits
    the gate trusts (the base revision's int_digits 1000 here), not the built-in defaults (400 digits)."""
    manifest = three / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "limits:\n  int_digits: 1000\n", encoding="utf-8")
    git(three, "commit", "-q", "-am", "int_digits 1000")
    (three / "approvals" / "b-temperature.yaml").write_text(
        f"id: b-temperature\nmodel: b\nkey: generation.temperature\ntraining: {'7' * 500}\ndeployed: 0.7\n"
        f"reason: a long number\napproved_by: dana\napproved_on: '{TODAY}'\nexpires: '{TODAY}'\n",
        encoding="utf-8")
    git(three, "add", "-A")
    git(three, "commit", "-q", "-m", "approve b")
    report = baseline.run(request_for(three, changed_only=True))
    assert [x.name for x in report.models] == ["b"] and report.base is not None and report.base.unchanged == 2


def test_a_model_that_fails_to_build_does_not_stop_the_others_being_left_out(three: Path) -> None:
    """Model a's deployment file is gone: a counts as touched (its check would report the failure), while b and
    c, which read files the change did not touch, are still left out; asked for b alone, nothing is checked."""
    (three / "a" / "deploy" / "generation_config.json").unlink()
    git(three, "commit", "-q", "-am", "break a")
    (three / "NOTES.md").write_text("docs only\n", encoding="utf-8")
    git(three, "add", "NOTES.md")
    git(three, "commit", "-q", "-m", "docs")
    m = manifest_mod.load(three / "driftguard.yaml")
    report = baseline.run(CheckRequest(m, TODAY, Selection.of(m, None, ("b", "c")), base="HEAD~1",
                                       changed_only=True))
    assert report.models == () and report.base is not None and report.base.unchanged == 2


def test_a_base_revision_without_a_manifest_makes_every_finding_introduced(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "NOTES.md").write_text("before driftguard\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before")
    shutil.copytree(EXAMPLE, root, dirs_exist_ok=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt driftguard")
    report = baseline.run(request_for(root))
    # the drift, and the parity runners the new manifest sets (trusted settings the base revision had none of)
    assert {(f.rule, f.key): f.change for f in report.findings} == {
        ("DG101", "generation.top_p"): "introduced", ("DG101", "preprocessing.max_length"): "introduced",
        ("DG601", "parity.reference.runner"): "introduced", ("DG601", "parity.candidate.runner"): "introduced"}


def test_separate_approver_applies_to_the_change_not_to_the_base_copy(repo: Path) -> None:
    """The base revision's files are a copy, not a repository: its run never asks git who changed a line
    (README "Separate approver": it works with --base, the change's run judges it)."""
    manifest = repo / "driftguard.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "  separate_approver: true\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "separate approver")
    commit_top_p(repo)
    report = baseline.run(request_for(repo))
    assert {f.key: f.change for f in report.findings} == {"generation.top_p": "introduced",
                                                          "preprocessing.max_length": "existing"}


def test_a_base_revision_whose_manifest_is_not_valid_is_named(repo: Path) -> None:
    manifest = repo / "driftguard.yaml"
    good = manifest.read_text(encoding="utf-8")
    manifest.write_text(good.replace("models:", "modles:"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "typo")
    manifest.write_text(good, encoding="utf-8")
    git(repo, "commit", "-q", "-am", "fix the typo")
    with pytest.raises(UsageError) as caught:
        baseline.run(request_for(repo))
    assert str(caught.value).startswith(f"--base HEAD~1: the manifest of {rev(repo, 'HEAD~1')[:12]} is not valid: ")


def test_a_base_revision_whose_check_fails_is_named(repo: Path) -> None:
    params = repo / "deployment" / "sampling-params.yaml"
    text = params.read_text(encoding="utf-8")
    params.unlink()
    git(repo, "commit", "-q", "-am", "lose the sampling params")
    params.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "restore them")
    with pytest.raises(UsageError) as caught:
        baseline.run(request_for(repo))
    assert str(caught.value).startswith(f"--base HEAD~1: the check of {rev(repo, 'HEAD~1')[:12]} failed: ")
    assert "sampling-params.yaml" in str(caught.value)


def test_a_manifest_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    """A manifest that is a symlink to a file outside the repository: its base revision cannot be read."""
    outside = tmp_path / "elsewhere" / "driftguard.yaml"
    outside.parent.mkdir()
    shutil.move(repo / "driftguard.yaml", outside)
    (repo / "driftguard.yaml").symlink_to(outside)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "manifest elsewhere")
    request = request_for(repo, base="HEAD")
    with pytest.raises(UsageError) as caught:
        baseline.run(request)
    assert str(caught.value) == (f"--base: {request.manifest.path} is not inside the git repository "
                                 f"{repo.resolve()}")


def test_the_base_revisions_files_are_a_frozen_record(tmp_path: Path) -> None:
    base = baseline._Base("HEAD~1", "0" * 40, tmp_path, None, tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.copy = tmp_path / "elsewhere"  # type: ignore[misc]  # frozen: the assignment is what is refused
