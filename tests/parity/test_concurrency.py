"""Concurrency parity isolates what it blames: threads (one sample per call) are compared with one-sample calls
made one after another, so a batch-size effect is reported as batch-size sensitivity (DG506, info, both batch
sizes and the difference), never as interference (DG504); the tolerance defaults to the deployed precision's.
Fast cases through callables (and tests/parity/cases/DG504-506.yaml); real ONNX models, FP32 and dynamic INT8,
built with torch and quantized with onnxruntime, marked slow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from driftguard.manifest import Parity
from driftguard.parity import concurrency, stage
from driftguard.parity.model_parity import ModelParity
from driftguard.parity.request import ParityRequest
from tests.parity.conftest import USERFNS, np, quantize_int8, text_encoder_onnx, write_manifest

FNS = USERFNS / "fns.py"


def _model_parity(tmp_path: Path, function: str, deployed: dict[str, Any] | None = None,
                  **concurrent: Any) -> ModelParity:
    spec = Parity.model_validate({
        "golden": "golden.npz", "reference": {"runner": "callable", "function": f"{FNS}:double"},
        "candidate": {"runner": "callable", "function": f"{FNS}:{function}", "batch_size": 32},
        "concurrency": concurrent})
    return ModelParity("m", spec, tmp_path, "driftguard.yaml", {}, dict(deployed or {}), (),
                       ParityRequest(attribution=False))


@pytest.mark.parametrize(("deployed", "concurrent", "expect"), [
    ({}, {}, (1e-5, "fp32 profile atol")),
    ({"precision.quantization": "dynamic"}, {}, (1e-2, "int8 profile atol")),
    ({"precision.compute": "float16"}, {}, (1e-3, "fp16 profile atol")),
    ({"precision.quantization": "dynamic"}, {"atol": 0.0}, (0.0, "concurrency.atol")),
])
def test_the_tolerance_is_the_deployed_precisions_unless_set(deployed: dict[str, Any], concurrent: dict[str, Any],
                                                             expect: tuple[float, str], tmp_path: Path) -> None:
    assert concurrency.tolerance(_model_parity(tmp_path, "double", deployed, **concurrent)) == expect


def test_a_batch_dependent_runner_is_batch_size_sensitive_not_interfering(tmp_path: Path) -> None:
    np.savez(tmp_path / "golden.npz", x=np.linspace(-3.0, 5.0, 64).reshape(32, 2))
    found = {f.key: f for f in stage.run(_model_parity(tmp_path, "per_batch_quantized", threads=4))}
    assert "parity.concurrency.threads_4" not in found  # same shapes, same batch size: identical
    f = found["parity.concurrency.batch_size_1"]
    assert (f.rule, f.severity) == ("DG506", "info")
    # Both batch sizes and the difference, beside what the threads measured (nothing).
    assert "at batch size 1 the outputs differ from those at batch size 32" in f.message
    assert "requests from 4 threads differ from one-sample calls by up to 0)" in f.message
    assert f.deployed is not None and f.deployed.value == pytest.approx(5.0 / 127.0, rel=0.5)


def test_state_shared_between_calls_is_still_interference(tmp_path: Path) -> None:
    np.savez(tmp_path / "golden.npz", x=np.arange(64, dtype=np.float64).reshape(32, 2))
    found = {f.key: f for f in stage.run(_model_parity(tmp_path, "unsafe_double", threads=8))}
    assert found["parity.concurrency.threads_8"].rule == "DG504"
    assert "parity.concurrency.batch_size_1" not in found


def test_a_shared_tokenizer_mutated_per_call_is_interference(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    words = ["the cat sat on the mat", "a dog ran in the park today", "rain", "she reads every book on the shelf"]
    records = [{"text": words[i % 4], "max_tokens": 1 + i % 6} for i in range(24)]
    (tmp_path / "golden.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    spec = Parity.model_validate({
        "golden": "golden.jsonl", "reference": {"runner": "callable", "function": f"{FNS}:shared_tokenizer"},
        "candidate": {"runner": "callable", "function": f"{FNS}:shared_tokenizer"},
        "concurrency": {"threads": 8}})
    found = {f.key: f for f in stage.run(ModelParity("m", spec, tmp_path, "driftguard.yaml", {}, {}, (),
                                                     ParityRequest(attribution=False)))}
    assert found["parity.concurrency.threads_8"].rule == "DG504"


# --- real models: a thread-safe InferenceSession passes with default settings, FP32 and dynamic INT8 --------------


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("encoder")
    text_encoder_onnx(folder / "model.onnx", vocab_size=50)
    quantize_int8(folder / "model.onnx", folder / "model-int8.onnx")
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 13, size=32)
    mask = (np.arange(12)[None, :] < lengths[:, None]).astype(np.int64)
    np.savez(folder / "golden.npz", input_ids=rng.integers(1, 50, size=(32, 12)) * mask, attention_mask=mask)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("candidate", ["model.onnx", "model-int8.onnx"])
def test_a_thread_safe_session_passes_with_default_settings(candidate: str, encoder: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(encoder, f"""      golden: golden.npz
      reference: {{runner: onnxruntime, artifact: model.onnx}}
      candidate: {{runner: onnxruntime, artifact: {candidate}}}
      tolerances: {{cosine_min: null, cosine_mean: 0.9, elementwise_fraction: null}}
      concurrency: {{threads: 4}}
