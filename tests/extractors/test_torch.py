"""torch kind: plain .pt/.pth/pytorch_model.bin read as metadata, without importing torch on the zip path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from driftguard import api  # noqa: E402
from driftguard.errors import ExtractionError  # noqa: E402
from driftguard.extractors import detect  # noqa: E402


def TinyClassifier(vocab: int = 11, hidden: int = 4, labels: int = 3) -> Any:
    """An embedding and a classifier head: three weight tensors."""
    return torch.nn.Sequential(torch.nn.Embedding(vocab, hidden), torch.nn.Linear(hidden, labels))


def _numel(module: Any) -> int:
    return int(sum(t.numel() for t in module.state_dict().values()))


def test_plain_state_dict_as_pytorch_model_bin(tmp_path: Path) -> None:
    model = TinyClassifier().to(torch.float16)
    path = tmp_path / "pytorch_model.bin"
    torch.save(model.state_dict(), path)
    assert detect(path) == "torch"
    cfg = api.extract(path)
    assert cfg.kind == "torch"
    assert cfg["precision.weights"].value == "float16"
    assert cfg["model.weights.count"].value == len(model.state_dict())
    assert cfg["model.weights.parameters"].value == _numel(model)


def test_checkpoint_dict_with_hparams_under_common_keys(tmp_path: Path) -> None:
    model = TinyClassifier()
    path = tmp_path / "model.pt"
    torch.save({
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": torch.optim.SGD(model.parameters(), lr=0.1).state_dict(),
        "config": {"max_seq_length": 128, "num_labels": 3, "vocab_size": 11, "optimizer": {"lr": 3e-4},
                   "dtype": torch.bfloat16, "num_beams": 4.0},
        "epoch": 7,
    }, path)
    cfg = api.extract(path)
    plain = cfg.plain()
    assert plain["preprocessing.max_length"] == 128
    assert cfg["preprocessing.max_length"].origin.pointer == "/config/max_seq_length"
    assert plain["model.num_labels"] == 3
    assert plain["model.vocab_size"] == 11
    assert plain["generation.num_beams"] == 4
    assert plain["hparams.optimizer.lr"] == 3e-4
    assert plain["hparams.dtype"] == "bfloat16"
    # the tensors win over a dtype hyperparameter: the weights really are float32
    assert plain["precision.weights"] == "float32"
    assert plain["model.weights.parameters"] == _numel(model)
    assert plain["torch.epoch"] == 7


def test_argparse_namespace_args_become_hparams(tmp_path: Path) -> None:
    import argparse

    path = tmp_path / "ckpt.pth"
    args = argparse.Namespace(max_source_length=256, lr=0.01, data_dir="/data")
    torch.save({"state_dict": TinyClassifier().state_dict(), "args": args}, path)
    plain = api.extract(path).plain()
    assert plain["hparams.max_source_length"] == 256
    assert plain["preprocessing.max_length"] == 256
    assert plain["hparams.data_dir"] == "/data"


def test_zip_path_does_not_import_torch(tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    torch.save(TinyClassifier().state_dict(), path)
    code = ("import sys; from driftguard import api; c = api.extract(sys.argv[1]); "
            "assert c['model.weights.count'].value == 3, c.plain(); "
            "bad = [m for m in ('torch', 'numpy', 'transformers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def test_legacy_non_zip_file_is_read_by_the_safe_unpickler(tmp_path: Path) -> None:
    path = tmp_path / "old.pt"
    torch.save({"state_dict": TinyClassifier().state_dict(), "hparams": {"max_length": 384}}, path,
               _use_new_zipfile_serialization=False)
    cfg = api.extract(path)
    assert cfg.kind == "torch"
    assert cfg["model.weights.count"].value == 3
    assert cfg["preprocessing.max_length"].value == 384
    assert cfg["precision.weights"].value == "float32"


def test_legacy_file_needs_no_torch(tmp_path: Path) -> None:
    path = tmp_path / "old.pt"
    torch.save({"w": torch.zeros(2, dtype=torch.float16)}, path, _use_new_zipfile_serialization=False)
    code = ("import sys; sys.modules['torch'] = None; from driftguard.cli import run; "
            "sys.exit(run(['extract', sys.argv[1], '--format', 'json']))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '"float16"' in proc.stdout


def test_legacy_refusal_names_the_global(tmp_path: Path) -> None:
    path = tmp_path / "evil_legacy.pt"
    torch.save({"x": TinyClassifier()}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ExtractionError, match=r"refused pickle global 'torch\.nn\.modules\.container\.Seq") as exc:
        api.extract(f"torch:{path}")
    assert "weights_only=False" not in str(exc.value)


def test_whole_pickled_module_is_refused_not_run(tmp_path: Path) -> None:
    path = tmp_path / "whole.pt"
    torch.save(TinyClassifier(), path)
    with pytest.raises(ExtractionError, match=r"refused pickle global 'torch\.nn\.modules\.container\.Sequential'"):
        api.extract(f"torch:{path}")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_zip_exits_2_with_a_clear_message(tmp_path: Path, cut: float) -> None:
    good = tmp_path / "good.pt"
    torch.save(TinyClassifier().state_dict(), good)
    data = good.read_bytes()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(data[: int(len(data) * cut)])
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(bad)], capture_output=True,
                          text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"driftguard: error: {bad}: ")
    assert "corrupt or truncated" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    path.write_text("hello")
    with pytest.raises(ExtractionError, match="not a torch checkpoint"):
        api.extract(f"torch:{path}")
