"""examples/text-classifier end to end: build.py makes the artifacts offline, `driftguard check` passes with the
INT8 change approved, fails without the approval, and fails on DG401 when the checkpoint is a retrained one."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    spec = importlib.util.spec_from_file_location("textclf_build", example / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
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
