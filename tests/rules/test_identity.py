"""DG107 (rules/identity.py) on real files: a real PEFT adapter config's base against what a vLLM launch serves,
and what counts as a hub id."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from driftguard import api
from driftguard.rules.identity import hub_id

ADAPTER = Path(__file__).resolve().parents[1] / "corpus" / "hf" / \
    "Max-Lee-explore__MythTrans-llama31-8B__adapter_config.json"


@pytest.mark.parametrize(("written", "expected"), [
    ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/llama-3.1-8b-instruct"),
    ("/models/llama31", None), ("./adapter", None), ("~/models/x", None), ("llama31", None),
    ("models/llama/31", None), ("s3://bucket/model", None), ("org/", None),
])
def test_only_hub_ids_name_a_checkpoint(written: str, expected: str | None) -> None:
    assert hub_id(written) == expected


def _check(tmp_path: Path, served: str) -> list[tuple[str, str]]:
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_bytes(ADAPTER.read_bytes())
    (tmp_path / "serve.sh").write_text(f"#!/bin/bash\nvllm serve {served} --enable-lora --lora-modules "
                                       "myth=./adapter\n")
    (tmp_path / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": {"m": {
        "training": [{"path": "adapter/adapter_config.json"}], "deployment": [{"path": "serve.sh"}]}}}))
    return [(j.finding.rule, j.finding.message) for j in api.check(tmp_path / "driftguard.yaml").findings
            if j.finding.rule == "DG107"]


def test_a_real_adapter_served_on_another_base_is_drift(tmp_path: Path) -> None:
    found = _check(tmp_path, "Qwen/Qwen2.5-7B-Instruct")
    assert len(found) == 1
    assert "'unsloth/meta-llama-3.1-8b-bnb-4bit' (" in found[0][1] and "adapter_config.json:4" in found[0][1]
    assert "'Qwen/Qwen2.5-7B-Instruct' (" in found[0][1] and "serve.sh:2" in found[0][1]


def test_the_same_adapter_on_its_own_base_is_not(tmp_path: Path) -> None:
    assert _check(tmp_path, "unsloth/meta-llama-3.1-8b-bnb-4bit") == []


def test_five_heads_trained_four_configured_is_drift(tmp_path: Path) -> None:
    """Medusa heads trained 5 (their config.json) and served with 4 speculative tokens: model.speculative.num_heads
    is compared like any other key (DG101); the same base and count give nothing."""
    (tmp_path / "medusa").mkdir()
    (tmp_path / "medusa" / "config.json").write_text(
        '{\n  "base_model_name_or_path": "lmsys/vicuna-7b-v1.3",\n  "medusa_num_heads": 5,\n'
        '  "medusa_num_layers": 1,\n  "transformers_version": "4.33.1"\n}\n')

    def found(tokens: int) -> list[tuple[str, str]]:
        (tmp_path / "serve.sh").write_text(
            "#!/bin/bash\nvllm serve lmsys/vicuna-7b-v1.3 --speculative-config "
            f"'{{\"model\": \"./medusa\", \"num_speculative_tokens\": {tokens}, \"method\": \"medusa\"}}'\n")
        (tmp_path / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": {"m": {
            "training": [{"path": "medusa/config.json", "kind": "hf-config"}],
            "deployment": [{"path": "serve.sh"}]}}}))
        return [(j.finding.rule, j.finding.key) for j in api.check(tmp_path / "driftguard.yaml").findings
                if j.finding.rule in ("DG101", "DG107")]

    assert found(4) == [("DG101", "model.speculative.num_heads")]
    assert found(5) == []
