"""The Hugging Face runner: its config adapter (pure), and real tiny models through transformers (a causal LM
built by examples/summarizer/build.py, a sequence classifier, an encoder and a T5 built here).

Expected values come from outside the runner: transformers itself on the same model (its own ``generate()``, whose
output starts with the prompt, or with ``decoder_start_token_id`` for an encoder-decoder; ``AutoModel``'s
``last_hidden_state``; ``GenerationConfig()``'s defaults; ``trust_remote_code``), torch's own seeding, and for the
adapter the behaviour the module docstring documents, at each of its thresholds."""

from __future__ import annotations

import importlib.util
import json
import sys
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


# --- the config adapter at its edges -------------------------------------------------------------------------
# The documented behaviour (the module docstring) is the expected value; GenerationConfig's attribute names are
# transformers' (src/transformers/generation/configuration_utils.py).

def test_the_module_constants_are_the_documented_ones() -> None:
    from driftguard.parity.runners.hf import DEFAULT_SEED

    assert END == -1 and DEFAULT_SEED == 0  # "every position after ... is -1"; "else DEFAULT_SEED (0)"
    assert settings({"generation.do_sample": True}, True, ACCEPTED).seed == 0


@pytest.mark.parametrize(("value", "kept"), [
    (0, None), (-5, None), (1, 1), (512.0, 512), (999_999_999, 999_999_999), (1_000_000_000, None),
    (True, None), ("512", None), (None, None),
])
def test_max_length_is_a_positive_count_below_a_billion(value: Any, kept: int | None) -> None:
    # from 1e9 up (transformers' "very large" model_max_length is 1e30) it means no truncation, as the tensor
    # runners' TensorPreprocessing.from_config reads it too
    s = settings({"preprocessing.max_length": value}, False, ACCEPTED)
    assert s.max_length == kept
    assert s.applies == {"preprocessing.max_length"}  # the key is claimed even when it means "no truncation"
    assert settings({}, False, ACCEPTED).applies == frozenset()


def test_sides_are_left_or_right_only() -> None:
    s = settings({"preprocessing.truncation_side": "center", "preprocessing.padding_side": "right"}, False, ACCEPTED)
    assert (s.truncation_side, s.padding_side) == (None, "right")
    assert s.applies == {"preprocessing.padding_side"}


@pytest.mark.parametrize(("config", "dtype", "applied"), [
    ({"precision.compute": "FP16"}, "float16", "precision.compute"),
    ({"precision.compute": "half", "precision.weights": "bf16"}, "float16", "precision.compute"),
    ({"precision.weights": "BF16"}, "bfloat16", "precision.weights"),
    ({"precision.compute": "int8", "precision.weights": "fp32"}, "float32", "precision.weights"),
    ({"precision.compute": "int8"}, None, None),
])
def test_the_dtype_is_compute_else_weights_in_any_case(config: dict[str, Any], dtype: str | None,
                                                      applied: str | None) -> None:
    s = settings(config, False, ACCEPTED)
    assert s.dtype == dtype
    assert s.applies == ({applied} if applied else set())


def test_keys_generate_does_not_take_or_that_are_null_are_not_applied() -> None:
    s = settings({"generation.do_sample": True, "generation.presence_penalty": 0.5, "generation.temperature": 0.7,
                  "generation.top_k": None, "generation.top_p": 0.5}, True, ACCEPTED - {"top_p"})
    assert s.generate == {"do_sample": True, "temperature": 0.7}  # each key judged on its own, in name order
    assert s.applies == {"generation.do_sample", "generation.decoding", "generation.temperature"}


def test_sampling_keys_need_do_sample_and_beam_keys_need_two_beams() -> None:
    default = settings({"generation.temperature": 0.5, "generation.length_penalty": 0.8}, True, ACCEPTED)
    assert default.generate == {} and default.applies == frozenset()  # greedy (do_sample False, 1 beam)
    one = settings({"generation.num_beams": 1, "generation.length_penalty": 0.8}, True, ACCEPTED)
    assert one.generate == {"num_beams": 1} and one.applies == {"generation.num_beams", "generation.decoding"}
    two = settings({"generation.num_beams": 2, "generation.length_penalty": 0.8}, True, ACCEPTED)
    assert two.generate == {"num_beams": 2, "length_penalty": 0.8}
    negative = settings({"generation.num_beams": -1, "generation.length_penalty": 0.8}, True, ACCEPTED)
    assert negative.generate == {"num_beams": -1}  # not beams: generate() refuses it, the adapter claims no beam key


