"""``check(jobs=N)`` / ``check --jobs N``: models checked in worker processes give exactly the report one process
gives, and an error raised in a worker reaches the caller as the same error (type, file and line)."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import driftguard
from driftguard.errors import DriftguardError, ExtractionError, LimitError
from driftguard.rules.engine import RuleCrashed
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY


def fleet(root: Path, count: int) -> Path:
    """``count`` models on the summarizer's files, each with its own request (every third one drifting)."""
    shutil.copytree(EXAMPLE / "training", root / "training")
    shutil.copytree(EXAMPLE / "deployment" / "model_repository", root / "model_repository")
    params = (EXAMPLE / "deployment" / "sampling-params.yaml").read_text(encoding="utf-8")
    (root / "params").mkdir()
    models = {}
    for i in range(count):
        name = f"m{i:03d}"
        (root / "params" / f"{name}.yaml").write_text(
            params if i % 3 == 0 else params.replace("top_p: 0.85", "top_p: 0.92"), encoding="utf-8")
        models[name] = {"training": [{"path": "training/generation_config.json"},
                                     {"path": "training/tokenizer_config.json"}],
                        "deployment": [{"path": "model_repository/summarizer/1/model.json"},
                                       {"path": f"params/{name}.yaml", "kind": "vllm"}]}
    (root / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": models}), encoding="utf-8")
    (root / "approvals").mkdir()
    approval = (EXAMPLE / "approvals" / "summarizer-top-p.yaml").read_text(encoding="utf-8")
    (root / "approvals" / "a.yaml").write_text(approval.replace("model: summarizer", "model: m003"),
                                               encoding="utf-8")
    (root / "approvals" / "b.yaml").write_text(approval.replace("model: summarizer", "model: m004")
                                               .replace("id: summarizer-top-p", "id: stale"), encoding="utf-8")
    (root / "approvals" / "c.yaml").write_text(approval.replace("model: summarizer", "model: gone")
                                               .replace("id: summarizer-top-p", "id: ghost"), encoding="utf-8")
    return root / "driftguard.yaml"


def test_parallel_report_is_the_serial_one(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, 20)
    serial = driftguard.check(manifest, today=TODAY, jobs=1)
    for jobs in (2, 3, 7):
        parallel = driftguard.check(manifest, today=TODAY, jobs=jobs)
        assert parallel.to_dict() == serial.to_dict()
        assert parallel.root == serial.root and parallel.rules == serial.rules
    # an approval naming a model the manifest lacks is listed (stale, saying why) whatever the number of jobs
    assert {(a.id, a.state) for a in serial.approvals} == {("summarizer-top-p", "used"), ("stale", "stale"),
                                                           ("ghost", "stale")}
    assert "names model 'gone'" in next(a.note for a in serial.approvals if a.id == "ghost")
    shard = driftguard.check(manifest, today=TODAY, jobs=2, shard=(2, 3))
    assert shard.to_dict() == driftguard.check(manifest, today=TODAY, shard=(2, 3)).to_dict()
    assert shard.shard == (2, 3)


def test_cli_jobs(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, 9)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "driftguard", "check", "--today", EXAMPLES_TODAY_ISO,
                               "--format", "json", *args], cwd=manifest.parent, capture_output=True, text=True,
                              timeout=120)

    one, three = run("--jobs", "1"), run("--jobs", "3")
    assert one.returncode == three.returncode == 1
    assert json.loads(one.stdout) == json.loads(three.stdout)
    bad = run("--jobs", "-2")
    assert bad.returncode == 2 and "--jobs: expects a number of processes" in bad.stderr


def test_an_input_error_in_a_worker_is_the_same_error(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, 8)
    (tmp_path / "params" / "m006.yaml").write_text("top_p: [0.9\n", encoding="utf-8")
    with pytest.raises(DriftguardError) as serial:
        driftguard.check(manifest, today=TODAY, jobs=1)
    with pytest.raises(DriftguardError) as parallel:
        driftguard.check(manifest, today=TODAY, jobs=4)
    assert type(parallel.value) is type(serial.value)
    assert (str(parallel.value), parallel.value.path, parallel.value.line) == \
        (str(serial.value), serial.value.path, serial.value.line)


def test_errors_survive_pickling() -> None:
    limit = pickle.loads(pickle.dumps(LimitError("objects", 10, "a document of 11 values", "x.yaml")))
    assert isinstance(limit, LimitError) and limit.limit == "objects" and limit.path == "x.yaml"
    assert str(limit) == str(LimitError("objects", 10, "a document of 11 values", "x.yaml"))
    extraction = pickle.loads(pickle.dumps(ExtractionError("bad", "f.json", 3, 4)))
    assert (type(extraction), str(extraction), extraction.column) == (ExtractionError, "f.json:3:4: bad", 4)
    crashed = pickle.loads(pickle.dumps(RuleCrashed("DG101", KeyError("k"))))
    assert isinstance(crashed, RuleCrashed) and crashed.code == "DG101"
    assert str(crashed) == str(RuleCrashed("DG101", KeyError("k")))
