"""The parity stage's comparison on its own (``stage.compare_outputs``, ``stage.not_exercised``, ``stage.run`` on
callables): each expected value written out by hand from the README ("Comparison and tolerance profiles",
"Parity findings", "Runners") and from the metric definitions there (Polygraphy's), never from the module's tables.
End to end through the CLI: tests/parity/test_stage_cli.py; every code's cases: tests/parity/test_codes.py."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from driftguard.manifest import Parity
from driftguard.model import Finding
from driftguard.parity import golden, stage
from driftguard.parity.model_parity import ModelParity
from driftguard.parity.request import ParityRequest
from tests.parity.conftest import USERFNS, linear_onnx, np

FNS = USERFNS / "fns.py"
REF, CAND = f"{FNS}:double", f"{FNS}:nan"  # two callables: each side's origin names its own function


def model(tmp_path: Path, training: dict[str, Any] | None = None, deployed: dict[str, Any] | None = None,
          differing: tuple[str, ...] = (), attribution: bool = False, **section: Any) -> ModelParity:
    spec = {"golden": "golden.npz", "reference": {"runner": "callable", "function": REF},
            "candidate": {"runner": "callable", "function": CAND}, **section}
    return ModelParity("m", Parity.model_validate(spec), tmp_path, "driftguard.yaml", dict(training or {}),
                       dict(deployed or {}), differing, ParityRequest(attribution=attribution))


def compare(mp: ModelParity, reference: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Finding]:
    found = stage.compare_outputs(mp, {k: np.asarray(v) for k, v in reference.items()},
                                  {k: np.asarray(v) for k, v in candidate.items()}, "", "golden.npz")
    return {f.key: f for f in found}


def test_a_tensor_beyond_fp32_names_the_metric_its_bound_the_summary_and_where_it_is_worst(tmp_path: Path) -> None:
    """One element of four off by 0.5: the elementwise rule fails it (0.5 > atol 1e-5 and 0.25 > rtol 1e-5), and
    sample 0's cosine, (1·1 + 2·2.5) / (√5 · √7.25), is below fp32's 0.9999; sample 1 is identical (cosine 1)."""
    found = compare(model(tmp_path), {"y": [[1.0, 2.0], [3.0, 4.0]]}, {"y": [[1.0, 2.5], [3.0, 4.0]]})
    assert sorted(found) == ["parity.y.cosine_min", "parity.y.elementwise_fraction"]
    cos0 = 6 / math.sqrt(5 * 7.25)  # 0.9965
    summary = ("max_abs 0.5, mean_abs 0.125, max_rel 0.25, elementwise 1/4 beyond atol 1e-05 and rtol 1e-05, "
               f"cosine min {cos0:.3g} mean {(cos0 + 1) / 2:.3g}, SQNR {10 * math.log10(30 / 0.25):.3g} dB")
    where = f"; max_abs at (0, 1); worst samples #0 (cosine {cos0:.3g}), #1 (1)"
    elementwise = found["parity.y.elementwise_fraction"]
    assert elementwise.message == ("output 'y': elementwise_fraction 0.25 > 0 (fp32 profile; golden golden.npz); "
                                   + summary + where)
    assert (elementwise.rule, elementwise.severity) == ("DG501", "error")
    # higher is better for a cosine: the message says the measurement is below the bound
    assert found["parity.y.cosine_min"].message == (f"output 'y': cosine_min {cos0:.6g} < 0.9999 (fp32 profile; "
                                                    f"golden golden.npz); " + summary + where)
    # the training slot is the bound, from the profile; the deployed slot the measurement, from the candidate
    assert elementwise.training is not None and elementwise.deployed is not None
    assert (elementwise.training.value, elementwise.training.origin.source) == (0.0, "fp32 profile")
    assert (elementwise.deployed.value, elementwise.deployed.origin.path) == (0.25, CAND)
    assert elementwise.deployed.origin.source == "candidate"
    assert elementwise.measured is not None and elementwise.measured.name == "elementwise_fraction"
    assert [e.name for e in elementwise.evidence][:1] == ["elementwise_fraction"]  # the broken metric first


def test_a_bound_the_manifest_sets_is_named_as_the_manifest(tmp_path: Path) -> None:
    found = compare(model(tmp_path, tolerances={"max_abs": 0.1, "elementwise_fraction": None}),
                    {"y": [[1.0, 2.0]]}, {"y": [[1.0, 2.5]]})
    assert found["parity.y.max_abs"].message.startswith("output 'y': max_abs 0.5 > 0.1 (manifest; golden golden.npz); ")


def test_within_the_profile_the_summary_and_the_evidence_of_each_kind(tmp_path: Path) -> None:
    """Identical outputs pass (DG500) with every metric that applies to the output's kind as evidence: argmax and
    top-k only for logits with more than one class, exact match and token agreement only for sequences (then
    alone: token ids are compared as tokens, not as numbers). SQNR of identical outputs is the 200 dB cap."""
    numeric = ["max_abs", "mean_abs", "median_abs", "p99_abs", "max_rel", "mean_rel", "median_rel", "p99_rel",
               "elementwise_fraction", "cosine", "cosine_min", "cosine_mean", "sqnr_db"]
    same = ("max_abs 0, mean_abs 0, max_rel 0, elementwise 0/4 beyond atol 1e-05 and rtol 1e-05, cosine min 1 "
            "mean 1, SQNR 200 dB")
    mp = model(tmp_path)
    logits = [[1.0, 2.0], [3.0, -1.0]]
    [passed] = compare(mp, {"logits": logits}, {"logits": logits}).values()
    assert (passed.rule, passed.key, passed.severity) == ("DG500", "parity.logits", "info")
    assert passed.message == f"output 'logits' within the fp32 profile; {same}, argmax agreement 1, top-2 overlap 1"
    assert [e.name for e in passed.evidence] == [*numeric, "argmax_agreement", "topk_overlap"]
    assert passed.training is not None and passed.deployed is not None
    assert (passed.training.value, passed.training.origin.path, passed.training.origin.source) == (
        "fp32", REF, "profile")
    assert (passed.deployed.value, passed.deployed.origin.path) == ("within", CAND)
    # one class: no argmax to agree on, so neither argmax nor top-k is judged (fp32 would demand argmax 1.0)
    [one_class] = compare(mp, {"logits": [[1.0], [2.0]]}, {"logits": [[1.0], [2.0]]}).values()
    assert one_class.rule == "DG500" and [e.name for e in one_class.evidence] == numeric
    [tensor] = compare(mp, {"y": logits}, {"y": logits}).values()
    assert tensor.message == f"output 'y' within the fp32 profile; {same}"
    assert [e.name for e in tensor.evidence] == numeric
    tokens = [[1, 2, 3], [4, 5, 6]]
    declared = model(tmp_path, outputs={"y": {"kind": "sequence"}})
    [seq] = compare(declared, {"y": tokens}, {"y": tokens}).values()
    assert seq.message == "output 'y' within the fp32 profile; exact match 1, token agreement 1, first divergence none"
    assert [e.name for e in seq.evidence] == ["exact_match", "token_agreement"]


def test_an_embedding_is_judged_by_the_numbers_only(tmp_path: Path) -> None:
    """``kind: embedding`` (README: the hf runner's encoder output): no argmax, no tokens."""
    mp = model(tmp_path, outputs={"y": {"kind": "embedding"}})
    [f] = compare(mp, {"y": [[1.0, 2.0], [3.0, -1.0]]}, {"y": [[1.0, 2.0], [3.0, -1.0]]}).values()
    assert f.rule == "DG500" and "argmax" not in f.message
    assert [e.name for e in f.evidence][-3:] == ["cosine_min", "cosine_mean", "sqnr_db"]


def test_sequences_without_a_token_are_not_a_pass(tmp_path: Path) -> None:
    """Nothing generated on either side measures nothing: token agreement is not finite, and fails its bound
    (a pass never claims more than was run)."""
    empty = np.zeros((2, 0), dtype=np.int64)
    found = compare(model(tmp_path), {"tokens": empty}, {"tokens": empty})
    assert list(found) == ["parity.tokens.token_agreement"]
    assert found["parity.tokens.token_agreement"].message == (
        "output 'tokens': token_agreement not finite < 1 (fp32 profile; golden golden.npz); exact match n/a, token "
        "agreement n/a, first divergence none")


def test_diverging_tokens_say_where_they_diverge_and_not_where_the_largest_number_is(tmp_path: Path) -> None:
    """Sample 1 differs at positions 1 and 2: exact match 1/2, token agreement 4/6, first divergence 1; a sequence
    failure gives no max_abs position and no worst samples."""
    declared = model(tmp_path, outputs={"y": {"kind": "sequence"}})
    found = compare(declared, {"y": [[1, 2, 3], [4, 5, 6]]}, {"y": [[1, 2, 3], [4, 9, 9]]})
    assert list(found) == ["parity.y.token_agreement"]
    assert found["parity.y.token_agreement"].message == (
        f"output 'y': token_agreement {4 / 6:.6g} < 1 (fp32 profile; golden golden.npz); exact match 0.5, token "
        f"agreement {4 / 6:.3g}, first divergence 1")


def test_sequences_of_different_lengths_are_padded_other_outputs_are_a_shape_mismatch(tmp_path: Path) -> None:
    mp = model(tmp_path)
    # token ids 3 wide and 2 wide: compared over 3 positions, the shorter padded with -1
    found = compare(mp, {"tokens": [[1, 2, 3], [4, 5, 6]]}, {"tokens": [[1, 2], [4, 5]]})
    assert list(found) == ["parity.tokens.token_agreement"]
    assert "exact match 0, token agreement 0.667, first divergence 2" in found["parity.tokens.token_agreement"].message
    # logits with 3 and 4 classes are different outputs, never padded
    [mismatch] = compare(mp, {"logits": np.ones((2, 3))}, {"logits": np.ones((2, 4))}).values()
    assert (mismatch.rule, mismatch.key) == ("DG503", "parity.logits")
    assert mismatch.message == "output 'logits': shape [2, 3] in the reference, [2, 4] in the candidate"


def test_a_shape_mismatch_either_way_is_dg503_and_the_next_output_is_still_judged(tmp_path: Path) -> None:
    found = compare(model(tmp_path), {"a": np.ones((2, 4)), "b": np.ones((2, 2))},
                    {"a": np.ones((2, 3)), "b": np.ones((2, 2))})
    assert [(f.rule, k) for k, f in found.items()] == [("DG503", "parity.a"), ("DG500", "parity.b")]
    a = found["parity.a"]
    assert a.message == "output 'a': shape [2, 4] in the reference, [2, 3] in the candidate"
    assert a.training is not None and a.deployed is not None
    assert (a.training.value, a.training.origin.path, a.training.origin.source) == ([2, 4], REF, "reference")
    assert (a.deployed.value, a.deployed.origin.path, a.deployed.origin.source) == ([2, 3], CAND, "candidate")


@pytest.mark.parametrize(("ref", "cand"), [("logits", "output"), ("y", "out")])
def test_one_output_a_side_is_paired_whatever_the_names_and_keyed_by_the_reference(tmp_path: Path, ref: str,
                                                                                     cand: str) -> None:
    """README "Parity findings", DG503: when each side gives exactly one output they are paired whatever their
    names, and the finding's key takes the reference's name (a name before and one after the other's)."""
    [f] = compare(model(tmp_path), {ref: [[1.0, 2.0]]}, {cand: [[1.0, 2.0]]}).values()
    assert (f.rule, f.key) == ("DG500", f"parity.{ref}") and f.message.startswith(f"output '{ref}' within")


def test_an_output_only_one_side_gives_names_what_the_other_side_gives(tmp_path: Path) -> None:
    mp = model(tmp_path)
    found = compare(mp, {"a": [[1.0]], "b": [[2.0]]}, {"a": [[1.0]], "c": [[2.0, 3.0]]})
    assert found["parity.b"].message == ("output 'b' of the reference has no counterpart in the candidate "
                                         "(candidate outputs: a, c)")
    assert found["parity.c"].message == ("output 'c' of the candidate has no counterpart in the reference "
                                         "(reference outputs: a, b)")
    assert found["parity.b"].training is not None and found["parity.b"].training.value == [1, 1]
    assert found["parity.b"].deployed is None
    assert found["parity.c"].deployed is not None and found["parity.c"].deployed.value == [1, 2]  # shapes
    assert found["parity.c"].training is None
    nothing = compare(mp, {"a": [[1.0]], "b": [[2.0]]}, {})
    assert nothing["parity.a"].message.endswith("(candidate outputs: none)")
    assert compare(mp, {}, {"a": [[1.0]], "b": [[2.0]]})["parity.b"].message.endswith("(reference outputs: none)")


def test_each_side_is_named_by_its_artifact_function_or_served_model(tmp_path: Path) -> None:
    """The origin of each side's value: the artifact (an ONNX file), the function (a callable), else the Triton
    server's url and model."""
    for reference, candidate, names in [
        ({"runner": "onnxruntime", "artifact": "ref.onnx"}, {"runner": "callable", "function": CAND},
         ("ref.onnx", CAND)),
        ({"runner": "callable", "function": REF}, {"runner": "triton-http", "url": "b.example:80", "model": "clf"},
         (REF, "b.example:80/clf")),
    ]:
        mp = model(tmp_path, reference=reference, candidate=candidate)
        f = compare(mp, {"y": [[1.0, 2.0]]}, {"y": [[1.0, 2.0, 3.0]]})["parity.y"]
        assert f.training is not None and f.deployed is not None
        assert (f.training.origin.path, f.deployed.origin.path) == names


def write_fn(tmp_path: Path, body: str) -> str:
    (tmp_path / "fns.py").write_text("import numpy as np\n\n" + body, encoding="utf-8")
    return f"{tmp_path / 'fns.py'}"


SCALED = '''
def scaled(inputs, config):
    with open(__file__ + ".calls", "a") as log:
        log.write("call\\n")
    y = np.asarray(inputs["x"], dtype=np.float64).copy()
    if config.get("t") == 2:
        y[0, 1] += 0.2  # sample 0 only: its cosine 1 / sqrt(1.04) = 0.98, the other nine unchanged
    return {"y": y}

scaled.applies = ("t",)
'''


def test_not_exercised_lists_the_differing_keys_no_runner_applies(tmp_path: Path) -> None:
    """README "Runners": a callable exercises the keys it applies only; a runner that runs the artifact also what
    the artifact embodies (precision.*, ...). One DG510 finding lists the rest, in words that count them."""
    fn = write_fn(tmp_path, SCALED)
    np.savez(tmp_path / "golden.npz", x=np.tile([1.0, 0.0], (10, 1)))
    callables = {"reference": {"runner": "callable", "function": f"{fn}:scaled"},
                 "candidate": {"runner": "callable", "function": f"{fn}:scaled"}}

    def dg510(differing: tuple[str, ...], **section: Any) -> str | None:
        found = [f for f in stage.run(model(tmp_path, differing=differing, **{**callables, **section}))
                 if f.rule == "DG510"]
        assert len(found) <= 1
        return found[0].message if found else None

    assert dg510(("t",)) is None
    assert dg510(("generation.top_p", "t")) == ("1 differing key not exercised by parity (no runner applies it): "
                                                "generation.top_p")
    assert dg510(("t", "precision.weights", "generation.top_p")) == (
        "2 differing keys not exercised by parity (no runner applies them): generation.top_p, precision.weights")
    # an ONNX model on both sides runs the artifact: precision.* is exercised, generation.top_p still is not
    weight, bias = np.eye(2, dtype=np.float32), np.zeros(2, dtype=np.float32)
    linear_onnx(tmp_path / "m.onnx", weight, bias, output="y")
    np.savez(tmp_path / "golden.npz", x=np.tile([1.0, 0.0], (10, 1)).astype(np.float32))
    onnx = {"runner": "onnxruntime", "artifact": "m.onnx"}
    assert dg510(("precision.weights", "generation.top_p"), reference=onnx, candidate=onnx) == (
        "1 differing key not exercised by parity (no runner applies it): generation.top_p")


def test_attribution_reruns_only_when_an_output_fails_and_only_when_on(tmp_path: Path) -> None:
    """README: attribution reruns "on failure", off with ``attribution: false``. Under int8 (mean cosine 0.998 of
    ten samples, bound 0.99) the model passes although sample 0 alone (cosine 0.98) diverges: each side runs once
    (one batch), nothing is rerun. Under fp32 the same outputs fail, and attribution reruns only when it is on."""
    fn = write_fn(tmp_path, SCALED)
    calls = tmp_path / "fns.py.calls"
    np.savez(tmp_path / "golden.npz", x=np.tile([1.0, 0.0], (10, 1)))
    sides = {"reference": {"runner": "callable", "function": f"{fn}:scaled", "batch_size": 64},
             "candidate": {"runner": "callable", "function": f"{fn}:scaled", "batch_size": 64}}

    def run(profile: str, attribution: bool) -> list[Finding]:
        calls.unlink(missing_ok=True)
        return stage.run(model(tmp_path, {"t": 1}, {"t": 2}, ("t",), attribution, profile=profile, **sides))

    passed = run("int8", True)
    assert [f.rule for f in passed] == ["DG500"] and calls.read_text().count("call") == 2
    failed = run("fp32", False)
    assert {f.rule for f in failed} == {"DG501"} and calls.read_text().count("call") == 2
    assert not any("attribution:" in f.message for f in failed)
    attributed = run("fp32", True)
    assert all("; attribution: " in f.message for f in attributed) and calls.read_text().count("call") > 2


def test_each_golden_set_of_a_folder_is_compared_on_its_own_key(tmp_path: Path) -> None:
    (tmp_path / "sets").mkdir()
    np.savez(tmp_path / "sets" / "a.npz", x=np.ones((2, 2)))
    np.savez(tmp_path / "sets" / "b.npz", x=np.ones((3, 2)))
    found = stage.run(model(tmp_path, golden="sets", candidate={"runner": "callable", "function": REF}))
    assert [(f.rule, f.key) for f in found] == [("DG500", "parity.a.y"), ("DG500", "parity.b.y")]
    assert found[0].message.endswith("; ran: candidate callable on device auto, batch size 32")


def test_conclude_refuses_outputs_that_do_not_match_the_golden_sets(tmp_path: Path) -> None:
    """Every golden set has its reference and candidate outputs; one missing is a bug, never a set left out."""
    np.savez(tmp_path / "golden.npz", x=np.ones((2, 2)))
    mp = model(tmp_path)
    sets = mp.golden_sets()
    outputs = {"y": np.ones((2, 2))}
    with pytest.raises(ValueError, match="zip"):
        stage.conclude(mp, sets, [outputs], [], [], mp.run("candidate"))


def test_the_inputs_note_says_how_each_side_turned_token_arrays_into_inputs(tmp_path: Path) -> None:
    """README "Text measures the deployment": a side running the artifact on token arrays adapts them and the
    verdict says so, per side; a callable does its own and the verdict says nothing of inputs."""
    onnx = {"runner": "onnxruntime", "artifact": "m.onnx"}
    gs = golden.GoldenSet(tmp_path / "golden.npz", "d", arrays={"input_ids": np.zeros((2, 5), dtype=np.int64)})
    adapted = ("token arrays adapted, not tokenized: at most {} tokens a row, cut on the right (the side's config "
               "names no special tokens: an end token is cut like any other), padded on the right")
    both = model(tmp_path, {"preprocessing.max_length": 8}, {"preprocessing.max_length": 4},
                 reference=onnx, candidate=onnx)
    assert stage.inputs_note(both, gs) == f"reference {adapted.format(8)}; candidate {adapted.format(4)}"
    one = model(tmp_path, {}, {"preprocessing.max_length": 4}, candidate=onnx)
    assert stage.inputs_note(one, gs) == f"candidate {adapted.format(4)}"
    assert stage.inputs_note(model(tmp_path), gs) is None
    np.savez(tmp_path / "golden.npz", x=np.ones((2, 2)))
    [f] = stage.run(model(tmp_path, candidate={"runner": "callable", "function": REF}))
    assert "inputs:" not in f.message
