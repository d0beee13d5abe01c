"""Parity on a GPU: CUDA is used when present (``--device auto``) and on request (``--device cuda``). Marked
``gpu``: skipped where no CUDA device is visible (tests/conftest.py); ``benchmarks/gpu_check.sh`` runs them. The
last test runs everywhere else: asking for CUDA where there is none is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard.cli import run
from driftguard.parity.runners.base import RunnerConfig
from tests.conftest import cuda_backends
from tests.parity.conftest import write_manifest

ROOT = Path(__file__).resolve().parents[2]
ORT = """      golden: golden.npz
      reference: {runner: onnxruntime, artifact: ref.onnx}
      candidate: {runner: onnxruntime, artifact: %s}
"""


def needs(backend: str) -> None:
    if backend not in cuda_backends():
        pytest.skip(f"{backend} sees no CUDA device (install onnxruntime-gpu / a CUDA torch build)")


@pytest.mark.gpu
def test_onnxruntime_uses_cuda_when_present() -> None:
    needs("onnxruntime")
    from driftguard.parity.runners.onnxruntime import OnnxRuntimeRunner, OnnxRuntimeSettings

    for device in ("auto", "cuda"):
        runner = OnnxRuntimeRunner(RunnerConfig("onnxruntime", OnnxRuntimeSettings(artifact="m.onnx"), device=device),
                                   {})
        assert runner.providers()[0] == "CUDAExecutionProvider"
    cpu = OnnxRuntimeRunner(RunnerConfig("onnxruntime", OnnxRuntimeSettings(artifact="m.onnx"), device="cpu"), {})
    assert cpu.providers() == ["CPUExecutionProvider"]


@pytest.mark.gpu
@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_onnxruntime_parity_on_cuda(device: str, pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    needs("onnxruntime")
    assert run(["parity", "--config", str(write_manifest(pair["dir"], ORT % "ref.onnx")), "--device", device]) == 0
    assert run(["parity", "--config", str(write_manifest(pair["dir"], ORT % "cand.onnx")), "--device", device,
                "--no-attribution"]) == 1
    assert "DG501" in capsys.readouterr().out


@pytest.mark.gpu
def test_torch_checkpoint_on_cuda_vs_int8_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The text classifier as the README shows it, with both runners on the GPU."""
    needs("torch")
    needs("onnxruntime")
    example = ROOT / "examples" / "text-classifier"
    subprocess.run([sys.executable, str(example / "build.py"), "--out", str(tmp_path / "artifacts")], check=True,
                   capture_output=True)
    for name in ("driftguard.yaml", "build.py"):
        (tmp_path / name).write_bytes((example / name).read_bytes())
    (tmp_path / "model_repository").symlink_to(example / "model_repository")
    (tmp_path / "approvals").symlink_to(example / "approvals")
    code = run(["parity", "--config", str(tmp_path / "driftguard.yaml"), "--device", "cuda", "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1) and '"parity.logits' in out


@pytest.mark.skipif(bool(cuda_backends()), reason="CUDA is present here")
def test_device_cuda_without_cuda_is_one_line(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["parity", "--config", str(write_manifest(pair["dir"], ORT % "ref.onnx")), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--device cuda" in err[0] and "CUDAExecutionProvider" in err[0]
