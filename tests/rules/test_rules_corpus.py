"""The rules on real Hugging Face files (shared/corpus/hf), extracted by the real extractors: every rule runs
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

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "hf"
SUFFIXES = ("__config.json", "__generation_config.json", "__tokenizer_config.json")

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus not present")


def _models() -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = defaultdict(list)
    if CORPUS.is_dir():
        for path in sorted(CORPUS.glob("*.json")):
            for suffix in SUFFIXES:
                if path.name.endswith(suffix):
                    groups[path.name[: -len(suffix)]].append(path)
    return dict(groups)


def _findings(prefix: str) -> list[Finding]:
    artifacts: list[EffectiveConfig] = []
    for path in _models()[prefix]:
        try:
            artifacts.append(api.extract(path))
        except DriftguardError:
            continue  # the extractor's own tests judge its errors; the rules see what extracts
    merged: dict[str, Value] = {}
    for artifact in artifacts:
        merged.update(artifact.values)
    training = Side("training", tuple(artifacts), merged)
    return run_rules(RuleContext(prefix, training, Side("deployment", (), {})))


@pytest.mark.parametrize("prefix", sorted(_models()))
def test_rules_run_on_real_models(prefix: str) -> None:
    for f in _findings(prefix):
        assert f.origins(), f
        assert all(Path(o.path).is_file() for o in f.origins())
        assert f.rule.startswith(("DG2", "DG3")), f  # one side only: no drift findings


def test_gemma2_eos_disagreement_is_found() -> None:
    """gemma2 ends turns with <end_of_turn> (107): config and generation config list it, the tokenizer's eos
    is <eos> (1) only - engines stopping on the tokenizer's eos run on."""
    found = [f for f in _findings("HakunaMatata888__gemma2-poem") if f.rule == "DG201"]
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert {Path(v.origin.path).name.split("__")[-1] for v in found[0].related} == {
        "config.json", "generation_config.json", "tokenizer_config.json"}


def test_llama2_is_consistent() -> None:
    """Llama-2: eos 2 everywhere; model_max_length is the no-limit sentinel, not a length above 4096."""
    assert [f for f in _findings("HamZil__Llama-2-7b-hf") if f.rule.startswith("DG2")] == []
