"""DG105 through ``driftguard.check`` on manifests built in tmp_path: the precision an LLM server computes in
or loads (vLLM ``dtype``/``quantization``, TGI ``--dtype``/``--quantize``, Triton TensorRT ``precision_mode``)
against the precision the model was evaluated in (config.json ``torch_dtype``)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import driftguard

TODAY = date(2026, 12, 1)


def _config(folder: Path, dtype: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                                "torch_dtype": dtype, "transformers_version": "4.57.6"}, indent=2))
    return path


def _manifest(root: Path, trained: str, deployment: list[dict[str, Any]], *, weights: str | None = None) -> Path:
    """A one-model manifest: training config.json in ``trained``; ``weights`` adds the deployment's own model
    folder (an ``hf-model`` artifact) with that dtype."""
    _config(root / "training", trained)
    items = list(deployment)
    if weights is not None:
        _config(root / "weights", weights)
        items.append({"path": "weights", "kind": "hf-model"})
    manifest = {"version": 1, "models": {"m": {"training": [{"path": "training/config.json"}],
                                                "deployment": items}}}
    path = root / "driftguard.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


def _vllm(root: Path, **args: Any) -> dict[str, Any]:
    (root / "serving").mkdir(exist_ok=True)
    body = {"model": "/models/m", "max_model_len": 2048, **args}
    (root / "serving" / "model.json").write_text(json.dumps(body, indent=2))
    return {"path": "serving/model.json"}


def _tgi(root: Path, **args: Any) -> dict[str, Any]:
    (root / "serving").mkdir(exist_ok=True)
    (root / "serving" / "launcher.yaml").write_text(yaml.safe_dump({"model_id": "/data/m",
                                                                    "max_total_tokens": 2048, **args}))
    return {"path": "serving/launcher.yaml", "kind": "tgi"}


def _dg105(manifest: Path) -> list[driftguard.Finding]:
    report = driftguard.check(manifest, today=TODAY)
    return [f for f in report.findings if f.rule == "DG105"]


def _one(manifest: Path) -> tuple[str, object, object]:
    found = _dg105(manifest)
    assert len(found) == 1, [f.message for f in found]
    f = found[0]
    assert f.training is not None and f.deployed is not None
    assert f.training.origin.path.endswith("config.json") and f.deployed.origin.path.startswith(str(manifest.parent))
    return f.key, f.training.value, f.deployed.value


@pytest.mark.parametrize(("trained", "dtype", "expected"), [
    ("bfloat16", "float16", ("precision.compute", "bfloat16", "float16")),
    ("float32", "float16", ("precision.compute", "float32", "float16")),
    ("float16", "bfloat16", ("precision.compute", "float16", "bfloat16")),
])
def test_vllm_dtype_narrower_than_the_model(tmp_path: Path, trained: str, dtype: str,
                                            expected: tuple[str, str, str]) -> None:
    assert _one(_manifest(tmp_path, trained, [_vllm(tmp_path, dtype=dtype)])) == expected


@pytest.mark.parametrize(("trained", "dtype"), [("bfloat16", "bfloat16"), ("bfloat16", "float32"),
                                                ("float16", "float16")])
def test_vllm_same_or_wider_dtype_passes(tmp_path: Path, trained: str, dtype: str) -> None:
    assert _dg105(_manifest(tmp_path, trained, [_vllm(tmp_path, dtype=dtype)])) == []


def test_vllm_auto_resolves_bf16_to_bf16(tmp_path: Path) -> None:
    assert _dg105(_manifest(tmp_path, "bfloat16", [_vllm(tmp_path, dtype="auto")], weights="bfloat16")) == []
    assert _dg105(_manifest(tmp_path, "bfloat16", [_vllm(tmp_path, dtype="auto")])) == []  # from training


def test_vllm_auto_serves_an_fp32_model_in_fp16(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "float32", [_vllm(tmp_path, dtype="auto")], weights="float32")
    assert _one(manifest) == ("precision.compute", "float32", "float16")
    (f,) = _dg105(manifest)
    assert "dtype auto" in f.message and "defaults.md §8" in f.message


@pytest.mark.parametrize("scheme", ["awq", "gptq", "fp8", "bitsandbytes"])
def test_vllm_quantization_is_one_finding(tmp_path: Path, scheme: str) -> None:
    manifest = _manifest(tmp_path, "bfloat16", [_vllm(tmp_path, dtype="float16", quantization=scheme)])
    assert _one(manifest) == ("precision.quantization", "bfloat16", scheme)


@pytest.mark.parametrize(("args", "expected"), [
    ({"dtype": "float16"}, ("precision.compute", "bfloat16", "float16")),
    ({"DTYPE": "float16"}, ("precision.compute", "bfloat16", "float16")),
    ({}, ("precision.compute", "bfloat16", "float16")),  # no --dtype: the server's float16 default
    ({"quantize": "awq"}, ("precision.quantization", "bfloat16", "awq")),
    ({"--quantize": "gptq"}, ("precision.quantization", "bfloat16", "gptq")),
    ({"QUANTIZE": "bitsandbytes"}, ("precision.quantization", "bfloat16", "bitsandbytes")),
    ({"quantize": "fp8"}, ("precision.quantization", "bfloat16", "fp8")),
])
def test_tgi_launcher_args(tmp_path: Path, args: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert _one(_manifest(tmp_path, "bfloat16", [_tgi(tmp_path, **args)])) == expected


def test_tgi_bf16_serves_a_bf16_model(tmp_path: Path) -> None:
    assert _dg105(_manifest(tmp_path, "bfloat16", [_tgi(tmp_path, dtype="bfloat16")])) == []


def test_triton_tensorrt_precision_mode(tmp_path: Path) -> None:
    folder = tmp_path / "repo" / "m"
    folder.mkdir(parents=True)
    (folder / "config.pbtxt").write_text(
        'name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\n'
        'optimization { execution_accelerators { gpu_execution_accelerator : [ { name : "tensorrt"\n'
        '  parameters { key: "precision_mode" value: "FP16" } } ] } }\n')
    manifest = _manifest(tmp_path, "float32", [{"path": "repo/m/config.pbtxt"}])
    assert _one(manifest) == ("precision.compute", "float32", "float16")


def test_a_pinned_approval_passes_it_and_only_those_values(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "bfloat16", [_vllm(tmp_path, quantization="awq")])
    data = yaml.safe_load(manifest.read_text())
    data["approvals"] = "approvals"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "approvals").mkdir()
    (tmp_path / "approvals" / "awq.yaml").write_text(yaml.safe_dump({
        "id": "m-awq", "model": "m", "key": "precision.quantization", "rule": "DG105", "training": "bfloat16",
        "deployed": "awq", "reason": "AWQ parity run within 0.3 points", "approved_by": "ml-platform",
        "approved_on": "2026-11-01", "expires": "2027-10-31"}))
    (f,) = _dg105(manifest)
    assert (f.status, f.approval) == ("approved", "m-awq")
    _vllm(tmp_path, quantization="gptq")
    (f,) = _dg105(manifest)
    assert f.status == "unapproved"


def test_cli_reports_the_serving_precision(tmp_path: Path) -> None:
    _manifest(tmp_path, "bfloat16", [_vllm(tmp_path, dtype="float16")])
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--today", "2026-12-01"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("precision.compute"))
    assert "bfloat16" in line and "float16" in line and "DG105" in line and "UNAPPROVED" in line
