"""``check --base REF --changed-only``: only the models a change can have affected are checked, found from the
files git says changed (artifacts, files inside artifact folders, approvals, the manifest's entries)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import driftguard
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
NAMES = [f"m{i:02d}" for i in range(12)]
TODAY = EXAMPLES_TODAY  # m03's approval is the shipped summarizer one: judged on the day it is documented for


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=ENV, timeout=60)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "training", root / "training")
    shutil.copytree(EXAMPLE / "training", root / "served")  # the deployed model folder, shared by all
    shutil.copytree(EXAMPLE / "deployment" / "model_repository", root / "model_repository")
    params = (EXAMPLE / "deployment" / "sampling-params.yaml").read_text(encoding="utf-8")
    (root / "params").mkdir()
    models = {}
    for name in NAMES:
        (root / "params" / f"{name}.yaml").write_text(params, encoding="utf-8")
        models[name] = {"training": [{"path": "training/generation_config.json"},
                                     {"path": "training/tokenizer_config.json"}],
                        "deployment": [{"path": "model_repository/summarizer/1/model.json"},
                                       {"path": f"params/{name}.yaml", "kind": "vllm"},
                                       {"path": "served", "kind": "hf-model"}]}
    (root / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": models}), encoding="utf-8")
    (root / "approvals").mkdir()
    approval = (EXAMPLE / "approvals" / "summarizer-top-p.yaml").read_text(encoding="utf-8")
    (root / "approvals" / "m03.yaml").write_text(approval.replace("model: summarizer", "model: m03")
                                                 .replace("id: summarizer-top-p", "id: m03"), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def checked(repo: Path) -> tuple[list[str], int]:
    report = driftguard.check(repo / "driftguard.yaml", base="HEAD", changed_only=True, today=TODAY)
    assert report.base is not None
    return [m.name for m in report.models], report.base.unchanged


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_nothing_changed_nothing_checked(repo: Path) -> None:
    assert checked(repo) == ([], 12)


def test_one_models_request(repo: Path) -> None:
    edit(repo / "params" / "m05.yaml", "top_p: 0.85", "top_p: 0.8")
    report = driftguard.check(repo / "driftguard.yaml", base="HEAD", changed_only=True, today=TODAY)
    assert [m.name for m in report.models] == ["m05"]
    assert {f.key: f.change for f in report.findings} == {"generation.top_p": "introduced",
                                                          "preprocessing.max_length": "existing"}


def test_worker_processes_judge_the_change_alike(repo: Path) -> None:
    edit(repo / "params" / "m05.yaml", "top_p: 0.85", "top_p: 0.8")
    serial = driftguard.check(repo / "driftguard.yaml", base="HEAD", jobs=1, today=TODAY)
    parallel = driftguard.check(repo / "driftguard.yaml", base="HEAD", jobs=3, today=TODAY)
    assert parallel.to_dict() == serial.to_dict()
    assert [f.model for f in serial.findings if f.change == "introduced"] == ["m05"]


def test_a_shared_file_and_a_file_in_an_artifact_folder(repo: Path) -> None:
    edit(repo / "training" / "generation_config.json", "0.92", "0.9")
    assert checked(repo) == (NAMES, 0)
    git(repo, "checkout", "--", "training")
    (repo / "served" / "chat_template.jinja").write_text("{{ messages }}", encoding="utf-8")  # untracked
    assert checked(repo) == (NAMES, 0)


def test_an_approval_names_its_model(repo: Path) -> None:
    edit(repo / "approvals" / "m03.yaml", "reason: ", "reason: (reviewed again) ")
    assert checked(repo) == (["m03"], 11)
    (repo / "approvals" / "m03.yaml").unlink()  # a deleted approval: its model, from the base version
    assert checked(repo) == (["m03"], 11)


def test_manifest_entry_and_shared_settings(repo: Path) -> None:
    manifest = repo / "driftguard.yaml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    data["models"]["m07"]["rules"] = {"ignore": ["generation.top_k"]}
    manifest.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert checked(repo) == (["m07"], 11)
    data["rules"] = {"ignore": ["serving.*"]}
    manifest.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert checked(repo) == (NAMES, 0)


def test_changed_only_needs_base(repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--changed-only"], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("driftguard: error: --changed-only needs --base REF: the models a change affected are "
                           "found against it\n")
    edit(repo / "params" / "m01.yaml", "top_p: 0.85", "top_p: 0.8")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--base", "HEAD", "--changed-only",
                           "--today", EXAMPLES_TODAY_ISO], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "1 introduced by the change, 1 already there, 0 resolved; 11 unchanged models not checked" in proc.stdout


def test_named_files_map_to_the_models_that_read_them(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check FILE...`` (the pre-commit hook's staged files), no git involved: a file one model reads checks
    that model, a shared file or a file inside an artifact folder every model reading it, an approval file the
    model it names, the manifest every model, and a file no model reads (``.pre-commit-config.yaml``) none."""
    monkeypatch.chdir(repo)
    (repo / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")

    def reading(*files: str) -> list[str]:
        report = driftguard.check("driftguard.yaml", files=list(files), today=TODAY)
        return [m.name for m in report.models]

    assert reading(".pre-commit-config.yaml") == []
    assert reading("params/m05.yaml", ".pre-commit-config.yaml") == ["m05"]
    assert reading("served/config.json") == reading("training/generation_config.json") == NAMES
    assert reading("approvals/m03.yaml") == ["m03"]
    single = yaml.safe_load((repo / "approvals" / "m03.yaml").read_text(encoding="utf-8"))
    listed = [{**single, "id": f"b-{n}", "model": n} for n in ("m07", "m02")]  # driftguard baseline's file
    (repo / "approvals" / "baseline.yaml").write_text(yaml.safe_dump(listed), encoding="utf-8")
    assert reading("approvals/baseline.yaml") == ["m02", "m07"]
    assert reading("driftguard.yaml") == NAMES
    report = driftguard.check("driftguard.yaml", model="m05", files=["params/m06.yaml"], today=TODAY)
    assert report.models == ()
    (repo / "approvals" / "broken.yaml").write_text("[unclosed\n", encoding="utf-8")
    with pytest.raises(driftguard.DriftguardError, match=r"broken\.yaml"):
        reading("approvals/broken.yaml")  # whose it is cannot be read: every model, and the load reports it


def test_named_files_on_the_command_line(repo: Path) -> None:
    """The CLI takes the files as positional arguments: drift in an untouched model does not fail a run
    naming another model's fixed file."""
    params = repo / "params" / "m05.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("top_p: 0.85", "top_p: 0.92")
                      .replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"), encoding="utf-8")

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "driftguard", "check", *files], cwd=repo,
                              env={**ENV, "DRIFTGUARD_TODAY": EXAMPLES_TODAY_ISO}, capture_output=True, text=True,
                              timeout=120)

    fixed, other, whole = run("params/m05.yaml"), run("params/m06.yaml"), run()
    assert fixed.returncode == 0 and "PASS: 1 model," in fixed.stdout, fixed.stdout + fixed.stderr
    assert other.returncode == 1 and "FAIL: 1 model," in other.stdout, other.stdout + other.stderr
    assert whole.returncode == 1 and "FAIL: 12 models," in whole.stdout