def test_min_length_and_max_length_apply_without_their_new_tokens_key() -> None:
    s = settings({"generation.min_length": 3, "generation.max_length": 9}, True, ACCEPTED)
    assert s.generate == {"min_length": 3, "max_length": 9} and s.width() == 9
    assert s.applies == {"generation.min_length", "generation.max_length"}  # no decoding key: none was given


def test_list_values_reach_generate_as_lists() -> None:
    assert settings({"generation.eos_token_id": (2, 3)}, True, ACCEPTED).generate == {"eos_token_id": [2, 3]}


@pytest.mark.parametrize(("seed", "used"), [(0, 0), (7, 7), (7.0, 7), ("7", None), (True, None)])
def test_the_seed_is_an_integer_applied_under_sampling(seed: Any, used: int | None) -> None:
    s = settings({"generation.do_sample": True, "generation.seed": seed}, True, ACCEPTED)
    assert s.seed == (0 if used is None else used)
    assert ("generation.seed" in s.applies) is (used is not None)


def test_settings_are_frozen() -> None:
    import dataclasses

    s = settings({"generation.do_sample": True}, True, ACCEPTED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.seed = 5  # type: ignore[misc]  # the point: one runner's settings are shared by its threads, unchanged


def test_importing_the_runner_imports_no_numpy_torch_or_transformers() -> None:
    import subprocess

    probe = ("import sys, driftguard.parity.runners.hf; "
             "print(sorted(m for m in ('numpy', 'torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"  # the manifest loads runner settings on the config-only path


def test_width_is_max_new_tokens_else_max_length_integers_only() -> None:
    from driftguard.parity.runners.hf import HfSettings

    assert HfSettings(generate={"max_length": 9}).width() == 9
    assert HfSettings(generate={"max_new_tokens": 4, "max_length": 9}).width() == 4
    assert HfSettings(generate={"max_new_tokens": True, "max_length": 9}).width() == 9
    assert HfSettings(generate={"max_new_tokens": 4.0}).width() is None
    assert HfSettings().width() is None


def test_task_of_an_encoder_decoder_or_a_generating_head_first() -> None:
    assert task_of(["BertModel"], True) == "generate"  # is_encoder_decoder decides alone
    assert task_of(["LlamaForSequenceClassification", "LlamaForCausalLM"], False) == "generate"
    assert task_of(["LlamaForSequenceClassificationHead"], False) == "encode"  # the name must end with it


def test_end_sequences_edges() -> None:
    new = np.array([[5, 2, 3], [2, 2, 7]])
    assert end_sequences(new, set(), 4).tolist() == [[5, 2, 3, END], [2, 2, 7, END]]  # no eos: only padded
    assert end_sequences(new, {2, 3}, None).tolist() == [[5, 2, END], [2, END, END]]
    assert end_sequences(new, {2}, 2).tolist() == [[5, 2, END], [2, END, END]]  # wider than width: left as is
    assert end_sequences(np.array([[5, 6, 7, 8]]), set(), 2).tolist() == [[5, 6, 7, 8]]
    assert end_sequences(np.zeros((0, 3), dtype=np.int64), {2}, 5).shape == (0, 5)
    assert end_sequences(new, {9}, 3).dtype == np.int64
    assert end_sequences(np.array([[7], [2]]), {2}, 5).tolist() == [[7, END, END, END, END], [2, END, END, END, END]]


def test_first_line_of_an_exception() -> None:
    from driftguard.parity.runners.hf import _first_line

    assert _first_line(OSError("  one\ntwo  ")) == "one"
    assert _first_line(OSError("z" * 301)) == "z" * 300
    assert _first_line(KeyError()) == "(no message)"


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


# --- the runner on real tiny models --------------------------------------------------------------------------

def _runner(folder: Path, config: dict[str, Any], device: str = "cpu", threads: int | None = 1) -> Any:
    from driftguard.parity.runners.hf import HfRunner, HfRunnerSettings

    return HfRunner(RunnerConfig("hf", HfRunnerSettings(artifact=folder.name, intra_op_threads=threads),
                                 folder.parent, device), config)


def test_the_runner_needs_an_artifact_and_threads_are_at_least_one(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from driftguard.parity.runners.hf import HfRunner, HfRunnerSettings

    with pytest.raises(ParityError, match=r"the hf runner needs an 'artifact' \(a Hugging Face model folder\)"):
        HfRunner(RunnerConfig("hf", HfRunnerSettings(), tmp_path, "cpu"), {})
    assert _runner(tmp_path / "m", {}).describe() == f"hf:{tmp_path / 'm'}"
    assert HfRunner.runs_artifact is True
    assert HfRunnerSettings(intra_op_threads=1).intra_op_threads == 1
    with pytest.raises(ValidationError):
        HfRunnerSettings(intra_op_threads=0)


def test_without_transformers_setup_names_the_extra(lm: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "transformers", None)  # what an environment without it gives the import
    with pytest.raises(MissingExtraError) as err:
        _runner(lm["model"], {}).setup()
    assert str(err.value) == ("parity with Hugging Face models needs the 'hf' extra (transformers is not "
                              "installed): pip install 'driftguard-ml[hf]'")


def parsed(device: str) -> str:
    """``device`` as a command line gives it: a string made at run time, not an interned literal."""
    return "".join(list(device))


def test_the_device_is_cuda_only_when_asked_for_and_torch_sees_it(lm: dict[str, Any]) -> None:
    import torch

    from driftguard.parity.runners.hf import HfRunner

    has = torch.cuda.is_available()
    for device, want in (("cpu", "cpu"), ("auto", "cuda" if has else "cpu"), ("cuda", "cuda" if has else "cpu")):
        r = _runner(lm["model"], {}, parsed(device))
        assert HfRunner.execution(r.cfg) == want and r.execution(r.cfg) == want  # a static method
    if not has:
        with pytest.raises(ParityError) as err:
            _runner(lm["model"], {}, parsed("cuda")).setup()
        assert str(err.value) == "--device cuda: torch sees no CUDA device"
        r = _runner(lm["model"], {}, parsed("cpu"))
        r.setup()
        assert r.device == "cpu" and r.model.device.type == "cpu"


def test_intra_op_threads_set_torch_threads_and_unset_leaves_them(lm: dict[str, Any]) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        _runner(lm["model"], {}, threads=None).setup()
        assert torch.get_num_threads() == 2
        _runner(lm["model"], {}, threads=1).setup()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_generate_runs_under_the_sides_config_not_the_folders_generation_config(lm: dict[str, Any],
                                                                                tmp_path: Path) -> None:
    import shutil

    import transformers

    folder = tmp_path / "lm"
    shutil.copytree(lm["model"], folder)
    (folder / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.1, "max_new_tokens": 3, '
                                                   '"eos_token_id": 7}')
    r = _runner(folder, {})
    r.setup()
    g = r.model.generation_config
    # the token ids of config.json (examples/summarizer/build.py: <s> 1, </s> 2, padding 0); everything else
    # as transformers' own GenerationConfig() has it
    assert (g.bos_token_id, g.eos_token_id, g.pad_token_id, g.decoder_start_token_id) == (1, 2, 0, None)
    default = transformers.GenerationConfig()
    assert (g.do_sample, g.temperature, g.max_new_tokens) == (default.do_sample, default.temperature,
                                                               default.max_new_tokens)


PROMPTS = {"input_ids": np.array([[1, 5, 6, 7, 8], [1, 9, 10, 11, 12]], dtype=np.int64),
           "attention_mask": np.ones((2, 5), dtype=np.int64)}


def _direct_generate(folder: Path, seed: int | None = None, **kwargs: Any) -> Any:
    """transformers' own generate() on PROMPTS: the expected tokens, prompt included."""
    import torch
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True).eval()
    model.generation_config = transformers.GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=0)
    if seed is not None:
        torch.manual_seed(seed)
    with torch.inference_mode():
        return model.generate(**{k: torch.from_numpy(v) for k, v in PROMPTS.items()}, **kwargs).numpy()


def _ended(tokens: Any, eos: set[int], width: int) -> list[list[int]]:
    """Each row cut after its first token in ``eos`` and filled with -1 to ``width``, by hand."""
    rows = []
    for row in tokens.tolist():
        out: list[int] = []
        for t in row:
            out.append(t)
            if t in eos:
                break
        rows.append(out + [-1] * (width - len(out)))
    return rows


def test_greedy_sequences_are_generates_new_tokens(lm: dict[str, Any]) -> None:
    config = {"generation.do_sample": False, "generation.max_new_tokens": 6}
    out = _run(lm["model"], config, PROMPTS)["out"]["sequences"]
    expected = _direct_generate(lm["model"], do_sample=False, max_new_tokens=6)[:, 5:]
    assert out.tolist() == _ended(expected, {2}, 6)
    # the side's end token (here the first row's second new token) ends the row, not config.json's
    stop = int(expected[0, 1])
    side = _run(lm["model"], {**config, "generation.eos_token_id": [stop]}, PROMPTS)["out"]["sequences"]
    direct = _direct_generate(lm["model"], do_sample=False, max_new_tokens=6, eos_token_id=[stop])[:, 5:]
    assert side.tolist() == _ended(direct, {stop}, 6) and side[0, 2] == END


def test_a_num_return_sequences_below_one_gives_one_sequence_a_sample(lm: dict[str, Any]) -> None:
    # generate() itself takes -1 and returns one sequence a prompt (transformers 5.x), as for 1
    config = {"generation.do_sample": False, "generation.max_new_tokens": 3, "generation.num_return_sequences": -1}
    out = _run(lm["model"], config, PROMPTS)
    assert out["out"]["sequences"].shape == (2, 3) and "generation.num_return_sequences" in out["applies"]


def test_sampling_draws_from_the_sides_seed(lm: dict[str, Any]) -> None:
    # temperature 30 flattens the tiny model's confident distributions, so that two seeds draw differently
    config = {"generation.do_sample": True, "generation.max_new_tokens": 8, "generation.top_k": 0,
              "generation.temperature": 30.0}
    drawn = []
    for seed in (None, 1):  # None: DEFAULT_SEED, 0
        given = config if seed is None else {**config, "generation.seed": seed}
        out = _run(lm["model"], given, PROMPTS)["out"]["sequences"]
        expected = _direct_generate(lm["model"], 0 if seed is None else seed, do_sample=True, max_new_tokens=8,
                                    top_k=0, temperature=30.0)[:, 5:]
        assert out.tolist() == _ended(expected, {2}, 8)
        drawn.append(out.tolist())
    assert drawn[0] != drawn[1]


def test_a_model_failure_is_a_one_line_error(lm: dict[str, Any], tmp_path: Path) -> None:
    too_big = {"input_ids": np.array([[1, 100_000]], dtype=np.int64), "attention_mask": np.ones((1, 2), np.int64)}
    with pytest.raises(ParityError) as err:
        _run(lm["model"], {"generation.max_new_tokens": 2}, too_big)
    assert err.value.message.startswith("the model failed on the golden inputs: IndexError: ")
    assert "\n" not in err.value.message and err.value.path == str(lm["model"])
    encoder = _forward_model(tmp_path / "enc", lm["model"], classifier=False)
    with pytest.raises(ParityError) as err:
        _run(encoder, {}, too_big)
    assert err.value.message.startswith("the model failed on the golden inputs: IndexError: ")


def test_a_folder_without_weights_cannot_load_the_model(lm: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    (tmp_path / "bare").mkdir()
    shutil.copy(lm["model"] / "config.json", tmp_path / "bare" / "config.json")
    with pytest.raises(ParityError) as err:
        _run(tmp_path / "bare", {}, PROMPTS)
    assert err.value.message.startswith("transformers cannot load the model: OSError: ")


def test_records_need_a_tokenizer_in_the_folder(lm: dict[str, Any], tmp_path: Path) -> None:
    folder = _forward_model(tmp_path / "enc", lm["model"], classifier=False)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(ParityError) as err:
        _run(folder, {}, lm["records"])
    assert err.value.message == "golden records (.jsonl) need a tokenizer in the model folder"
    assert err.value.path == str(folder)


def test_token_arrays_are_cut_and_padded_as_the_side_says(lm: dict[str, Any]) -> None:
    config = {"preprocessing.max_length": 3, "preprocessing.truncation_side": "left",
              "preprocessing.padding_side": "left", "hf.tokenizer.bos_token_id": 1}
    r = _runner(lm["model"], config)
    r.setup()
    fed = r._encode(PROMPTS)
    # a tokenizer with truncation_side="left" keeps the last tokens and its <s>; padding on the left
    assert fed["input_ids"].tolist() == [[0, 0, 1, 7, 8], [0, 0, 1, 11, 12]]
    assert fed["attention_mask"].tolist() == [[0, 0, 1, 1, 1], [0, 0, 1, 1, 1]]


def test_embeddings_are_the_mean_of_the_last_hidden_state_over_real_tokens(lm: dict[str, Any],
                                                                           tmp_path: Path) -> None:
    import torch
    import transformers

    folder = _forward_model(tmp_path / "enc", lm["model"], classifier=False)
    ids = np.array([[1, 5, 6, 7], [0, 0, 0, 1]], dtype=np.int64)
    mask = np.array([[1, 1, 1, 1], [0, 0, 0, 1]], dtype=np.int64)  # the second row: one real token
    out = _run(folder, {}, {"input_ids": ids, "attention_mask": mask})["out"]["embedding"]
    model = transformers.AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    with torch.inference_mode():
        hidden = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state
        no_mask = model(input_ids=torch.from_numpy(ids)).last_hidden_state
    np.testing.assert_allclose(out[0], hidden[0].mean(0).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1], hidden[1, 3].numpy(), rtol=1e-5, atol=1e-6)
    padding = _run(folder, {}, {"input_ids": ids, "attention_mask": np.array([[1, 1, 1, 1], [0, 0, 0, 0]])})
    assert padding["out"]["embedding"][1].tolist() == [0.0] * 32  # no real token: nothing to average
    unmasked = _run(folder, {}, {"input_ids": ids})["out"]["embedding"]  # no mask: every position is real
    np.testing.assert_allclose(unmasked, no_mask.mean(1).numpy(), rtol=1e-5, atol=1e-6)


def test_the_folders_own_code_never_runs(lm: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "lm"
    shutil.copytree(lm["model"], folder)
    config = json.loads((folder / "config.json").read_text())
    # a Hub folder's custom code: transformers imports it only under trust_remote_code=True
    config["auto_map"] = {"AutoConfig": "custom.Config", "AutoModelForCausalLM": "custom.Model"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "custom.py").write_text('raise RuntimeError("the artifact\'s code ran")\n')
    out = _run(folder, {"generation.max_new_tokens": 2}, PROMPTS)
    assert out["out"]["sequences"].shape == (2, 2)


def test_the_model_is_loaded_in_the_sides_compute_dtype(lm: dict[str, Any], tmp_path: Path) -> None:
    import torch

    folder = _forward_model(tmp_path / "enc", lm["model"], classifier=False)
    for precision, dtype in (("bfloat16", torch.bfloat16), (None, torch.float32)):
        r = _runner(folder, {"precision.compute": precision} if precision else {})
        r.setup()
        assert r.model.dtype == dtype and ("precision.compute" in r.applies) is (precision is not None)


def test_an_encoder_decoder_gives_the_tokens_after_the_decoder_start(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    folder = tmp_path / "t5"
    torch.manual_seed(0)
    config = transformers.T5Config(vocab_size=64, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
                                   decoder_start_token_id=0, eos_token_id=1, pad_token_id=0)
    transformers.T5ForConditionalGeneration(config).save_pretrained(str(folder))
    ids = np.array([[5, 6, 7, 1], [8, 9, 10, 1]], dtype=np.int64)
    run = _run(folder, {"generation.max_new_tokens": 5}, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert run["task"] == "generate"
    model = transformers.AutoModelForSeq2SeqLM.from_pretrained(str(folder), local_files_only=True).eval()
    model.generation_config = transformers.GenerationConfig(decoder_start_token_id=0, eos_token_id=1,
                                                            pad_token_id=0)
    with torch.inference_mode():
        direct = model.generate(input_ids=torch.from_numpy(ids), max_new_tokens=5).numpy()
    assert (direct[:, 0] == 0).all()  # transformers starts each decoded sequence with decoder_start_token_id
    assert run["out"]["sequences"].tolist() == _ended(direct[:, 1:], {1}, 5)
