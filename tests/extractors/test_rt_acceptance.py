"""``driftguard diff generation_config.json vllm:runtime-params.yaml``: one finding, on generation.top_p."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "acceptance"


def test_generation_config_vs_vllm_params_only_top_p_differs() -> None:
    pytest.importorskip("driftguard.extractors.hf_generation")
    gen, params = FIX / "generation_config.json", FIX / "runtime-params.yaml"
    res = subprocess.run([sys.executable, "-m", "driftguard", "diff", "--format", "json", str(gen),
                          f"vllm:{params}"], capture_output=True, text=True, check=False)
    assert res.returncode == 1, res.stderr
    findings = json.loads(res.stdout)["findings"]
    assert [f["key"] for f in findings] == ["generation.top_p"]
    f = findings[0]
    assert (f["training"], f["deployed"]) == (0.92, 0.85)
    assert f["training_origin"]["path"] == str(gen) and f["training_origin"]["line"] == 8
    assert f["deployed_origin"] == {"path": str(params), "line": 4, "pointer": "/top_p", "source": "request"}