""", training="model.onnx", deployment=candidate)
    code = run(["parity", "--config", str(manifest), "--format", "json", "--no-attribution"])
    report = json.loads(capsys.readouterr().out)
    found = {f["key"]: f for m in report["models"] for f in m["findings"]}
    assert code == 0, found
    assert not {f["rule"] for f in found.values()} & {"DG504", "DG505"}
    sensitive = found.get("parity.concurrency.batch_size_1")
    if candidate == "model.onnx":
        assert sensitive is None  # float noise between batch shapes stays under the fp32 tolerance
    else:  # activation scales per batch: the answer depends on the batch, said as such, with both numbers
        assert sensitive is not None and sensitive["rule"] == "DG506" and sensitive["status"] == "info"
        assert sensitive["deployed"] > sensitive["training"] == 1e-2
        assert "at batch size 1 the outputs differ from those at batch size 32" in sensitive["message"]


# --- check() and its measures on their own: callables written here, every number a binary fraction worked out by
# hand (the runner's batch size 4, four golden samples), the messages as the module docstring words them -----------

BATCHED = """import numpy as np
def run(inputs, config):
    x = np.asarray(inputs["x"], dtype=np.float64)
    return {"y": 2.0 * x + 0.25 * len(x)}
"""

ALTERNATING = """import itertools
import numpy as np
calls = itertools.count(1)
def run(inputs, config):
    x = np.asarray(inputs["x"], dtype=np.float64)
    return {"y": 2.0 * x + 0.125 * (next(calls) % 2)}
"""

NAN_SECOND = """import itertools
import numpy as np
calls = itertools.count(1)
def run(inputs, config):
    y = 2.0 * np.asarray(inputs["x"], dtype=np.float64)
    return {"y": y * np.nan if next(calls) == 2 else y}
