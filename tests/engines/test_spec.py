"""``driftguard.engines.spec`` on its own (issue 25 point 2): what a serving path is, as data. Every expected value
is written out by hand from the documented contract of each record (its docstring), on small specs built here,
never read from an engine's tables: a Range's bounds, open or closed, and its interval notation; a path's
``check`` (the engine's rejection message, None where it accepts the value or validates no such value),
``canonical`` (the engine's own reading of a raw value), ``defaults`` (the highest layer's, with the layer's
name), ``neutral`` and ``endpoint_at``; the defaults of every record, and every record frozen."""

from __future__ import annotations

import dataclasses
import math

import pytest

from driftguard.engines.spec import (
    Decision,
    Endpoint,
    EngineSpec,
    Field,
    GenerationConfigUse,
    Layer,
    Range,
    between,
    ge,
    gt,
    openai_endpoints,
)
from driftguard.keys import Default

NAN = float("nan")


@pytest.mark.parametrize(("r", "n", "ok"), [
    # closed at both ends: each bound in, a step past it out
    (Range(0.0, 1.0), 0.0, True), (Range(0.0, 1.0), 1.0, True), (Range(0.0, 1.0), 0.5, True),
    (Range(0.0, 1.0), -0.01, False), (Range(0.0, 1.0), 1.01, False),
    (Range(-2.0, 2.0), -2.0, True), (Range(-2.0, 2.0), -2.5, False), (Range(-2.0, 2.0), 2.5, False),
    # an open end leaves its bound out, and only its own
    (Range(0.0, 1.0, low_open=True), 0.0, False), (Range(0.0, 1.0, low_open=True), 0.01, True),
    (Range(0.0, 1.0, low_open=True), 1.0, True), (Range(0.0, 1.0, low_open=True), -1.0, False),
    (Range(0.0, 1.0, high_open=True), 1.0, False), (Range(0.0, 1.0, high_open=True), 0.99, True),
    (Range(0.0, 1.0, high_open=True), 0.0, True), (Range(0.0, 1.0, high_open=True), 1.5, False),
    (Range(0.0, 1.0, low_open=True, high_open=True), 0.0, False),
    (Range(0.0, 1.0, low_open=True, high_open=True), 1.0, False),
    (Range(0.0, 1.0, low_open=True, high_open=True), 0.5, True),
    # a missing bound is open-ended
    (Range(1.0), 1.0, True), (Range(1.0), 0.99, False), (Range(1.0), 1e308, True), (Range(1.0), math.inf, True),
    (Range(high=2.0), -math.inf, True), (Range(high=2.0), 2.0, True), (Range(high=2.0), 2.5, False),
    (Range(high=2.0, high_open=True), 2.0, False), (Range(high=2.0, high_open=True), 1.99, True),
    (Range(), -1e308, True), (Range(), 0.0, True),
    # NaN is in no range
    (Range(), NAN, False), (Range(0.0), NAN, False), (Range(high=1.0), NAN, False), (Range(0.0, 1.0), NAN, False),
])
def test_a_range_holds_its_bounds_and_leaves_out_the_open_ones(r: Range, n: float, ok: bool) -> None:
    assert r.ok(n) is ok


@pytest.mark.parametrize(("r", "text"), [
    (Range(0.0, 1.0), "[0, 1]"), (Range(0.0, 1.0, low_open=True), "(0, 1]"),
    (Range(0.0, 1.0, high_open=True), "[0, 1)"), (Range(0.0, 1.0, low_open=True, high_open=True), "(0, 1)"),
    (Range(1.0), "[1, inf)"), (Range(high=2.0), "(-inf, 2]"), (Range(high=2.0, high_open=True), "(-inf, 2)"),
    (Range(), "(-inf, inf)"), (Range(-2.0, 2.0), "[-2, 2]"), (Range(1e-6, 0.5), "[1e-06, 0.5]"),
])
def test_a_range_reads_as_interval_notation(r: Range, text: str) -> None:
    assert r.text() == text


