"""DG101/DG102/DG103 called directly on built sides: which rule owns a key, the structured delta of set-like
keys, and DG103's one-sided findings (the side the value is on, what is skipped, that the walk goes on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftguard import extractors
from driftguard.gate.sides import kind_traits
from driftguard.model import EffectiveConfig, Finding, How, Origin, Value
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.comparison import CompareOptions
from driftguard.rules.drift import OneSidedKey, PrecisionDrift, ValueDrift, is_precision_key


def _side(name: str, kind: str, values: Mapping[str, Any], explicit: bool = True) -> Side:
    path = f"{name}/{kind}.json"
    how = How.EXPLICIT if explicit else How.DEFAULT
    vals = {k: Value(v, Origin(path, i + 1), how) for i, (k, v) in enumerate(values.items())}
    # What the gate carries on a side it builds: what the kind declares (KindInfo.speaks, for DG103).
    kinds = kind_traits([kind]) if kind in extractors.EXTRACTORS else {}
    return Side(name, (EffectiveConfig(kind, path, vals),), vals, kinds=kinds)


def _ctx(training: Mapping[str, Any], deployed: Mapping[str, Any], *, training_kind: str = "hf-generation",
         deployed_kind: str = "vllm", compare: CompareOptions | None = None) -> RuleContext:
    return RuleContext("m", _side("training", training_kind, training), _side("deployment", deployed_kind, deployed),
                       compare=compare or CompareOptions())


def _keys(findings: list[Finding]) -> list[str]:
    return [f.key for f in findings]


def test_precision_keys() -> None:
    assert is_precision_key("precision.weights")
    assert is_precision_key("io.inputs.input_ids.dtype")
    assert is_precision_key("precision.quantization")
    assert not is_precision_key("precision.nonsense")
    assert not is_precision_key("generation.top_p")
    assert not is_precision_key("hf.config.torch_dtype")  # namespaced: no spec, never DG102's


def test_value_and_precision_drift_split_the_keys() -> None:
    ctx = _ctx({"precision.weights": "float32", "generation.top_p": 0.92, "hf.config.rope_theta": 10000},
               {"precision.weights": "int8", "generation.top_p": 0.85, "hf.config.rope_theta": 500000})
    assert _keys(list(ValueDrift().check(ctx))) == ["generation.top_p", "hf.config.rope_theta"]
    [p] = PrecisionDrift().check(ctx)
    assert (p.key, p.rule, p.training and p.training.value, p.deployed and p.deployed.value) == \
        ("precision.weights", "DG102", "float32", "int8")


def test_delta_of_an_unordered_key_ignores_order() -> None:
    ctx = _ctx({"generation.eos_token_id": [1, 2, 107]}, {"generation.eos_token_id": [107, 2, 3]})
    [f] = ValueDrift().check(ctx)
    assert f.delta == {"values_changed": {"root[0]": {"new_value": 3, "old_value": 1}}}  # 1 out, 3 in
    ordered = _ctx({"hf.config.eos": [1, 2, 107]}, {"hf.config.eos": [107, 2, 3]})
    [g] = ValueDrift().check(ordered)
    assert g.delta == {"values_changed": {"root[0]": {"new_value": 107, "old_value": 1},
                                          "root[2]": {"new_value": 3, "old_value": 107}}}
    # a canonical key whose order means something (a shape) keeps its order in the delta
    shape = _ctx({"io.inputs.x.shape": [1, 3, 224]}, {"io.inputs.x.shape": [3, 1, 224]})
    [h] = ValueDrift().check(shape)
    assert h.delta == {"values_changed": {"root[0]": {"new_value": 3, "old_value": 1},
                                          "root[1]": {"new_value": 1, "old_value": 3}}}


def test_one_sided_key_on_the_training_side() -> None:
    # do_sample is on both sides (skipped), seed on the training side only: the walk goes past the skip.
    ctx = _ctx({"generation.do_sample": True, "generation.seed": 1234}, {"generation.do_sample": True})
    [f] = OneSidedKey().check(ctx)
    assert (f.key, f.rule, f.severity) == ("generation.seed", "DG103", "warning")
    assert f.training is not None and f.training.value == 1234 and f.deployed is None
    assert "training side only (1234)" in f.message and "(vllm)" in f.message


def test_one_sided_key_on_the_deployed_side() -> None:
    ctx = _ctx({"generation.do_sample": True}, {"generation.do_sample": True, "generation.seed": 7})
    [f] = OneSidedKey().check(ctx)
    assert f.deployed is not None and f.deployed.value == 7 and f.training is None
    assert "deployment side only (7)" in f.message and "(hf-generation)" in f.message


def test_one_sided_key_skips() -> None:
    training = {"generation.not_in_the_vocabulary": 1,  # not canonical
                "model.num_labels": 5,                   # structure, not behaviour
                "generation.seed": 1234}
    assert _keys(list(OneSidedKey().check(_ctx(training, {})))) == ["generation.seed"]
    ignoring = _ctx(training, {}, compare=CompareOptions(ignore=("generation.seed",)))
    assert list(OneSidedKey().check(ignoring)) == []
    # the other side's kind does not speak generation.*: nothing to compare with, nothing said
    assert list(OneSidedKey().check(_ctx(training, {}, deployed_kind="onnx"))) == []


def test_one_sided_defaults_are_not_reported() -> None:
    ctx = RuleContext("m", _side("training", "hf-generation", {"generation.seed": 1}, explicit=False),
                      _side("deployment", "vllm", {}))
    assert list(OneSidedKey().check(ctx)) == []