"""


def _scripted(tmp_path: Path, source: str, batch_size: int = 4, **concurrent: Any) -> tuple[ModelParity, Any, Any]:
    from driftguard.parity import golden

    (tmp_path / "fn.py").write_text(source, encoding="utf-8")
    np.savez(tmp_path / "golden.npz", x=np.arange(8, dtype=np.float64).reshape(4, 2))
    fn = {"runner": "callable", "function": f"{tmp_path / 'fn.py'}:run", "batch_size": batch_size}
    spec = Parity.model_validate({"golden": "golden.npz", "reference": fn, "candidate": fn,
                                  "concurrency": concurrent})
    mp = ModelParity("m", spec, tmp_path, "driftguard.yaml", {}, {}, (), ParityRequest(attribution=False))
    [gs] = golden.load(tmp_path / "golden.npz")
    return mp, gs, mp.run("candidate")


def test_each_other_batch_size_is_reported_with_both_sizes_and_the_difference(tmp_path: Path) -> None:
    from driftguard.model import Metric, Origin, Value

    # y = 2x + 0.25 * (samples in the call): 1.0 at the runner's 4, 0.25 one at a time (also from threads), 0.5 at 2
    mp, gs, cand = _scripted(tmp_path, BATCHED, threads=2, batch_sizes=[2, 4, 1])
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [(f.rule, f.key, f.severity) for f in found] == [
        ("DG506", "parity.concurrency.batch_size_1", "info"), ("DG506", "parity.concurrency.batch_size_2", "info")]
    one, two = found
    assert one.message == ("at batch size 1 the outputs differ from those at batch size 4 (the runner's, which the "
                           "verdict was measured at) by up to 0.75, beyond the run-to-run difference 0 and the "
                           "tolerance 1e-05 (fp32 profile atol): the answer depends on the batch, not on other "
                           "requests (requests from 2 threads differ from one-sample calls by up to 0)")
    assert "at batch size 2 the outputs differ from those at batch size 4 " in two.message and " by up to 0.5," in \
        two.message
    manifest = Origin("driftguard.yaml", pointer="models.m.parity.concurrency", source="manifest")
    candidate = Origin(f"{tmp_path / 'fn.py'}:run", source="candidate")
    assert (one.training, one.deployed) == (Value(1e-5, manifest), Value(0.75, candidate))
    assert one.evidence == (Metric("max_abs", 0.75, 1e-5, "lower", None, False),)
    assert two.deployed is not None and two.deployed.value == 0.5
    # the same differences within the manifest's tolerance: nothing to report
    mp, gs, cand = _scripted(tmp_path, BATCHED, threads=2, batch_sizes=[2], atol=0.75)
    assert concurrency.check(mp, [gs], cand, [cand.outputs(gs)]) == []


def test_at_a_runner_batch_size_of_one_only_threads_are_compared(tmp_path: Path) -> None:
    mp, gs, cand = _scripted(tmp_path, BATCHED, batch_size=1, threads=3, batch_sizes=[1, 2])
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [(f.key, f.deployed.value if f.deployed else None) for f in found] == [
        ("parity.concurrency.batch_size_2", 0.25)]
    assert "from those at batch size 1 (the runner's" in found[0].message


def test_run_to_run_noise_is_nondeterminism_and_raises_the_bound_of_the_others(tmp_path: Path) -> None:
    # every other call adds 0.125: the two sequential runs differ by 0.125, and so do threads and one-sample calls,
    # which is no more than the run-to-run difference: no interference, no batch-size effect
    mp, gs, cand = _scripted(tmp_path, ALTERNATING, threads=2)
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [(f.rule, f.key, f.severity) for f in found] == [("DG505", "parity.concurrency.sequential", "warning")]
    assert found[0].message == ("two sequential runs of the candidate differ by up to 0.125 (tolerance 1e-05, "
                                "fp32 profile atol)")
    assert found[0].training is not None and found[0].training.value == 1e-5
    assert found[0].deployed is not None and found[0].deployed.value == 0.125


def test_a_non_finite_difference_is_reported_without_a_number(tmp_path: Path) -> None:
    mp, gs, cand = _scripted(tmp_path, NAN_SECOND, threads=2)
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [f.key for f in found] == ["parity.concurrency.sequential"]
    assert found[0].deployed is not None and found[0].deployed.value is None
    assert found[0].evidence[0].value is None and "differ by up to inf" in found[0].message


def test_threads_send_one_sample_per_call_joined_in_input_order(tmp_path: Path) -> None:
    _, gs, cand = _scripted(tmp_path, BATCHED)
    got = concurrency.threaded(cand, gs, 3)
    assert got["y"].tolist() == (2.0 * np.arange(8).reshape(4, 2) + 0.25).tolist()


def test_the_largest_difference_over_every_output() -> None:
    a = {"x": np.array([1.0, 2.0]), "y": np.array([[0.0, 3.0]])}
    assert concurrency.max_difference(a, {"x": np.array([1.25, 2.0]), "y": np.array([[0.5, 2.5]])}) == 0.5
    assert concurrency.max_difference(a, {"x": np.array([3.0, 2.0]), "y": np.array([[0.0, 3.0]])}) == 2.0
    assert concurrency.max_difference(a, a) == 0.0
    assert concurrency.max_difference({"u": np.array([0], dtype=np.uint8)}, {"u": np.array([255], dtype=np.uint8)}) \
        == 255.0  # not wrapped around
    inf = float("inf")
    assert concurrency.max_difference(a, {"x": a["x"]}) == inf  # an output one side lacks
    assert concurrency.max_difference(a, {"x": a["x"], "z": a["y"]}) == inf
    assert concurrency.max_difference(a, {"x": a["x"], "y": np.zeros((2, 1))}) == inf  # another shape
    assert concurrency.max_difference(a, {"x": np.array([1.0, np.nan]), "y": a["y"]}) == inf
    with np.errstate(invalid="ignore"):  # inf - inf is NaN: no difference to measure
        assert concurrency.max_difference({"x": np.array([inf])}, {"x": np.array([inf])}) == inf
    empty = {"e": np.zeros((2, 0)), "x": np.array([1.0])}
    assert concurrency.max_difference(empty, {"e": np.zeros((2, 0)), "x": np.array([1.5])}) == 0.5
    assert concurrency.max_difference({}, {}) == 0.0
    assert concurrency.worst_of([a, a], [a, {"x": np.array([1.0, 2.0]), "y": np.array([[0.0, 4.0]])}]) == 1.0


DRIFTING = """import itertools
import numpy as np
calls = itertools.count(1)
def run(inputs, config):
    x = np.asarray(inputs["x"], dtype=np.float64)
    return {"y": 2.0 * x + 0.125 * next(calls)}
