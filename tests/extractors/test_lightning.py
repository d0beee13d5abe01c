"""lightning kind: the checkpoint dict Lightning's ``dump_checkpoint`` writes, saved with torch.save (Lightning
itself is not needed to read or to build it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from driftguard import api  # noqa: E402
from driftguard.extractors import detect  # noqa: E402


def _lightning_dict(**extra: Any) -> dict[str, Any]:
    model = torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.Linear(8, 2)).to(torch.bfloat16)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    ckpt: dict[str, Any] = {
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "loops": {"fit_loop": {"state_dict": {}}},
        "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.25)}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": {"num_labels": 2, "optimizer": {"lr": 2e-5, "betas": (0.9, 0.999)},
                             "precision": "bf16-mixed", "_class_path": "pkg.models.TextClassifier"},
        "datamodule_hyper_parameters": {"max_length": 384, "batch_size": 16, "tokenizer": "bert-base-uncased"},
    }
    ckpt.update(extra)
    return ckpt


@pytest.mark.slow
def test_lightning_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "epoch=3-step=1200.ckpt"
    torch.save(_lightning_dict(), path)
    assert detect(path) == "lightning"
    cfg = api.extract(path)
    plain = cfg.plain()
    assert plain["lightning.version"] == "2.4.0"
    assert plain["lightning.epoch"] == 3
    assert plain["lightning.global_step"] == 1200
    assert plain["precision.compute"] == "bfloat16"
    assert cfg["precision.compute"].origin.pointer == "/hyper_parameters/precision"
    assert plain["precision.weights"] == "bfloat16"
    assert plain["model.weights.count"] == 3
    assert plain["model.weights.parameters"] == 50 * 8 + 8 * 2 + 2
    assert plain["model.num_labels"] == 2
    assert plain["model.architecture"] == "pkg.models.TextClassifier"
    assert plain["hparams.optimizer.lr"] == 2e-5
    assert plain["hparams.optimizer.betas"] == [0.9, 0.999]
    assert plain["hparams.datamodule.max_length"] == 384
    assert plain["preprocessing.max_length"] == 384
    assert cfg["preprocessing.max_length"].origin.pointer == "/datamodule_hyper_parameters/max_length"
    assert plain["lightning.optimizer.0.lr"] == 2e-5
    assert plain["lightning.optimizer.0.weight_decay"] == 0.01
    assert not any(k.startswith("hparams.callbacks") for k in plain)


def test_module_hparam_beats_datamodule_for_the_same_name(tmp_path: Path) -> None:
    ckpt = _lightning_dict()
    ckpt["hyper_parameters"]["max_length"] = 256
    path = tmp_path / "last.ckpt"
    torch.save(ckpt, path)
    cfg = api.extract(path)
    assert cfg["preprocessing.max_length"].value == 256
    assert cfg["preprocessing.max_length"].origin.pointer == "/hyper_parameters/max_length"


def test_amp_scaler_state_means_16_mixed(tmp_path: Path) -> None:
    ckpt = _lightning_dict(MixedPrecision={"scale": 65536.0, "growth_factor": 2.0, "_growth_tracker": 0})
    del ckpt["hyper_parameters"]["precision"]
    path = tmp_path / "last.ckpt"
    torch.save(ckpt, path)
    cfg = api.extract(path)
    assert cfg["precision.compute"].value == "float16"
    assert "GradScaler" in (cfg["precision.compute"].note or "")


def test_lightning_layout_in_a_pt_file_is_lightning(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(_lightning_dict(), path)
    assert detect(path) == "lightning"


def test_hyper_parameters_plus_state_dict_without_version_is_lightning(tmp_path: Path) -> None:
    ckpt = _lightning_dict()
    del ckpt["pytorch-lightning_version"]
    path = tmp_path / "model.pth"
    torch.save(ckpt, path)
    assert detect(path) == "lightning"


def test_cli_extract_json(tmp_path: Path) -> None:
    import json

    path = tmp_path / "last.ckpt"
    torch.save(_lightning_dict(), path)
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", "--format", "json", str(path)],
                          capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    found = out[0] if isinstance(out, list) else out
    assert found["kind"] == "lightning"
    assert found["values"]["preprocessing.max_length"]["value"] == 384


def test_corrupt_ckpt_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    torch.save(_lightning_dict(), path)
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[: len(data) // 3]))
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert "corrupt or truncated" in proc.stderr and "Traceback" not in proc.stderr
