"""The triton-http runner against a live Triton server (``TRITON_URL``, default ``localhost:8000``): skipped when
none answers. Without a server: an unreachable one and a spec without url/model are one line, exit 2."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from driftguard.cli import run
from tests.parity.conftest import np, write_manifest

pytest.importorskip("tritonclient.http", exc_type=ImportError)

URL = os.environ.get("TRITON_URL", "localhost:8000")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _live_models() -> list[str]:
    import tritonclient.http as http

    try:
        client = http.InferenceServerClient(url=URL, connection_timeout=2.0, network_timeout=5.0)
        if not client.is_server_live():
            return []
        return [m["name"] for m in client.get_model_repository_index() if m.get("state") == "READY"]
    except Exception:
        return []


def test_unreachable_server_is_one_line_exit_2(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec = ("      golden: golden.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
            f"      candidate: {{runner: triton-http, url: '127.0.0.1:{_closed_port()}', model: linear}}\n")
    assert run(["parity", "--config", str(write_manifest(pair["dir"], spec))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no answer from the Triton server" in err[0] and "triton-http:127.0.0.1:" in err[0]


def test_url_and_model_are_required(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec = ("      golden: golden.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
            "      candidate: {runner: triton-http, url: 'localhost:8000'}\n")
    assert run(["parity", "--config", str(write_manifest(pair["dir"], spec))]) == 2
    assert "needs 'url' (host:port) and 'model'" in capsys.readouterr().err


def test_a_served_model_against_itself_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a live server: its first ready model, on golden inputs shaped from its metadata, agrees with itself."""
    models = _live_models()
    if not models:
        pytest.skip(f"no Triton server answers at {URL} (set TRITON_URL)")
    import tritonclient.http as http

    meta = http.InferenceServerClient(url=URL).get_model_metadata(models[0])
    rng = np.random.default_rng(0)
    arrays = {}
    for spec in meta["inputs"]:
        shape = [4 if int(d) < 0 else int(d) for d in spec["shape"]]
        dtype = {"FP32": np.float32, "FP16": np.float16, "INT64": np.int64, "INT32": np.int32}.get(spec["datatype"])
        if dtype is None:
            pytest.skip(f"input {spec['name']} is {spec['datatype']}")
        arrays[spec["name"]] = (rng.standard_normal(shape) if dtype in (np.float32, np.float16)
                                else rng.integers(0, 2, shape)).astype(dtype)
    np.savez(tmp_path / "golden.npz", **arrays)
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    served = f"{{runner: triton-http, url: '{URL}', model: {models[0]}, batch_size: 4}}"
    spec = f"      golden: golden.npz\n      reference: {served}\n      candidate: {served}\n"
    code = run(["parity", "--config", str(write_manifest(tmp_path, spec, training="a.json", deployment="a.json"))])
    assert code == 0, capsys.readouterr()
