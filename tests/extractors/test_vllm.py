"""vLLM extractor: request > override-generation-config > generation_config.json > vllm default."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors import detect, extract
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, Origin, Value

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "vllm"


def _hf_context(**values: object) -> ExtractOptions:
    """A same-side generation_config.json as the hf-generation extractor reports it (explicit values)."""
    vals = {f"generation.{k}": Value(v, Origin("model/generation_config.json", i + 2, f"/{k}"))
            for i, (k, v) in enumerate(values.items())}
    return ExtractOptions(context=(EffectiveConfig("hf-generation", "model/generation_config.json", vals),))


def test_bare_sampling_dict_is_not_guessed_but_forcing_works() -> None:
    with pytest.raises(UsageError, match="name it as KIND:PATH"):
        detect(FIX / "good" / "params.yaml")
    cfg = extract(FIX / "good" / "params.yaml", "vllm")
    assert cfg["generation.top_p"].value == 0.9
    assert cfg["generation.top_p"].origin.line == 2
    assert cfg["generation.top_p"].origin.source == "request"
    assert cfg["generation.top_k"].value == 0 and cfg["generation.top_k"].origin.source == "vllm default"
    assert not cfg["generation.top_k"].explicit and "§2.1" in (cfg["generation.top_k"].note or "")
    assert cfg["generation.do_sample"].value is True
    assert cfg["generation.max_new_tokens"].value == 16


def test_openai_server_request_body() -> None:
    cfg = extract(FIX / "good" / "request.json", "vllm")
    assert cfg["generation.top_k"].value == 0  # -1 (older vLLM) and 0 both mean off
    assert cfg["generation.top_k"].origin.line == 5
    assert cfg["generation.max_new_tokens"].value == 128
    assert cfg["generation.stop"].value == ["###"]
    assert cfg["generation.seed"].value is None  # -1 means random
    assert cfg["vllm.stop_token_ids"].value == [151645]
    assert "vllm.messages" not in cfg


def test_request_body_without_max_tokens_has_no_16_token_default(tmp_path: Path) -> None:
    p = tmp_path / "req.json"
    p.write_text('{"messages": [], "temperature": 0.5}')
    assert "generation.max_new_tokens" not in extract(p, "vllm")


def test_engine_args_from_triton_model_json_are_detected() -> None:
    corpus = Path(__file__).resolve().parents[1] / "corpus" / "runtime"
    f = corpus / "triton-inference-server__vllm_backend__ci__qa_models__vllm__vllm_engine_args.json"
    assert detect(f) == "vllm"
    cfg = extract(f)
    assert cfg["vllm.disable_log_requests"].value is True  # "true" written as a string
    assert cfg["vllm.gpu_memory_utilization"].value == 0.5
    assert cfg["vllm.gpu_memory_utilization"].origin.line == 4


def test_serve_config_precedence_override_then_model_folder() -> None:
    cfg = extract(FIX / "good" / "serve-config.yaml", "vllm")
    assert cfg["precision.compute"].value == "bfloat16"
    assert cfg["serving.max_model_len"].value == 4096
    t = cfg["generation.temperature"]
    assert (t.value, t.origin.source) == (0.5, "override-generation-config")
    rp = cfg["generation.repetition_penalty"]
    assert (rp.value, rp.origin.source) == (1.1, "generation_config.json")
    assert rp.origin.path.endswith("qwen-model/generation_config.json") and rp.origin.line == 3
    assert cfg["generation.top_k"].value == 20
    assert cfg["generation.top_p"].value == 0.8
    assert cfg["generation.do_sample"].value is True  # derived from temperature, not read from the file


def test_do_sample_false_in_generation_config_is_not_read_by_vllm() -> None:
    cfg = extract(FIX / "good" / "params.yaml", "vllm", _hf_context(do_sample=False, temperature=0.6))
    assert cfg["generation.temperature"].value == 0.7  # request wins
    assert cfg["generation.do_sample"].value is True


def test_values_equal_to_transformers_defaults_are_invisible_to_vllm() -> None:
    # to_diff_dict() under transformers 4.x drops top_k 50 (defaults.md §2.3 consequence 2).
    cfg = extract(FIX / "good" / "params.yaml", "vllm", _hf_context(top_k=50, min_p=0.05))
    assert cfg["generation.top_k"].value == 0 and cfg["generation.top_k"].origin.source == "vllm default"
    assert cfg["generation.min_p"].value == 0.05
    assert cfg["generation.min_p"].origin.source == "generation_config.json"


def test_greedy_temperature_neutralizes_warpers() -> None:
    cfg = extract(FIX / "good" / "greedy.json", "vllm")
    assert cfg["generation.do_sample"].value is False
    assert cfg["generation.top_p"].value == 1.0 and cfg["generation.top_k"].value == 0


@pytest.mark.parametrize(("name", "line", "text"), [
    ("top_p.yaml", 2, "top_p must be in (0, 1]"),
    ("invalid.json", 3, "invalid JSON"),
    ("invalid.yaml", 3, "invalid YAML"),
    ("list.yaml", 1, "a mapping"),
    ("override.json", 1, "override_generation_config is not valid JSON"),
])
def test_bad_files_fail_with_a_line(name: str, line: int, text: str) -> None:
    with pytest.raises(ExtractionError, match=text.replace("(", r"\(").replace("]", r"\]")) as err:
        extract(FIX / "bad" / name, "vllm")
    assert err.value.line == line and err.value.path and err.value.path.endswith(name)


# --- drift stories (shared/drift-stories.md) ------------------------------------------------------------

def test_story1_same_body_different_engine_top_k(tmp_path: Path) -> None:
    """vllm#2415: an unset top_k is 50 in transformers and off in vLLM."""
    hf_generation = pytest.importorskip("driftguard.extractors.hf_generation")
    del hf_generation
    gen = tmp_path / "generation_config.json"
    gen.write_text('{"do_sample": true, "temperature": 0.7, "top_p": 0.9}')
    params = tmp_path / "params.json"
    params.write_text('{"temperature": 0.7, "top_p": 0.9}')
    hf = extract(gen, "hf-generation")
    vl = extract(params, "vllm")
    assert hf["generation.top_k"].value == 50
    assert vl["generation.top_k"].value == 0
    from driftguard.api import diff_configs

    assert [f.key for f in diff_configs(hf, vl)] == ["generation.top_k"]


