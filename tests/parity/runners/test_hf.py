"""The Hugging Face runner: its config adapter (pure), and real tiny models through transformers (a causal LM
built by examples/summarizer/build.py, a sequence classifier and an encoder built here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from driftguard.parity.errors import ParityError  # noqa: E402
from driftguard.parity.metrics import pad_sequences, sequence_agreement  # noqa: E402
from driftguard.parity.runners.base import RunnerConfig  # noqa: E402
from driftguard.parity.runners.hf import END, end_sequences, settings, task_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
ACCEPTED = {"do_sample", "temperature", "top_p", "top_k", "min_p", "typical_p", "max_new_tokens", "max_length",
            "min_new_tokens", "min_length", "num_beams", "length_penalty", "early_stopping", "repetition_penalty",
            "eos_token_id", "pad_token_id", "bos_token_id", "num_return_sequences", "use_cache"}
SAMPLING = {"preprocessing.max_length": 1024, "preprocessing.truncation_side": "left",
            "preprocessing.padding_side": "left", "generation.do_sample": True, "generation.decoding": "sample",
            "generation.temperature": 0.7, "generation.top_p": 0.92, "generation.top_k": 40,
            "generation.max_new_tokens": 24, "generation.max_length": 20, "generation.min_new_tokens": 4,
            "generation.min_length": 0, "generation.num_beams": 1, "generation.length_penalty": 1.0,
            "generation.eos_token_id": [2], "generation.pad_token_id": 0, "generation.presence_penalty": 0.0,
            "generation.stop": [], "generation.seed": None, "precision.weights": "bfloat16",
            "precision.compute": "float32", "model.hidden_size": 64}


def test_adapter_applies_tokenizer_generation_and_precision_keys() -> None:
    s = settings(SAMPLING, True, ACCEPTED)
    assert (s.max_length, s.truncation_side, s.padding_side) == (1024, "left", "left")
    assert s.generate == {"do_sample": True, "temperature": 0.7, "top_p": 0.92, "top_k": 40, "max_new_tokens": 24,
                          "min_new_tokens": 4, "num_beams": 1, "eos_token_id": [2], "pad_token_id": 0}
    assert s.dtype == "float32"  # precision.compute wins over precision.weights
    assert s.applies == {"preprocessing.max_length", "preprocessing.truncation_side", "preprocessing.padding_side",
                         "generation.do_sample", "generation.decoding", "generation.temperature", "generation.top_p",
                         "generation.top_k", "generation.max_new_tokens", "generation.min_new_tokens",
                         "generation.num_beams", "generation.eos_token_id", "generation.pad_token_id",
                         "precision.compute"}
    # Not applied: max_length/min_length beside *_new_tokens, beam keys without beams, keys generate() does not
    # take (presence_penalty, stop), a null seed (the default seed is used), precision.weights (compute won).
    assert s.seed == 0 and s.width() == 24


def test_adapter_under_greedy_decoding_does_not_claim_the_sampling_keys() -> None:
    s = settings({**SAMPLING, "generation.do_sample": False, "generation.seed": 7}, True, ACCEPTED)
    assert not {"generation.top_p", "generation.top_k", "generation.temperature", "generation.seed"} & s.applies
    assert "top_p" not in s.generate and s.seed == 0
    assert {"generation.do_sample", "generation.decoding"} <= s.applies


def test_adapter_beams_seed_lengths_and_a_forward_model() -> None:
    s = settings({"generation.num_beams": 4, "generation.length_penalty": 0.8, "generation.max_length": 50,
                  "generation.do_sample": True, "generation.seed": 11}, True, ACCEPTED)
    assert s.generate == {"num_beams": 4, "length_penalty": 0.8, "max_length": 50, "do_sample": True}
    assert s.seed == 11 and "generation.seed" in s.applies and s.width() == 50
    very_large = settings({"preprocessing.max_length": 1000000000000000019884624838656}, False, ACCEPTED)
    assert very_large.max_length is None and very_large.applies == {"preprocessing.max_length"}
    forward = settings(SAMPLING, False, ACCEPTED)  # a classifier: generation keys are not applied
    assert forward.generate == {} and not any(k.startswith("generation.") for k in forward.applies)
    assert settings({"precision.weights": "int8", "precision.quantization": "dynamic"}, False, ACCEPTED).dtype is None


def test_task_of_architectures() -> None:
    assert task_of(["LlamaForCausalLM"], False) == "generate"
    assert task_of(["GPT2LMHeadModel"], False) == "generate"
    assert task_of(["T5ForConditionalGeneration"], True) == "generate"
    assert task_of(["BertForSequenceClassification"], False) == "classify"
    assert task_of(["BertModel"], False) == "encode"
    assert task_of([], False) == "encode"


def test_end_sequences_marks_after_eos_and_pads_to_width() -> None:
    new = np.array([[5, 2, 0, 0], [5, 6, 7, 8], [2, 9, 2, 0]])
    out = end_sequences(new, {2}, 6)
    assert out.tolist() == [[5, 2, END, END, END, END], [5, 6, 7, 8, END, END], [2, END, END, END, END, END]]


def test_pad_sequences_compares_different_lengths_as_tokens() -> None:
    a, b = pad_sequences(np.array([[1, 2, 3]]), np.array([[1, 2, 3, 4, 5]]))
    assert a.tolist() == [[1, 2, 3, -1, -1]] and b.shape == (1, 5)
    exact, agreement, first = sequence_agreement(a, b)
    assert (exact, agreement, first) == (0.0, 0.6, 3)
    same = np.zeros((2, 3))
    assert pad_sequences(same, np.zeros((3, 3)))[1].shape == (3, 3)  # other shapes left as they are


# --- real models -----------------------------------------------------------------------------------------

def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("summarizer_build", ROOT / "examples" / "summarizer" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out = tmp_path_factory.mktemp("lm")
    files = _build_module().build(out)
    records = [json.loads(line) for line in files["golden"].read_text().splitlines()][:4]
    return {"model": files["model"], "records": records}


def _run(folder: Path, config: dict[str, Any], batch: Any) -> dict[str, Any]:
    from driftguard.parity.runners.hf import HfRunner, HfRunnerSettings

    runner = HfRunner(RunnerConfig("hf", HfRunnerSettings(artifact=folder.name, intra_op_threads=1), folder.parent,
                                   "cpu"), config)
    runner.setup()
    try:
        return {"out": runner.run(batch), "applies": runner.applies, "task": runner.task}
    finally:
        runner.teardown()


@pytest.mark.slow
def test_sampling_is_seeded_and_reproducible(lm: dict[str, Any]) -> None:
    first = _run(lm["model"], SAMPLING, lm["records"])
    second = _run(lm["model"], SAMPLING, lm["records"])
    seqs = first["out"]["sequences"]
    assert first["task"] == "generate" and seqs.dtype == np.int64 and seqs.shape == (4, 24)
    np.testing.assert_array_equal(seqs, second["out"]["sequences"])
    assert "generation.top_p" in first["applies"] and "precision.compute" in first["applies"]
    other_seed = _run(lm["model"], {**SAMPLING, "generation.seed": 1}, lm["records"])["out"]["sequences"]
    assert not np.array_equal(seqs, other_seed)  # the seed is really what the draws come from


def test_truncation_length_reaches_the_model(lm: dict[str, Any]) -> None:
    greedy = {**SAMPLING, "generation.do_sample": False}
    full = _run(lm["model"], greedy, lm["records"])["out"]["sequences"]
    again = _run(lm["model"], {**greedy, "generation.top_p": 0.5}, lm["records"])["out"]["sequences"]
    cut = _run(lm["model"], {**greedy, "preprocessing.max_length": 512}, lm["records"])["out"]["sequences"]
    np.testing.assert_array_equal(full, again)  # greedy: top_p has no effect (and is not claimed)
    assert not np.array_equal(full, cut)  # articles of 600+ tokens cut to their last 512


def test_generation_keys_reach_generate(lm: dict[str, Any]) -> None:
    short = _run(lm["model"], {**SAMPLING, "generation.max_new_tokens": 6, "generation.min_new_tokens": 6,
                               "generation.do_sample": False}, lm["records"])["out"]["sequences"]
    assert short.shape == (4, 6) and (short >= 0).all()
    two = _run(lm["model"], {**SAMPLING, "generation.num_return_sequences": 2}, lm["records"][:2])
    assert two["out"]["sequences"].shape == (2, 2, 24) and "generation.num_return_sequences" in two["applies"]


def test_token_arrays_are_accepted_too(lm: dict[str, Any]) -> None:
    ids = np.array([[1, 5, 6, 7, 8], [0, 0, 1, 9, 10]], dtype=np.int64)
    mask = (np.arange(5)[None, :] >= np.array([[0], [2]])).astype(np.int64)
    out = _run(lm["model"], {**SAMPLING, "generation.do_sample": False}, {"input_ids": ids, "attention_mask": mask})
    assert out["out"]["sequences"].shape == (2, 24)


def test_bad_inputs_are_one_line_errors(lm: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ParityError, match="no 'text' string"):
        _run(lm["model"], SAMPLING, [{"article": "kelu"}])
    with pytest.raises(ParityError, match=r"no config\.json"):
        _run(tmp_path, SAMPLING, lm["records"])
    (tmp_path / "config.json").write_text('{"model_type": "no-such-model", "architectures": ["XForCausalLM"]}')
    with pytest.raises(ParityError, match="transformers cannot load the config"):
        _run(tmp_path, SAMPLING, lm["records"])


def _forward_model(folder: Path, lm_folder: Path, classifier: bool) -> Path:
    import shutil

    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification, LlamaModel

    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(lm_folder / name, folder / name)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=404, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=3, pad_token_id=0)
    (LlamaForSequenceClassification(config) if classifier else LlamaModel(config)).save_pretrained(str(folder))
    return folder


def test_a_classifier_runs_forward_and_gives_logits(lm: dict[str, Any], tmp_path: Path) -> None:
    folder = _forward_model(tmp_path / "clf", lm["model"], classifier=True)
    out = _run(folder, {**SAMPLING, "preprocessing.max_length": 16}, lm["records"])
    assert out["task"] == "classify" and out["out"]["logits"].shape == (4, 3)
    assert out["out"]["logits"].dtype == np.float32
    assert not any(k.startswith("generation.") for k in out["applies"])
    wide = _run(folder, {**SAMPLING, "preprocessing.max_length": 64}, lm["records"])["out"]["logits"]
    assert not np.allclose(out["out"]["logits"], wide)  # the truncation length reaches the model


def test_an_encoder_gives_mean_pooled_embeddings(lm: dict[str, Any], tmp_path: Path) -> None:
    folder = _forward_model(tmp_path / "enc", lm["model"], classifier=False)
    out = _run(folder, {"preprocessing.max_length": 16}, lm["records"])
    assert out["task"] == "encode" and out["out"]["embedding"].shape == (4, 32)
    assert out["applies"] == {"preprocessing.max_length"}
