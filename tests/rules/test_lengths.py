"""DG106 called on built sides: the positions a server derives from RoPE scaling, which side's positions count,
and that every finding names both sides' values (the relation's cases are in cases/DG106.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from driftguard.model import EffectiveConfig, How, Origin, Value
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.lengths import LengthDrift, scaled_positions


@pytest.mark.parametrize(("rope", "expected"), [
    (None, 4096),
    ({"type": "linear", "factor": 2.0}, 8192),
    ({"rope_type": "dynamic", "factor": 4}, 16384),
    ({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}, 8192),
    ({"rope_type": "llama3", "factor": 8.0}, 4096),  # Llama 3.1 states the scaled length already
    ({"rope_type": "longrope", "factor": 32}, 4096),
    ({"rope_type": "default"}, 4096),  # no factor: nothing scaled
    ({"type": "linear", "factor": "two"}, None),
    ("linear", None),
])
def test_scaled_positions_follow_vllm(rope: object, expected: int | None) -> None:
    assert scaled_positions(4096, rope) == expected


def _side(name: str, values: Mapping[str, Any], how: How = How.EXPLICIT) -> Side:
    path = f"{name}/files.json"
    vals = {k: Value(v, Origin(path, i + 1), how) for i, (k, v) in enumerate(values.items())}
    return Side(name, (EffectiveConfig("test", path, vals),), vals)


def _check(training: Mapping[str, Any], deployed: Mapping[str, Any]) -> list[Any]:
    return list(LengthDrift().check(RuleContext("m", _side("training", training), _side("deployment", deployed))))


def test_a_finding_names_both_sides_values() -> None:
    [f] = _check({"preprocessing.max_length": 2048}, {"serving.max_input_length": 1024})
    assert f.key == "serving.max_input_length"
    assert f.training is not None and f.training.value == 2048
    assert f.deployed is not None and f.deployed.value == 1024
    assert [o.path for o in f.origins()] == ["training/files.json", "deployment/files.json"]


def test_an_input_limit_makes_the_context_irrelevant_to_the_input() -> None:
    found = _check({"preprocessing.max_length": 4096},
                   {"serving.max_input_length": 1024, "serving.max_model_len": 2048})
    assert [f.key for f in found] == ["serving.max_input_length"]


def test_unknown_positions_judge_no_context() -> None:
    assert _check({}, {"serving.max_model_len": 1_000_000}) == []


def test_a_budget_past_the_context_alone_is_dg203s() -> None:
    assert _check({"preprocessing.max_length": 100},
                  {"serving.max_model_len": 4096, "generation.max_new_tokens": 5000}) == []
