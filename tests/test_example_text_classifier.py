"""examples/text-classifier end to end: build.py makes the artifacts offline, `driftguard check` passes with the
INT8 change approved, fails without the approval, and fails on DG401 when the checkpoint is a retrained one.
The build is the same on every machine (the README shows its fingerprints): proved here across thread counts and
torch's scalar and vector kernels."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Builds or runs real models (or starts a Ray cluster): deselected unless --slow (CI runs them).
pytestmark = pytest.mark.slow

for _extra in ("torch", "onnx", "onnxruntime.quantization"):
    pytest.importorskip(_extra)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "text-classifier"
TODAY = "2026-12-01"  # approvals are judged on a fixed day so the test does not age


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def check(example: Path) -> tuple[int, dict[str, Any], str]:
    proc = run("-m", "driftguard", "check", "--config", str(example / "driftguard.yaml"), "--today", TODAY,
               "--format", "json", cwd=example.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f["rule"], f["key"]): f["status"] for f in report["models"][0]["findings"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example (without any local artifacts/) with its artifacts built by build.py."""
    dst = tmp_path_factory.mktemp("ex") / "text-classifier"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    proc = run(str(dst / "build.py"), "--out", str(dst / "artifacts"), cwd=dst)
    assert proc.returncode == 0, proc.stderr
    for name in ("text-classifier.ckpt", "model.onnx", "model-int8.onnx"):
        assert (dst / "artifacts" / name).is_file(), proc.stdout
    return dst


