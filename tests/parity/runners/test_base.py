"""The pieces every runner shares (``parity.runners.base``), without a model: where a runner's files are found and
how they are checked before a library opens them; the tensor adapter's truncation and padding of golden token
arrays; the user's functions it loads; what a runner's result becomes.

Expected values come from outside the module:
- Truncation follows transformers' ``PreTrainedTokenizerBase`` (``truncation=True`` cuts the text's tokens, then
  ``build_inputs_with_special_tokens`` adds ``[CLS] ... [SEP]`` around what is left, so a row of ``max_length``
  tokens keeps both; ``truncation_side="left"`` cuts from the start) and padding writes the pad id (0 here) on
  ``padding_side``: the rows below are worked out by hand from that definition. The adapter is compared with the
  real tokenizer itself in ``test_tokenizer.py``.
- Arrays are numpy's (``np.asarray``); a bfloat16 tensor has no numpy dtype (torch's ``Tensor.numpy`` refuses it),
  so it is widened to float32 as ``Tensor.float()`` does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import (
    EDGE_TOKEN_KEYS,
    RunnerConfig,
    RunnerSettings,
    TensorPreprocessing,
    TextInputs,
    _first_line,
    as_outputs,
    edge_token_ids,
    load_user_function,
    torch_device,
)
from driftguard.readers.limits import Limits

np = pytest.importorskip("numpy")

CLS, SEP = 101, 102


def _cfg(base: Path, limits: Limits | None = None) -> RunnerConfig[RunnerSettings]:
    return RunnerConfig("callable", RunnerSettings(), base, limits=limits or Limits())


# --- where a runner's files are --------------------------------------------------------------------------------

def test_a_settings_path_resolves_against_the_manifest_folder(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert cfg.path("models/a.onnx") == tmp_path / "models" / "a.onnx"
    assert cfg.path(None) is None
    assert cfg.path("") is None  # an empty setting is no path, not the manifest's folder
    assert RunnerConfig("callable", RunnerSettings()).base == Path(".")
    assert RunnerConfig("callable", RunnerSettings()).device == "auto"


def test_a_file_is_checked_before_a_library_opens_it(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    (tmp_path / "real.onnx").write_bytes(b"x")
    os.symlink(tmp_path / "real.onnx", tmp_path / "link.onnx")
    assert cfg.vetted_file(tmp_path / "link.onnx", "the model") == (tmp_path / "real.onnx").resolve()
    with pytest.raises(ParityError) as info:
        cfg.vetted_file(tmp_path / "gone.onnx", "the model")
    assert (info.value.message, info.value.path) == ("the model not found", str(tmp_path / "gone.onnx"))
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(ExtractionError) as refused:  # a folder is no regular file (readers.files.vetted)
        cfg.vetted_file(tmp_path / "folder.onnx", "the model")
    assert refused.value.path == str(tmp_path / "folder.onnx")


def test_a_folder_is_checked_whole_within_its_file_limit(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "sub" / "weights.bin").write_bytes(b"0")
    assert _cfg(tmp_path).vetted_folder(folder, "the model folder") == folder.resolve()
    assert _cfg(tmp_path, Limits(folder_files=3)).vetted_folder(folder, "the model folder") == folder.resolve()
    with pytest.raises(LimitError, match="folder_files"):  # config.json, sub, sub/weights.bin: 3 entries > 2
        _cfg(tmp_path, Limits(folder_files=2)).vetted_folder(folder, "the model folder")
    with pytest.raises(ParityError) as info:
        _cfg(tmp_path).vetted_folder(tmp_path / "none", "the model folder")
    assert (info.value.message, info.value.path) == ("the model folder not found", str(tmp_path / "none"))
    with pytest.raises(ParityError, match="the model folder not found"):  # a file where a folder is named
        _cfg(tmp_path).vetted_folder(folder / "config.json", "the model folder")


# --- the torch device ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("requested", "cuda", "device"), [
    ("auto", True, "cuda"), ("cuda", True, "cuda"), ("cpu", True, "cpu"), ("auto", False, "cpu"),
    ("cpu", False, "cpu"), ("cuda", False, "cpu")])
def test_the_torch_device_is_cuda_where_torch_sees_it_unless_cpu_is_asked(requested: str, cuda: bool,
                                                                          device: str) -> None:
    # ("cuda", False) never reaches a model: the runners refuse --device cuda without CUDA first
    assert torch_device("".join(requested), cuda) == device  # as a command line gives it, not interned


# --- the tensor adapter's settings ------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "want"), [(8, 8), (8.0, 8), (8.9, 8), (1, 1), (999_999_999, 999_999_999),
                                             (1e9, None), (10**12, None), (True, None), ("8", None), (None, None),
                                             (0, None), (0.5, None), (-3, None)])
def test_max_length_is_a_number_below_a_very_large_one(given: Any, want: int | None) -> None:
    # as the side's real tokenizer takes it (runners.tokenizer: a positive count below a very large one), so text
    # and token arrays of one side are cut alike; 0 or less is no length, not a cut of every row to nothing
    assert TensorPreprocessing.from_config({"preprocessing.max_length": given}).max_length == want


def test_sides_default_to_right_and_special_ids_come_from_the_edge_keys() -> None:
    prep = TensorPreprocessing.from_config({})
    assert (prep.max_length, prep.truncation_side, prep.padding_side, prep.special) == (None, "right", "right",
                                                                                        frozenset())
    prep = TensorPreprocessing.from_config({"preprocessing.truncation_side": "left",
                                            "preprocessing.padding_side": "left",
                                            "hf.tokenizer.cls_token_id": CLS, "hf.tokenizer.sep_token_id": SEP})
    assert (prep.truncation_side, prep.padding_side, prep.special) == ("left", "left", {CLS, SEP})
    prep = TensorPreprocessing.from_config({"preprocessing.truncation_side": None, "preprocessing.padding_side": ""})
    assert (prep.truncation_side, prep.padding_side) == ("right", "right")


def test_the_edge_tokens_are_cls_bos_sep_eos_as_ints() -> None:
    assert EDGE_TOKEN_KEYS == ("hf.tokenizer.cls_token_id", "hf.tokenizer.bos_token_id",
                               "hf.tokenizer.sep_token_id", "hf.tokenizer.eos_token_id")
    config = {"hf.tokenizer.cls_token_id": 1, "hf.tokenizer.bos_token_id": 2, "hf.tokenizer.sep_token_id": 3,
              "hf.tokenizer.eos_token_id": [4, 5, True, "6"], "hf.tokenizer.pad_token_id": 0,
              "generation.eos_token_id": 9}
    assert edge_token_ids(config) == {1, 2, 3, 4, 5}  # a list of eos ids (generation configs have them) counts
    assert edge_token_ids({"hf.tokenizer.eos_token_id": False}) == frozenset()
    assert edge_token_ids({}) == frozenset()


def test_for_side_reads_the_folder_only_when_the_config_names_no_ids_and_truncation_can_cut(tmp_path: Path) -> None:
    not_a_tokenizer = tmp_path / "empty"  # any read of it would give no ids: the config's own must stay
    named = {"preprocessing.max_length": 8, "hf.tokenizer.sep_token_id": SEP}
    assert TensorPreprocessing.for_side(named, not_a_tokenizer).special == {SEP}
    assert TensorPreprocessing.for_side({}, not_a_tokenizer) == TensorPreprocessing()
    assert TensorPreprocessing.for_side({"preprocessing.max_length": 8}, None) == TensorPreprocessing(8)


def test_describe_says_what_is_cut_and_kept() -> None:
    assert TensorPreprocessing().describe() == ("token arrays adapted, not tokenized: no truncation, padded on the "
                                                "right")
    assert TensorPreprocessing(None, "left", "left", frozenset({CLS})).describe() == (
        "token arrays adapted, not tokenized: no truncation, padded on the left")
    assert TensorPreprocessing(8, "left", "right", frozenset({SEP, CLS})).describe() == (
        "token arrays adapted, not tokenized: at most 8 tokens a row, cut on the left keeping the special tokens "
        "101, 102 as the tokenizer does, padded on the right")
    assert TensorPreprocessing(8).describe() == (
        "token arrays adapted, not tokenized: at most 8 tokens a row, cut on the right (the side's config names no "
        "special tokens: an end token is cut like any other), padded on the right")


# --- which tokens truncation keeps ------------------------------------------------------------------------------
# A row [CLS] t1 .. tn [SEP] with max_length m keeps [CLS], m - 2 text tokens and [SEP] (transformers cuts the
# text to m - 2 = m - num_special_tokens_to_add, then adds the two). Positions are of the row's real tokens.

def _keep(prep: TensorPreprocessing, ids: list[int] | None, count: int) -> list[int]:
    return [int(i) for i in prep.keep(None if ids is None else np.array(ids), count)]


def test_a_row_within_max_length_is_kept_whole() -> None:
    row = [CLS, 5, 6, SEP]
    assert _keep(TensorPreprocessing(4, special=frozenset({CLS, SEP})), row, 4) == [0, 1, 2, 3]
    assert _keep(TensorPreprocessing(None), None, 3) == [0, 1, 2]
    assert _keep(TensorPreprocessing(5), None, 0) == []
    assert _keep(TensorPreprocessing(6, "left"), None, 5) == [0, 1, 2, 3, 4]  # shorter than max_length: no cut
    assert _keep(TensorPreprocessing(6, "left", special=frozenset({CLS, SEP})), [CLS, 5, 6, 7, SEP], 5) == [
        0, 1, 2, 3, 4]


def test_right_truncation_keeps_both_special_tokens() -> None:
    prep = TensorPreprocessing(4, "right", special=frozenset({CLS, SEP}))
    assert _keep(prep, [CLS, 5, 6, 7, 8, SEP], 6) == [0, 1, 2, 5]  # [CLS] t1 t2 [SEP]
    assert _keep(prep, [CLS, 5, 6, 7, 8], 5) == [0, 1, 2, 3]  # no [SEP] at the end: text up to the limit


def test_left_truncation_cuts_the_start_of_the_text() -> None:
    prep = TensorPreprocessing(4, "left", special=frozenset({CLS, SEP}))
    assert _keep(prep, [CLS, 5, 6, 7, 8, SEP], 6) == [0, 3, 4, 5]  # [CLS] t3 t4 [SEP]
    assert _keep(TensorPreprocessing(3, "left"), None, 5) == [2, 3, 4]  # no ids: the last three as they are


def test_without_known_ids_the_first_tokens_are_kept_as_they_are() -> None:
    assert _keep(TensorPreprocessing(3), [CLS, 5, 6, 7, SEP], 5) == [0, 1, 2]  # no special ids known
    assert _keep(TensorPreprocessing(3, special=frozenset({CLS, SEP})), None, 5) == [0, 1, 2]  # no ids given


def test_leading_and_trailing_runs_of_special_tokens_are_all_kept() -> None:
    prep = TensorPreprocessing(5, special=frozenset({CLS, SEP}))
    assert _keep(prep, [CLS, CLS, 5, 6, 7, SEP], 6) == [0, 1, 2, 3, 5]
    assert _keep(prep, [CLS, 5, 6, 7, SEP, SEP], 6) == [0, 1, 2, 4, 5]


def test_room_for_exactly_the_special_tokens_keeps_no_text() -> None:
    assert _keep(TensorPreprocessing(2, special=frozenset({CLS, SEP})), [CLS, 5, 6, SEP], 4) == [0, 3]
    assert _keep(TensorPreprocessing(2, "left", special=frozenset({CLS, SEP})), [CLS, 5, 6, SEP], 4) == [0, 3]


def test_a_row_with_an_end_token_only_keeps_it() -> None:
    # T5's tokenizer adds only </s> at the end: "t1 t2 t3 </s>" cut to 2 is "t1 </s>" (right) or "t3 </s>" (left).
    eos = 1
    assert _keep(TensorPreprocessing(2, special=frozenset({eos})), [5, 6, 7, eos], 4) == [0, 3]
    assert _keep(TensorPreprocessing(2, "left", special=frozenset({eos})), [5, 6, 7, eos], 4) == [2, 3]


def test_long_runs_of_special_tokens_at_both_ends_are_kept_whole() -> None:
    # five leading and three trailing special tokens around two text tokens, cut to 9: one text token stays
    prep = TensorPreprocessing(9, special=frozenset({CLS, SEP}))
    row = [CLS] * 5 + [5, 6] + [SEP] * 3
    assert _keep(prep, row, 10) == [0, 1, 2, 3, 4, 5, 7, 8, 9]


def test_a_side_transformers_does_not_know_cuts_and_pads_on_the_right() -> None:
    # transformers' tokenizers default to truncation_side="right" and padding_side="right"
    # (PreTrainedTokenizerBase in tokenization_utils_base.py); the adapter treats any other word as the default.
    assert _keep(TensorPreprocessing(2, "Left"), None, 4) == [0, 1]
    out = TensorPreprocessing(2, padding_side="Left").apply({"input_ids": np.array([[3, 4, 5]])})
    np.testing.assert_array_equal(out["input_ids"], [[3, 4, 0]])


def test_a_side_read_back_from_a_file_is_compared_by_value() -> None:
    left = "".join(["le", "ft"])  # equal to "left" but not the interned constant, as a value read from JSON is
    out = TensorPreprocessing(2, left, left).apply({"input_ids": np.array([[3, 4, 5]])})
    np.testing.assert_array_equal(out["input_ids"], [[0, 4, 5]])


def test_the_settings_and_the_adapter_cannot_change_once_made() -> None:
    # shared by the threads that run one side; pydantic's frozen models and frozen dataclasses refuse assignment
    import dataclasses

    import pydantic

    settings = RunnerSettings()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        settings.batch_size = 4  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="extra"):
        RunnerSettings(batch=3)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        RunnerSettings(batch_size=0)
    assert RunnerSettings(batch_size=1).batch_size == 1
    assert RunnerSettings().batch_size == 32
    cfg = RunnerConfig("callable", settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.device = "cuda"  # type: ignore[misc]
    prep = TensorPreprocessing(8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prep.max_length = 4  # type: ignore[misc]
    assert hash(prep) == hash(TensorPreprocessing(8))


def test_more_special_tokens_than_max_length_are_cut_like_text() -> None:
    # transformers refuses this (the special tokens alone exceed max_length); the adapter keeps the first ones.
    assert _keep(TensorPreprocessing(1, special=frozenset({CLS, SEP})), [CLS, 5, SEP], 3) == [0]
    assert _keep(TensorPreprocessing(1, "left", special=frozenset({CLS, SEP})), [CLS, 5, SEP], 3) == [2]


def test_a_row_of_special_tokens_only_is_cut_like_text() -> None:
    prep = TensorPreprocessing(2, special=frozenset({CLS, SEP}))
    assert _keep(prep, [CLS, SEP, SEP], 3) == [0, 1]
    assert _keep(prep, [SEP] * 300, 300) == [0, 1]  # past the ints Python caches: compared by value


def test_keep_returns_int64_positions() -> None:
    kept = TensorPreprocessing(3, special=frozenset({CLS, SEP})).keep(np.array([CLS, 5, 6, SEP]), 4)
    assert kept.dtype == np.int64


# --- the arrays the model gets ------------------------------------------------------------------------------------

def test_apply_cuts_each_row_to_its_real_tokens_and_pads_right_keeping_the_width() -> None:
    prep = TensorPreprocessing(4, special=frozenset({CLS, SEP}))
    batch = {"input_ids": np.array([[CLS, 5, 6, 7, 8, SEP], [CLS, 9, SEP, 0, 0, 0]]),
             "attention_mask": np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]),
             "token_type_ids": np.array([[0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]]),
             "pixel": np.array([[0.5, 0.25]])}
    out = prep.apply(batch)
    np.testing.assert_array_equal(out["input_ids"], [[CLS, 5, 6, SEP, 0, 0], [CLS, 9, SEP, 0, 0, 0]])
    np.testing.assert_array_equal(out["attention_mask"], [[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(out["token_type_ids"], [[0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]])
    assert out["pixel"] is batch["pixel"]  # not a token input: untouched
    np.testing.assert_array_equal(batch["input_ids"][0], [CLS, 5, 6, 7, 8, SEP])  # the caller's arrays stay


def test_apply_pads_left_when_the_side_says_so() -> None:
    prep = TensorPreprocessing(4, "right", "left", frozenset({CLS, SEP}))
    out = prep.apply({"input_ids": np.array([[CLS, 5, 6, 7, 8, SEP], [0, 0, 0, CLS, 9, SEP]]),
                      "attention_mask": np.array([[1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1]])})
    np.testing.assert_array_equal(out["input_ids"], [[0, 0, CLS, 5, 6, SEP], [0, 0, 0, CLS, 9, SEP]])
    np.testing.assert_array_equal(out["attention_mask"], [[0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1]])


def test_apply_without_a_mask_takes_every_position_as_real() -> None:
    out = TensorPreprocessing(2).apply({"input_ids": np.array([[3, 4, 5], [6, 7, 8]])})
    np.testing.assert_array_equal(out["input_ids"], [[3, 4, 0], [6, 7, 0]])


def test_apply_without_input_ids_cuts_the_other_token_inputs_as_text() -> None:
    # no ids to find special tokens by: the first max_length real positions stay
    prep = TensorPreprocessing(2, special=frozenset({CLS, SEP}))
    out = prep.apply({"attention_mask": np.array([[1, 1, 1, 0]]), "position_ids": np.array([[0, 1, 2, 3]])})
    np.testing.assert_array_equal(out["attention_mask"], [[1, 1, 0, 0]])
    np.testing.assert_array_equal(out["position_ids"], [[0, 1, 0, 0]])


def test_apply_leaves_a_batch_without_two_dimensional_token_inputs_as_it_is() -> None:
    batch = {"x": np.zeros((2, 3))}
    assert TensorPreprocessing(1).apply(batch) is batch
    flat = {"input_ids": np.array([CLS, 5, 6, SEP])}  # one dimension: not rows of tokens
    assert TensorPreprocessing(1).apply(flat) is flat
    # three dimensions: Qwen2-VL's multimodal rotary position_ids are (3, batch, sequence), not rows of tokens
    rope = {"position_ids": np.arange(3 * 2 * 4).reshape(3, 2, 4)}
    assert TensorPreprocessing(1).apply(rope) is rope


# --- text for a tensor runner -------------------------------------------------------------------------------------

def test_text_without_a_tokenizer_is_one_error_saying_where_to_put_one(tmp_path: Path) -> None:
    inputs = TextInputs(None, tmp_path / "model.onnx", {}, "onnxruntime")  # no tokenizer files beside it
    assert (inputs.folder, inputs.tokenizer, inputs.runner) == (None, None, "onnxruntime")
    with pytest.raises(ParityError) as info:
        inputs.encode([{"text": "hello"}], None)
    assert info.value.message == ("the onnxruntime runner got text (.jsonl records) but the side has no tokenizer: "
                                  "set 'tokenizer:' (a folder with tokenizer files) or keep them beside the artifact")
    assert TextInputs(tmp_path / "tok", None, {}, "torch").folder == tmp_path / "tok"  # the setting, as given


# --- the user's functions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["fns.py", "fns.py:", ":build", "build"])
def test_a_spec_without_module_and_function_is_refused(spec: str, tmp_path: Path) -> None:
    with pytest.raises(ParityError) as info:
        load_user_function(spec, tmp_path, "builder")
    assert info.value.message == f"builder must be 'module:function' or 'path/file.py:function', got '{spec}'"


def test_a_file_function_is_loaded_relative_to_the_base_once(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "fns.py").write_text("CALLS = []\n\ndef build(c):\n    return 1\n", encoding="utf-8")
    first = load_user_function("sub/fns.py:build", tmp_path, "builder")
    assert first(None) == 1
    assert load_user_function("sub/fns.py:build", tmp_path, "builder") is first  # the module is not run again
    module = sys.modules[first.__module__]
    assert module.__file__ == str((tmp_path / "sub" / "fns.py").resolve())
    assert first.__module__.startswith("driftguard_user_")


def test_an_importable_module_function_is_loaded_by_name(tmp_path: Path) -> None:
    import json

    assert load_user_function("json:dumps", tmp_path, "function") is json.dumps
    assert load_user_function("os.path:join", tmp_path, "function") is os.path.join


def test_a_missing_file_or_function_is_named(tmp_path: Path) -> None:
    with pytest.raises(ParityError) as info:
        load_user_function("nope.py:build", tmp_path, "builder")
    assert info.value.message == f"builder 'nope.py:build': {(tmp_path / 'nope.py').resolve()} not found"
    (tmp_path / "fns.py").write_text("VALUE = 3\n", encoding="utf-8")
    for attr in ("missing", "VALUE"):  # absent, and present but not callable
        with pytest.raises(ParityError) as info:
            load_user_function(f"fns.py:{attr}", tmp_path, "builder")
        assert info.value.message == f"builder 'fns.py:{attr}': no callable '{attr}' in fns.py"
    with pytest.raises(ParityError) as info:
        load_user_function("json:nothing_here", tmp_path, "function")
    assert info.value.message == "function 'json:nothing_here': no callable 'nothing_here' in json"


def test_a_module_that_fails_to_import_is_one_line_and_loads_again_once_fixed(tmp_path: Path) -> None:
    fns = tmp_path / "fns.py"
    fns.write_text("raise ValueError('bad config\\nsecond line')\n", encoding="utf-8")
    with pytest.raises(ParityError) as info:
        load_user_function("fns.py:build", tmp_path, "builder")
    assert info.value.message == "builder 'fns.py:build' failed to import: ValueError: bad config"
    assert not [m for m in sys.modules if m.startswith("driftguard_user_") and
                getattr(sys.modules[m], "__file__", None) == str(fns.resolve())]  # no half-run module kept
    fns.write_text("def build(c):\n    return 2\n", encoding="utf-8")
    assert load_user_function("fns.py:build", tmp_path, "builder")(None) == 2
    with pytest.raises(ParityError) as info:
        load_user_function("no_such_module_here:f", tmp_path, "function")
    assert info.value.message == ("function 'no_such_module_here:f' failed to import: ModuleNotFoundError: No module "
                                  "named 'no_such_module_here'")


def test_a_module_that_exits_while_importing_is_not_kept_either(tmp_path: Path) -> None:
    fns = tmp_path / "exits.py"
    fns.write_text("raise SystemExit(3)\n", encoding="utf-8")
    with pytest.raises(SystemExit):  # not an Exception: not turned into a ParityError, and not swallowed
        load_user_function("exits.py:build", tmp_path, "builder")
    assert not [m for m in list(sys.modules) if m.startswith("driftguard_user_") and
                getattr(sys.modules[m], "__file__", None) == str(fns.resolve())]


def test_a_parity_error_raised_while_importing_is_kept_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "fns.py").write_text("from driftguard.parity.errors import ParityError\n"
                                     "raise ParityError('the user says no', 'x.bin')\n", encoding="utf-8")
    with pytest.raises(ParityError) as info:
        load_user_function("fns.py:build", tmp_path, "builder")
    assert (info.value.message, info.value.path) == ("the user says no", "x.bin")


def test_first_line_is_the_first_line_cut_at_300_characters() -> None:
    assert _first_line(ValueError("  one\ntwo ")) == "one"
    assert _first_line(ValueError("x" * 400)) == "x" * 300
    assert _first_line(ValueError("")) == "(no message)"


# --- what a runner's result becomes -----------------------------------------------------------------------------

def test_a_mapping_keeps_its_names_as_strings() -> None:
    out = as_outputs({"logits": [[1.0, 2.0]], 3: [4]}, ("ignored",), "model")
    assert list(out) == ["logits", "3"]
    np.testing.assert_array_equal(out["logits"], [[1.0, 2.0]])


def test_a_tuple_is_named_by_the_given_names_or_output_n() -> None:
    assert list(as_outputs(([1], [2], [3]), (), "model")) == ["output", "output_1", "output_2"]
    assert list(as_outputs([[1], [2]], ("a", "b"), "model")) == ["a", "b"]
    single = as_outputs(np.array([1.5]), (), "model")
    assert list(single) == ["output"] and single["output"].tolist() == [1.5]
    assert list(as_outputs(np.array([1.5]), ("score",), "model")) == ["score"]


def test_a_count_that_differs_from_the_names_is_refused() -> None:
    with pytest.raises(ParityError) as info:
        as_outputs(([1], [2]), ("a", "b", "c"), "the builder's model")
    assert info.value.message == "the builder's model returned 2 outputs but 3 are named (a, b, c)"
    with pytest.raises(ParityError, match="returned 1 outputs but 2 are named"):
        as_outputs(np.zeros(2), ("a", "b"), "m")
    many = tuple(f"o{i}" for i in range(300))  # counts past the ints Python caches: compared by value
    assert list(as_outputs(tuple([0.0] * 300), many, "m")) == list(many)


class _NoArray:
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("cannot\nbe an array")


def test_what_is_no_array_is_one_error_naming_its_type() -> None:
    with pytest.raises(ParityError) as info:
        as_outputs({"x": _NoArray()}, (), "the function")
    assert info.value.message == "the function returned a _NoArray that is not an array: cannot"


def test_torch_tensors_become_arrays_and_bfloat16_becomes_float32() -> None:
    torch = pytest.importorskip("torch")
    out = as_outputs({"half": torch.tensor([1.5], dtype=torch.float16),
                      "bf16": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
                      "grad": torch.ones(2, requires_grad=True) * 2}, (), "model")
    assert out["half"].dtype == np.float16  # numpy has float16: kept
    assert out["bf16"].dtype == np.float32 and out["bf16"].tolist() == [1.5, -2.0]
    assert out["grad"].tolist() == [2.0, 2.0]  # detached: a tensor that needs grad has no numpy() otherwise
