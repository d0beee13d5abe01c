"""Generated token sequences through the stage: sides that generate different lengths are compared as tokens
(padded with -1), judged by exact match and token agreement, and summarized without numeric errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from tests.parity.conftest import np, write_manifest

FNS = '''
import numpy as np

def tokens(inputs, config):
    """Token ids 0..n-1 per sample, n = generation.max_new_tokens; the last one differs when top_p is low."""
    n = int(config["generation.max_new_tokens"])
    rows = np.tile(np.arange(n, dtype=np.int64), (len(inputs["x"]), 1))
    if config.get("generation.top_p", 1.0) < 0.9:
        rows[0, -1] = 99
    return {"sequences": rows}

tokens.applies = ("generation.max_new_tokens", "generation.top_p")
'''


def _parity(tmp_path: Path, capsys: pytest.CaptureFixture[str], training: str, deployed: str) -> dict[str, Any]:
    (tmp_path / "fns.py").write_text(FNS)
    (tmp_path / "train.json").write_text(training)
    (tmp_path / "deploy.json").write_text(deployed)
    np.savez(tmp_path / "golden.npz", x=np.zeros((4, 1)))
    manifest = write_manifest(tmp_path, "      golden: golden.npz\n"
                                        "      reference: {runner: callable, function: fns.py:tokens}\n"
                                        "      candidate: {runner: callable, function: fns.py:tokens}\n",
                              training="train.json", deployment="deploy.json")
    text = manifest.read_text().replace("train.json\n", "train.json\n        kind: hf-generation\n") \
        .replace("deploy.json\n", "deploy.json\n        kind: hf-generation\n")
    manifest.write_text(text)
    code = run(["parity", "--config", str(manifest), "--format", "json", "--today", "2026-12-01"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    report: dict[str, Any] = json.loads(out)
    return {f["key"]: f for f in report["models"][0]["findings"]}


def test_different_lengths_are_compared_as_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _parity(tmp_path, capsys, '{"max_new_tokens": 8, "top_p": 0.95}', '{"max_new_tokens": 6, "top_p": 0.95}')
    assert "parity.sequences.token_agreement" in found and not any(f["rule"] == "DG503" for f in found.values())
    f = found["parity.sequences.token_agreement"]
    evidence = {e["name"]: e["value"] for e in f["evidence"]}
    assert evidence == {"exact_match": 0.0, "token_agreement": 0.75}  # 6 of 8 positions, -1 after the shorter
    assert "first divergence 6" in f["message"] and "max_abs" not in f["message"]
    assert f["delta"]["attribution"]["keys"][0]["key"] == "generation.max_new_tokens"


def test_one_token_off_is_measured_per_sample_and_position(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    sampling = '{"do_sample": true, "max_new_tokens": 10, "top_p": %s}'
    found = _parity(tmp_path, capsys, sampling % 0.95, sampling % 0.8)
    f = found["parity.sequences.token_agreement"]  # fp32 profile: token agreement must be 1.0
    evidence = {e["name"]: e["value"] for e in f["evidence"]}
    assert evidence == {"exact_match": 0.75, "token_agreement": 39 / 40}
    assert "first divergence 9" in f["message"]
    assert [k["key"] for k in f["delta"]["attribution"]["keys"]] == ["generation.top_p"]
