"""The torch runner end to end, where users' files trip it (issue 23 point 6): a checkpoint saved under a wrapper's
prefix names the missing and unexpected weights and the ``strip_prefix`` that fits them (torch's own message was
cut to its first line, before the names); a golden file with an extra array (``labels``) or float64 arrays runs,
as the ONNX runner's does, instead of failing with torch's raw error."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.cli import run
from tests.parity.conftest import np, write_manifest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow

BUILDER = '''
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return {"logits": self.fc(x)}


def build(config):
    return Net()
'''


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A Lightning-style checkpoint (weights under ``model.``), a builder, float64 golden inputs plus labels."""
    (tmp_path / "fns.py").write_text(BUILDER, encoding="utf-8")
    torch.manual_seed(0)
    fc = torch.nn.Linear(4, 2)
    torch.save({"state_dict": {f"model.fc.{k}": v for k, v in fc.state_dict().items()}}, tmp_path / "m.ckpt")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "golden.npz", x=rng.standard_normal((8, 4)), labels=rng.integers(0, 2, 8))
    return tmp_path


def runner(prefix: str | None) -> str:
    strip = f", strip_prefix: '{prefix}'" if prefix else ""
    return f"{{runner: torch, artifact: m.ckpt, builder: fns.py:build{strip}}}"


def test_a_prefixed_checkpoint_names_the_weights_and_the_prefix(folder: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(folder, f"      golden: golden.npz\n      reference: {runner(None)}\n"
                                      f"      candidate: {runner('model.')}\n", training="m.ckpt",
                              deployment="m.ckpt")
    assert run(["parity", "--config", str(manifest), "--today", "2026-12-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.endswith("the checkpoint's weights do not fit the module the builder made: 2 missing (fc.weight, "
                        "fc.bias); 2 unexpected (model.fc.weight, model.fc.bias); strip_prefix: 'model.' would "
                        "make them fit"), err


def test_float64_inputs_and_an_extra_array_run(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(folder, f"      golden: golden.npz\n      reference: {runner('model.')}\n"
                                      f"      candidate: {runner('model.')}\n", training="m.ckpt",
                              deployment="m.ckpt")
    code = run(["parity", "--config", str(manifest), "--today", "2026-12-01", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert '"parity.logits"' in out and '"DG500"' in out  # both sides ran: the same weights, the same outputs