"""


def test_a_drifting_candidate_is_each_finding_once_and_no_extra_run(tmp_path: Path) -> None:
    # call k adds k/8: the stage's run is call 1, check's second run call 2 (noise 0.125), the one-sample calls 3-6
    # (samples 0-3), then the threads: batch size 1 compared once, from the one-sample calls: up to (6 - 1) / 8
    mp, gs, cand = _scripted(tmp_path, DRIFTING, threads=2)
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [f.key for f in found] == ["parity.concurrency.sequential", "parity.concurrency.threads_2",
                                      "parity.concurrency.batch_size_1"]
    assert [f.deployed.value for f in found if f.deployed is not None][::2] == [0.125, 0.625]


def test_batch_size_one_is_compared_whatever_the_manifest_lists(tmp_path: Path) -> None:
    mp, gs, cand = _scripted(tmp_path, BATCHED, threads=2, batch_sizes=[2])
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [(f.key, f.deployed.value if f.deployed else None) for f in found] == [
        ("parity.concurrency.batch_size_1", 0.75), ("parity.concurrency.batch_size_2", 0.5)]


def test_a_runner_batch_size_of_two_still_compares_threads_with_one_sample_calls(tmp_path: Path) -> None:
    mp, gs, cand = _scripted(tmp_path, BATCHED, batch_size=2, threads=2)
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [(f.key, f.deployed.value if f.deployed else None) for f in found] == [
        ("parity.concurrency.batch_size_1", 0.25)]


@pytest.mark.parametrize("source", [BATCHED, ALTERNATING])
def test_a_difference_exactly_at_the_bound_is_within_it(tmp_path: Path, source: str) -> None:
    # BATCHED at atol 0: no run-to-run difference and threads equal to one-sample calls, both at 0 = the bound;
    # ALTERNATING at atol 0.125: the run-to-run difference is 0.125 = the tolerance
    atol = 0.0 if source == BATCHED else 0.125
    mp, gs, cand = _scripted(tmp_path, source, threads=2, atol=atol)
    found = concurrency.check(mp, [gs], cand, [cand.outputs(gs)])
    assert [f.rule for f in found] == (["DG506"] if source == BATCHED else [])


def test_outputs_compared_whichever_side_has_more() -> None:
    a, inf = np.zeros((2, 1)), float("inf")
    assert concurrency.max_difference({"x": a}, {"x": a, "y": a}) == inf
    assert concurrency.max_difference({"x": np.zeros((2, 1))}, {"x": np.zeros((1, 2))}) == inf
    assert concurrency.max_difference({"x": np.zeros((1, 2))}, {"x": np.zeros((2, 1))}) == inf


def test_the_places_of_a_finding_are_frozen() -> None:
    import dataclasses

    from driftguard.model import Origin

    places = concurrency.Places(Origin("a"), Origin("b"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        places.manifest = Origin("c")  # type: ignore[misc]
