"""DG106 called on built sides: the positions a server derives from RoPE scaling, which side's positions count,
and that every finding names both sides' values (the relation's cases are in cases/DG106.yaml)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import driftguard
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


# --- what a length is -------------------------------------------------------------------------------------
# transformers' VERY_LARGE_INTEGER is int(1e30) (tokenization_utils_base.py): model_max_length's "no limit",
# written out here rather than taken from driftguard.
_NO_LIMIT = int(1e30)


@pytest.mark.parametrize(("value", "is_length"), [
    (1, True), (4096, True), (_NO_LIMIT - 1, True),
    (0, False), (-1, False), (-4096, False), (_NO_LIMIT, False), (_NO_LIMIT + 1, False),
    (True, False), (False, False), ("4096", False), (4096.0, False), (None, False),
])
def test_only_a_positive_int_below_the_no_limit_sentinel_is_a_length(value: Any, is_length: bool) -> None:
    # a trained length past the sentinel is none: nothing is compared with it
    assert _check({"preprocessing.max_length": 2 ** 100}, {"serving.max_input_length": value}) == []
    # a served input limit shorter than the trained length is reported exactly when it is a length
    found = _check({"preprocessing.max_length": _NO_LIMIT - 1}, {"serving.max_input_length": value})
    assert [f.key for f in found] == (["serving.max_input_length"] if is_length and value < _NO_LIMIT - 1 else [])


@pytest.mark.parametrize("context", [_NO_LIMIT, 0, True, "8k"])
def test_a_context_that_is_no_length_relates_to_nothing(context: Any) -> None:
    # neither to the positions, nor to an explicit budget, nor to the trained length: and never a crash
    training = {"preprocessing.max_length": 2048, "model.max_position_embeddings": 4096}
    assert _check(training, {"serving.max_model_len": context, "generation.max_new_tokens": 512}) == []


@pytest.mark.parametrize("trained", [_NO_LIMIT, 0, "2048"])
def test_a_trained_length_that_is_no_length_leaves_no_budget_warning(trained: Any) -> None:
    assert _check({"preprocessing.max_length": trained},
                  {"serving.max_model_len": 4096, "generation.max_new_tokens": 4000}) == []


# --- RoPE scaling: only yarn starts from original_max_position_embeddings (vLLM _get_and_verify_max_len) ----

@pytest.mark.parametrize(("rope", "expected"), [
    # a factor with no type scales the stated positions (vLLM reads rope_type, else type, and only "yarn" uses
    # the original positions)
    ({"factor": 2.0}, 8192),
    ({"type": "linear", "factor": 2.0, "original_max_position_embeddings": 1024}, 8192),
    ({"rope_type": "dynamic", "factor": 2, "original_max_position_embeddings": 1024}, 8192),
    ({"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 1024}, 2048),
    ({"rope_type": "yarn", "factor": 2.0}, 8192),  # no original: from the stated positions
    ({"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 1024.0}, None),  # not an int
    ({"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": True}, None),
])
def test_scaled_positions_start_from_the_original_only_for_yarn(rope: object, expected: int | None) -> None:
    assert scaled_positions(4096, rope) == expected


def test_a_rope_type_read_from_json_is_compared_by_value() -> None:
    # strings parsed from a config are not the interpreter's interned literals
    rope = json.loads('{"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}')
    assert scaled_positions(4096, rope) == 8192


def test_the_message_names_the_rope_scaled_positions_only_when_they_differ() -> None:
    [f] = _check({"model.max_position_embeddings": 4096, "hf.config.rope_scaling":
                  {"rope_type": "yarn", "factor": 1.5, "original_max_position_embeddings": 2048}},
                 {"serving.max_model_len": 3500})
    assert "model.max_position_embeddings 4096 (training/files.json:1, 3072 with its RoPE scaling)" in f.message
    [f] = _check({"model.max_position_embeddings": 4096, "hf.config.rope_scaling": {"type": "linear", "factor": 1.0}},
                 {"serving.max_model_len": 5000})
    assert "model.max_position_embeddings 4096 (training/files.json:1): positions the model never had" in f.message
    assert _check({"model.max_position_embeddings": 4096}, {"serving.max_model_len": 4096}) == []


# --- boundaries ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("trained", "reported"), [
    (2047, True),   # a cut training chose, below the model's 2048 positions
    (2048, False),  # at the positions: the tokenizer stating the model's capacity
    (4096, False),  # past them: the same
])
def test_a_trained_length_at_or_past_the_positions_is_no_cut(trained: int, reported: bool) -> None:
    found = _check({"preprocessing.max_length": trained, "model.max_position_embeddings": 2048},
                   {"serving.max_input_length": 1024})
    assert [f.key for f in found] == (["serving.max_input_length"] if reported else [])


@pytest.mark.parametrize(("served", "reported"), [(1023, True), (1024, False), (1025, False)])
def test_a_served_limit_equal_to_the_trained_length_holds_it(served: int, reported: bool) -> None:
    found = _check({"preprocessing.max_length": 1024}, {"serving.max_input_length": served})
    assert [f.key for f in found] == (["serving.max_input_length"] if reported else [])


def _budget(found: list[Any]) -> list[str]:
    return [f.message for f in found if f.key == "generation.max_new_tokens"]


@pytest.mark.parametrize(("longest", "budget", "warned"), [
    (1024, 3072, False),  # 1024 + 3072 = 4096: fits the context exactly
    (1025, 3072, True),   # one past
    (1024, 4096, True),   # a budget as long as the context still leaves the input no room
    (4096, 1, False),     # an input as long as the context: reported as an input past the context, not here
    (5000, 1, False),
])
def test_the_budget_warning_boundaries(longest: int, budget: int, warned: bool) -> None:
    found = _check({}, {"serving.max_input_length": longest, "serving.max_model_len": 4096,
                        "generation.max_new_tokens": budget})
    assert len(_budget(found)) == int(warned)


def test_the_budget_warning_says_what_the_longest_input_leaves() -> None:
    found = _check({"preprocessing.max_length": 1000},
                   {"serving.max_model_len": 4096, "generation.max_new_tokens": 3500})
    assert _budget(found) == [
        "the trained input length preprocessing.max_length 1000 (training/files.json:1) plus "
        "generation.max_new_tokens 3500 (deployment/files.json:2) is past serving.max_model_len 4096 "
        "(deployment/files.json:1): the longest input leaves 3096 tokens to generate"]


def test_positions_that_are_no_length_give_way_to_the_other_sides() -> None:
    # the deployment's model files state 0 positions (no length): the training side's 4096 count
    [f] = list(LengthDrift().check(RuleContext(
        "m", _side("training", {"model.max_position_embeddings": 4096}),
        _side("deployment", {"model.max_position_embeddings": 0, "serving.max_model_len": 5000}))))
    assert (f.key, f.training and f.training.value) == ("serving.max_model_len", 4096)


def test_an_input_limit_that_is_no_length_gives_way_to_the_trained_length() -> None:
    found = _check({"preprocessing.max_length": 3000},
                   {"serving.max_input_length": _NO_LIMIT, "serving.max_model_len": 4096,
                    "generation.max_new_tokens": 2000})
    assert [m.split(" (", 1)[0] for m in _budget(found)] == [
        "the trained input length preprocessing.max_length 3000"]


def test_equal_lengths_read_from_two_files_are_equal() -> None:
    # ints parsed from two files are distinct objects above 256: the input exactly at the context is DG203's
    longest, cap = json.loads("4096"), json.loads("4096")
    assert longest is not cap
    found = _check({}, {"serving.max_input_length": longest, "serving.max_model_len": cap,
                        "generation.max_new_tokens": 10})
    assert _budget(found) == []


def test_a_default_budget_is_no_request() -> None:
    found = list(LengthDrift().check(RuleContext(
        "m", _side("training", {"preprocessing.max_length": 3000}),
        Side("deployment", (), {"serving.max_model_len": Value(4096, Origin("d.json", 1)),
                                "generation.max_new_tokens": Value(2000, Origin("d.json", 2), How.DEFAULT)}))))
    assert _budget(found) == []


def test_diff_runs_dg106_between_two_files(tmp_path: Path) -> None:
    # diff runs the rules that relate two sides (README "diff"; api.diff_configs lists DG104-DG108)
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 2048}\n', encoding="utf-8")
    (tmp_path / "vllm.yaml").write_text("max_model_len: 1024\n", encoding="utf-8")
    result = driftguard.diff(tmp_path / "tokenizer_config.json", f"vllm:{tmp_path / 'vllm.yaml'}")
    assert [(f.rule, f.key) for f in result.findings] == [("DG106", "serving.max_model_len")]
