"""The rules on real Hugging Face files (tests/corpus/hf), extracted by the real extractors: every rule runs
without crashing on every model, and the consistency rules find what is really there. Skipped when the
corpus folder is absent."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import DriftguardError
from driftguard.model import EffectiveConfig, Finding, Value
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.engine import run_rules

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "hf"
SUFFIXES = ("__config.json", "__generation_config.json", "__tokenizer_config.json")



def _models() -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(CORPUS.glob("*.json")):
        for suffix in SUFFIXES:
            if path.name.endswith(suffix):
                groups[path.name[: -len(suffix)]].append(path)
    return dict(groups)


def _artifacts(prefix: str) -> list[EffectiveConfig]:
    out: list[EffectiveConfig] = []
    for path in _models()[prefix]:
        try:
            out.append(api.extract(path))
        except DriftguardError:
            continue  # the extractor's own tests judge its errors; the rules see what extracts
    return out


def _findings(prefix: str) -> list[Finding]:
    artifacts = _artifacts(prefix)
    merged: dict[str, Value] = {}
    for artifact in artifacts:
        merged.update(artifact.values)
    training = Side("training", tuple(artifacts), merged)
    return run_rules(RuleContext(prefix, training, Side("deployment", (), {})))


#: What the rules find on each corpus model, (rule, key) sorted; an empty list is a checked "consistent".
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "6yuru99__MedNLLB-200": [],
    "Alikhan13r__falcon-180B-chat": [],
    "CoralReefFish__nb-whisper-small-beta": [("DG202", "preprocessing.max_length")],
    "CoralReefFish__nb-whisper-small-beta__onnx": [("DG202", "preprocessing.max_length")],
    "Decentralised-AI__WizardCoder-15B-1.0-GPTQ": [],
    "Decentralised-AI__falcon-40b": [],
    "GiorgosPapado__m2m_onnx_with_combined_sessions": [],
    "HYanChen__MiniMind2": [],
    "HakunaMatata888__gemma2-poem": [],  # generate() stops on every eos id generation_config.json lists
    "HamZil__Llama-2-7b-hf": [],
    "Harryshaft8__https-huggingface.co-KoboldAI-OPT-6.7B-Erebus": [],
    "HwwwwwwwH__MiniCPM-V-2": [],
    "JakobJohannesson__mixtral_dolphin_v2.5": [],
    "Max-Lee-explore__MythTrans-llama31-8B": [],
    "fauxpilot__fauxpilot__copilot_proxy__cgtok": [],
}


def test_every_model_is_expected() -> None:
    assert sorted(_models()) == sorted(EXPECTED)
    # the config.json, generation_config.json and tokenizer_config.json files of corpus/hf (42 files in all)
    assert sum(len(files) for files in _models().values()) == 40


def test_the_files_the_rules_do_not_see_are_pinned() -> None:
    """``_artifacts`` leaves out a file that does not extract; which ones is pinned, so a file that stops
    extracting fails here instead of quietly taking its findings away."""
    refused = []
    for files in _models().values():
        for path in files:
            try:
                api.extract(path)
            except DriftguardError:
                refused.append(path.name)
    assert refused == []


@pytest.mark.parametrize("prefix", sorted(_models()))
def test_rules_run_on_real_models(prefix: str) -> None:
    artifacts = _artifacts(prefix)
    assert len(artifacts) == len(_models()[prefix])  # every file of the model reached the rules
    assert all(any(v.explicit for v in a.values.values()) for a in artifacts)
    findings = _findings(prefix)
    for f in findings:
        assert f.origins(), f
        assert all(Path(o.path).is_file() for o in f.origins())
        assert f.rule.startswith(("DG2", "DG3")), f  # one side only: no drift findings
    assert sorted((f.rule, f.key) for f in findings) == EXPECTED.get(prefix)


def test_gemma2_eos_disagreement_is_found() -> None:
    """gemma2 ends turns with <end_of_turn> (107): config and generation config list it, the tokenizer's eos
    is <eos> (1) only - a server stopping on the tokenizer's eos (TensorRT-LLM's end_id) runs on, while
    generate(), vLLM and TGI stop on every id generation_config.json lists."""
    artifacts = _artifacts("HakunaMatata888__gemma2-poem")
    merged = {k: v for a in artifacts for k, v in a.values.items()}
    served = Side("deployment", tuple(artifacts), merged, serving="trtllm-serve")
    found = [f for f in run_rules(RuleContext("gemma2", Side("training", (), {}), served)) if f.rule == "DG201"]
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert {Path(v.origin.path).name.split("__")[-1] for v in found[0].related} == {
        "config.json", "generation_config.json", "tokenizer_config.json"}
    for serving in (None, "vllm-serve", "tgi", "lmdeploy-server"):
        side = Side("deployment", tuple(artifacts), merged, serving=serving)
        assert [f for f in run_rules(RuleContext("gemma2", Side("training", (), {}), side)) if f.rule == "DG201"] == []


def test_llama2_is_consistent() -> None:
    """Llama-2: eos 2 everywhere; model_max_length is the no-limit sentinel, not a length above 4096."""
    assert [f for f in _findings("HamZil__Llama-2-7b-hf") if f.rule.startswith("DG2")] == []
