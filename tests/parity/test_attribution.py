"""Attribution on a real graph whose output depends on token positions, so the tokenizer settings the runner
applies (``preprocessing.max_length``, ``padding_side``, ``truncation_side``) change it: joint causes (two keys,
each alone restoring nothing), pairs within the budget, keys set on one side only, and the reruns it skips
because they cannot change the answer. Library and CLI (JSON, and text in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from driftguard.manifest import Parity
from driftguard.model import Attribution, JointRevert, Json, KeyRevert, Severity
from driftguard.parity import attribution, stage
from driftguard.parity.model_parity import ModelParity
from driftguard.parity.request import ParityRequest
from tests.parity.conftest import np, onnx

WIDTH = 16
ML, PAD, TRUNC = "preprocessing.max_length", "preprocessing.padding_side", "preprocessing.truncation_side"


def position_graph(path: Path) -> Path:
    """``embedding = float(input_ids) @ W``, ``W`` ``[16, 4]`` seeded: every token position weighs differently,
    so a token moved (padding side) or dropped (truncation) changes the output."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((WIDTH, 4)).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["x"], to=TensorProto.FLOAT),
         helper.make_node("MatMul", ["x", "W"], ["embedding"])], "positions",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", WIDTH])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 4])], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def golden(path: Path, lengths: list[int]) -> Path:
    """Token rows of the given real lengths (ids 1..99, right-padded with 0 to 16) and their attention mask."""
    rng = np.random.default_rng(1)
    ids = np.zeros((len(lengths), WIDTH), dtype=np.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(1, 100, n)
    np.savez(path, input_ids=ids, attention_mask=(ids != 0).astype(np.int64))
    return path


#: 10 short rows (only the padding side moves them), 7 mid rows (cut to 8 and moved: only both keys together
#: bring them back), 5 full rows (cut to 8, never moved: the length alone brings them back).
MIXED = [5] * 10 + [12] * 7 + [16] * 5

PARITY = {"golden": "golden.npz", "reference": {"runner": "onnxruntime", "artifact": "model.onnx"},
          "candidate": {"runner": "onnxruntime", "artifact": "model.onnx"}}


def attribute(folder: Path, lengths: list[int], training: dict[str, Json], deployed: dict[str, Json],
              differing: tuple[str, ...]) -> Attribution | None:
    """The attribution of the same graph run under ``training`` and ``deployed`` tokenizer settings."""
    position_graph(folder / "model.onnx")
    golden(folder / "golden.npz", lengths)
    model_parity = ModelParity("m", Parity.model_validate(PARITY), folder, "driftguard.yaml", training, deployed,
                               differing, ParityRequest())
    findings = stage.run(model_parity)
    failing = [f for f in findings if f.attribution is not None]
    assert failing and all(f.rule == "DG501" for f in failing)
    return failing[0].attribution


def test_two_keys_each_alone_restoring_nothing_are_named_together(tmp_path: Path) -> None:
    result = attribute(tmp_path, list(range(10, 16)) * 10 + [10] * 4, {ML: 16, PAD: "right"}, {ML: 8, PAD: "left"},
                       (ML, PAD))
    assert result is not None
    assert (result.diverging, result.inputs) == (64, 64)
    assert (result.deployed_artifact_training_config, result.training_artifact_deployed_config) == (0, 64)
    assert [(k.key, k.restores) for k in result.keys] == [(ML, 0), (PAD, 0)]
    assert result.joint == (JointRevert((ML, PAD), 64, 64),)
    assert (result.reruns, result.budget) == (4, 5)  # two swaps and two single reverts; the pair is the swap
    text = attribution.describe(result)
    assert "64 inputs are restored only by reverting preprocessing.max_length and preprocessing.padding_side " \
           "together" in text
    assert "4 reruns of a budget of 5" in text


def test_inputs_only_both_keys_restore_are_counted_beside_each_key(tmp_path: Path) -> None:
    result = attribute(tmp_path, MIXED, {ML: 16, PAD: "right"}, {ML: 8, PAD: "left"}, (ML, PAD))
    assert result is not None and result.diverging == 22
    assert [(k.key, k.restores) for k in result.keys] == [(PAD, 10), (ML, 5)]
    assert result.joint == (JointRevert((PAD, ML), 7, 22),)
    assert "7 inputs are restored only by reverting preprocessing.padding_side and preprocessing.max_length " \
           "together" in attribution.describe(result)


def test_three_keys_try_pairs_within_the_budget(tmp_path: Path) -> None:
    # the mid rows are cut from the left when deployed: reverting the length and the padding brings them back
    # (nothing is cut then), so the cut side never matters alone
    result = attribute(tmp_path, MIXED, {ML: 16, PAD: "right", TRUNC: "right"}, {ML: 8, PAD: "left", TRUNC: "left"},
                       (ML, PAD, TRUNC))
    assert result is not None
    assert [(k.key, k.restores) for k in result.keys] == [(PAD, 10), (ML, 5), (TRUNC, 0)]
    assert result.joint == (JointRevert((PAD, ML), 7, 22),)
    assert (result.reruns, result.budget) == (6, 6)  # two swaps, three single reverts, the first pair


def test_a_key_set_on_one_side_only_is_reverted(tmp_path: Path) -> None:
    # the deployed tokenizer pads on the left; training says nothing (the runner's default, right): no
    # differing key as the rules compare them, and the revert removes the key
    result = attribute(tmp_path, MIXED, {ML: 16}, {ML: 16, PAD: "left"}, ())
    assert result is not None and result.diverging == 17
    assert result.keys == (KeyRevert(PAD, None, "left", 17, 17),)
    assert result.reruns == 2 and result.skipped == (
        f"reverting {PAD} alone, which is the deployed artifact under the training config as it is the only "
        f"differing key the runner applies",)
    assert "reverting preprocessing.padding_side 'left' -> unset restores 17 of 17" in attribution.describe(result)


def test_no_rerun_when_no_runner_applies_a_differing_key(tmp_path: Path) -> None:
    # the candidate graph differs; the differing key (precision) is the artifact's, which no runner applies
    from tests.parity.conftest import linear_onnx

    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4)).astype(np.float32)
    linear_onnx(tmp_path / "ref.onnx", w, np.zeros(4, np.float32))
    linear_onnx(tmp_path / "cand.onnx", rng.standard_normal((8, 4)).astype(np.float32), np.zeros(4, np.float32))
    np.savez(tmp_path / "golden.npz", x=rng.standard_normal((8, 8)).astype(np.float32))
    spec = {"golden": "golden.npz", "reference": {"runner": "onnxruntime", "artifact": "ref.onnx"},
            "candidate": {"runner": "onnxruntime", "artifact": "cand.onnx"}}
    model_parity = ModelParity("m", Parity.model_validate(spec), tmp_path, "driftguard.yaml",
                               {"precision.weights": "fp32"}, {"precision.weights": "int8"}, ("precision.weights",),
                               ParityRequest())
    [result] = {f.attribution for f in stage.run(model_parity) if f.attribution is not None}
    assert result is not None
    assert (result.deployed_artifact_training_config, result.training_artifact_deployed_config) == (8, 0)
    assert (result.reruns, result.budget, result.keys, result.joint) == (0, 3, (), ())
    text = attribution.describe(result)
    assert "the artifact changed" in text and "0 reruns of a budget of 3; not rerun: the deployed artifact " in text


