"""The README's sharded workflow, run end to end as GitHub runs it, against a pull request that attacks it.

Each shard job is a fresh checkout of the pull request's tree running the README's own ``driftguard check
--shard`` line (``continue-on-error``: its exit code is ignored), then "uploads" the file it names; the verdict
job downloads every upload into one folder and runs the README's ``driftguard report`` line. The pull request
controls the tree: it can break one input so that a shard exits 2, commit files named like the shard reports
(forged passing reports, symlinks), or the run can lose a shard. Whatever it does, the verdict fails unless the
unsharded check would pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from driftguard.ci.shard import shard_of
from tests.dates import EXAMPLES_TODAY_ISO
from tests.test_readme_ci import blocks

MODELS = [f"model-{i}" for i in range(8)]
DRIFTING = "model-3"
#: A vLLM request; with top_p 0.9 it means what the training side's generation_config.json means.
REQUEST = '{{"prompt": "x", "temperature": 0.7, "top_p": {top_p}, "top_k": 50}}\n'
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def _workflow() -> tuple[list[int], str, str, str]:
    """The README matrix workflow's shard numbers, shard command, uploaded path and verdict command."""
    data = yaml.safe_load(next(b for b in blocks("yaml") if "matrix:" in b))
    shard_job, verdict_job = data["jobs"]["shard"], data["jobs"]["verdict"]
    shard_run = next(s["run"] for s in shard_job["steps"] if s.get("run", "").startswith("driftguard "))
    upload = next(s["with"]["path"] for s in shard_job["steps"] if "upload-artifact" in s.get("uses", ""))
    verdict_run = next(s["run"] for s in verdict_job["steps"] if s.get("run", "").startswith("driftguard "))
    return shard_job["strategy"]["matrix"]["shard"], shard_run, upload, verdict_run


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **GIT_ENV})
    return proc.stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A model repository at a commit: eight models whose sides agree but one (its top_p drifts)."""
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    manifest: dict[str, object] = {}
    for name in MODELS:
        folder = root / "models" / name
        folder.mkdir()
        (folder / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7, "top_p": 0.9}\n')
        top_p = 0.5 if name == DRIFTING else 0.9
        (folder / "request.json").write_text(REQUEST.format(top_p=top_p))
        manifest[name] = {"training": [{"path": f"models/{name}/generation_config.json"}],
                          "deployment": [{"path": f"models/{name}/request.json", "kind": "vllm"}]}
    (root / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": manifest}))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "models")
    return root


def _bash(command: str, cwd: Path, sha: str, shard: int | None = None) -> subprocess.CompletedProcess[str]:
    text = command.replace("${{ github.sha }}", sha)
    if shard is not None:
        text = text.replace("${{ matrix.shard }}", str(shard))
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "DRIFTGUARD_TODAY": EXAMPLES_TODAY_ISO}
    return subprocess.run(["bash", "-c", text], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def run_workflow(repo: Path, tmp_path: Path, lose: int | None = None,
                 swap: dict[int, Path] | None = None) -> subprocess.CompletedProcess[str]:
    """The workflow on ``repo``'s commit: every shard job in its own checkout, each upload into one folder (a
    job whose upload is ``lose`` uploads nothing; ``swap`` replaces an upload with another file), then the
    verdict job there. Returns the verdict job's process."""
    shards, shard_run, upload, verdict_run = _workflow()
    sha = _git(repo, "rev-parse", "HEAD")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir(exist_ok=True)
    for i in shards:
        checkout = tmp_path / f"checkout-{i}"
        shutil.copytree(repo, checkout, symlinks=True)
        _bash(shard_run, checkout, sha, i)  # continue-on-error: the exit code is not looked at
        produced = checkout / upload.replace("${{ matrix.shard }}", str(i))
        if i == lose or not produced.exists():
            continue
        shutil.copyfile((swap or {}).get(i, produced), artifacts / produced.name)
    return _bash(verdict_run, artifacts, sha)


def _shard_of(model: str) -> int:
    return shard_of(model, len(_workflow()[0]))


def _neighbour() -> str:
    """A model in the drifting model's shard (the drifting one itself when it is alone there)."""
    return next((m for m in MODELS if m != DRIFTING and _shard_of(m) == _shard_of(DRIFTING)), DRIFTING)


def _one_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("driftguard: error: "), proc.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def test_an_honest_run_fails_on_the_drift(repo: Path, tmp_path: Path) -> None:
    verdict = run_workflow(repo, tmp_path)
    assert verdict.returncode == 1, verdict.stderr
    assert "FAIL: 8 models" in verdict.stdout and "generation.top_p" in verdict.stdout


def test_a_shard_made_to_exit_2_fails_the_verdict(repo: Path, tmp_path: Path) -> None:
    # the pull request breaks a request of a model in the drifting model's shard: that shard exits 2
    (repo / "models" / _neighbour() / "request.json").write_text('{"prompt": "x", "top_p": ')
    _git(repo, "commit", "-qam", "break one input")
    _one_error(run_workflow(repo, tmp_path), f"shard-{_shard_of(DRIFTING)}.json", "failed (exit 2)")


def test_forged_shard_reports_committed_by_the_pull_request_are_replaced(repo: Path, tmp_path: Path) -> None:
    # passing reports of this very commit, made on a tree without the drift, committed under the shard names
    clean = tmp_path / "clean"
    shutil.copytree(repo, clean, symlinks=True)
    (clean / "models" / DRIFTING / "request.json").write_text(REQUEST.format(top_p=0.9))
    shards, shard_run, upload, _ = _workflow()
    sha = _git(repo, "rev-parse", "HEAD")
    for i in shards:
        assert _bash(shard_run, clean, sha, i).returncode == 0
        forged = upload.replace("${{ matrix.shard }}", str(i))
        shutil.copyfile(clean / forged, repo / forged)
    (repo / "victim.txt").write_text("precious\n")
    first = upload.replace("${{ matrix.shard }}", str(shards[0]))
    (repo / first).unlink()
    (repo / first).symlink_to("victim.txt")  # and one as a symlink, to redirect that shard's write
    (repo / "models" / _neighbour() / "request.json").write_text("{")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "forge the shard reports")
    _one_error(run_workflow(repo, tmp_path), f"shard-{_shard_of(DRIFTING)}.json", "failed (exit 2)")
    assert (tmp_path / f"checkout-{shards[0]}" / "victim.txt").read_text() == "precious\n"


def test_a_lost_shard_fails_the_verdict(repo: Path, tmp_path: Path) -> None:
    _one_error(run_workflow(repo, tmp_path, lose=_shard_of(DRIFTING)), "shards missing", f"{_shard_of(DRIFTING)}/4")


def test_a_shard_report_of_another_commit_is_refused(repo: Path, tmp_path: Path) -> None:
    # a passing report of an earlier commit (the drift not yet there), slipped in for the drifting shard
    _, shard_run, upload, _ = _workflow()
    earlier = tmp_path / "earlier"
    shutil.copytree(repo, earlier, symlinks=True)
    (earlier / "models" / DRIFTING / "request.json").write_text(REQUEST.format(top_p=0.9))
    _git(earlier, "commit", "-qam", "earlier")
    i = _shard_of(DRIFTING)
    assert _bash(shard_run, earlier, _git(earlier, "rev-parse", "HEAD"), i).returncode == 0
    old = earlier / upload.replace("${{ matrix.shard }}", str(i))
    assert json.loads(old.read_text())["ok"] is True
    _one_error(run_workflow(repo, tmp_path, swap={i: old}), f"shard-{i}.json", "made on commit")