def test_story3_lm_eval_repetition_penalty() -> None:
    """lm-eval#3154: SamplingParams built without the model defaults lose repetition_penalty 1.1."""
    without = extract(FIX / "good" / "params.yaml", "vllm")
    assert without["generation.repetition_penalty"].value == 1.0
    assert without["generation.repetition_penalty"].origin.source == "vllm default"
    seeded = extract(FIX / "good" / "params.yaml", "vllm", _hf_context(repetition_penalty=1.1))
    rp = seeded["generation.repetition_penalty"]
    assert (rp.value, rp.origin.source, rp.origin.line) == (1.1, "generation_config.json", 2)


def test_story4_nemo_rl_generation_config_precedence() -> None:
    """NeMo-RL#3497: unset fields come from generation_config.json unless generation_config is 'vllm'."""
    ctx = _hf_context(repetition_penalty=1.1, top_k=20)
    bug = extract(FIX / "good" / "nemo-rl-bug.yaml", "vllm", ctx)
    assert bug["generation.repetition_penalty"].value == 1.1
    assert bug["generation.repetition_penalty"].origin.source == "generation_config.json"
    assert bug["generation.top_k"].value == 0 and bug["generation.top_k"].origin.source == "request"
    fixed = extract(FIX / "good" / "nemo-rl-fixed.yaml", "vllm", ctx)
    assert fixed["generation.repetition_penalty"].value == 1.0
    assert fixed["generation.repetition_penalty"].origin.source == "vllm default"
    assert fixed["vllm.generation_config"].value == "vllm"


def test_greedy_forces_neutral_knobs_and_says_so(tmp_path: Path) -> None:
    """temperature 0 is greedy: top_p from generation_config.json (0.95) becomes 1.0, shown at the rule that
    forced it (the temperature's line), with the replaced value and its line in the note."""
    from driftguard.reporters.configs import extract_text

    request = tmp_path / "request.json"
    request.write_text('{"prompt": "x",\n "temperature": 0}', encoding="utf-8")
    cfg = extract(request, "vllm", _hf_context(top_p=0.95))
    top_p = cfg["generation.top_p"]
    assert top_p.value == 1.0
    assert top_p.origin == Origin(str(request), 2, "/temperature", "forced: vLLM greedy (temperature < 1e-5)")
    assert top_p.note == "forced from 0.95 (model/generation_config.json:2)"
    top_k = cfg["generation.top_k"]  # the default 0 is already neutral: nothing forced
    assert top_k.origin.source == "vllm default"
    row = next(ln for ln in extract_text([cfg]).splitlines() if ln.startswith("generation.top_p"))
    assert "request.json:2 (forced: vLLM greedy (temperature < 1e-5))" in row
    assert "generation_config.json" not in row


