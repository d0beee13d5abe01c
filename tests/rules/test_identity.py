"""DG107 (rules/identity.py) on real files: a real PEFT adapter config's base against what a vLLM launch serves,
and what counts as a hub id."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from driftguard import api
from driftguard.model import EffectiveConfig, Finding, Origin, Value
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.identity import BaseModelIdentity, hub_id

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


@pytest.mark.parametrize(("written", "expected"), [
    (None, None), (8, None), (["org/name"], None),  # not written as a name at all
    ("~/models", None), ("./org/name", None),  # two parts, but a path from home or the current folder
    ("hf:org/name", None),  # a scheme (or a drive letter), with no "//"
    ("org\\x/name", None),  # a Windows path separator
    ("Org/Name", "org/name"),
])
def test_what_is_not_a_hub_id_even_with_two_parts(written: object, expected: str | None) -> None:
    assert hub_id(written) == expected


def _side(name: str, files: list[dict[str, object]]) -> Side:
    """One artifact per mapping, each its own file (``name/N.json``)."""
    configs = tuple(EffectiveConfig("test", f"{name}/{i}.json",
                                    {k: Value(v, Origin(f"{name}/{i}.json", j + 1)) for j, (k, v) in
                                     enumerate(values.items())}) for i, values in enumerate(files))
    merged = {k: v for c in configs for k, v in c.values.items()}
    return Side(name, configs, merged)


def _dg107(training: list[dict[str, object]], deployed: list[dict[str, object]]) -> list[Finding]:
    return list(BaseModelIdentity().check(RuleContext("m", _side("training", training),
                                                      _side("deployment", deployed))))


SERVED = {"model.source": "Qwen/Qwen2.5-7B-Instruct", "model.adapters": ["myth"]}


def test_a_base_that_sorts_before_the_served_model_is_still_another_model() -> None:
    [f] = _dg107([{"model.base": "meta-llama/Llama-3.1-8B"}], [SERVED])
    assert f.message.startswith("model.base 'meta-llama/Llama-3.1-8B' (training/0.json:1, the base the training "
                                "side's add-on was trained on) is not the served model.source")


def test_every_file_stating_a_base_is_compared() -> None:
    # the first adapter's base is the served model (or a local path): the second, another base, is still found
    for first in ("qwen/qwen2.5-7b-instruct", "./base"):
        found = _dg107([{"model.base": first}, {"model.base": "unsloth/meta-llama-3.1-8b-bnb-4bit"}], [SERVED])
        assert [f.training and f.training.value for f in found] == ["unsloth/meta-llama-3.1-8b-bnb-4bit"]
    found = _dg107([{"model.base": "a/one"}, {"model.base": "b/two"}, {"model.base": "c/three"}], [SERVED])
    assert [f.training and f.training.value for f in found] == ["a/one", "b/two", "c/three"]


def test_one_file_stating_its_base_twice_is_one_finding() -> None:
    # two artifacts read from the same file and line (equal origins, distinct objects): the file's base once
    base = {"model.base": "meta-llama/Llama-3.1-8B"}
    assert len(_dg107([base, base], [SERVED])) == 2  # two files: two findings
    one = Value("meta-llama/Llama-3.1-8B", Origin("adapter_config.json", 4))
    twice = Value("meta-llama/Llama-3.1-8B", Origin("adapter_config.json", 4))
    configs = (EffectiveConfig("hf-config", "adapter_config.json", {"model.base": one}),
               EffectiveConfig("hf-config", "adapter_config.json", {"model.base": twice}))
    side = Side("training", configs, {"model.base": twice})
    found = list(BaseModelIdentity().check(RuleContext("m", side, _side("deployment", [SERVED]))))
    assert len(found) == 1


def test_which_side_states_the_base_decides_where_the_finding_puts_it() -> None:
    [f] = _dg107([{"model.base": "meta-llama/Llama-3.1-8B"}], [SERVED])
    assert (f.training and f.training.value, f.deployed and f.deployed.value) == \
        ("meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B-Instruct")
    # the deployment's own add-on config: both values are the deployment's, the base is its value
    [f] = _dg107([], [SERVED, {"model.base": "meta-llama/Llama-3.1-8B"}])
    assert f.training is None
    assert f.deployed is not None and f.deployed.value == "meta-llama/Llama-3.1-8B"
    assert [v.value for v in f.related] == ["meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B-Instruct"]
    assert "the base the deployment side's add-on was trained on" in f.message


def test_diff_runs_dg107_between_two_files(tmp_path: Path) -> None:
    # diff runs the rules that relate two sides (api.diff_configs lists DG104-DG108)
    (tmp_path / "adapter_config.json").write_bytes(ADAPTER.read_bytes())
    (tmp_path / "serve.yaml").write_text("model: Qwen/Qwen2.5-7B-Instruct\nenable_lora: true\n"
                                        "lora_modules:\n  - myth=./adapter\n", encoding="utf-8")
    result = api.diff(tmp_path / "adapter_config.json", f"vllm:{tmp_path / 'serve.yaml'}")
    assert ("DG107", "model.base") in [(f.rule, f.key) for f in result.findings]
