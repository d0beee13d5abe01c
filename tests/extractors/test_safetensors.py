"""safetensors kind: the header read as the format defines it, checked against the safetensors package."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect

np = pytest.importorskip("numpy")
st_numpy = pytest.importorskip("safetensors.numpy")


def _raw(path: Path, header: object, data: bytes = b"") -> Path:
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)
    return path


def test_agrees_with_the_safetensors_package(tmp_path: Path) -> None:
    from safetensors import safe_open

    tensors = {"embed.weight": np.zeros((10, 4), np.float16), "head.weight": np.zeros((3, 4), np.float16),
               "head.bias": np.zeros(3, np.float32), "position_ids": np.arange(10, dtype=np.int64)}
    path = tmp_path / "model.safetensors"
    st_numpy.save_file(tensors, str(path), metadata={"format": "pt", "note": "tiny"})
    assert detect(path) == "safetensors"
    cfg = api.extract(path)
    with safe_open(str(path), framework="numpy") as fh:
        names = list(fh.keys())
        elements = sum(fh.get_tensor(n).size for n in names)
        metadata = fh.metadata()
    assert cfg["model.weights.count"].value == len(names) == 4
    assert cfg["model.weights.parameters"].value == elements == 40 + 12 + 3 + 10
    assert cfg["precision.weights"].value == "float16"
    assert "float16: 52" in (cfg["precision.weights"].note or "")
    assert {k.removeprefix("safetensors.metadata."): cfg[k].value for k in cfg
            if k.startswith("safetensors.metadata.")} == metadata


def test_bf16_written_by_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    save_file({"w": torch.zeros(8, 8, dtype=torch.bfloat16), "b": torch.zeros(8)}, str(path))
    assert api.extract(path)["precision.weights"].value == "bfloat16"


def test_no_float_tensors_means_no_precision(tmp_path: Path) -> None:
    path = _raw(tmp_path / "ids.safetensors", {"ids": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}},
                bytes(16))
    plain = api.extract(path).plain()
    assert "precision.weights" not in plain
    assert plain["model.weights.count"] == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("short", b"\x01\x02", "no 8-byte header size"),
    ("huge", struct.pack("<Q", 2**40) + b"{}", "exceeds the format's limit"),
    ("cut", struct.pack("<Q", 100) + b'{"a":', "header says 100 bytes"),
    ("json", struct.pack("<Q", 5) + b'{"a":', "invalid safetensors header JSON"),
    ("list", struct.pack("<Q", 2) + b"[]", "not a JSON object"),
])
def test_malformed_headers(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=message):
        api.extract(path)


def test_offsets_past_the_end_are_rejected(tmp_path: Path) -> None:
    path = _raw(tmp_path / "m.safetensors", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
                bytes(8))
    with pytest.raises(ExtractionError, match="data_offsets"):
        api.extract(path)


def test_size_mismatch_is_rejected(tmp_path: Path) -> None:
    path = _raw(tmp_path / "m.safetensors", {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}},
                bytes(16))
    with pytest.raises(ExtractionError, match="do not fill"):
        api.extract(path)


def test_cli_exit_2_on_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    st_numpy.save_file({"w": np.zeros((64, 64), np.float32)}, str(path))
    path.write_bytes(path.read_bytes()[:1000])
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"driftguard: error: {path}: ")
    assert "truncated" in proc.stderr
