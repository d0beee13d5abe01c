"""``gate.parallel`` (``check(jobs=N)`` / ``check --jobs N``): models checked in worker processes give exactly the
report one process gives, and an error raised in a worker reaches the caller as the same error (type, file and
line); how many workers, and what each is sent."""

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
from driftguard import manifest as manifest_mod
from driftguard.errors import DriftguardError, ExtractionError, LimitError, UsageError
from driftguard.gate import parallel
from driftguard.gate.request import CheckRequest, Selection
from driftguard.rules.engine import RuleCrashed
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[2]
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


def test_workers() -> None:
    assert parallel.workers(1, 500) == 1
    assert parallel.workers(4, 3) == 3  # never more processes than models
    assert parallel.workers(0, 10) == 1  # one per CPU only once each gets enough models to pay for a process
    assert parallel.workers(0, 64 * 2) in (1, 2)
    with pytest.raises(UsageError, match="jobs must be 0"):
        parallel.workers(-1, 10)


def test_parts_cut_the_manifest_and_give_known_models_to_the_first_only(tmp_path: Path) -> None:
    m = manifest_mod.load(fleet(tmp_path, 7))
    request = CheckRequest(m, TODAY, Selection.of(m, shard=None), jobs=3)
    names = list(m.models)
    split = parallel.parts(request, names, 3)
    assert [chunk for _, chunk in split] == [names[0:3], names[3:6], names[6:7]]
    for i, (part, chunk) in enumerate(split):
        assert list(part.manifest.models) == chunk and part.jobs == 1
        assert part.selection.models == tuple(chunk)
        assert part.selection.known_models == (tuple(names) if i == 0 else None)
        sent = pickle.loads(pickle.dumps(part))  # what a worker process is sent
        assert (sent.selection, sent.today, list(sent.manifest.models)) == (part.selection, part.today, chunk)


def test_run_with_parity_stays_in_one_process(tmp_path: Path) -> None:
    """The parity stage fans out through its own executors: ``--jobs`` leaves a parity run in this process
    (the request is not split, so a progress callable that cannot be pickled is fine)."""
    from driftguard.gate.request import Stages
    from driftguard.parity.request import ParityRequest

    m = manifest_mod.load(fleet(tmp_path, 130))
    request = CheckRequest(m, TODAY, Selection.of(m), jobs=2,
                           stages=Stages(rules=True, parity=ParityRequest(progress=lambda *_: None)))
    report = parallel.run(request)  # no model has a parity: section, so only the rules run
    assert len(report.models) == 130