def _commit_manifest(repo: Path, change: dict[str, object]) -> None:
    """The manifest with ``{model: {side: entries}}`` swapped in, committed (the base the change is judged on)."""
    manifest = repo / "driftguard.yaml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    for name, sides in change.items():
        data["models"][name].update(sides)
    manifest.write_text(yaml.safe_dump(data), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "own files")


def test_a_retargeted_artifact_symlink_affects_its_model(repo: Path) -> None:
    (repo / "variants").mkdir()
    (repo / "variants" / "a.yaml").write_text((repo / "params" / "m06.yaml").read_text(encoding="utf-8"))
    edit(repo / "variants" / "a.yaml", "top_p: 0.85", "top_p: 0.85")
    shutil.copy(repo / "variants" / "a.yaml", repo / "variants" / "b.yaml")
    edit(repo / "variants" / "b.yaml", "top_p: 0.85", "top_p: 0.5")
    (repo / "params" / "m06.yaml").unlink()
    (repo / "params" / "m06.yaml").symlink_to("../variants/a.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "m06 from a variant")
    assert checked(repo) == ([], 12)
    (repo / "params" / "m06.yaml").unlink()
    (repo / "params" / "m06.yaml").symlink_to("../variants/b.yaml")  # only the link changed, not a file it names
    assert checked(repo) == (["m06"], 11)


def test_a_file_read_beside_an_artifact_affects_its_model(repo: Path) -> None:
    (repo / "tok04").mkdir()
    shutil.copy(repo / "training" / "tokenizer_config.json", repo / "tok04" / "tokenizer_config.json")
    _commit_manifest(repo, {"m04": {"training": [{"path": "training/generation_config.json"},
                                                 {"path": "tok04/tokenizer_config.json"}]}})
    assert checked(repo) == ([], 12)
    # read implicitly by the tokenizer kind (a chat template beside tokenizer_config.json), named nowhere
    (repo / "tok04" / "chat_template.jinja").write_text("{{ messages }}", encoding="utf-8")
    assert checked(repo) == (["m04"], 11)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template")
    (repo / "tok04" / "chat_template.jinja").unlink()  # and deleting it changes what is read too
    assert checked(repo) == (["m04"], 11)
