"""gate/: building a side (serving path, shadowed values), kind metadata on the extractors, and init's roles."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from driftguard import api, engines, extractors
from driftguard.errors import ExtractionError, LimitError, ManifestError
from driftguard.gate import sides
from driftguard.manifest import load
from driftguard.model import EffectiveConfig, Finding, How, Origin, Value
from driftguard.readers.limits import Limits

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

def test_merge_side_is_the_merged_values_alone() -> None:
    gen = _cfg("hf-generation", "generation_config.json", generation__top_p=0.9, generation__top_k=40)
    config = _cfg("hf-config", "config.json", generation__top_p=0.5)
    merged = sides.merge_side([config, gen])
    assert {k: v.value for k, v in merged.items()} == {"generation.top_p": 0.9, "generation.top_k": 40}


def test_an_unresolved_winner_leaves_the_key_out_not_the_next_layers_value() -> None:
    """``--max-model-len $LEN`` with LEN set nowhere: the side's value is unknown (merge's docstring)."""
    serve = EffectiveConfig("vllm", "serve.sh", {"serving.max_model_len": Value("$LEN", Origin("serve.sh", 2),
                                                                                    how=How.UNRESOLVED)})
    config = _cfg("hf-config", "config.json", serving__max_model_len=4096)
    merged, shadowed = sides.merge([config, serve])
    assert "serving.max_model_len" not in merged
    assert [v.value for v in shadowed["serving.max_model_len"]] == [4096, "$LEN"]


def test_tied_counts_three_artifacts_and_every_key_of_each() -> None:
    """Three graphs state the same key (a tie of three, not only of two), and a key only the first graph states
    comes before the tied one in its file: the tied key is still counted for all three."""
    a = _cfg("onnx", "a.onnx", model__opset=17, precision__weights="int8")
    b = _cfg("onnx", "b.onnx", precision__weights="float32")
    c = _cfg("onnx", "c.onnx", precision__weights="float16")
    ties = sides.tied([a, b, c])
    assert {k: [v.origin.path for v in vs] for k, vs in ties.items()} == {
        "precision.weights": ["a.onnx", "b.onnx", "c.onnx"]}


def test_the_serving_path_is_the_last_engine_artifacts() -> None:
    first = EffectiveConfig("vllm", "model.json", {}, serving="triton-vllm")
    model = _cfg("hf-generation", "generation_config.json", generation__top_p=0.9)
    last = EffectiveConfig("vllm", "request.json", {}, serving="vllm-serve")
    assert sides.serving_path([first, model, last]) == "vllm-serve"
    assert sides.serving_path([last, model, first]) == "triton-vllm"
    assert sides.serving_path([model]) is None


MANIFEST_HEAD = "version: 1\nmodels:\n  m:\n    training:\n      - path: generation_config.json\n    deployment:\n"


def _deployment(tmp_path: Path, entries: str, limits: Limits | None = None,
                manifest: str | None = "driftguard.yaml", locate: bool = True) -> sides.Side:
    """The deployment side of model m of a manifest whose deployment entries are ``entries`` (they start on
    line 7), built as the pipeline builds it."""
    (tmp_path / "generation_config.json").write_text('{"temperature": 0.7}\n')
    (tmp_path / "driftguard.yaml").write_text(MANIFEST_HEAD + entries)
    m = load(tmp_path / "driftguard.yaml")
    return sides.build_side("deployment", m.models["m"].deployment, m.base, limits or Limits(), m.base, manifest,
                            None, functools.partial(m.artifact_at, "m", "deployment") if locate else None)


def test_a_refused_forced_kind_names_the_manifest_line_that_chose_it(tmp_path: Path) -> None:
    """README "The manifest": a file the reader of a forced ``kind:`` refuses names that manifest line as well."""
    entries = "      - path: generation_config.json\n        kind: tgi\n"
    with pytest.raises(ExtractionError) as caught:
        _deployment(tmp_path, entries)
    assert type(caught.value) is ExtractionError and caught.value.line == 1
    assert caught.value.path is not None and caught.value.path.endswith("generation_config.json")
    assert caught.value.message.endswith("(read as kind 'tgi', set by models.m.deployment[0].kind at "
                                         "driftguard.yaml:8)")
    with pytest.raises(ExtractionError, match=r" \(read as kind 'tgi', set by kind at driftguard\.yaml\)$"):
        _deployment(tmp_path, entries, locate=False)  # no line known: the manifest alone
    with pytest.raises(ExtractionError, match=r" \(read as kind 'tgi', set by kind at the manifest\)$"):
        _deployment(tmp_path, entries, manifest=None, locate=False)


def test_a_detected_kinds_error_and_a_limit_are_not_blamed_on_a_kind_line(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "generation_config.json").write_text('{"temperature": \n')
    with pytest.raises(ExtractionError) as caught:  # the kind was detected from the name: nothing to blame
        _deployment(tmp_path, "      - path: broken/generation_config.json\n")
    assert "read as kind" not in str(caught.value)
    (tmp_path / "tgi.json").write_text('{"parameters": {"temperature": 0.7, "top_p": 0.9, "top_k": 40}}\n')
    with pytest.raises(LimitError) as limit:  # a limit is no reader refusing the file: the kind is not blamed
        _deployment(tmp_path, "      - path: tgi.json\n        kind: tgi\n", limits=Limits(file_bytes=20))
    assert "read as kind" not in str(limit.value)


def test_an_entry_of_an_unknown_kind_or_a_missing_path_is_an_error_at_its_line(tmp_path: Path) -> None:
    """README "The manifest": ``driftguard.yaml:8: models.m.deployment[0].path: 'deploy/request.json': no such
    file or folder``; an unknown ``kind:`` at its own line."""
    with pytest.raises(ManifestError) as missing:
        _deployment(tmp_path, "      - kind: tgi\n        path: deploy/request.json\n")
    assert str(missing.value) == ("driftguard.yaml:8: models.m.deployment[0].path: 'deploy/request.json': no such "
                                  "file or folder")
    with pytest.raises(ManifestError) as unknown:
        _deployment(tmp_path, "      - path: generation_config.json\n        kind: tgj\n")
    assert str(unknown.value).startswith("driftguard.yaml:8: models.m.deployment[0].kind: unknown kind 'tgj'")


TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "triton" / "templates" / "sed_glued.pbtxt.template"


def test_a_set_name_no_placeholder_has_is_an_error_at_the_set_line(tmp_path: Path) -> None:
    """README "Triton templates": in a manifest, an unused ``set:`` name is --set's error at the line of that
    ``set:``; the names the template has fill it."""
    shutil.copy(TEMPLATE, tmp_path / "config.pbtxt.template")
    entry = ("      - path: config.pbtxt.template\n        kind: triton\n"
             "        set: {MAX_BATCH: '8', DTYPE: FP32, DIM: '512'%s}\n")
    side = _deployment(tmp_path, entry % "")
    assert side.merged["io.inputs.x.dtype"].value == "float32"
    with pytest.raises(ManifestError) as caught:
        _deployment(tmp_path, entry % ", TYPE_: FP32")
    assert str(caught.value) == (
        "driftguard.yaml:9: models.m.deployment[0].set: 'TYPE_' fills nothing: no template placeholder of that "
        "name in config.pbtxt.template (placeholders: DIM (line 12), DTYPE (lines 11, 18, 22), "
        "MAX_BATCH (line 7))")


@pytest.mark.parametrize("pick", ["call: SamplingParams", "line: 2"])
def test_call_and_line_pick_a_call_site_of_a_python_file_only(tmp_path: Path, pick: str) -> None:
    (tmp_path / "serve.py").write_text("from vllm import SamplingParams\nparams = SamplingParams(temperature=0.3)\n")
    for entry in ("      - path: serve.py\n", "      - path: serve.py\n        kind: python\n"):  # detected, named
        side = _deployment(tmp_path, f"{entry}        {pick}\n")
        assert side.merged["generation.temperature"].value == 0.3
    (tmp_path / "tgi.json").write_text('{"parameters": {"temperature": 0.7}}\n')
    key = pick.partition(":")[0]
    with pytest.raises(ManifestError) as caught:
        _deployment(tmp_path, f"      - path: tgi.json\n        kind: tgi\n        {pick}\n")
    assert str(caught.value) == (f"driftguard.yaml:9: models.m.deployment[0].{key}: '{key}' picks a call site of a "
                                 "Python file; 'tgi.json' is read as tgi")
    with pytest.raises(ManifestError) as caught:  # a kind that sorts before "python" as well as one after it
        _deployment(tmp_path, f"      - path: generation_config.json\n        {pick}\n")
    assert str(caught.value) == (f"driftguard.yaml:8: models.m.deployment[0].{key}: '{key}' picks a call site of a "
                                 "Python file; 'generation_config.json' is read as hf-generation")


def test_engine_args_listed_after_a_request_are_still_read_before_it(tmp_path: Path) -> None:
    """README "Side precedence": the side's vLLM engine args (a ``model.json``) are extracted first among the
    serving-engine artifacts and are context for the others, so a ``model.json`` alone selects the vllm_backend
    path for the request, wherever the manifest lists it."""
    corpus = Path(__file__).resolve().parents[1] / "corpus" / "runtime"
    real = corpus / "triton-inference-server__vllm_backend__samples__model_repository__vllm_model__1__model.json"
    (tmp_path / "model.json").write_bytes(real.read_bytes())
    (tmp_path / "request.json").write_text('{"prompt": "hi", "temperature": 0.6}\n')
    side = _deployment(tmp_path, "      - path: request.json\n        kind: vllm\n"
                                 "      - path: model.json\n        kind: vllm\n")
    assert [(c.path.rpartition("/")[2], c.serving) for c in side.artifacts] == [("request.json", "triton-vllm"),
                                                                              ("model.json", "triton-vllm")]


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


# ---------------------------------------------------------------------------------------------------------
# Defaults only where a side speaks (issue 20, point 5): each false alarm reproduced from real file shapes.
# ---------------------------------------------------------------------------------------------------------

CORPUS_HF = Path(__file__).resolve().parents[1] / "corpus" / "hf"
#: A real Llama 3.1 fine-tune's generation_config.json (temperature 0.6, top_p 0.9, eos 128001).
LLAMA31_GENERATION = CORPUS_HF / "Max-Lee-explore__MythTrans-llama31-8B__generation_config.json"


def _findings(tmp_path: Path, training: list[dict[str, str]], deployment: list[dict[str, str]]) -> list[Finding]:
    import yaml

    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "models": {"m": {"training": training,
                                                                          "deployment": deployment}}}))
    return [j.finding for j in api.check(manifest).findings]


def _serve_config(tmp_path: Path, model: str = "meta-llama/Llama-3.1-8B-Instruct") -> None:
    (tmp_path / "deploy").mkdir(exist_ok=True)
    (tmp_path / "deploy" / "serve.yaml").write_text(f"model: {model}\nmax_model_len: 8192\n"
                                                    "gpu_memory_utilization: 0.9\n")


def _model_folder(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "generation_config.json").write_bytes(LLAMA31_GENERATION.read_bytes())


def test_a_hub_model_without_its_folder_is_one_warning_not_vllms_bare_defaults(tmp_path: Path) -> None:
    """``vllm serve`` takes temperature and top_p from the model's generation_config.json: with the model a hub
    id and no folder on the side they are unknown, not 1.0 (no false DG101 on 0.6 vs 1.0), and one warning
    names the model and tells the user to add its folder."""
    _model_folder(tmp_path)
    _serve_config(tmp_path)
    found = _findings(tmp_path, [{"path": "train", "kind": "hf-model"}],
                      [{"path": "deploy/serve.yaml", "kind": "vllm"}])
    assert [(f.rule, f.key) for f in found] == [("DG304", "model.source")]
    message = found[0].message
    assert "'meta-llama/Llama-3.1-8B-Instruct' (" in message and "deploy/serve.yaml:1)" in message
    assert "generation.temperature" in message and "generation.top_p" in message
    assert "add the model's folder" in message


def test_with_the_models_folder_on_the_side_the_values_are_read_there(tmp_path: Path) -> None:
    _model_folder(tmp_path)
    _serve_config(tmp_path)
    found = _findings(tmp_path, [{"path": "train", "kind": "hf-model"}],
                      [{"path": "train", "kind": "hf-model"}, {"path": "deploy/serve.yaml", "kind": "vllm"}])
    keys = {(f.rule, f.key) for f in found}
    assert ("DG304", "model.source") not in keys
    assert not {k for r, k in keys if k in ("generation.temperature", "generation.top_p")}  # 0.6 and 0.9 both
    assert ("DG101", "generation.top_k") in keys  # generate()'s 50 vs vLLM's off: a documented difference


def test_a_request_to_a_launched_hub_model_is_still_one_warning(tmp_path: Path) -> None:
    """The launch script names the hub id; the request's unset sampling fields are the server's, unknown too;
    what the request states (max_tokens) is not listed as unknown."""
    _model_folder(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "serve.sh").write_text(
        "#!/bin/bash\nvllm serve meta-llama/Llama-3.1-8B-Instruct --max-model-len 8192\n")
    (tmp_path / "deploy" / "request.json").write_text(
        '{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 64}\n')
    found = _findings(tmp_path, [{"path": "train", "kind": "hf-model"}],
                      [{"path": "deploy/serve.sh"}, {"path": "deploy/request.json", "kind": "vllm"}])
    unseen = [f for f in found if f.rule == "DG304"]
    assert len(unseen) == 1 and "deploy/serve.sh:2" in unseen[0].message
    assert "generation.temperature" in unseen[0].message and "max_new_tokens" not in unseen[0].message
    assert not [f for f in found if f.rule in ("DG101", "DG104")]


def test_tritons_model_json_keeps_the_request_level_max_tokens(tmp_path: Path) -> None:
    """Triton's vllm_backend builds SamplingParams from the request alone: its max_tokens 16 applies to every
    request that sets none, so a model.json side carries it (and no generation_config.json layer)."""
    corpus = Path(__file__).resolve().parents[1] / "corpus" / "runtime"
    real = corpus / "triton-inference-server__vllm_backend__samples__model_repository__vllm_model__1__model.json"
    (tmp_path / "model.json").write_bytes(real.read_bytes())
    cfg = api.extract(f"vllm:{tmp_path / 'model.json'}")
    assert cfg["generation.max_new_tokens"].value == 16 and cfg["generation.temperature"].value == 1.0


def test_a_serve_config_has_no_max_tokens_default(tmp_path: Path) -> None:
    _serve_config(tmp_path, "./model")
    (tmp_path / "deploy" / "model").mkdir()
    (tmp_path / "deploy" / "model" / "config.json").write_text('{"model_type": "llama"}\n')
    cfg = api.extract(f"vllm:{tmp_path / 'deploy' / 'serve.yaml'}")
    assert "generation.max_new_tokens" not in cfg
    assert cfg["generation.temperature"].value == 1.0  # a local folder without generation_config.json: vLLM's own


def test_token_ids_and_tokenizer_metadata_are_from_the_model_not_one_sided(tmp_path: Path) -> None:
    """A request leaves eos/bos/pad ids and the tokenizer's settings unset: its engine reads them from the model's
    own files, so they are no DG103 warning (the training side states them in generation_config.json and
    tokenizer_config.json)."""
    _model_folder(tmp_path)
    (tmp_path / "train" / "tokenizer_config.json").write_bytes(
        (CORPUS_HF / "HamZil__Llama-2-7b-hf__tokenizer_config.json").read_bytes())
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "request.json").write_text('{"prompt": "hi", "temperature": 0.6, "top_p": 0.9}\n')
    found = _findings(tmp_path, [{"path": "train", "kind": "hf-model"}],
                      [{"path": "deploy/request.json", "kind": "vllm"}])
    one_sided = {f.key for f in found if f.rule == "DG103"}
    assert not one_sided & {"generation.eos_token_id", "generation.bos_token_id", "generation.pad_token_id",
                            "generation.do_sample", "preprocessing.add_bos_token", "preprocessing.padding_side"}


def test_a_folder_without_generation_config_states_no_max_length(tmp_path: Path) -> None:
    """transformers' model-agnostic max_length 20 is not compared with an ONNX Runtime GenAI context."""
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "config.json").write_bytes((CORPUS_HF / "HamZil__Llama-2-7b-hf__config.json").read_bytes())
    genai = Path(__file__).resolve().parents[1] / "corpus" / "runtime-configs" / \
        "eiszazel__Qwen-2.5-1.5B-Instruct-onnx-ryzenai-npu__genai_config.json"
    assert "generation.max_length" not in api.extract(f"hf-model:{tmp_path / 'train'}")
    assert not [f for f in api.diff(f"hf-model:{tmp_path / 'train'}", str(genai)).findings
                if f.key == "generation.max_length"]
