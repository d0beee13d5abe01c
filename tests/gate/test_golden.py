"""``gate.golden.record`` (``driftguard golden record``, ``driftguard.golden_record``): the reference of each model
with a ``parity:`` section run once on its golden inputs, its outputs written beside them; a manifest with no
such model is one UsageError."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import manifest as manifest_mod
from driftguard.errors import UsageError
from driftguard.gate import golden
from driftguard.parity.request import ParityRequest
from tests.parity.conftest import linear_onnx, np, write_manifest

ORT = """      golden: golden.npz
      reference: {runner: onnxruntime, artifact: ref.onnx}
      candidate: {runner: onnxruntime, artifact: ref.onnx}
"""


def test_record_writes_the_reference_outputs_beside_the_inputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    linear_onnx(tmp_path / "ref.onnx", rng.standard_normal((8, 4)).astype(np.float32),
                rng.standard_normal(4).astype(np.float32))
    np.savez(tmp_path / "golden.npz", x=rng.standard_normal((16, 8)).astype(np.float32))
    m = manifest_mod.load(write_manifest(tmp_path, ORT, deployment="ref.onnx"))
    seen: list[tuple[str, int, int]] = []
    written = golden.record(m, None, ParityRequest(device="cpu", progress=lambda *a: seen.append(a)))
    assert written == [tmp_path / "golden.m.reference.npz"]
    with np.load(written[0], allow_pickle=False) as z:
        assert z["logits"].shape == (16, 4)
    assert seen  # the runner's batches were reported
    with pytest.raises(UsageError, match="no model 'other'"):
        golden.record(m, "other", ParityRequest())


def test_a_manifest_without_parity_sections_is_one_usage_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    linear_onnx(tmp_path / "ref.onnx", rng.standard_normal((8, 4)).astype(np.float32),
                rng.standard_normal(4).astype(np.float32))
    m = manifest_mod.load(write_manifest(tmp_path, "", deployment="ref.onnx"))  # parity: (empty)
    with pytest.raises(UsageError, match=r"no model in .* has a parity: section"):
        golden.record(m, None, ParityRequest())
