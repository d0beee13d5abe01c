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


# How many processes and what each gets, each expected value written out by hand from the README ("--jobs N
# checks models in N processes (default 0: one per CPU once there are enough models to pay for them, 64 a
# process") and the docstrings (at most 32; never more than the models; more than one process only when the
# parity stage does not run), with the CPU count fixed by the test rather than read from the machine.


def test_jobs_zero_is_one_per_cpu_with_64_models_a_process_at_most_32(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [parallel.workers(0, n) for n in (1, 63, 64, 127)] == [1, 1, 1, 1]
    assert parallel.workers(0, 128) == 2  # two processes of 64
    assert parallel.workers(0, 191) == 2  # a third would get 63
    assert parallel.workers(0, 192) == 3
    assert parallel.workers(0, 64 * 8) == 8
    assert parallel.workers(0, 64 * 100) == 8  # one per CPU
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert parallel.workers(0, 64 * 31) == 31
    assert parallel.workers(0, 64 * 40) == 32  # never more than 32
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # the CPUs cannot be counted: one process
    assert parallel.workers(0, 64 * 40) == 1
    assert parallel.workers(3, 64 * 40) == 3  # a number given is taken as it is
    assert parallel.workers(40, 64 * 40) == 40


def test_the_request_is_split_only_over_more_than_one_process_without_parity(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.gate.request import Stages
    from driftguard.parity.request import ParityRequest
    from driftguard.report import Report

    m = manifest_mod.load(fleet(tmp_path, 3))
    split: list[tuple[list[str], int]] = []
    marker = Report(models=(), manifest="split")

    def run_split(request: CheckRequest, names: list[str], count: int) -> Report:
        split.append((names, count))
        return marker

    monkeypatch.setattr(parallel, "run_split", run_split)
    one = parallel.run(CheckRequest(m, TODAY, Selection.of(m), jobs=1))
    assert split == [] and [r.name for r in one.models] == ["m000", "m001", "m002"]
    assert parallel.run(CheckRequest(m, TODAY, Selection.of(m), jobs=2)) is marker
    assert parallel.run(CheckRequest(m, TODAY, Selection.of(m), jobs=5)) is marker  # 5 asked, 3 models
    assert split == [(["m000", "m001", "m002"], 2), (["m000", "m001", "m002"], 3)]
    with_parity = CheckRequest(m, TODAY, Selection.of(m), jobs=3, stages=Stages(parity=ParityRequest()))
    assert parallel.run(with_parity) is not marker and len(split) == 2


def test_parts_are_as_even_as_consecutive_chunks_allow(tmp_path: Path) -> None:
    m = manifest_mod.load(fleet(tmp_path, 6))
    names = list(m.models)
    request = CheckRequest(m, TODAY, Selection.of(m), jobs=3)
    assert [chunk for _, chunk in parallel.parts(request, names, 3)] == [names[0:2], names[2:4], names[4:6]]
    assert [chunk for _, chunk in parallel.parts(request, names, 4)] == [names[0:2], names[2:4], names[4:6]]
    assert [chunk for _, chunk in parallel.parts(request, names, 1)] == [names]


def test_workers_are_forked_where_the_platform_forks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork where there is one (the workers start with driftguard already imported), else the platform's
    default start method."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("this platform has no fork")
    asked: list[str | None] = []
    real = multiprocessing.get_context

    def get_context(method: str | None = None) -> object:
        asked.append(method)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    m = manifest_mod.load(fleet(tmp_path, 4))
    request = CheckRequest(m, TODAY, Selection.of(m), jobs=2)
    names = list(m.models)
    serial = parallel.pipeline.run(request, names).to_dict()
    assert parallel.run_split(request, names, 2).to_dict() == serial
    assert asked == ["fork"]
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn", "forkserver"])
    assert parallel.run_split(request, names, 2).to_dict() == serial
    assert asked == ["fork", None]