def test_a_group_no_pair_explains_says_so() -> None:
    result = Attribution(9, 20, 0, 9, (KeyRevert("a", 1, 2, 0, 9), KeyRevert("b", 1, 2, 0, 9),
                                       KeyRevert("c", 1, 2, 0, 9), KeyRevert("d", 1, 2, 0, 9)),
                         (JointRevert(("a", "b", "c", "d"), 9, 9, only=False),), 7, 7)
    assert "9 inputs are restored by reverting a, b, c and d together, by no single key and by no pair tried " \
           "within the budget; 7 reruns of a budget of 7" in attribution.describe(result)


# --- the CLI: the sides' tokenizer configs, the same graph on both ---------------------------------------------

MANIFEST = """version: 1
models:
  m:
    training:
      - {path: train/tokenizer_config.json, kind: hf-tokenizer}
    deployment:
      - {path: serve/tokenizer_config.json, kind: hf-tokenizer}
    parity:
      golden: golden.npz
      reference: {runner: onnxruntime, artifact: model.onnx}
      candidate: {runner: onnxruntime, artifact: model.onnx}
"""


@pytest.fixture()
def interaction(tmp_path: Path) -> Path:
    """A manifest whose sides tokenize to 16 and 8 tokens, padding right and left, over MIXED rows."""
    position_graph(tmp_path / "model.onnx")
    golden(tmp_path / "golden.npz", MIXED)
    for side, config in (("train", {"model_max_length": 16, "padding_side": "right"}),
                         ("serve", {"model_max_length": 8, "padding_side": "left"})):
        (tmp_path / side).mkdir()
        (tmp_path / side / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return manifest


def test_cli_json_carries_the_joint_revert(interaction: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["parity", "--config", str(interaction), "--format", "json", "--today", "2026-12-01"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 1
    failing = [f for m in report["models"] for f in m["findings"] if f["rule"] == "DG501"]
    assert failing
    for f in failing:
        shown = f["delta"]["attribution"]
        assert shown["joint"] == [{"keys": [PAD, ML], "restores": 7, "of": 22, "only": True}]
        assert (shown["reruns"], shown["budget"]) == (4, 5)
        assert "7 inputs are restored only by reverting preprocessing.padding_side and preprocessing.max_length " \
               "together" in f["message"]


def test_cli_text_says_it_in_plain_words(interaction: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "parity", "--config", str(interaction),
                           "--today", "2026-12-01"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "reverting preprocessing.padding_side 'left' -> 'right' restores 10 of 22" in proc.stdout
    assert "7 inputs are restored only by reverting preprocessing.padding_side and preprocessing.max_length " \
           "together" in proc.stdout


def test_pairs_whose_keys_move_the_outputs_are_tried_first(tmp_path: Path) -> None:
    # reverting a changes nothing; by rank (all restore 0, then by name) (a, b) would be the one pair the budget
    # allows, but a moved nothing, so (b, c) is tried and explains every input
    from tests.parity.conftest import USERFNS

    np.savez(tmp_path / "golden.npz", x=np.random.default_rng(0).standard_normal((6, 3)))
    fn = {"runner": "callable", "function": f"{USERFNS / 'fns.py'}:weighted_sum"}
    model_parity = ModelParity("m", Parity.model_validate({"golden": "golden.npz", "reference": fn,
                                                           "candidate": fn}), tmp_path, "driftguard.yaml",
                               {"a": 1, "b": 1, "c": 1}, {"a": 2, "b": 2, "c": 2}, ("a", "b", "c"), ParityRequest())
    [result] = {f.attribution for f in stage.run(model_parity) if f.attribution is not None}
    assert result is not None and [(k.key, k.restores) for k in result.keys] == [("a", 0), ("b", 0), ("c", 0)]
    assert result.joint == (JointRevert(("b", "c"), 6, 6),)
    assert (result.reruns, result.budget) == (6, 6)


# --- the pieces on their own, with small arrays written out here (no model runs) -------------------------------
# Which golden inputs diverge follows the module docstring: a sample diverges when, for some output, its cosine
# falls below the profile's cosine bound, its argmax differs (logits), its tokens differ (sequences), a candidate
# value is NaN or Inf, or one of its elements fails Polygraphy's elementwise rule (beyond atol AND beyond rtol,
# rtol relative to |reference|); every expected mask is worked out by hand.

DOUBLE = {"runner": "callable", "function": f"{Path(__file__).resolve().parent / 'userfns' / 'fns.py'}:double"}


def unit(parity: dict[str, Any] | None = None, training: dict[str, Json] | None = None,
         deployed: dict[str, Json] | None = None, differing: tuple[str, ...] = ()) -> ModelParity:
    spec = {"golden": "golden.npz", "reference": DOUBLE, "candidate": DOUBLE, **(parity or {})}
    return ModelParity("m", Parity.model_validate(spec), Path("."), "driftguard.yaml", dict(training or {}),
                       dict(deployed or {}), differing, ParityRequest())


def rows(*pairs: tuple[list[float], list[float]]) -> tuple[Any, Any]:
    return (np.array([r for r, _ in pairs], dtype=np.float64), np.array([c for _, c in pairs], dtype=np.float64))


#: Only the elementwise rule judges (the cosine bound removed), atol 0.5 and rtol 0.25: binary fractions, exact.
ELEMENTWISE = {"atol": 0.5, "rtol": 0.25, "tolerances": {"cosine_min": None}}
#: Nothing judges but the kind's own test (tokens, argmax) and non-finite values.
NO_BOUNDS = {"tolerances": {"cosine_min": None, "elementwise_fraction": None}}


def test_an_element_diverges_only_beyond_both_atol_and_rtol() -> None:
    ref, cand = rows(([1.0, 1.0], [1.5, 1.0]),     # |d| 0.5 = atol, rel 0.5: not beyond atol
                     ([1.0, 1.0], [1.75, 1.0]),    # |d| 0.75, rel 0.75: beyond both
                     ([8.0, 1.0], [8.75, 1.0]),    # |d| 0.75, rel 0.09375: within rtol
                     ([0.25, 1.0], [0.5, 1.0]),    # |d| 0.25, rel 1.0: within atol
                     ([4.0, 1.0], [5.0, 1.0]),     # |d| 1.0, rel 0.25 = rtol: not beyond rtol
                     ([0.0, 1.0], [0.75, 1.0]),    # a zero reference: any |d| beyond atol is beyond rtol
                     ([-4.0, 1.0], [-5.0, 1.0]),   # rel against |reference|: 0.25
                     ([-1.0, 1.0], [-1.75, 1.0]))  # |d| 0.75, rel 0.75
    got = attribution.diverging(unit(ELEMENTWISE), {"y": ref}, {"y": cand})
    assert got.tolist() == [False, True, False, False, False, True, False, True]
    # with atol below rtol, references of 1 and -1 are judged against |reference| like any other
    ref, cand = rows(([1.0, 1.0], [1.25, 1.0]), ([-1.0, 1.0], [-1.25, 1.0]), ([1.0, 1.0], [1.375, 1.0]))
    tight = unit({"atol": 0.125, "rtol": 0.25, "tolerances": {"cosine_min": None}})
    assert attribution.diverging(tight, {"y": ref}, {"y": cand}).tolist() == [False, False, True]
    # a profile without the elementwise rule does not judge elements at all
    assert not attribution.diverging(unit(NO_BOUNDS | {"atol": 0.5, "rtol": 0.25}), {"y": ref}, {"y": cand}).any()


def test_a_sample_diverges_below_the_cosine_bound_only() -> None:
    ref, cand = rows(([1.0, 0.0], [0.0, 1.0]),    # cosine 0, at the bound: not below it
                     ([1.0, 0.0], [-1.0, 0.0]),   # cosine -1
                     ([1.0, 0.0], [2.0, 0.0]))    # cosine 1
    at_zero = unit({"tolerances": {"cosine_min": 0.0, "elementwise_fraction": None}})
    assert attribution.diverging(at_zero, {"y": ref}, {"y": cand}).tolist() == [False, True, False]
    assert not attribution.diverging(unit(NO_BOUNDS), {"y": ref}, {"y": cand}).any()


def test_without_cosine_min_the_cosine_mean_bound_judges_each_sample() -> None:
    # int8 (from the deployed precision) bounds cosine_mean at 0.99 and has no cosine_min, no elementwise rule
    ref, cand = rows(([1.0, 0.0], [1.0, 0.2]),    # cosine 1/sqrt(1.04) = 0.9806
                     ([1.0, 0.0], [1.0, 0.1]))    # cosine 1/sqrt(1.01) = 0.9950
    int8 = unit(deployed={"precision.weights": "int8"})
    assert attribution.diverging(int8, {"y": ref}, {"y": cand}).tolist() == [True, False]
    looser = unit({"tolerances": {"cosine_min": 0.9}}, deployed={"precision.weights": "int8"})
    assert not attribution.diverging(looser, {"y": ref}, {"y": cand}).any()


def test_logits_diverge_where_the_argmax_differs_either_way() -> None:
    # fp16: cosine_min 0.999, no elementwise rule; the swapped rows keep a cosine of 0.9999995
    ref, cand = rows(([1.0, 1.001], [1.001, 1.0]),  # argmax 1 -> 0
                     ([1.001, 1.0], [1.0, 1.001]),  # argmax 0 -> 1
                     ([1.0, 2.0], [1.0, 2.0]))
    fp16 = unit({"profile": "fp16"})
    assert attribution.diverging(fp16, {"logits": ref}, {"logits": cand}).tolist() == [True, True, False]
    assert not attribution.diverging(fp16, {"y": ref}, {"y": cand}).any()  # a tensor has no argmax
    # per position of a [sample, position, class] output: sample 0 differs at its last position only
    r3 = np.array([[[1.0, 1.001], [2.0, 1.0], [1.0, 1.001]], [[1.0, 1.001], [2.0, 1.0], [1.0, 1.001]]])
    c3 = r3.copy()
    c3[0, 2] = [1.001, 1.0]
    assert attribution.diverging(fp16, {"logits": r3}, {"logits": c3}).tolist() == [True, False]
    # one position of two classes: the classes are the last axis, whatever the others
    assert attribution.diverging(fp16, {"logits": r3[:, 2:]}, {"logits": c3[:, 2:]}).tolist() == [True, False]
    # an output of no classes has no argmax to compare
    empty = np.zeros((2, 0))
    assert attribution.diverging(fp16, {"logits": empty}, {"logits": empty}).tolist() == [False, False]


def test_sequences_diverge_where_any_token_differs() -> None:
    ref = np.array([[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]], dtype=np.int64)
    cand = np.array([[1, 2, 3], [1, 5, 3], [1, 0, 3], [2, 4, 6]], dtype=np.int64)  # same, up, down, scaled
    got = attribution.diverging(unit(NO_BOUNDS), {"ids": ref}, {"ids": cand})
    assert got.tolist() == [False, True, True, True]
    # of different lengths (generated further): padded, so every sample diverges, none refused
    longer = np.array([[1, 2, 3, 4]] * 4, dtype=np.int64)
    assert attribution.diverging(unit(NO_BOUNDS), {"ids": ref}, {"ids": longer}).tolist() == [True] * 4
    # the manifest's kind counts too: a float output declared a sequence
    declared = unit(NO_BOUNDS | {"outputs": {"y": {"kind": "sequence"}}})
    got = attribution.diverging(declared, {"y": ref.astype(np.float64)}, {"y": cand.astype(np.float64)})
    assert got.tolist() == [False, True, True, True]


def test_a_tensor_of_another_shape_diverges_everywhere_not_padded() -> None:
    ref, cand = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert attribution.diverging(unit(NO_BOUNDS), {"y": ref}, {"y": cand}).tolist() == [True, True]
    assert attribution.diverging(unit(NO_BOUNDS), {"y": ref}, {"y": ref[:1]}).tolist() == [True, True]


def test_a_non_finite_candidate_value_diverges_whatever_the_bounds() -> None:
    ref, cand = rows(([1.0, 2.0], [1.0, float("nan")]), ([1.0, 2.0], [float("inf"), 2.0]), ([1.0, 2.0], [1.0, 2.0]))
    assert attribution.diverging(unit(NO_BOUNDS), {"y": ref}, {"y": cand}).tolist() == [True, True, False]


def test_outputs_one_side_lacks_or_a_scalar_diverge_everywhere() -> None:
    a = np.zeros((3, 2))
    mp = unit(NO_BOUNDS)
    assert attribution.diverging(mp, {"a": a, "b": a}, {"a": a}).tolist() == [True] * 3
    assert attribution.diverging(mp, {"a": a}, {"a": a, "b": a}).tolist() == [True] * 3
    assert attribution.diverging(mp, {"a": a, "b": a}, {"a": a, "c": a}).tolist() == [True] * 3
    assert attribution.diverging(mp, {"a": a, "s": np.float64(1)}, {"a": a, "s": np.float64(1)}).tolist() == [True] * 3
    assert attribution.diverging(mp, {"a": a, "b": a}, {"b": a, "a": a}).tolist() == [False] * 3
    assert attribution.diverging(mp, {}, {}).tolist() == []


def test_a_sample_diverges_when_any_output_does() -> None:
    ref = np.array([[1, 2], [1, 2], [1, 2]], dtype=np.int64)
    first, second = ref.copy(), ref.copy()
    first[0, 0], second[1, 1] = 9, 9
    got = attribution.diverging(unit(NO_BOUNDS), {"ids": ref, "tokens": ref}, {"ids": first, "tokens": second})
    assert got.tolist() == [True, True, False]


def test_considered_keys_are_the_differing_ones_and_those_one_side_sets() -> None:
    mp = unit(training={"a": 1, "b": 2, "c": 3}, deployed={"b": 2, "c": 4, "d": 5}, differing=("c",))
    assert attribution.considered(mp) == ["a", "c", "d"]
    assert attribution.considered(unit(training={"x": 1}, deployed={"x": 1})) == []


def test_a_revert_sets_the_training_value_back_or_removes_the_key() -> None:
    mp = unit(training={"a": 1, "b": 2, "c": None}, deployed={"a": 9, "b": 8, "c": 7, "d": 6})
    assert attribution.reverted(mp, ["a", "c", "d", "e"]) == {"a": 1, "b": 8, "c": None}
    assert attribution.reverted(mp, []) == {"a": 9, "b": 8, "c": 7, "d": 6}
    assert mp.deployed == {"a": 9, "b": 8, "c": 7, "d": 6}  # a copy: the deployed config is untouched


@pytest.mark.parametrize(("a", "c", "verdict"), [
    (0, 1, "the config difference explains it"), (1, 0, "the artifact changed"),
    (1, 1, "both the artifact and the config contribute"), (0, 0, None), (0, 5, "the config difference explains it"),
    (5, 0, "the artifact changed"), (3, 2, "both the artifact and the config contribute"),
])
def test_describe_says_artifact_or_config_from_the_two_swaps(a: int, c: int, verdict: str | None) -> None:
    text = attribution.describe(Attribution(5, 8, a, c, (KeyRevert("k", 1, 2, 0, 5),), (), 1, 4))
    parts = text.split("; ")
    assert parts[0] == "5 of 8 golden inputs diverge"
    assert parts[1] == (f"the deployed artifact under the training config diverges on {a}, the training artifact "
                        f"under the deployed config on {c}")
    assert parts[2:] == ([verdict] if verdict else []) + ["reverting k 2 -> 1 restores 0 of 5",
                                                          "1 rerun of a budget of 4"]


def test_describe_words_keys_joint_groups_and_skipped_runs() -> None:
    result = Attribution(9, 20, 0, 9, (KeyRevert("p", "left", None, 1, 9), KeyRevert("m", 512, 1024, 0, 9)),
                         (JointRevert(("p", "m"), 1, 9), JointRevert(("a", "b", "c"), 2, 9, only=True)), 3, 5,
                         ("run one", "run two"))
    assert attribution.describe(result) == (
        "9 of 20 golden inputs diverge; the deployed artifact under the training config diverges on 0, the "
        "training artifact under the deployed config on 9; the config difference explains it; "
        "reverting p unset -> 'left' restores 1 of 9; reverting m 1024 -> 512 restores 0 of 9; "
        "1 input is restored only by reverting p and m together; "
        "2 inputs are restored only by reverting a, b and c together; "
        "3 reruns of a budget of 5; not rerun: run one, and run two")
    none = attribution.describe(Attribution(2, 2, 2, 0, (), (), 0, 3))
    assert none.endswith("; the artifact changed; no differing key is applied by the runner, so none could be "
                         "reverted; 0 reruns of a budget of 3")


def test_annotate_adds_the_attribution_to_failing_errors_of_the_output_codes_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity import codes

    result = Attribution(1, 4, 0, 1, (), (), 0, 3)
    failing = [codes.OutputBeyondTolerance.finding("parity.y.cosine_min", "beyond", delta={"x": 1}),
               codes.NonFiniteOutput.finding("parity.y", "nan"),
               codes.OutputMismatch.finding("parity.z", "shape")]
    others = [codes.OutputBeyondTolerance.finding("parity.y.max_abs", "warned", severity=Severity.WARNING),
              codes.OutputBeyondTolerance.finding("parity.y.p99_abs", "noted", severity=Severity.INFO),
              codes.ConcurrencyInterference.finding("parity.y", "threads"),
              codes.OutputWithinProfile.finding("parity.w", "fine")]
    monkeypatch.setattr(attribution, "attribute", lambda *args: result)
    got = attribution.annotate(unit(), [], [*failing, *others], [], [], None)  # type: ignore[arg-type]
    text = attribution.describe(result)
    assert [(f.message, f.attribution, f.delta) for f in got[:3]] == [
        (f"{f.message}; attribution: {text}", result, None) for f in failing]
    assert got[3:] == others
    monkeypatch.setattr(attribution, "attribute", lambda *args: None)
    assert attribution.annotate(unit(), [], failing, [], [], None) == failing  # type: ignore[arg-type]


@dataclass
class Diverges:
    diverges: Any


class Reruns:
    """``_joint``'s reruns, faked: which inputs each pair of keys reverted together still diverge on."""

    def __init__(self, model_parity: ModelParity, still: dict[tuple[str, ...], list[bool]], count: int = 0) -> None:
        self.model_parity, self.still, self.count, self.ran = model_parity, still, count, []

    def run(self, config: dict[str, Json]) -> Diverges:
        self.count += 1
        pair = tuple(sorted(k for k in config if config[k] != self.model_parity.deployed[k]))
        self.ran.append(pair)
        return Diverges(np.array(self.still.get(pair, [True] * 4)))


def joint(keys: str, unexplained: list[bool], still: dict[tuple[str, ...], list[bool]], budget: int,
          moved: dict[str, list[bool]] | None = None, count: int = 0) -> tuple[tuple[Any, ...], list[Any]]:
    mp = unit(training={k: 1 for k in keys}, deployed={k: 2 for k in keys})
    reruns = Reruns(mp, still, count)
    moves = {k: np.array((moved or {}).get(k, [False] * 4)) for k in keys}
    got = attribution._joint(mp, list(keys), np.array(unexplained), moves, reruns, budget, 9)  # type: ignore[arg-type]
    return got, reruns.ran


def test_joint_nothing_unexplained_or_one_key_needs_no_group() -> None:
    assert joint("ab", [False] * 4, {}, 9) == ((), [])
    assert joint("a", [True] * 4, {}, 9) == ((), [])


def test_joint_two_keys_are_the_group_without_a_rerun() -> None:
    assert joint("ab", [True, False, True, True], {}, 9) == ((JointRevert(("a", "b"), 3, 9),), [])


def test_joint_pairs_are_tried_while_the_budget_lasts() -> None:
    # three keys, every pair tried, none restores: the group of all three, "only" (no smaller group untried)
    assert joint("abc", [True, True, False, False], {}, 9) == (
        (JointRevert(("a", "b", "c"), 2, 9, only=True),), [("a", "b"), ("a", "c"), ("b", "c")])
    # the budget allows one pair: the rest is put on the group, which is no longer "only"
    assert joint("abc", [True, True, False, False], {}, 4, count=3) == (
        (JointRevert(("a", "b", "c"), 2, 9, only=False),), [("a", "b")])
    assert joint("abc", [True, True, False, False], {}, 3, count=3) == (
        (JointRevert(("a", "b", "c"), 2, 9, only=False),), [])
    # four keys, all six pairs tried: the group of four is never "only" (its triples were not tried)
    got, ran = joint("abcd", [True, False, False, False], {}, 99)
    assert got == (JointRevert(("a", "b", "c", "d"), 1, 9, only=False),) and len(ran) == 6


def test_joint_a_pair_restoring_inputs_is_named_and_stops_the_search_when_all_are_restored() -> None:
    still = {("a", "c"): [False, True, True, True], ("b", "c"): [True, False, True, True]}
    got, ran = joint("abc", [True, True, False, False], still, 9)
    assert got == (JointRevert(("a", "c"), 1, 9), JointRevert(("b", "c"), 1, 9))
    assert ran == [("a", "b"), ("a", "c"), ("b", "c")]
    got, ran = joint("abcd", [True, True, False, False], {("a", "b"): [False, False, True, True]}, 99)
    assert got == (JointRevert(("a", "b"), 2, 9),) and ran == [("a", "b")]


def test_joint_pairs_whose_keys_both_moved_unexplained_inputs_go_first() -> None:
    moved = {"a": [True, False, False, False], "b": [False, True, True, False], "c": [True, True, True, True]}
    # of the unexplained inputs 1 and 2, b and c both moved two, a and b none, a and c none (a tie: rank order)
    _, ran = joint("abc", [False, True, True, False], {}, 9, moved)
    assert ran == [("b", "c"), ("a", "b"), ("a", "c")]


def test_joint_more_moved_inputs_go_first_and_a_key_that_moved_none_never_helps() -> None:
    # pairs in rank order all share input 0; only (c, d) shares both unexplained inputs: it goes first
    moved = {"a": [True, False, False, False], "b": [True, False, False, False], "c": [True, True, False, False],
             "d": [True, True, False, False]}
    _, ran = joint("abcd", [True, True, False, False], {}, 5, moved, count=4)
    assert ran == [("c", "d")]
    # a moved nothing: its pairs share no moved input with any key, whatever the other moved
    moved = {"a": [False] * 4, "b": [False, True, False, False], "c": [False, True, True, False]}
    _, ran = joint("abc", [False, True, True, False], {}, 9, moved)
    assert ran == [("b", "c"), ("a", "b"), ("a", "c")]


# --- attribute with scripted runs: which inputs each run diverges on, written out per run -----------------------

class ScriptedRun:
    """A run whose outputs are one token per input: 1 where the script says it diverges from the reference (all
    0), else 0; its runner applies ``applies`` once it ran. ``flags`` None: the run fails (ParityError)."""

    def __init__(self, flags: list[bool] | None, applies: frozenset[str]) -> None:
        self.flags, self.applies, self.runner, self.closed = flags, applies, None, False

    def start(self) -> Any:
        from types import SimpleNamespace

        self.runner = SimpleNamespace(applies=self.applies)  # type: ignore[assignment]
        return self.runner

    def outputs(self, gs: Any, batch_size: int | None = None) -> dict[str, Any]:
        from driftguard.parity.errors import ParityError

        self.start()
        if self.flags is None:
            raise ParityError("the server went away")
        return {"ids": np.array([[int(f)] for f in self.flags], dtype=np.int64)}

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class Scripted(ModelParity):
    """A model's parity whose reruns follow ``script``: (artifact_of, the keys reverted) -> diverging inputs."""

    script: dict[tuple[str, tuple[str, ...]], list[bool] | None] | None = None
    applies: dict[tuple[str, tuple[str, ...]], frozenset[str]] | None = None
    declared: dict[str, frozenset[str]] | None = None
    ran: list[tuple[str, tuple[str, ...]]] | None = None

    def run(self, role: str, config: Any = None, artifact_of: str | None = None) -> Any:
        config = self.deployed if config is None else config
        gone = object()
        keys = tuple(sorted(k for k in {*config, *self.deployed} if config.get(k, gone) != self.deployed.get(k, gone)))
        which = (artifact_of or role, keys)
        assert self.script is not None and self.ran is not None
        self.ran.append(which)
        return ScriptedRun(self.script[which], (self.applies or {}).get(which, frozenset(self.deployed)))

    def declared_applies(self, role: str) -> frozenset[str] | None:
        return (self.declared or {}).get(role)


def scripted_attribution(script: dict[tuple[str, tuple[str, ...]], list[bool] | None], diverging: list[bool],
                         training: dict[str, Json], deployed: dict[str, Json], **more: Any) -> tuple[Any, list[Any]]:
    from driftguard.parity import golden

    ran: list[tuple[str, tuple[str, ...]]] = []
    mp = Scripted("m", Parity.model_validate({"golden": "golden.npz", "reference": DOUBLE, "candidate": DOUBLE}),
                  Path("."), "driftguard.yaml", training, deployed, tuple(sorted(set(training) & set(deployed))),
                  ParityRequest(), script=script, ran=ran, **more)
    n = len(diverging)
    gs = golden.GoldenSet(Path("golden.npz"), "d", arrays={"x": np.zeros((n, 1))})
    cand = ScriptedRun(diverging, more.get("applies", {}).get(("candidate", ()), frozenset(deployed)))
    reference = [{"ids": np.zeros((n, 1), dtype=np.int64)}]
    candidate = [{"ids": np.array([[int(f)] for f in diverging], dtype=np.int64)}]
    return attribution.attribute(mp, [gs], reference, candidate, cand), ran  # type: ignore[arg-type]


T, F = True, False


def test_an_input_diverging_only_under_the_training_config_is_not_left_unexplained() -> None:
    # inputs 0, 1 diverge; the training config restores them but makes input 2 diverge; neither key alone helps
    script = {("candidate", ("a", "b")): [F, F, T, F], ("reference", ()): [T, T, F, F],
              ("candidate", ("a",)): [T, T, F, F], ("candidate", ("b",)): [T, T, F, F]}
    result, ran = scripted_attribution(script, [T, T, F, F], {"a": 1, "b": 1}, {"a": 2, "b": 2})
    assert result == Attribution(2, 4, 1, 2, (KeyRevert("a", 1, 2, 0, 2), KeyRevert("b", 1, 2, 0, 2)),
                                 (JointRevert(("a", "b"), 2, 2),), 4, 5)
    assert ran == [("candidate", ("a", "b")), ("reference", ()), ("candidate", ("a",)), ("candidate", ("b",))]


def test_keys_the_swapped_run_applies_count_too_and_a_failed_rerun_restores_nothing() -> None:
    # the candidate's runner, under the deployed config, applies a only; under the training config it applies b
    # too (as the hf runner applies a generation key only where the config sets it). Reverting b alone fails.
    script = {("candidate", ("a", "b")): [F, F, F], ("reference", ()): [F, F, F],
              ("candidate", ("a",)): [F, T, T], ("candidate", ("b",)): None}
    applies = {("candidate", ()): frozenset({"a"}), ("candidate", ("a", "b")): frozenset({"a", "b"}),
               ("candidate", ("a",)): frozenset({"a"}), ("candidate", ("b",)): frozenset({"a"})}
    result, ran = scripted_attribution(script, [T, T, T], {"a": 1, "b": 1}, {"a": 2, "b": 2}, applies=applies)
    assert result.keys == (KeyRevert("a", 1, 2, 1, 3), KeyRevert("b", 1, 2, 0, 3))
    assert result.joint == (JointRevert(("a", "b"), 2, 3),)
    assert (result.deployed_artifact_training_config, result.training_artifact_deployed_config) == (0, 0)
    assert (result.reruns, result.budget) == (4, 5)
    assert ran == [("candidate", ("a", "b")), ("reference", ()), ("candidate", ("a",)), ("candidate", ("b",))]


def test_no_diverging_input_is_no_attribution_and_no_rerun() -> None:
    result, ran = scripted_attribution({}, [F, F], {"a": 1}, {"a": 2})
    assert result is None and ran == []


def test_runs_that_cannot_change_the_answer_are_skipped_and_said() -> None:
    # both runners declare what they apply: neither applies the differing key
    script: dict[tuple[str, tuple[str, ...]], list[bool] | None] = {}
    result, ran = scripted_attribution(script, [T, F, T], {"a": 1}, {"a": 2},
                                       declared={"candidate": frozenset({"z"}), "reference": frozenset({"z"})})
    assert ran == [] and result == Attribution(2, 3, 2, 0, (), (), 0, 3, (
        "the deployed artifact under the training config, which is the candidate run as its runner applies no "
        "differing key",
        "the training artifact under the deployed config, which is the reference run as its runner applies no "
        "differing key"))
    # the reference's runner applies it: only the candidate's swap is skipped
    result, ran = scripted_attribution({("reference", ()): [F, T, F]}, [T, F, T], {"a": 1}, {"a": 2},
                                       declared={"candidate": frozenset({"z"}), "reference": frozenset({"a"})})
    assert ran == [("reference", ())]
    assert (result.deployed_artifact_training_config, result.training_artifact_deployed_config) == (2, 1)
    assert result.skipped == ("the deployed artifact under the training config, which is the candidate run as its "
                              "runner applies no differing key",)


def test_logits_of_another_width_diverge_everywhere_not_padded() -> None:
    ref, cand = np.array([[2.0, 1.0], [2.0, 1.0]]), np.array([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0]])
    assert attribution.diverging(unit(NO_BOUNDS), {"logits": ref}, {"logits": cand}).tolist() == [True, True]


def test_joint_pairs_are_ordered_by_what_both_keys_moved_not_the_first_alone() -> None:
    # a and c each moved both unexplained inputs, b none: (a, c) first, then (a, b) and (b, c) in rank order
    moved = {"a": [True, True, False, False], "b": [False] * 4, "c": [True, True, False, False]}
    _, ran = joint("abc", [True, True, False, False], {}, 9, moved)
    assert ran == [("a", "c"), ("a", "b"), ("b", "c")]


def test_a_rerun_is_a_frozen_record() -> None:
    import dataclasses

    rerun = attribution._Rerun(np.zeros(1, dtype=bool), np.zeros(1, dtype=bool), frozenset())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rerun.applied = frozenset({"a"})  # type: ignore[misc]


def test_a_key_both_differing_and_set_on_one_side_is_considered_once() -> None:
    # a key the deployment sets and training leaves unset is a differing key (DG101) and a one-sided one
    mp = unit(training={"b": 1}, deployed={"a": 1, "b": 2}, differing=("a", "b"))
    assert attribution.considered(mp) == ["a", "b"]


def test_logits_and_embeddings_are_judged_by_their_bounds_not_token_by_token() -> None:
    # proportional rows: cosine 1 and the same argmax; with no bound but cosine, nothing diverges
    ref, cand = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[4.0, 2.0], [1.0, 3.0]])
    cosine = {"tolerances": {"cosine_min": 0.9999, "elementwise_fraction": None}}
    assert attribution.diverging(unit(cosine), {"logits": ref}, {"logits": cand}).tolist() == [False, False]
    embedding = unit(cosine | {"outputs": {"e": {"kind": "embedding"}}})
    assert attribution.diverging(embedding, {"e": ref}, {"e": cand}).tolist() == [False, False]
    # an embedding has no argmax: swapped largest components within the cosine bound do not diverge
    first, second = np.array([[1.001, 1.0], [1.0, 3.0]]), np.array([[1.0, 1.001], [1.0, 3.0]])
    assert attribution.diverging(embedding, {"e": first}, {"e": second}).tolist() == [False, False]
    assert attribution.diverging(unit(cosine), {"logits": first}, {"logits": second}).tolist() == [True, False]


def test_joint_stops_at_the_budget_whatever_the_count_started_at() -> None:
    got, ran = joint("abc", [True, True, False, False], {}, 301, count=300)
    assert ran == [("a", "b")] and got == (JointRevert(("a", "b", "c"), 2, 9, only=False),)


def test_no_golden_set_is_no_input() -> None:
    assert attribution._joined([]).shape == (0,)
    assert attribution._joined([[True], [False, True]]).tolist() == [True, False, True]
