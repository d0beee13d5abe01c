"""DG101/DG102/DG103 called directly on built sides: which rule owns a key, the structured delta of set-like
keys, and DG103's one-sided findings (the side the value is on, what is skipped, that the walk goes on)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from driftguard import api, extractors
from driftguard.gate.sides import kind_traits
from driftguard.model import EffectiveConfig, Finding, How, Origin, Value
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.comparison import CompareOptions
from driftguard.rules.drift import (
    DecodingDrift,
    OneSidedKey,
    PrecisionDrift,
    ValueDrift,
    default_reason,
    is_precision_key,
)


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


# --- DG101's message: where two chat templates first differ -------------------------------------------------

def _templates(training: object, deployed: object) -> str:
    ctx = _ctx({"preprocessing.chat_template": "sha256:aaa", "preprocessing.chat_template_text": training},
               {"preprocessing.chat_template": "sha256:bbb", "preprocessing.chat_template_text": deployed},
               training_kind="hf-tokenizer", deployed_kind="hf-tokenizer")
    [f] = [f for f in ValueDrift().check(ctx) if f.key == "preprocessing.chat_template"]
    head = "preprocessing.chat_template: training 'sha256:aaa' != deployed 'sha256:bbb'"
    assert f.message.startswith(head)
    return f.message[len(head):]


def test_the_first_differing_template_line_is_named() -> None:
    assert _templates("{{ bos }}\n{% for m in messages %}\n{{ m }}", "{{ bos }}\n{% for m in msgs %}\n{{ m }}") == \
        ": first difference at template line 2: '{% for m in messages %}' vs '{% for m in msgs %}'"
    assert _templates("a", "b") == ": first difference at template line 1: 'a' vs 'b'"


def test_a_long_template_line_is_cut_to_80_characters() -> None:
    long_a, long_b = "x" * 100 + "a", "x" * 100 + "b"
    said = _templates(long_a, long_b)
    assert said == f": first difference at template line 1: {'x' * 79 + '…'!r} vs {'x' * 79 + '…'!r}"
    exact = "y" * 80
    assert _templates(exact, exact + "\nz").endswith("the deployed template goes on at line 2")
    assert _templates(exact + "1", "y" * 79 + "2") == \
        f": first difference at template line 1: {'y' * 79 + '…'!r} vs {'y' * 79 + '2'!r}"  # 81 cut, 80 kept


def test_a_template_that_goes_on_names_its_side_and_line() -> None:
    assert _templates("a\nb", "a\nb\nc\nd") == ": the deployed template goes on at line 3"
    assert _templates("a\nb\nc\nd", "a\nb") == ": the training template goes on at line 3"
    assert _templates("", "a") == ": the deployed template goes on at line 1"


def test_templates_with_the_same_lines_differ_in_whitespace() -> None:
    assert _templates("a\nb", "a\nb\n") == ": the templates differ in whitespace"
    assert _templates("a\r\nb", "a\nb") == ": the templates differ in whitespace"


@pytest.mark.parametrize(("training", "deployed"), [(None, "a"), ("a", None), (3, "a"), ("a", ["a"])])
def test_no_template_text_on_a_side_says_nothing_more(training: object, deployed: object) -> None:
    values_t = {"preprocessing.chat_template": "sha256:aaa"}
    values_d = {"preprocessing.chat_template": "sha256:bbb"}
    if training is not None:
        values_t["preprocessing.chat_template_text"] = training  # type: ignore[assignment]
    if deployed is not None:
        values_d["preprocessing.chat_template_text"] = deployed  # type: ignore[assignment]
    ctx = _ctx(values_t, values_d, training_kind="hf-tokenizer", deployed_kind="hf-tokenizer")
    [f] = [f for f in ValueDrift().check(ctx) if f.key == "preprocessing.chat_template"]
    assert f.message == "preprocessing.chat_template: training 'sha256:aaa' != deployed 'sha256:bbb'"


def test_only_the_template_key_gets_a_template_difference() -> None:
    ctx = _ctx({"preprocessing.chat_template_text": "a", "generation.top_p": 0.9},
               {"preprocessing.chat_template_text": "b", "generation.top_p": 0.8},
               training_kind="hf-tokenizer", deployed_kind="hf-tokenizer")
    messages = {f.key: f.message for f in ValueDrift().check(ctx)}
    assert messages["generation.top_p"] == "generation.top_p: training 0.9 != deployed 0.8"


# --- DG101's message: whose default a value is --------------------------------------------------------------

def _reason(a: Value, b: Value, key: str = "generation.top_k") -> str:
    return default_reason(key, a, b)


def test_a_default_says_whose_it_is_and_which_file_left_the_key_unset() -> None:
    hf = Value(50, Origin("models/m/generation_config.json", None, source="transformers default",
                          default_of="transformers 4.57.6"), How.DEFAULT)
    vllm = Value(0, Origin("deploy/request.json", None, source="vllm default", default_of="vllm"), How.DEFAULT)
    assert _reason(hf, vllm) == ("transformers 4.57.6 uses top_k=50 unless told otherwise (generation_config.json "
                                 "leaves it unset); vllm uses top_k=0 (off) unless told otherwise (request.json "
                                 "leaves it unset)")
    explicit = Value(40, Origin("deploy/request.json", 3))
    assert _reason(explicit, vllm) == "vllm uses top_k=0 (off) unless told otherwise (request.json leaves it unset)"
    assert _reason(hf, explicit) == ("transformers 4.57.6 uses top_k=50 unless told otherwise "
                                     "(generation_config.json leaves it unset)")
    assert _reason(explicit, explicit) == ""


def test_a_default_of_no_one_names_its_note_else_its_source() -> None:
    def default(note: str | None, source: str | None, derivation: str | None = None) -> Value:
        return Value(1.0, Origin("cfg/config.pbtxt", None, source=source), How.DEFAULT, note=note,
                     derivation=derivation)
    explicit = Value(0.9, Origin("t.json", 1))
    key = "generation.top_p"
    assert default_reason(key, default("Triton row 3", "triton default"), explicit) == \
        "top_p=1.0 (off) is a documented default (Triton row 3; config.pbtxt leaves it unset)"
    assert default_reason(key, default(None, "triton default"), explicit) == \
        "top_p=1.0 (off) is a documented default (triton default; config.pbtxt leaves it unset)"
    assert default_reason(key, default(None, None, "from do_sample"), explicit) == \
        "top_p=1.0 (off) is a documented default (derived: from do_sample; config.pbtxt leaves it unset)"
    assert default_reason(key, default(None, None), explicit) == \
        "top_p=1.0 (off) is a documented default (no note; config.pbtxt leaves it unset)"


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("generation.top_k", 0, "top_k=0 (off)"),
    ("generation.top_k", 50, "top_k=50"),
    ("generation.top_p", 1, "top_p=1 (off)"),  # 1 == 1.0
    ("generation.top_p", 0.95, "top_p=0.95"),
    ("generation.top_p", True, "top_p=true"),  # a bool is never the off value, though True == 1.0
    ("generation.top_k", False, "top_k=false"),
    ("generation.top_k", None, "top_k=null"),
    ("generation.top_k", "0", "top_k='0'"),
    ("generation.max_new_tokens", 0, "max_new_tokens=0"),  # no off value in its meaning
    ("hf.config.top_k", 0, "top_k=0"),  # no spec
])
def test_a_default_at_the_keys_off_value_says_off(key: str, value: object, shown: str) -> None:
    v = Value(value, Origin("d/request.json", None, default_of="vllm"), How.DEFAULT)  # type: ignore[arg-type]
    assert default_reason(key, v, Value(7, Origin("t.json", 1))) == \
        f"vllm uses {shown} unless told otherwise (request.json leaves it unset)"


def test_a_default_without_a_file_name_names_the_path() -> None:
    v = Value(50, Origin("/", None, default_of="transformers"), How.DEFAULT)
    assert default_reason("generation.top_k", v, Value(7, Origin("t.json", 1))) == \
        "transformers uses top_k=50 unless told otherwise (/ leaves it unset)"


# --- DG104's message, DG103's exceptions, and what diff runs -------------------------------------------------

def test_the_decoding_message_says_what_each_mode_came_from() -> None:
    derived = Value("sample", Origin("t.json", 2), How.DERIVED, derivation="do_sample true")
    noted = Value("greedy", Origin("d.json", 3), How.DERIVED, note="temperature 0", derivation="ignored")
    ctx = RuleContext("m", Side("training", (), {"generation.decoding": derived}),
                      Side("deployment", (), {"generation.decoding": noted}), compare=CompareOptions())
    [f] = DecodingDrift().check(ctx)
    assert f.message == ("generation.decoding: training 'sample' != deployed 'greedy' "
                         "(training do_sample true; deployed temperature 0)")
    plain = Value("greedy", Origin("d.json", 3), How.DERIVED)
    ctx = RuleContext("m", Side("training", (), {"generation.decoding": derived}),
                      Side("deployment", (), {"generation.decoding": plain}), compare=CompareOptions())
    [f] = DecodingDrift().check(ctx)
    assert f.message.endswith("(training do_sample true; deployed at d.json:3)")


def test_a_key_the_other_side_states_but_does_not_resolve_is_not_one_sided() -> None:
    # the deployment's value is an unresolved expression: the merge leaves it out (DG304 reports it)
    seed = Value(1234, Origin("training/hf-generation.json", 1))
    unresolved = Value("$SEED", Origin("serve.sh", 2), How.UNRESOLVED)
    defaulted = Value(0, Origin("serve.sh", None), How.DEFAULT)
    training = _side("training", "hf-generation", {"generation.seed": 1234})
    for shadowed, reported in (((unresolved,), False), ((defaulted,), True), ((defaulted, unresolved), False)):
        deployed = Side("deployment", (EffectiveConfig("vllm", "serve.sh", {}),), {},
                        kinds=kind_traits(["vllm"]), shadowed={"generation.seed": shadowed})
        found = list(OneSidedKey().check(RuleContext("m", training, deployed, compare=CompareOptions())))
        assert [f.training for f in found] == ([seed] if reported else [])


def test_diff_runs_dg101_and_dg104_between_two_files(tmp_path: Path) -> None:
    (tmp_path / "generation_config.json").write_text('{"do_sample": true, "top_p": 0.92, "top_k": 40}\n')
    (tmp_path / "request.json").write_text('{"prompt": "hi", "top_p": 0.85, "top_k": 40}\n')
    result = api.diff(tmp_path / "generation_config.json", f"vllm:{tmp_path / 'request.json'}")
    assert ("DG101", "generation.top_p") in [(f.rule, f.key) for f in result.findings]
    (tmp_path / "request.json").write_text('{"prompt": "hi", "temperature": 0}\n')
    result = api.diff(tmp_path / "generation_config.json", f"vllm:{tmp_path / 'request.json'}")
    assert ("DG104", "generation.decoding") in [(f.rule, f.key) for f in result.findings]


# --- which rule owns a key, for keys that sort before generation.decoding --------------------------------------

def test_keys_sorting_before_the_decoding_mode_are_dg101s() -> None:
    ctx = _ctx({"batching.max_batch_size": 8, "generation.decoder_start_token_id": 0},
               {"batching.max_batch_size": 4, "generation.decoder_start_token_id": 2})
    assert _keys(list(ValueDrift().check(ctx))) == ["batching.max_batch_size", "generation.decoder_start_token_id"]
    assert list(DecodingDrift().check(ctx)) == []
    assert not is_precision_key("generation.do_sample")  # a bool key, whose type sorts before "dtype"
    assert not is_precision_key("batching.dynamic")


def test_the_decoding_mode_is_dg104s_however_its_key_was_made() -> None:
    # the key as an extractor builds it at run time, not the rules' own constant object
    key = ".".join(("generation", "decoding"))
    ctx = RuleContext("m", Side("training", (), {key: Value("sample", Origin("t.json", 1))}),
                      Side("deployment", (), {key: Value("greedy", Origin("d.json", 1))}), compare=CompareOptions())
    assert list(ValueDrift().check(ctx)) == []
    assert _keys(list(DecodingDrift().check(ctx))) == ["generation.decoding"]
    one_sided = RuleContext("m", _side("training", "hf-generation", {key: "sample"}),
                            _side("deployment", "vllm", {"generation.temperature": 0.7}), compare=CompareOptions())
    assert [f.key for f in OneSidedKey().check(one_sided) if f.key == "generation.decoding"] == []


def test_a_one_sided_key_sorting_before_the_decoding_mode_is_dg103s() -> None:
    ctx = _ctx({"generation.decoder_start_token_id": 0, "generation.seed": 1}, {"generation.temperature": 0.7})
    assert [f.key for f in OneSidedKey().check(ctx) if f.training is not None] == \
        ["generation.decoder_start_token_id", "generation.seed"]


def test_an_ignored_one_sided_key_does_not_end_the_walk() -> None:
    ctx = _ctx({"generation.max_new_tokens": 64, "generation.seed": 1}, {"generation.temperature": 0.7},
               compare=CompareOptions(ignore=("generation.max_new_tokens",)))
    assert [f.key for f in OneSidedKey().check(ctx) if f.training is not None] == ["generation.seed"]


def test_only_max_length_is_bounded_by_a_context_where_the_path_has_no_such_field() -> None:
    # vLLM has no per-request max_length (its context bounds prompt plus output): a training max_length is not
    # one-sided against it; a sampling feature vLLM lacks is (the rule's docstring names no_repeat_ngram_size)
    training = _side("training", "hf-generation", {"generation.early_stopping": True, "generation.max_length": 512,
                                                   "generation.no_repeat_ngram_size": 3})
    deployed = Side("deployment", (EffectiveConfig("vllm", "request.json", {}),), {},
                    kinds=kind_traits(["vllm"]), serving="vllm-serve")
    found = list(OneSidedKey().check(RuleContext("m", training, deployed, compare=CompareOptions())))
    assert _keys(found) == ["generation.early_stopping", "generation.no_repeat_ngram_size"]


def test_only_the_template_key_gets_a_template_difference_whatever_it_sorts_after() -> None:
    ctx = _ctx({"preprocessing.chat_template_text": "a", "preprocessing.max_length": 512},
               {"preprocessing.chat_template_text": "b", "preprocessing.max_length": 1024},
               training_kind="hf-tokenizer", deployed_kind="hf-tokenizer")
    messages = {f.key: f.message for f in ValueDrift().check(ctx)}
    assert messages["preprocessing.max_length"] == "preprocessing.max_length: training 512 != deployed 1024"


def test_long_templates_with_the_same_lines_differ_in_whitespace() -> None:
    lines = "\n".join(f"{{# line {i} #}}" for i in range(300))
    assert _templates(lines, lines + "\n") == ": the templates differ in whitespace"


def test_diff_runs_dg102_between_two_files(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "serve").mkdir()
    (tmp_path / "train" / "config.json").write_text('{"model_type": "llama", "torch_dtype": "float32"}\n')
    (tmp_path / "serve" / "config.json").write_text('{"model_type": "llama", "torch_dtype": "float16"}\n')
    result = api.diff(tmp_path / "train" / "config.json", tmp_path / "serve" / "config.json")
    assert [(f.rule, f.key) for f in result.findings] == [("DG102", "precision.weights")]


def test_max_length_is_one_sided_against_a_path_that_states_it() -> None:
    # transformers' generate takes max_length per call: a training max_length the deployment leaves unset there
    # is one-sided (its context does not stand in for it)
    training = _side("training", "hf-generation", {"generation.max_length": 512})
    deployed = Side("deployment", (EffectiveConfig("vllm", "serve.py", {}),), {},
                    kinds=kind_traits(["vllm"]), serving="transformers")
    found = list(OneSidedKey().check(RuleContext("m", training, deployed, compare=CompareOptions())))
    assert _keys(found) == ["generation.max_length"]


def test_a_precision_key_does_not_end_dg101s_walk() -> None:
    # io.inputs.x.dtype (DG102's) sorts before preprocessing.max_length (DG101's)
    ctx = _ctx({"io.inputs.input_ids.dtype": "int64", "preprocessing.max_length": 512},
               {"io.inputs.input_ids.dtype": "int32", "preprocessing.max_length": 1024})
    assert _keys(list(ValueDrift().check(ctx))) == ["preprocessing.max_length"]
    assert _keys(list(PrecisionDrift().check(ctx))) == ["io.inputs.input_ids.dtype"]