def test_the_range_helpers_and_the_defaults_of_a_range_and_a_field() -> None:
    assert ge(1.0) == Range(1.0, None, False, False, False)
    assert gt(0.0) == Range(0.0, None, True, False, False)
    assert between(0.0, 1.0) == Range(0.0, 1.0, False, False, False)
    assert between(0.0, 1.0, low_open=True) == Range(0.0, 1.0, True, False, False)
    assert between(0.0, 1.0, high_open=True) == Range(0.0, 1.0, False, True, False)
    assert Range() == Range(None, None, False, False, False)
    with pytest.raises(TypeError):  # the open ends are keyword-only: between(0, 1, True) says nothing of which
        between(0.0, 1.0, True)  # type: ignore[misc]
    f = Field("generation.top_p")
    assert (f.key, f.type, f.range, dict(f.replace)) == ("generation.top_p", "float", None, {})


def _spec(**changes: object) -> EngineSpec:
    spec = EngineSpec(
        name="p", engine="e", label="P", namespace="e", rejects="P rejects it",
        fields={"temperature": Field("generation.temperature", range=between(0.0, 2.0)),
                "n": Field("generation.num_return_sequences", "int", ge(1.0)),
                "bias": Field("generation.presence_penalty", range=ge(-1.0)),
                "seed": Field("generation.seed", "int"),
                "top_k": Field("generation.top_k", "int", replace={-1: 0})},
        other_fields=frozenset({"prompt", "stream"}))
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def test_check_gives_the_engines_rejection_for_a_number_outside_the_range() -> None:
    spec = _spec()
    assert spec.check("temperature", 2.5) == "must be in [0, 2] (P rejects it)"
    assert spec.check("temperature", -0.5) == "must be in [0, 2] (P rejects it)"
    assert spec.check("temperature", NAN) == "must be in [0, 2] (P rejects it)"
    assert spec.check("temperature", 2.0) is None and spec.check("temperature", 0) is None
    assert _spec(rejects="").check("temperature", 2.5) == "must be in [0, 2]"
    # an integer beyond any float compares as infinite, on its own side
    assert spec.check("n", 10 ** 400) is None
    assert spec.check("n", -(10 ** 400)) == "must be in [1, inf) (P rejects it)"
    assert spec.check("bias", -(10 ** 400)) == "must be in [-1, inf) (P rejects it)"  # -inf, not 0 nor +inf
    assert spec.check("bias", 10 ** 400) is None


@pytest.mark.parametrize(("name", "value"), [
    ("no_such_field", 99), ("seed", -5),  # not a field of the path; a field without a range
    ("temperature", True), ("temperature", False), ("n", False), ("n", True), ("temperature", "3"),
    ("temperature", [3.0]),
    ("temperature", {"v": 3.0}), ("temperature", None),  # no number: the type check, not the range, says so
])
def test_check_accepts_what_it_does_not_validate(name: str, value: object) -> None:
    assert _spec().check(name, value) is None  # type: ignore[arg-type]


def test_canonical_reads_a_raw_value_as_the_engine_does() -> None:
    spec = _spec()
    assert spec.canonical("top_k", -1) == 0
    assert spec.canonical("top_k", 5) == 5
    assert spec.canonical("temperature", -1) == -1  # a field without replacements
    assert spec.canonical("no_such_field", -1) == -1
    assert spec.canonical("top_k", [-1]) == [-1]  # a list or an object is never replaced (nor hashed)
    assert spec.canonical("top_k", {"k": -1}) == {"k": -1}


def test_defaults_are_the_highest_layers_with_the_layers_name() -> None:
    engine = Layer("engine", {"generation.temperature": Default(0.7, "docs temperature"),
                              "generation.top_p": Default(0.9, "docs top_p")})
    server = Layer("server", {"generation.temperature": Default(1.0, "server temperature"),
                              "generation.top_k": Default(50, "server top_k")})
    got = {k: (d.value, d.source, layer) for k, (d, layer) in _spec(layers=(engine, server)).defaults().items()}
    assert got == {"generation.temperature": (0.7, "docs temperature", "engine default"),
                   "generation.top_p": (0.9, "docs top_p", "engine default"),
                   "generation.top_k": (50, "server top_k", "server default")}
    assert _spec().defaults() == {}


