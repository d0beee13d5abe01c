"""The serving-path specs (``driftguard.engines``): their tables are consistent with the vocabulary and the
extractors, their ranges are the engines' own, and their decoding rules decide the way the engines do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api, engines, extractors
from driftguard.engines.spec import Layer, Range
from driftguard.keys import spec_for
from driftguard.model import Origin, Value
from driftguard.rules import policy


def test_every_spec_field_names_a_canonical_key_and_a_known_type() -> None:
    for spec in engines.specs().values():
        for name, f in spec.fields.items():
            assert spec_for(f.key) is not None, (spec.name, name, f.key)
            assert f.type in ("float", "int", "bool", "strs", "ints", "json", "ids", "id", "stop", "early_stopping")
        assert not (set(spec.fields) & spec.other_fields), spec.name  # a field is mapped or accepted, not both
        for layer in spec.layers:
            for key, default in layer.defaults.items():
                assert spec_for(key) is not None or key.startswith(f"{spec.namespace}."), (spec.name, key)
                assert "defaults.md" in default.source or "transformers" in default.source, (spec.name, key)


def test_every_engine_kind_has_specs_and_every_spec_an_engine_kind() -> None:
    engines_of_kinds = {extractors.info(k).engine for k in extractors.EXTRACTORS} - {None}
    assert engines_of_kinds == {s.engine for s in engines.specs().values()} - {"transformers"}


def test_each_engine_declares_its_paths_and_its_kind_in_one_registry_line() -> None:
    # The built-ins, in this order, first: a new engine's line goes after them and needs no edit here.
    assert engines.ENGINES.names()[:6] == ["transformers", "vllm", "tgi", "tensorrt-llm", "openai", "lmdeploy"]
    assert [p for n in engines.ENGINES for p in (s.name for s in engines.engine(n).SPECS)] == list(engines.specs())
    assert list(engines.specs())[:13] == [
        "transformers", "vllm-serve", "triton-vllm", "vllm-sampling-params", "tgi", "triton-tensorrtllm",
        "trtllm-llmapi", "trtllm-serve", "openai", "openai-completions", "lmdeploy-pipeline", "lmdeploy-server",
        "turbomind"]
    for name in engines.ENGINES:
        module = engines.engine(name)
        assert all(s.engine == name for s in module.SPECS), name
        if module.EXTRACTOR is not None:  # the engine's kind is named as the engine and reads its files
            ref = extractors.EXTRACTORS.ref(name)
            assert ref is not None and ref.builtin and ref.target == module.EXTRACTOR
            assert extractors.info(name).engine == name
    assert engines.kinds() == [r for r in extractors.EXTRACTORS.refs() if extractors.info(r.name).engine is not None]
    assert engines.find("no-such-path") is None
    with pytest.raises(KeyError, match="unknown serving path 'no-such-path'; one of: transformers, vllm-serve"):
        engines.get("no-such-path")


@pytest.mark.parametrize(("spec", "name", "value", "ok"), [
    ("vllm-serve", "top_p", 0.0, False), ("vllm-serve", "top_p", 1.0, True), ("vllm-serve", "top_k", -1, True),
    ("vllm-serve", "top_k", -2, False), ("vllm-serve", "temperature", 0, True),
    ("tgi", "temperature", 0, False), ("tgi", "top_p", 1.0, False), ("tgi", "top_p", 0.99, True),
    ("openai", "temperature", 2.0, True), ("openai", "temperature", 2.1, False), ("openai", "n", 129, False),
    ("trtllm-llmapi", "top_k", 0, True), ("trtllm-llmapi", "repetition_penalty", 0, False),
    ("lmdeploy-pipeline", "temperature", 2.5, False), ("lmdeploy-pipeline", "top_k", 0, True),
    ("vllm-serve", "max_tokens", 10 ** 400, True),  # beyond any float: compared as infinite, no crash
    # Boundaries, from outside the spec tables (issue 25): OpenAI n is [1, 128] and temperature [0, 2]
    # (shared/reference/defaults.md §5, OAI); TGI refuses top_k 0 ("`top_k` must be strictly positive", router
    # validation.rs) and accepts 1; vLLM's top_p is (0, 1] and top_k -1 (off) or >= 1 (VLLM-SP _verify_args).
    ("openai", "n", 1, True), ("openai", "n", 128, True), ("openai", "n", 0, False),
    ("openai", "temperature", 0, True), ("openai", "temperature", -0.5, False),
    ("tgi", "top_k", 0, False), ("tgi", "top_k", 1, True),
    ("vllm-serve", "top_p", 0.5, True), ("vllm-serve", "top_p", 1.5, False), ("vllm-serve", "top_k", 1, True),
])
def test_ranges_are_the_engines_own(spec: str, name: str, value: float, ok: bool) -> None:
    msg = engines.get(spec).check(name, value)
    assert (msg is None) == ok, msg


def test_range_text_and_bounds() -> None:
    assert Range(0.0, 1.0, low_open=True).text() == "(0, 1]"
    assert Range(0.0, 1.0, low_open=True, high_open=True).text() == "(0, 1)"
    assert Range(1.0).text() == "[1, inf)"
    assert not Range(0.0).ok(float("nan"))


def test_canonical_values() -> None:
    assert engines.get("vllm-serve").canonical("top_k", -1) == 0
    assert engines.get("vllm-serve").canonical("seed", -1) is None
    assert engines.get("triton-tensorrtllm").canonical("no_repeat_ngram_size", 1 << 30) == 0
    assert engines.get("vllm-serve").canonical("top_k", 5) == 5


def test_dg303_checks_the_canonical_ranges() -> None:
    assert policy.RANGES is engines.CANONICAL_RANGES
    assert policy.RANGES["generation.top_p"].text() == "(0, 1]"
    assert policy.RANGES["batching.preferred_batch_sizes"].each


def _v(value: object) -> Value:
    return Value(value, Origin("f.json", 1))


@pytest.mark.parametrize(("spec", "values", "samples"), [
    ("vllm-serve", {"generation.temperature": 0}, False),
    ("vllm-serve", {"generation.temperature": 0.000009}, False),
    ("vllm-serve", {"generation.temperature": 0.00001}, True),
    ("tgi", {"generation.temperature": 1.0, "generation.top_k": 0, "generation.top_p": 1.0,
             "generation.typical_p": 1.0}, False),
    ("tgi", {"generation.top_p": 0.9, "generation.do_sample": False}, True),  # a warper samples anyway
    ("openai", {"generation.temperature": 0}, False),
    ("triton-tensorrtllm", {"generation.top_k": 1, "generation.top_p": 0.9}, False),
    ("triton-tensorrtllm", {"generation.top_k": 0, "generation.top_p": 0.0}, False),
    ("triton-tensorrtllm", {"generation.top_k": 0, "generation.top_p": 0.9}, True),
    ("trtllm-llmapi", {}, False),  # greedy while no sampling field is set
    ("lmdeploy-pipeline", {"generation.do_sample": False}, False),
    ("lmdeploy-server", {"generation.do_sample": False}, True),
    ("turbomind", {"generation.top_k": 1}, False),
    ("transformers", {"generation.do_sample": True}, True),
])
def test_decoding_rules(spec: str, values: dict[str, object], samples: bool) -> None:
    rule = engines.get(spec).decoding
    assert rule is not None
    decision = rule({k: _v(v) for k, v in values.items()})
    assert decision is not None and decision.samples is samples, decision
    assert decision.why and decision.anchor.startswith("generation.")


def test_forced_and_derived_values_record_how_they_came_to_be(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "generation_config.json").write_text(json.dumps({"do_sample": True, "top_p": 0.95,
                                                              "temperature": 0.7}, indent=1))
    req = tmp_path / "request.json"
    req.write_text(json.dumps({"prompt": "x", "temperature": 0, "max_tokens": 8}, indent=1))
    ctx = api.extract(f"hf-model:{model}")
    cfg = api.diff(f"hf-model:{model}", f"vllm:{req}", context=[ctx]).deployed
    assert cfg.serving == "vllm-serve"
    t = cfg["generation.temperature"]
    assert t.how == "explicit" and t.origin.line == 3
    ds = cfg["generation.do_sample"]
    assert ds.how == "derived" and ds.derived_from == ("generation.temperature",) and ds.value is False
    top_p = cfg["generation.top_p"]
    assert top_p.how == "forced" and top_p.value == 1.0
    assert top_p.origin.source == "forced: vLLM greedy (temperature < 1e-5)" and top_p.origin.line == 3
    assert top_p.replaced is not None and top_p.replaced.value == 0.95
    assert top_p.replaced.how == "inherited" and top_p.replaced.origin.path.endswith("generation_config.json")
    out = top_p.to_dict()
    assert out["how"] == "forced" and out["replaced"]["value"] == 0.95 and out["derived_from"] == [
        "generation.temperature"]
    mt = cfg["generation.max_new_tokens"]
    assert mt.how == "explicit"


def test_triton_vllm_backend_reads_no_generation_config(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "generation_config.json").write_text(json.dumps({"do_sample": True, "top_p": 0.95}))
    (tmp_path / "model.json").write_text(json.dumps({"model": str(model), "gpu_memory_utilization": 0.9}))
    engine_args = api.extract(f"vllm:{tmp_path / 'model.json'}")
    req = tmp_path / "request.json"
    req.write_text(json.dumps({"temperature": 0.5}))
    cfg = api.diff(f"hf-model:{model}", f"vllm:{req}", context=[engine_args]).deployed
    assert cfg.serving == "triton-vllm"
    assert cfg["generation.top_p"].value == 1.0
    assert cfg["generation.top_p"].how == "default"
    assert cfg["generation.top_p"].origin.source == "triton vllm_backend default"


def test_tgi_declares_what_it_computes_in_without_a_dtype() -> None:
    """TGI's unset ``--dtype`` rule lives with its spec (DG105 asks the spec, not the kind name)."""
    from driftguard.model import EffectiveConfig

    def launcher(**values: object) -> EffectiveConfig:
        return EffectiveConfig("tgi", "l.yaml", {k: Value(v, Origin("l.yaml", 1)) for k, v in values.items()}, "tgi")

    rule = engines.get("tgi").dtype_unset
    assert rule is not None and all(s.dtype_unset is None for n, s in engines.specs().items() if n != "tgi")
    applies, value = rule(launcher(**{"tgi.launcher.model_id": "/m"}))
    assert applies and value is not None and value.value == "float16" and not value.explicit
    assert rule(launcher(**{"tgi.launcher.model_id": "/m", "precision.quantization": "fp8"})) == (True, None)
    assert rule(launcher(**{"generation.temperature": 0.5})) == (False, None)  # a request body: not launcher args


def test_a_layer_names_whose_defaults_it_holds() -> None:
    assert Layer("vllm", {}).source == "vllm default"
    with pytest.raises(ValueError, match="name the owner \\('vllm'\\)"):
        Layer("vllm default", {})  # the old spelling would show as "vllm default default"


def test_a_filled_default_names_its_owner_as_data() -> None:
    cfg = api.extract("vllm:examples/summarizer/deployment/sampling-params.yaml")
    defaults = [cfg[k] for k in cfg if not cfg[k].explicit and cfg[k].origin.source == "vllm default"]
    assert defaults and all(v.origin.default_of == "vllm" for v in defaults)
    explicit = [cfg[k] for k in cfg if cfg[k].explicit]
    assert explicit and all(v.origin.default_of is None for v in explicit)
