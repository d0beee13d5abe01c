"""Attribution on a real graph whose output depends on token positions, so the tokenizer settings the runner
applies (``preprocessing.max_length``, ``padding_side``, ``truncation_side``) change it: joint causes (two keys,
each alone restoring nothing), pairs within the budget, keys set on one side only, and the reruns it skips
because they cannot change the answer. Library and CLI (JSON, and text in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from driftguard.manifest import Parity
from driftguard.model import Attribution, JointRevert, Json, KeyRevert
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