def test_a_layer_is_named_by_its_owner() -> None:
    assert Layer("triton vllm_backend", {}).source == "triton vllm_backend default"
    assert Layer("defaults", {}).source == "defaults default"  # only the " default" suffix is the old spelling
    with pytest.raises(ValueError) as err:
        Layer("tgi default", {})
    assert str(err.value) == ("Layer('tgi default', ...): name the owner ('tgi'); the layer is shown as "
                              "'<owner> default'")


CHAT = Endpoint("/v1/chat/completions", "messages", True, "the chat template", switch="do_preprocess",
                neutral={"add_special_tokens": False})
COMPLETIONS = Endpoint("/v1/completions", "prompt", False, "raw text")
LATER = Endpoint("/later", "prompt", False, "a later endpoint with the same input member")


def test_neutral_is_the_endpoints_own_where_it_has_one() -> None:
    spec = _spec(output_fields={"add_special_tokens": True, "echo": False}, endpoints=(CHAT, COMPLETIONS))
    assert spec.neutral("add_special_tokens", CHAT) is False
    assert spec.neutral("add_special_tokens", COMPLETIONS) is True
    assert spec.neutral("add_special_tokens", None) is True
    assert spec.neutral("echo", CHAT) is False


def test_endpoint_at_is_the_first_whose_input_member_or_switch_it_is() -> None:
    spec = _spec(endpoints=(CHAT, COMPLETIONS, LATER))
    assert spec.endpoint_at("messages") is CHAT
    assert spec.endpoint_at("do_preprocess") is CHAT
    assert spec.endpoint_at("prompt") is COMPLETIONS
    assert spec.endpoint_at("inputs") is None
    assert _spec().endpoint_at("prompt") is None


def test_known_is_every_field_read_or_accepted() -> None:
    assert _spec().known == frozenset({"temperature", "n", "bias", "seed", "top_k", "prompt", "stream"})
    # a name both read and accepted (the built-in specs never do this; a plug-in's may) is still known
    assert "seed" in _spec(other_fields=frozenset({"seed", "prompt"})).known


def test_openai_endpoints_render_chat_messages_and_take_a_completions_prompt_as_given() -> None:
    assert openai_endpoints("chat why", "completions why") == (
        Endpoint("/v1/chat/completions", "messages", True, "chat why"),
        Endpoint("/v1/completions", "prompt", False, "completions why"))


def test_the_defaults_of_each_record() -> None:
    assert (COMPLETIONS.switch, COMPLETIONS.string_is_raw, COMPLETIONS.raw_why, dict(COMPLETIONS.neutral)) == \
        ("", False, "", {})
    use = GenerationConfigUse({"temperature": "generation.temperature"}, "--generation-config auto")
    assert (use.drop_hf_defaults, use.why) == (False, "")
    decision = Decision(True, "generation.temperature", "why")
    assert (decision.derived_from, dict(decision.forced), decision.force_rule) == ((), {}, "")
    bare = EngineSpec(name="p", engine="e", label="P", namespace="e")
    assert (dict(bare.fields), bare.other_fields, bare.ignored_why, bare.rejects, bare.layers) == \
        ({}, frozenset(), "", "", ())
    assert (bare.generation_config, bare.decoding, bare.dtypes, dict(bare.dtype_auto), bare.dtype_unset) == \
        (None, None, (), {}, None)
    assert (bare.quantizations, bare.truncation_side, bare.truncation_why, bare.generation_config_eos,
            bare.endpoints, dict(bare.output_fields)) == ((), None, "", "", (), {})


@pytest.mark.parametrize(("record", "attribute"), [
    (Range(0.0), "low"), (Field("generation.seed"), "type"), (Decision(True, "k", "why"), "samples"),
    (GenerationConfigUse({}, "s"), "setting"), (COMPLETIONS, "path"), (Layer("e", {}), "owner"),
    (_spec(), "name"),
])
def test_every_record_is_frozen(record: object, attribute: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, attribute, None)