@pytest.fixture()
def example(built: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "text-classifier"
    shutil.copytree(built, dst)
    return dst


# --- the build is the same on every machine -------------------------------------------------------------------

def load_build(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def artifacts_of(out: Path) -> tuple[dict[str, bytes], tuple[str, str]]:
    """What a build wrote that check and parity read, as ``{name: dtype, shape and bytes}`` (checkpoint tensors,
    ONNX initializers float and quantized, golden inputs), and the DG401 fingerprints of the checkpoint and of
    the INT8 graph."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    from driftguard.rules.weights import combined, compare_file, training_prints

    state = torch.load(out / "text-classifier.ckpt", weights_only=True)["state_dict"]
    arrays = {f"ckpt:{k}": v.numpy() for k, v in state.items()}
    for name in ("model.onnx", "model-int8.onnx"):
        for init in onnx.load(str(out / name)).graph.initializer:
            arrays[f"{name}:{init.name}"] = numpy_helper.to_array(init)
    with np.load(out / "golden.npz") as golden:
        arrays.update({f"golden:{k}": golden[k] for k in golden.files})
    prints = training_prints(out / "text-classifier.ckpt", "torch")
    deployed = compare_file(out / "model-int8.onnx", "onnx", prints, 16, [])
    assert not deployed.unmatched and len(deployed.matched) == 2  # the INT8 graph is this checkpoint's
    raw = {k: f"{a.dtype}{a.shape}".encode() + a.tobytes() for k, a in arrays.items()}
    return raw, (combined(prints), combined(deployed.matched))


#: Float summation order is what differs between machines: thread counts, and vector kernels (AVX2/AVX-512 vs
#: torch's scalar ones, ATEN_CPU_CAPABILITY=default). Before build.py trained in float64 and rounded to its grid,
#: the scalar kernels alone moved the weights by up to 2e-6 and changed every fingerprint.
MACHINES = {"1 thread, scalar kernels": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                         "ATEN_CPU_CAPABILITY": "default"},
            "2 threads, native kernels": {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}}


@pytest.mark.parametrize("seed", [0, 1])
def test_the_build_is_the_same_under_other_threads_and_kernels(seed: int, tmp_path: Path) -> None:
    builds = []
    for label, env in MACHINES.items():
        out = tmp_path / label.replace(" ", "").replace(",", "-")
        proc = subprocess.run([sys.executable, str(EXAMPLE / "build.py"), "--out", str(out), "--seed", str(seed)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**os.environ, **env})
        assert proc.returncode == 0, proc.stderr
        builds.append(artifacts_of(out))
    (first, first_prints), (second, second_prints) = builds
    assert sorted(first) == sorted(second)
    differ = [k for k in first if first[k] != second[k]]
    assert not differ, f"bit differences between {list(MACHINES)}: {differ}"
    assert first_prints == second_prints


def test_trained_weights_are_on_the_grid() -> None:
    build = load_build(EXAMPLE / "build.py", "textclf_build_grid")
    model = build.train(seed=0, steps=2)
    for name, param in model.state_dict().items():
        assert param.dtype.is_floating_point and str(param.dtype) == "torch.float32", name
        steps = param.double() / build.GRID
        assert bool((steps == steps.round()).all()), name


def test_a_weight_at_a_rounding_midpoint_is_refused() -> None:
    """Another machine could round it the other way: the build stops instead of writing it."""
    import torch

    build = load_build(EXAMPLE / "build.py", "textclf_build_midpoint")
    model = build.TextClassifier().to(torch.float64)
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()
        model.classifier.bias[1] = 2.5 * build.GRID + 1e-14  # half a step between two grid points, give or take
    with pytest.raises(RuntimeError, match=r"classifier\.bias\[1\] .* rounding midpoint"):
        build.snap_to_grid(model)
    with torch.no_grad():
        model.classifier.bias[1] = 2.25 * build.GRID
    assert float(build.snap_to_grid(model).classifier.bias.detach()[1]) == 2 * build.GRID


def test_check_passes_with_the_int8_change_approved(example: Path) -> None:
    code, report, _ = check(example)
    assert code == 0, report
    assert statuses(report) == {("DG102", "precision.weights"): "approved"}
    [finding] = report["models"][0]["findings"]
    assert finding["approval"] == "text-classifier-int8"
    assert (finding["training"], finding["deployed"]) == ("float32", "int8")


def test_without_the_approval_the_int8_change_fails(example: Path) -> None:
    (example / "approvals" / "text-classifier-int8.yaml").unlink()
    code, report, _ = check(example)
    assert code == 1
    assert statuses(report) == {("DG102", "precision.weights"): "unapproved"}


def test_a_retrained_checkpoint_fails_weights_provenance(example: Path, tmp_path: Path) -> None:
    build = load_build(example / "build.py", "textclf_build")
    other = build.build(tmp_path / "retrained", seed=1)
    shutil.copy(other["checkpoint"], example / "artifacts" / "text-classifier.ckpt")
    code, report, _ = check(example)
    assert code == 1
    found = statuses(report)
    assert found[("DG401", "model.weights.fingerprint")] == "unapproved"
    assert found[("DG102", "precision.weights")] == "approved"  # the config still says the same thing


def test_the_triton_config_agrees_with_the_onnx_graph(example: Path) -> None:
    config = example / "model_repository" / "text_classifier" / "config.pbtxt"
    code, report, _ = check(example)
    assert code == 0 and not [f for f in report["models"][0]["findings"] if f["rule"].startswith("DG21")]
    config.write_text(config.read_text(encoding="utf-8").replace("dims: [ 2 ]", "dims: [ 3 ]"), encoding="utf-8")
    code, report, _ = check(example)
    assert code == 1 and any(f["rule"].startswith("DG21") for f in report["models"][0]["findings"])


# --- parity: the checkpoint as trained vs the graph as served (driftguard parity) --------------------------

def parity(example: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    proc = run("-m", "driftguard", "parity", "--config", str(example / "driftguard.yaml"), "--today", TODAY,
               "--format", "json", *extra, cwd=example.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def parity_findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in report["models"][0]["findings"]}


def with_candidate(example: Path, artifact: str, profile: str | None) -> None:
    import yaml

    path = example / "driftguard.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = doc["models"]["text-classifier"]["parity"]
    section["candidate"]["artifact"] = artifact
    if profile:
        section["profile"] = profile
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")


def test_parity_fp32_onnx_matches_the_checkpoint_under_the_fp32_profile(example: Path) -> None:
    with_candidate(example, "artifacts/model.onnx", "fp32")
    code, report, _ = parity(example)
    assert code == 0
    [finding] = report["models"][0]["findings"]
    assert (finding["rule"], finding["key"], finding["training"]) == ("DG500", "parity.logits", "fp32")
    evidence = {e["name"]: e for e in finding["evidence"]}
    assert evidence["elementwise_fraction"]["value"] == 0.0 and evidence["argmax_agreement"]["value"] == 1.0
    assert evidence["max_abs"]["value"] < 1e-5


def test_parity_int8_onnx_is_judged_by_the_int8_profile_with_metrics(example: Path) -> None:
    code, report, _ = parity(example, "--no-attribution")
    found = parity_findings(report)
    assert found, report
    for f in found.values():
        assert f["rule"] in ("DG500", "DG501")
        assert {"cosine_mean", "argmax_agreement", "max_abs", "sqnr_db"} <= {e["name"] for e in f["evidence"]}
        if f["rule"] == "DG501":  # judged by the int8 profile's bound, shown with the measured value
            assert f["training_origin"]["source"] == "int8 profile" and f["evidence"][0]["passed"] is False
    failing = [f for f in found.values() if f["status"] == "unapproved"]
    assert code == (1 if failing else 0)


def test_parity_retrained_checkpoint_fails(example: Path, tmp_path: Path) -> None:
    build = load_build(example / "build.py", "textclf_build_parity")
    other = build.build(tmp_path / "retrained", seed=1)
    shutil.copy(other["checkpoint"], example / "artifacts" / "text-classifier.ckpt")
    with_candidate(example, "artifacts/model.onnx", "fp32")
    code, report, _ = parity(example)
    assert code == 1
    failing = [f for f in report["models"][0]["findings"] if f["status"] == "unapproved"]
    assert {f["rule"] for f in failing} == {"DG501"}
    assert "parity.logits.elementwise_fraction" in {f["key"] for f in failing}
    assert all("the artifact changed" in f["message"] for f in failing)


def test_check_with_parity_is_one_report_one_exit_code(example: Path) -> None:
    proc = run("-m", "driftguard", "check", "--parity", "--config", str(example / "driftguard.yaml"), "--today",
               TODAY, "--format", "json", cwd=example.parent)
    report = json.loads(proc.stdout)
    rules = {f["rule"] for f in report["models"][0]["findings"]}
    assert "DG102" in rules and rules & {"DG500", "DG501"}
    assert proc.returncode == (0 if report["ok"] else 1)
    # without --parity, the parity approval is out of scope: never stale
    code, report, _ = check(example)
    assert code == 0 and not [a for a in report["approvals"] if a["state"] == "stale"]
