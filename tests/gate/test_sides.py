"""gate/: building a side (serving path, shadowed values), kind metadata on the extractors, and init's roles."""

from __future__ import annotations

from pathlib import Path

from driftguard import api, engines, extractors
from driftguard.gate import sides
from driftguard.manifest import load
from driftguard.model import EffectiveConfig, Origin, Value

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "summarizer"


def test_every_built_in_kind_declares_its_metadata() -> None:
    for kind in extractors.builtin_kinds():
        info = extractors.info(kind)
        assert info is extractors.get(kind).INFO and info.kind == kind
        assert info.role in ("training", "deployment", "either"), kind
        if info.runtime:
            assert info.role == "deployment" and info.rank > max(
                extractors.info(k).rank for k in extractors.EXTRACTORS if not extractors.info(k).runtime), kind
    # the runtime kinds are the engines' kinds (a new engine's kind joins them without a line here) and the
    # kinds that read launch commands, whose engine is the launcher's
    runtime = {k for k in extractors.EXTRACTORS if extractors.info(k).runtime}
    assert {"vllm", "tgi", "tensorrt-llm", "openai", "lmdeploy"} <= runtime
    assert runtime == {n for n in engines.ENGINES if engines.engine(n).EXTRACTOR is not None} | \
        {k for k in extractors.EXTRACTORS if extractors.info(k).launches}


def _cfg(kind: str, path: str, **values: object) -> EffectiveConfig:
    return EffectiveConfig(kind, path, {k.replace("__", "."): Value(v, Origin(path, 1)) for k, v in values.items()})


def test_merge_keeps_what_it_shadowed() -> None:
    gen = _cfg("hf-generation", "generation_config.json", generation__top_p=0.9)
    config = _cfg("hf-config", "config.json", generation__top_p=0.5)
    merged, shadowed = sides.merge([gen, config])
    assert merged["generation.top_p"].value == 0.9  # generation_config.json ranks above config.json
    assert [v.value for v in shadowed["generation.top_p"]] == [0.5]
    merged, shadowed = sides.merge([config, gen])
    assert merged["generation.top_p"].value == 0.9 and [v.value for v in shadowed["generation.top_p"]] == [0.5]



def test_tied_are_the_values_only_manifest_order_ranks() -> None:
    a = _cfg("onnx", "a.onnx", precision__weights="int8", model__num_layers=2)
    b = _cfg("onnx", "b.onnx", precision__weights="float32")
    config = _cfg("hf-config", "config.json", model__num_layers=3)
    ties = sides.tied([a, config, b])
    # config.json ranks above a graph for model.num_layers; only the graphs' precision.weights tie
    assert {k: [v.origin.path for v in vs] for k, vs in ties.items()} == {"precision.weights": ["a.onnx", "b.onnx"]}
    assert sides.side_of("deployment", [a, config, b]).tied == ties
    assert sides.tied([a]) == {}

def test_the_summarizer_deployment_is_served_by_tritons_vllm_backend() -> None:
    m = load(EXAMPLE / "driftguard.yaml")
    spec = m.models["summarizer"]
    deployed = sides.build_side("deployment", spec.deployment, m.base)
    training = sides.build_side("training", spec.training, m.base)
    assert deployed.serving == "triton-vllm" and training.serving is None
    top_k = deployed.merged["generation.top_k"]
    assert top_k.origin.source in ("request", "triton vllm_backend default")
    # the model folder's generation_config.json states top_k too: the engine's value won, the file's is kept
    assert "generation.top_k" in deployed.shadowed
    assert deployed.kinds["vllm"].speaks == ("generation",)


def test_init_places_files_by_their_kinds_role(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "generation_config.json").write_text('{"do_sample": false}')
    (tmp_path / "serve").mkdir()
    (tmp_path / "serve" / "engine.yaml").write_text("model: /m\ngpu_memory_utilization: 0.9\n")
    found = api.discover(tmp_path)
    assert found == {"training": [("hf-generation", "ckpt/generation_config.json")],
                     "deployment": [("vllm", "serve/engine.yaml")]}