def test_engine_args_name_what_is_served_canonically_and_keep_the_args_as_written(tmp_path: Path) -> None:
    f = tmp_path / "serve.yaml"
    f.write_text("model: meta-llama/Llama-3.1-8B-Instruct\nrevision: v2\nmax-num-seqs: 64\n"
                 "max_num_batched_tokens: 8192\ntensor-parallel-size: 2\n"
                 "lora_modules: [\"sql=/adapters/sql\", '{\"name\": \"x\", \"path\": \"/a/x\"}']\n")
    cfg = extract(f, "vllm")
    expected = {"model.source": ("meta-llama/Llama-3.1-8B-Instruct", 1), "model.revision": ("v2", 2),
                "batching.max_batch_size": (64, 3), "serving.max_num_tokens": (8192, 4),
                "serving.tensor_parallel_size": (2, 5), "model.adapters": (["sql=/adapters/sql", "x=/a/x"], 6)}
    assert {k: (cfg[k].value, cfg[k].origin.line) for k in expected} == expected
    assert cfg["vllm.max_num_seqs"].value == 64 and cfg["vllm.model"].value == "meta-llama/Llama-3.1-8B-Instruct"


@pytest.mark.parametrize(("body", "message"), [
    ("model: m\nmax_num_seqs: many\nmax_model_len: 8\n", "max_num_seqs must be an integer"),
    ("model: m\nmax_model_len: 8\nlora_modules: [sql]\n", "each module is name=path"),
    ("model: [a]\nmax_model_len: 8\n", "model must be a string"),
])
def test_engine_args_of_the_wrong_shape_are_input_errors_with_the_line(tmp_path: Path, body: str,
                                                                       message: str) -> None:
    f = tmp_path / "serve.yaml"
    f.write_text(body)
    with pytest.raises(ExtractionError, match=message) as info:
        extract(f, "vllm")
    assert info.value.line is not None


def test_speculative_decoding_names_its_heads(tmp_path: Path) -> None:
    """Triton's EAGLE tutorial model.json (speculative_model, num_speculative_tokens) and a launch with
    --speculative-config JSON (vLLM SpeculativeConfig.model, .num_speculative_tokens) state the served heads."""
    real = Path(__file__).resolve().parents[1] / "corpus" / "runtime" / (
        "triton-inference-server__tutorials__Feature_Guide__Speculative_Decoding__vLLM__model_repository__"
        "eagle_model__1__model.json")
    (tmp_path / "model.json").write_bytes(real.read_bytes())
    cfg = extract(tmp_path / "model.json", "vllm")
    assert cfg["model.speculative.model"].value == "/hf-models/EAGLE-LLaMA3-Instruct-8B"
    assert (cfg["model.speculative.num_heads"].value, cfg["model.speculative.num_heads"].origin.line) == (5, 5)
    script = tmp_path / "serve.sh"
    script.write_text("#!/bin/bash\nvllm serve lmsys/vicuna-7b-v1.3 --speculative-config "
                      "'{\"model\": \"FasterDecoding/medusa-vicuna-7b-v1.3\", \"num_speculative_tokens\": 4}'\n")
    launched = extract(script, "shell")
    assert launched["model.speculative.model"].value == "FasterDecoding/medusa-vicuna-7b-v1.3"
    assert launched["model.speculative.num_heads"].value == 4
    assert launched["model.speculative.num_heads"].origin.line == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: m\nspeculative_config:\n  model: 3\n")
    with pytest.raises(ExtractionError, match=r"speculative_config\.model must be a string"):
        extract(bad, "vllm")


def test_engine_args_of_a_small_file_are_told_from_its_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.extractors import vllm
    from driftguard.readers import files

    engine = tmp_path / "serve.json"
    engine.write_text('{"model": "m", "gpu_memory_utilization": 0.9}')
    request = tmp_path / "request.json"
    request.write_text('{"temperature": 0.7}')
    reads: list[object] = []
    real = files.read_text
    monkeypatch.setattr(files, "read_text", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    assert vllm.is_engine_args(engine) and not vllm.is_engine_args(request)
    assert vllm.is_engine_args(tmp_path / "model.json")  # Triton's vllm_backend file, by name
    assert reads == []  # each parsed from the head read to detect it, not opened a second time
