"""Executors: `--executor threads` and `--executor ray` fan parity out (one unit per model x golden shard) and give
the report the local run gives, byte for byte; bad input is still one line, exit 2. The Ray tests run against a
real local Ray (2 CPUs, no dashboard) started here and shut down when the module ends; they are skipped when Ray
is not installed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import driftguard
from driftguard.cli import run
from driftguard.parity.executors import shards
from driftguard.reporters import render_check
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO
from tests.parity.conftest import linear_onnx, np

# The tests that build or run real models (or start a Ray cluster) are marked slow: deselected unless --slow (CI
# runs them). The rest run callables on a few samples, and Ray's part against a stand-in with Ray's API.

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "text-classifier"
TODAY = EXAMPLES_TODAY_ISO  # the shipped approvals are judged on a fixed day so the test does not age


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray for this module's tests; its address, for a second driver (a `driftguard` subprocess)."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


def as_json(report: Any) -> str:
    return render_check("json", report)


# --- shards ------------------------------------------------------------------------------------------------

def test_shards_fall_on_whole_batches_and_cover_every_sample() -> None:
    assert shards(64, 32, None, 2) == [(0, 32), (32, 64)]
    assert shards(64, 32, None, 3) == [(0, 32), (32, 64)]  # 22 rounds up to one batch
    assert shards(20, 8, 8, 1) == [(0, 8), (8, 16), (16, 20)]
    assert shards(20, 8, 5, 1) == [(0, 8), (8, 16), (16, 20)]  # 5 rounds up to 8
    assert shards(5, 32, None, 4) == [(0, 5)]


# --- many models, a golden folder, a recording, concurrency: tiny graphs -----------------------------------

@pytest.fixture()
def fleet(tmp_path: Path) -> Path:
    """Two models over one golden folder (32 and 20 samples): ``nudged`` fails (attribution reruns it),
    ``same`` passes and runs concurrency parity; batch sizes 8 and 4, so shards are whole multiples of 8."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((8, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    linear_onnx(tmp_path / "ref.onnx", w, b)
    linear_onnx(tmp_path / "cand.onnx", w + 1e-3 * rng.standard_normal(w.shape).astype(np.float32), b)
    (tmp_path / "golden").mkdir()
    np.savez(tmp_path / "golden" / "a.npz", x=rng.standard_normal((32, 8)).astype(np.float32))
    np.savez(tmp_path / "golden" / "b.npz", x=rng.standard_normal((20, 8)).astype(np.float32))
    model = """  {name}:
    training:
      - path: ref.onnx
    deployment:
      - path: {cand}
    parity:
      golden: golden
      reference: {{runner: onnxruntime, artifact: ref.onnx, batch_size: 8}}
      candidate: {{runner: onnxruntime, artifact: {cand}, batch_size: 4}}
{extra}"""
    text = "version: 1\nmodels:\n" + model.format(name="nudged", cand="cand.onnx", extra="") + \
        model.format(name="same", cand="ref.onnx", extra="      concurrency: {threads: 2, batch_sizes: [1]}\n")
    (tmp_path / "driftguard.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "driftguard.yaml"


def report_of(manifest: Path, executor: str, **kw: Any) -> tuple[str, list[tuple[str, int, int]]]:
    """The report as JSON, and the progress calls for finished units."""

    seen: list[tuple[str, int, int]] = []
    report = driftguard.check_parity(manifest, today=EXAMPLES_TODAY, executor=executor,
                               progress=lambda *a: seen.append(a), **kw)
    return as_json(report), [s for s in seen if s[0].startswith("parity on ")]  # units done, not batches


@pytest.mark.slow
def test_threads_give_the_local_report_for_many_models_and_shards(fleet: Path) -> None:
    local, _ = report_of(fleet, "local")
    threads, seen = report_of(fleet, "threads", workers=2, shard_size=8)
    assert threads == local
    assert seen[-1][1:] == (14, 14)  # per model: a.npz in 4 shards of 8, b.npz in 8, 8, 4
    doc = json.loads(local)
    assert [m["name"] for m in doc["models"]] == ["nudged", "same"] and not doc["ok"]
    assert any("attribution:" in f["message"] for f in doc["models"][0]["findings"])


@pytest.mark.slow
def test_recorded_references_join_the_same_and_a_stale_one_is_refused_alike(fleet: Path) -> None:
    assert run(["golden", "record", "--config", str(fleet), "--model", "same"]) == 0
    local, _ = report_of(fleet, "local")
    threads, seen = report_of(fleet, "threads", workers=2, shard_size=8)
    assert threads == local and seen[-1][1:] == (14, 14)
    np.savez(fleet.parent / "golden" / "b.npz", x=np.zeros((20, 8), dtype=np.float32))  # inputs changed
    with pytest.raises(driftguard.DriftguardError, match="stale recording") as before:
        report_of(fleet, "local")
    with pytest.raises(driftguard.DriftguardError, match="stale recording") as after:
        report_of(fleet, "threads", workers=2)
    assert str(before.value) == str(after.value)


@pytest.mark.slow
def test_a_bad_candidate_is_the_local_one_line_exit_2(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet.write_text(fleet.read_text(encoding="utf-8").replace("artifact: cand.onnx", "artifact: gone.onnx"),
                     encoding="utf-8")
    errors = []
    for executor in ("local", "threads"):
        assert run(["parity", "--config", str(fleet), "--executor", executor]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        errors.append(err[0])
    assert errors[0] == errors[1] and "gone.onnx" in errors[0]


@pytest.mark.slow
def test_check_parity_takes_the_executor(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outs = []
    for executor in ("local", "threads"):
        code = run(["check", "--parity", "--config", str(fleet), "--format", "json", "--today", TODAY,
                    "--executor", executor, "--shard-size", "16"])
        outs.append((code, capsys.readouterr().out))
    assert outs[0] == outs[1] and outs[0][0] == 1
    assert run(["check", "--config", str(fleet), "--executor", "threads"]) == 2
    assert "--executor runs the parity stage: it needs --parity" in capsys.readouterr().err


@pytest.mark.slow
def test_an_unknown_executor_is_a_usage_error(fleet: Path) -> None:
    with pytest.raises(driftguard.DriftguardError, match="executor must be local, threads or ray"):
        report_of(fleet, "dask")
    with pytest.raises(driftguard.DriftguardError, match="workers must be a whole number"):
        report_of(fleet, "threads", workers=0)


@pytest.mark.slow
def test_without_ray_the_executor_names_the_extra(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives `import ray`
    with pytest.raises(driftguard.DriftguardError, match=r"pip install 'driftguard-ml\[ray\]'"):
        report_of(fleet, "ray")


@pytest.mark.slow
def test_ray_gives_the_local_report_for_many_models_and_shards(fleet: Path, ray_address: str) -> None:
    local, _ = report_of(fleet, "local")
    on_ray, seen = report_of(fleet, "ray", shard_size=8)
    assert on_ray == local and seen[-1][1:] == (14, 14)
    assert seen[-1][0] == "parity on 2 ray workers"


@pytest.mark.slow
def test_ray_a_bad_candidate_is_the_local_one_line(fleet: Path, ray_address: str) -> None:
    fleet.write_text(fleet.read_text(encoding="utf-8").replace("artifact: cand.onnx", "artifact: gone.onnx"),
                     encoding="utf-8")
    with pytest.raises(driftguard.DriftguardError) as local:
        report_of(fleet, "local")
    with pytest.raises(driftguard.DriftguardError) as on_ray:
        report_of(fleet, "ray")
    assert str(on_ray.value) == str(local.value) and type(on_ray.value) is type(local.value)


# --- through the CLI in a process of its own: RAY_ADDRESS, an unreachable cluster ---------------------------

def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True,
                          timeout=240, env={**environ, **(env or {})}, cwd=cwd)


@pytest.mark.slow
def test_ray_address_is_honoured(fleet: Path, ray_address: str) -> None:
    # the subprocess inherits RAY_AUTH_MODE=token, which ray.init set here, and reads the token Ray saved
    local = cli("parity", "--config", str(fleet), "--format", "json", "--today", TODAY)
    proc = cli("parity", "--config", str(fleet), "--format", "json", "--today", TODAY, "--executor", "ray",
               env={"RAY_ADDRESS": ray_address})
    assert (proc.returncode, proc.stdout) == (local.returncode, local.stdout) == (1, local.stdout), proc.stderr


@pytest.mark.slow
def test_an_unreachable_ray_is_one_line_exit_2(fleet: Path) -> None:
    pytest.importorskip("ray")
    proc = cli("parity", "--config", str(fleet), "--executor", "ray", env={"RAY_ADDRESS": "127.0.0.1:1"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "driftguard: error: --executor ray: no Ray cluster answers at 127.0.0.1:1 (Connection refused)"]


# --- the text classifier: torch checkpoint vs INT8 ONNX, attribution on -------------------------------------

@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with its artifacts built by build.py (as tests/test_example_text_classifier.py does)."""
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime.quantization")
    dst = tmp_path_factory.mktemp("executors") / "text-classifier"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    proc = subprocess.run([sys.executable, str(dst / "build.py"), "--out", str(dst / "artifacts")], cwd=dst,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # Judged by the fp32 profile, the INT8 graph fails on any CPU (its rounding is far past fp32's tolerance), so
    # attribution runs; under the int8 profile a failure hangs on one near-tie argmax that another CPU's INT8
    # kernels may not flip.
    import yaml

    manifest = dst / "driftguard.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    doc["models"]["text-classifier"]["parity"]["profile"] = "fp32"
    manifest.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return manifest


@pytest.mark.slow
def test_text_classifier_on_threads_is_the_local_report(classifier: Path) -> None:
    local, _ = report_of(classifier, "local")
    threads, seen = report_of(classifier, "threads", workers=2)
    assert threads == local and seen[-1][1:] == (2, 2)  # 64 golden inputs in 2 shards of one batch each
    failing = [f for f in json.loads(local)["models"][0]["findings"] if f["status"] == "unapproved"]
    assert failing and all(f["key"].startswith("parity.logits") and "attribution:" in f["message"] for f in failing)


@pytest.mark.slow
def test_text_classifier_on_ray_is_the_local_report(classifier: Path, ray_address: str) -> None:
    local, _ = report_of(classifier, "local")
    on_ray, seen = report_of(classifier, "ray")
    assert on_ray == local and seen[-1][1:] == (2, 2)


@pytest.mark.slow
def test_a_local_ray_is_started_and_shut_down_by_driftguard(classifier: Path) -> None:
    """No RAY_ADDRESS and no Ray in the process: driftguard starts a local instance and shuts it down."""
    pytest.importorskip("ray")
    script = ("import sys, datetime, driftguard, ray\n"
              "from driftguard.reporters import render_check\n"
              "r = driftguard.check_parity(sys.argv[1], today=datetime.date(2026, 12, 1), executor='ray', workers=1)\n"
              "print(ray.is_initialized())\nprint(render_check('json', r))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(classifier)], capture_output=True, text=True,
                          timeout=240, env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
    assert proc.returncode == 0, proc.stderr
    alive, report = proc.stdout.split("\n", 1)
    assert alive == "False"
    local, _ = report_of(classifier, "local")
    assert report.strip() == local.strip()


# --- fast: the executors on callables (a few samples each), Ray's part against a stand-in ---------------------
# Expected values by hand from the module's documented contract: units of whole batches of both runners (the least
# common multiple of their batch sizes), by default each set split so the units fill the workers; the report the
# local run gives; the first user error raised whole; one line for each Ray failure.

SIDES = '''
import os

import numpy as np


def _log(config, inputs):
    with open(os.path.join(os.path.dirname(__file__), "calls.txt"), "a") as log:
        log.write(f"{config.get('side')} {len(inputs['x'])}\\n")


def reference(inputs, config):
    _log(config, inputs)
    return {"y": np.asarray(inputs["x"], dtype=np.float64) * float(config.get("scale", 1.0))}


reference.applies = ("scale", "top_p")


def candidate(inputs, config):
    _log(config, inputs)
    return {"y": np.asarray(inputs["x"], dtype=np.float64) * float(config.get("scale", 1.0))}


candidate.applies = ("scale",)


def renamed(inputs, config):
    """An output named after the first sample: shards of different first samples do not join."""
    x = np.asarray(inputs["x"], dtype=np.float64)
    return {f"y{int(x[0, 0]) // 4}": x}
'''


def callables(tmp_path: Path, name: str = "m", ref_batch: int = 4, cand_batch: int = 2, candidate: str = "candidate",
              differing: tuple[str, ...] = ("scale", "top_p", "gone")) -> Any:
    """Model ``name`` over golden/ (a.npz: 10 samples, b.npz: 6), the reference at ``ref_batch``, the candidate at
    ``cand_batch``; the deployed scale 1.5 against 1.0 fails it (attribution off); top_p and gone
    differ too: the reference applies top_p, neither applies gone."""
    from driftguard.manifest import Parity
    from driftguard.parity.model_parity import ModelParity
    from driftguard.parity.request import ParityRequest

    fns = tmp_path / "sides.py"
    fns.write_text(SIDES, encoding="utf-8")
    golden_dir = tmp_path / "golden"
    if not golden_dir.is_dir():
        golden_dir.mkdir()
        np.savez(golden_dir / "a.npz", x=np.arange(20, dtype=np.float64).reshape(10, 2))
        np.savez(golden_dir / "b.npz", x=np.arange(12, dtype=np.float64).reshape(6, 2) + 100)
    spec = {"golden": "golden", "reference": {"runner": "callable", "function": f"{fns}:reference",
                                              "batch_size": ref_batch},
            "candidate": {"runner": "callable", "function": f"{fns}:{candidate}", "batch_size": cand_batch}}
    return ModelParity(name, Parity.model_validate(spec), tmp_path, "driftguard.yaml",
                       {"side": "reference", "scale": 1.0}, {"side": "candidate", "scale": 1.5}, differing,
                       ParityRequest(attribution=False))  # no reruns: each call below is a unit's


def threads(parities: list[Any], workers: int, shard_size: int | None = None) -> tuple[list[Any], list[Any]]:
    from driftguard.parity import executors
    from driftguard.parity.request import ParityRequest

    seen: list[tuple[str, int, int]] = []
    request = ParityRequest(executor="threads", workers=workers, shard_size=shard_size,
                            progress=lambda *a: seen.append(a))
    return executors.run_models(parities, request), seen


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.txt"
    found = sorted(log.read_text(encoding="utf-8").splitlines()) if log.is_file() else []
    log.unlink(missing_ok=True)
    return found


def test_threads_give_the_local_findings_on_shards_of_whole_batches(tmp_path: Path) -> None:
    from driftguard.parity import stage

    one, two = callables(tmp_path), callables(tmp_path, name="n")
    local = [stage.run(one), stage.run(two)]
    assert {f.rule for f in local[0]} == {"DG501", "DG510"}
    assert [f.deployed.value for f in local[0] if f.rule == "DG510" and f.deployed] == [["gone"]]
    calls(tmp_path)
    # shards of 4 (a whole batch of 4 and two of 2): a.npz 0-4, 4-8, 8-10; b.npz 0-4, 4-6: five units a model
    found, seen = threads([one, two], workers=2, shard_size=4)
    assert found == local
    assert seen == [("parity on 2 threads workers", n, 10) for n in range(1, 11)]
    ran = calls(tmp_path)
    assert ran.count("reference 4") == 2 * 3 and ran.count("reference 2") == 2 * 2  # a: 4, 4, 2; b: 4, 2
    assert [c for c in ran if c.startswith("candidate")] == ["candidate 2"] * 16  # every batch of 2, once


@pytest.mark.parametrize(("workers", "ref_batch", "cand_batch", "units"), [
    (1, 4, 2, 2),  # one unit a set: a.npz 0-10, b.npz 0-6
    (4, 4, 2, 4),  # two a set (4 workers over 2 sets): a.npz 0-8, 8-10 (5 rounded up to 8); b.npz 0-4, 4-6
    (4, 6, 2, 3),  # whole batches of 6 and 2 are steps of 6: a.npz 0-6, 6-10; b.npz 0-6
    (5, 4, 2, 5),  # 3 a set: a.npz 0-4, 4-8, 8-10 (10 / 3 up to 4); b.npz 0-4, 4-6 (6 / 3 up to 4)
    (3, 2, 2, 4),  # 2 a set (3 / 2 up): a.npz 0-6, 6-10 (5 up to 6); b.npz 0-4, 4-6 (3 up to 4)
    (6, 1, 1, 6),  # 3 a set, steps of 1: a.npz 0-4, 4-8, 8-10 (10 / 3 up to 4); b.npz 0-2, 2-4, 4-6
])
def test_by_default_each_set_is_split_so_the_units_fill_the_workers(tmp_path: Path, workers: int, ref_batch: int,
                                                                     cand_batch: int, units: int) -> None:
    import math

    from driftguard.parity import executors

    mp = callables(tmp_path, ref_batch=ref_batch, cand_batch=cand_batch)
    assert executors.batch_step(mp) == math.lcm(ref_batch, cand_batch)
    _, seen = threads([mp], workers=workers)
    label = f"parity on {workers} threads worker{'s' if workers != 1 else ''}"
    assert seen[-1] == (label, units, units) and len(seen) == units


def test_whole_batches_of_both_runners() -> None:
    from driftguard.parity import executors

    assert executors.shards(12, 12, 5, 1) == [(0, 12)]  # a shard never cuts a batch of 6 and one of 4 (lcm 12)
    assert executors.shards(30, 12, 13, 1) == [(0, 24), (24, 30)]
    assert executors.shards(10, 4, None, 0) == [(0, 10)]  # no workers counted: one shard
    assert executors.shards(0, 4, None, 2) == []
    assert executors.shards(8, 4, 1, 1) == [(0, 4), (4, 8)]


def test_a_shard_keeps_the_sets_path_and_digest(tmp_path: Path) -> None:
    from driftguard.parity import executors, golden

    arrays = golden.GoldenSet(tmp_path / "a.npz", "d1", arrays={"x": np.arange(10), "m": np.arange(10) * 2})
    part = executors.shard(arrays, 2, 5)
    assert (part.path, part.digest, part.records) == (tmp_path / "a.npz", "d1", ())
    assert {k: v.tolist() for k, v in part.arrays.items()} == {"x": [2, 3, 4], "m": [4, 6, 8]}
    records = golden.GoldenSet(tmp_path / "t.jsonl", "d2", records=tuple({"text": str(i)} for i in range(6)))
    part = executors.shard(records, 4, 6)
    assert (part.path, part.digest, part.arrays) == (tmp_path / "t.jsonl", "d2", {})
    assert part.records == ({"text": "4"}, {"text": "5"})


def test_a_recorded_reference_is_read_not_rerun_and_dg510_comes_from_a_unit_that_ran_it(tmp_path: Path) -> None:
    """b.npz recorded, a.npz not: the units of a.npz run the reference, those of b.npz do not. DG510 is the local
    run's, which started the reference (it applies top_p): only 'gone' is not exercised."""
    from driftguard.parity import golden, stage

    mp = callables(tmp_path)
    stage.record(mp)
    (tmp_path / "golden" / "a.m.reference.npz").unlink()
    assert [gs.recording("m").is_file() for gs in golden.load(tmp_path / "golden")] == [False, True]
    local = stage.run(mp)
    calls(tmp_path)
    found, _ = threads([mp], workers=2, shard_size=4)
    assert found == [local]
    assert [f.deployed.value for f in found[0] if f.rule == "DG510" and f.deployed] == [["gone"]]
    ran = calls(tmp_path)
    assert sorted(c for c in ran if c.startswith("reference")) == ["reference 2", "reference 4", "reference 4"]


def test_every_set_recorded_in_one_unit_reports_the_candidates_dg510(tmp_path: Path) -> None:
    """No unit ran the reference (its outputs are recorded): DG510 is what the candidate alone leaves unexercised,
    as in the local run, which never starts the reference either."""
    from driftguard.parity import stage

    mp = callables(tmp_path)
    mp = type(mp)(**{**mp.__dict__, "spec": mp.spec.model_copy(update={"golden": "golden/b.npz"})})
    stage.record(mp)
    local = stage.run(mp)
    assert [f.deployed.value for f in local if f.rule == "DG510" and f.deployed] == [["gone", "top_p"]]
    calls(tmp_path)
    found, seen = threads([mp], workers=1)
    assert found == [local] and seen == [("parity on 1 threads worker", 1, 1)]
    assert calls(tmp_path) == ["candidate 2"] * 3


def test_more_models_and_sets_than_the_interpreter_caches_small_ints_for(tmp_path: Path) -> None:
    """258 models, then one model of 258 golden sets (one sample each): every unit is joined to its own model and
    set by value, past 256 too (CPython keeps one object per int only up to 256). Under a second each."""
    from driftguard.parity import stage

    one = callables(tmp_path)
    one = type(one)(**{**one.__dict__, "spec": one.spec.model_copy(update={"golden": "golden/b.npz"})})
    many = [type(one)(**{**one.__dict__, "model": f"m{i}"}) for i in range(258)]
    found, _ = threads(many, workers=2)
    assert len(found) == 258 and found[257] == stage.run(many[257]) and found[0] == stage.run(many[0])
    (tmp_path / "sets").mkdir()
    for i in range(258):
        np.savez(tmp_path / "sets" / f"s{i:03d}.npz", x=np.full((1, 2), float(i + 1)))
    sets = type(one)(**{**one.__dict__, "spec": one.spec.model_copy(update={"golden": "sets"})})
    [found_sets] = threads([sets], workers=2)[0]
    assert found_sets == stage.run(sets)
    assert [f.key for f in found_sets if f.rule == "DG501"][-1] == "parity.s257.y.elementwise_fraction"


def test_an_executor_that_loses_a_unit_is_an_error_not_a_shorter_report(tmp_path: Path) -> None:
    from driftguard.parity import executors
    from driftguard.parity.request import ParityRequest

    class Lossy(executors.ThreadsExecutor):
        def map(self, fn: Any, items: Any, done: Any) -> Any:
            return super().map(fn, items, done)[:-1]

    with pytest.raises(ValueError, match="zip"):
        executors.fan_out([callables(tmp_path)], Lossy(1), ParityRequest(executor="threads"))


def test_a_unit_and_its_result_are_frozen(tmp_path: Path) -> None:
    import dataclasses

    from driftguard.parity import executors

    mp = callables(tmp_path)
    unit = executors.Unit(mp, 0, 0, mp.golden_sets()[0], True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        unit.reference = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        executors.UnitResult().error = None  # type: ignore[misc]


def test_a_unit_error_is_the_local_error_whole(tmp_path: Path) -> None:
    from driftguard.errors import DriftguardError
    from driftguard.parity import stage
    from tests.parity.conftest import USERFNS

    mp = callables(tmp_path)
    bad = type(mp)(**{**mp.__dict__, "spec": mp.spec.model_copy(update={"candidate": mp.spec.candidate.model_copy(
        update={"function": f"{USERFNS / 'fns.py'}:raises"})})})
    with pytest.raises(DriftguardError) as local:
        stage.run(bad)
    with pytest.raises(DriftguardError) as fanned:
        threads([bad], workers=2, shard_size=4)
    assert str(fanned.value) == str(local.value) and "the model server is down" in str(local.value)


def test_outputs_of_shards_that_do_not_join_are_one_line_naming_the_model(tmp_path: Path) -> None:
    from driftguard.parity.errors import ParityError

    mp = callables(tmp_path, ref_batch=2, candidate="renamed")
    with pytest.raises(ParityError, match=r"^model 'm': outputs of its golden shards do not join: "):
        threads([mp], workers=2, shard_size=2)


def test_the_threads_executor_keeps_the_items_order_and_counts_each_done() -> None:
    import contextvars
    import time

    from driftguard.parity.errors import ParityError
    from driftguard.parity.executors import ThreadsExecutor

    where: contextvars.ContextVar[str] = contextvars.ContextVar("where", default="unset")
    where.set("caller")

    def slow_first(n: int) -> tuple[int, str]:
        time.sleep(0.02 if n == 1 else 0)
        return n * 2, where.get()

    done: list[int] = []
    assert ThreadsExecutor(3).map(slow_first, [1, 2, 3, 4], done.append) == [(2, "caller"), (4, "caller"),
                                                                           (6, "caller"), (8, "caller")]
    assert done == [1, 2, 3, 4]
    assert ThreadsExecutor(1).workers == 1
    with pytest.raises(ParityError, match=r"^workers must be at least 1, got 0$"):
        ThreadsExecutor(0)


def test_which_executor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The executor a request names, the name compared by value (a name read from the command line is a string
    of its own, not the module's constant); any other name is refused, never taken for one of them."""
    from driftguard.parity import executors, stage
    from driftguard.parity.errors import ParityError
    from driftguard.parity.request import ParityRequest

    def own(name: str) -> str:
        return "".join(list(name))  # equal to the name, a different string object

    monkeypatch.setattr(executors.os, "cpu_count", lambda: 3)
    threads_executor = executors.open_executor(ParityRequest(executor=own("threads")))
    assert isinstance(threads_executor, executors.ThreadsExecutor) and threads_executor.workers == 3
    assert executors.open_executor(ParityRequest(executor="threads", workers=2)).workers == 2
    monkeypatch.setattr(executors.os, "cpu_count", lambda: None)  # os.cpu_count() may not know
    assert executors.open_executor(ParityRequest(executor="threads")).workers == 1
    ray = StandInRay()
    monkeypatch.setattr(executors, "import_ray", lambda: ray)
    assert isinstance(executors.open_executor(ParityRequest(executor=own("ray"))), executors.RayExecutor)
    for name in ("dask", "slurm", "xla"):  # names sorting before, between and after the three
        with pytest.raises(ParityError, match=rf"^unknown executor '{name}'; executors: local, threads, ray$"):
            executors.open_executor(ParityRequest(executor=name))
        with pytest.raises(ParityError, match=rf"^unknown executor '{name}'"):
            executors.run_models([], ParityRequest(executor=name))
    mp = callables(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr(executors, "open_executor", lambda request: opened.append(request.executor))
    assert executors.run_models([mp], ParityRequest(executor=own("local"))) == [stage.run(mp)] and opened == []


def test_without_ray_the_ray_executor_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity import executors
    from driftguard.parity.errors import ParityError

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives `import ray`
    with pytest.raises(ParityError, match=r"^--executor ray needs Ray: pip install 'driftguard-ml\[ray\]'$"):
        executors.import_ray()


def test_a_ray_address_is_probed_once_in_one_line() -> None:
    import socket

    from driftguard.parity import executors
    from driftguard.parity.errors import ParityError

    for address in ("nohost", "host:port", "ray://host:"):
        with pytest.raises(ParityError, match=rf"^--executor ray: the Ray address '{address}' is not host:port$"):
            executors.probe(address)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        port = listening.getsockname()[1]
        executors.probe(f"127.0.0.1:{port}")
        executors.probe(f"ray://127.0.0.1:{port}/")
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}/"):  # closed now: nothing answers
        with pytest.raises(ParityError) as refused:
            executors.probe(address)
        assert str(refused.value) == f"--executor ray: no Ray cluster answers at {address} (Connection refused)"


def test_the_first_line_of_an_exception() -> None:
    from driftguard.parity.executors import _first_line

    assert _first_line(RuntimeError("  boom\nsecond line ")) == "boom"
    assert _first_line(TimeoutError()) == "TimeoutError"
    assert _first_line(ValueError("x" * 400)) == "x" * 300


class RayError(Exception):
    """ray.exceptions.RayError: what Ray raises for a failed task or worker."""


class RayTaskError(RayError):
    """ray.exceptions.RayTaskError: the task itself raised (a subclass of RayError, as in Ray)."""


class StandInRay:
    """The part of Ray's API the executor uses (``ray.init``, ``is_initialized``, ``cluster_resources``,
    ``remote(num_cpus=, max_retries=)``, ``wait(refs, num_returns=)`` returning ``(ready, not ready)``, ``get``,
    ``shutdown``, ``ray.exceptions``), each call recorded; tasks run when ``get`` asks."""

    def __init__(self, initialized: bool = False, cpus: float | None = 2.0, init_error: Exception | None = None,
                 wait_error: Exception | None = None) -> None:
        self.initialized, self.cpus, self.init_error, self.wait_error = initialized, cpus, init_error, wait_error
        self.calls: list[tuple[str, Any]] = []
        self.exceptions = type("exceptions", (), {"RayError": RayError, "RayTaskError": RayTaskError})

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs: Any) -> None:
        self.calls.append(("init", kwargs))
        if self.init_error is not None:
            raise self.init_error
        self.initialized = True

    def cluster_resources(self) -> dict[str, float]:
        return {} if self.cpus is None else {"CPU": self.cpus, "memory": 1e9}

    def remote(self, **options: Any) -> Any:
        self.calls.append(("remote", options))

        def wrap(fn: Any) -> Any:
            return type("Remote", (), {"remote": staticmethod(lambda item: (fn, item))})

        return wrap

    def wait(self, pending: list[Any], num_returns: int) -> tuple[list[Any], list[Any]]:
        if self.wait_error is not None:
            raise self.wait_error
        return pending[:num_returns], pending[num_returns:]

    def get(self, ref: Any) -> Any:
        fn, item = ref
        return fn(item)

    def shutdown(self) -> None:
        self.calls.append(("shutdown", None))
        self.initialized = False


def ray_executor(monkeypatch: pytest.MonkeyPatch, ray: StandInRay, address: str | None = None,
                 workers: int | None = None) -> tuple[Any, list[str]]:
    from driftguard.parity import executors

    probed: list[str] = []
    monkeypatch.setattr(executors, "import_ray", lambda: ray)
    monkeypatch.setattr(executors, "probe", probed.append)
    return executors.RayExecutor(address, workers), probed


def test_ray_starts_a_local_instance_of_the_workers_asked_and_shuts_it_down(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = StandInRay(cpus=3.0)
    executor, probed = ray_executor(monkeypatch, ray, None, 3)
    assert ray.calls == [("init", {"address": "local", "num_cpus": 3, "include_dashboard": False,
                                   "log_to_driver": False, "logging_level": logging.ERROR})]
    assert (executor.workers, executor.owned, probed) == (3, True, [])
    done: list[int] = []
    assert executor.map(lambda n: n * 10, [1, 2, 3, 4], done.append) == [10, 20, 30, 40]
    assert done == [1, 2, 3, 4] and ("remote", {"num_cpus": 1, "max_retries": 0}) in ray.calls
    executor.close()
    executor.close()
    assert [c for c, _ in ray.calls].count("shutdown") == 1 and not executor.owned


@pytest.mark.parametrize(("address", "probes"), [("auto", False), ("local", False), ("10.0.0.7:6379", True),
                                                 ("ray://10.0.0.7:10001", True)])
def test_ray_joins_the_cluster_at_an_address_probing_a_host_first(monkeypatch: pytest.MonkeyPatch, address: str,
                                                                   probes: bool) -> None:
    ray = StandInRay(cpus=16.0)
    executor, probed = ray_executor(monkeypatch, ray, address, 2)
    assert ray.calls == [("init", {"address": address, "num_cpus": None, "include_dashboard": False,
                                   "log_to_driver": False, "logging_level": logging.ERROR})]
    assert probed == ([address] if probes else []) and executor.workers == 16 and executor.owned


@pytest.mark.parametrize(("cpus", "workers"), [(None, 1), (0.0, 1), (0.5, 1), (2.0, 2)])
def test_a_ray_already_running_is_used_as_it_is_and_left_running(monkeypatch: pytest.MonkeyPatch,
                                                                 cpus: float | None, workers: int) -> None:
    ray = StandInRay(initialized=True, cpus=cpus)
    executor, probed = ray_executor(monkeypatch, ray, "10.0.0.7:6379", 4)
    assert ray.calls == [] and probed == [] and not executor.owned and executor.workers == workers
    executor.close()
    assert ray.calls == [] and ray.initialized


@pytest.mark.parametrize(("address", "where"), [(None, "a local Ray instance"),
                                                ("auto", "the Ray cluster at auto")])
def test_a_ray_that_does_not_start_is_one_line(monkeypatch: pytest.MonkeyPatch, address: str | None,
                                               where: str) -> None:
    from driftguard.parity.errors import ParityError

    ray = StandInRay(init_error=ConnectionError("could not connect\n  details follow"))
    with pytest.raises(ParityError) as failed:
        ray_executor(monkeypatch, ray, address)
    assert str(failed.value) == f"--executor ray: could not start or reach {where}: could not connect"


def test_a_failed_ray_worker_is_one_line_a_failed_task_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity.errors import ParityError

    executor, _ = ray_executor(monkeypatch, StandInRay(wait_error=RayError("the worker died\nlogs")))
    with pytest.raises(ParityError, match=r"^--executor ray: a Ray worker failed: the worker died$"):
        executor.map(str, [1], lambda n: None)
    task = RayTaskError("a bug in driftguard")
    executor, _ = ray_executor(monkeypatch, StandInRay(wait_error=task))
    with pytest.raises(RayTaskError) as raised:
        executor.map(str, [1], lambda n: None)
    assert raised.value is task
