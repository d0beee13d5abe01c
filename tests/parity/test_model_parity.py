"""One model's parity records (``parity.model_parity``): each bound says, as data, whether the manifest wrote it
or the profile supplied it; outputs pair by name (or as the only two); an output's kind comes from the manifest,
then its name and dtype; a runner call past its timeout is one ParityError."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from driftguard.manifest import Parity
from driftguard.model import How
from driftguard.parity.errors import ParityError
from driftguard.parity.model_parity import ModelParity, output_kind, output_pairs, profile_for, with_timeout
from driftguard.parity.request import ParityRequest


def test_each_bound_says_whether_the_manifest_or_the_profile_set_it(tmp_path: Path) -> None:
    spec = {"golden": "golden.npz", "profile": "fp16",
            "reference": {"runner": "callable", "function": "m:f"},
            "candidate": {"runner": "callable", "function": "m:f"},
            "tolerances": {"cosine_min": 0.99}, "outputs": {"logits": {"tolerances": {"max_abs": 0.5}}}}
    model_parity = ModelParity("m", Parity.model_validate(spec), tmp_path, "driftguard.yaml", {}, {}, (),
                               ParityRequest(attribution=False))
    prof, bounds = profile_for(model_parity, "logits")
    cosine, max_abs = bounds["cosine_min"], bounds["max_abs"]
    assert (cosine.value, cosine.how, cosine.explicit) == (0.99, How.EXPLICIT, True)
    assert cosine.origin.pointer == "models.m.parity.tolerances.cosine_min"
    assert (max_abs.value, max_abs.how, max_abs.origin.source) == (0.5, How.EXPLICIT, "manifest")
    assert max_abs.origin.pointer == "models.m.parity.outputs.logits.tolerances.max_abs"
    profile = {k: v for k, v in bounds.items() if k not in ("cosine_min", "max_abs")}
    assert profile and all(v.how is How.DEFAULT and not v.explicit and v.origin.source == "fp16 profile"
                           and v.value == prof.bounds[k] for k, v in profile.items())
    # Another output keeps the manifest's model-wide bound, but not the logits output's own.
    other = profile_for(model_parity, "other")[1]
    assert other["cosine_min"].how is How.EXPLICIT and ("max_abs" not in other or other["max_abs"].how is How.DEFAULT)


SPEC = {"golden": "golden.npz", "reference": {"runner": "callable", "function": "m:f"},
        "candidate": {"runner": "callable", "function": "m:f"}, "outputs": {"out": {"kind": "embedding"}}}


def test_outputs_pair_by_name_or_as_the_only_two() -> None:
    a, b = np.zeros(1), np.ones(1)
    assert output_pairs({"logits": a}, {"output_0": b}) == ([("logits", "output_0")], [], [])
    assert output_pairs({"x": a, "y": a}, {"y": b, "z": b}) == ([("y", "y")], ["x"], ["z"])


def test_an_outputs_kind_comes_from_the_manifest_then_its_name_and_dtype(tmp_path: Path) -> None:
    model_parity = ModelParity("m", Parity.model_validate(SPEC), tmp_path, "driftguard.yaml", {}, {})
    assert output_kind(model_parity, "out", np.zeros(2, dtype=np.int64)) == "embedding"
    assert output_kind(model_parity, "class_logits", np.zeros(2, dtype=np.float32)) == "logits"
    assert output_kind(model_parity, "token_ids", np.zeros(2, dtype=np.int64)) == "sequence"
    assert output_kind(model_parity, "token_ids", np.zeros(2, dtype=np.float32)) == "tensor"
    assert output_kind(model_parity, "hidden", np.zeros(2, dtype=np.float32)) == "tensor"


def test_a_call_past_its_timeout_is_one_parity_error_and_an_error_inside_comes_back() -> None:
    release = threading.Event()
    with pytest.raises(ParityError, match=r"the stuck runner did not finish within 0.05 s \(parity timeout_s\)"):
        with_timeout(release.wait, 0.05, "the stuck runner")
    # abandoned as a daemon thread: it ends with the process, never holds it open at exit
    stuck = [t for t in threading.enumerate() if t.name == "driftguard-parity" and t.is_alive()]
    assert stuck and all(t.daemon for t in stuck)
    release.set()
    assert with_timeout(lambda: 7, 5, "a quick call") == 7
    with pytest.raises(KeyError, match="inside"):
        with_timeout(lambda: {}["inside"], 5, "a failing call")


# --- the rest of the records on their own: a callable runner on a few samples written here (no model files) ----

FNS = Path(__file__).resolve().parent / "userfns" / "fns.py"


def side(function: str, **settings: object) -> dict[str, object]:
    return {"runner": "callable", "function": f"{FNS}:{function}", **settings}


def parity_of(tmp_path: Path, spec: dict[str, object] | None = None, training: dict[str, object] | None = None,
              deployed: dict[str, object] | None = None, request: ParityRequest | None = None) -> ModelParity:
    full = {"golden": "golden.npz", "reference": side("double"), "candidate": side("scaled"), **(spec or {})}
    return ModelParity("m", Parity.model_validate(full), tmp_path, "driftguard.yaml", dict(training or {}),  # type: ignore[arg-type]
                       dict(deployed or {}), (), request or ParityRequest())


def test_a_run_calls_the_runner_batch_by_batch_and_reports_each(tmp_path: Path) -> None:
    from driftguard.parity import golden

    np.savez(tmp_path / "golden.npz", x=np.arange(10, dtype=np.float64).reshape(5, 2))
    seen: list[tuple[str, int, int]] = []
    mp = parity_of(tmp_path, {"reference": side("double", batch_size=2)},
                   request=ParityRequest(progress=lambda *a: seen.append(a)))
    [gs] = mp.golden_sets()
    run = mp.run("reference")
    out = run.outputs(gs)
    assert out["y"].tolist() == (2.0 * np.arange(10).reshape(5, 2)).tolist()
    assert seen == [("m reference on golden.npz", 1, 3), ("m reference on golden.npz", 2, 3),
                    ("m reference on golden.npz", 3, 3)]  # 5 samples in batches of 2: 3 calls
    seen.clear()
    assert run.outputs(gs, batch_size=5)["y"].shape == (5, 2) and seen == [("m reference on golden.npz", 1, 1)]
    seen.clear()
    assert run.outputs(gs, batch_size=4)["y"].shape == (5, 2) and [s[1:] for s in seen] == [(1, 2), (2, 2)]
    runner = run.start()
    assert run.start() is runner  # set up once
    run.close()
    assert run.runner is None
    run.close()  # closing twice is harmless
    exact = golden.GoldenSet(tmp_path / "golden.npz", "d", arrays={"x": np.zeros((4, 2))})
    seen.clear()
    mp.run("reference").outputs(exact)
    assert [s[1:] for s in seen] == [(1, 2), (2, 2)]


def test_outputs_that_do_not_join_across_batches_are_a_parity_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "golden.npz", x=np.zeros((3, 2)))
    (tmp_path / "ragged.py").write_text(
        "import numpy as np\n"
        "def run(inputs, config):\n"
        "    n = len(inputs['x'])\n"
        "    return {'y': np.zeros((n, 3 if n == 2 else 4))}\n", encoding="utf-8")
    mp = parity_of(tmp_path, {"reference": {"runner": "callable", "function": f"{tmp_path / 'ragged.py'}:run",
                                            "batch_size": 2}})
    with pytest.raises(ParityError, match=r"callable:.*ragged.py:run gave outputs that do not join across batches"):
        mp.run("reference").outputs(mp.golden_sets()[0])


def test_each_role_runs_its_own_artifact_and_config_unless_attribution_swaps_them(tmp_path: Path) -> None:
    mp = parity_of(tmp_path, {"timeout_s": 7.5}, training={"t": 1}, deployed={"d": 2})
    ref, cand = mp.run("reference"), mp.run("candidate")
    assert (ref.cfg.settings.function, ref.config, ref.label) == (f"{FNS}:double", {"t": 1}, "m reference")
    assert (cand.cfg.settings.function, cand.config, cand.label) == (f"{FNS}:scaled", {"d": 2}, "m candidate")
    assert ref.timeout_s == cand.timeout_s == 7.5
    swapped = mp.run("candidate", config={"t": 1})
    assert (swapped.cfg.settings.function, swapped.config) == (f"{FNS}:scaled", {"t": 1})
    assert swapped.label == "m candidate (attribution)"
    other = mp.run("candidate", config=mp.deployed, artifact_of="reference")
    assert (other.cfg.settings.function, other.config) == (f"{FNS}:double", {"d": 2})
    assert other.label == "m candidate (attribution)"
    assert mp.run("candidate", artifact_of="candidate").label == "m candidate (attribution)"
    assert mp.run("candidate").config is not mp.deployed  # a copy the runner may not change for the next one


def test_declared_applies_is_the_runner_class_own_else_none(tmp_path: Path) -> None:
    from driftguard.parity.runners.base import PREPROCESSING_KEYS

    mp = parity_of(tmp_path, {"reference": {"runner": "onnxruntime", "artifact": "ref.onnx"}})
    assert mp.declared_applies("reference") == PREPROCESSING_KEYS
    assert mp.declared_applies("candidate") is None  # a callable decides at set-up


def test_the_golden_sets_are_the_requests_path_else_the_manifests(tmp_path: Path) -> None:
    np.savez(tmp_path / "golden.npz", x=np.zeros((2, 1)))
    np.savez(tmp_path / "other.npz", x=np.zeros((3, 1)))
    assert [gs.count for gs in parity_of(tmp_path).golden_sets()] == [2]
    asked = parity_of(tmp_path, request=ParityRequest(golden=str(tmp_path / "other.npz")))
    assert [gs.path for gs in asked.golden_sets()] == [tmp_path / "other.npz"]


def test_provenance_names_the_inputs_the_reference_artifact_or_code_its_config_and_runner(tmp_path: Path) -> None:
    import hashlib

    from driftguard.parity import golden

    gs = golden.GoldenSet(tmp_path / "golden.npz", "sha256:inputs")
    config_text = b'{"a": 1, "b": "x"}'  # the training config, sorted JSON
    mp = parity_of(tmp_path, training={"b": "x", "a": 1}, deployed={"a": 2})
    assert mp.provenance(gs) == golden.Provenance("sha256:inputs", f"{FNS}:double",
                                                  "sha256:" + hashlib.sha256(config_text).hexdigest(), "callable")
    (tmp_path / "ref.onnx").write_bytes(b"graph")
    onnx_side = parity_of(tmp_path, {"reference": {"runner": "onnxruntime", "artifact": "ref.onnx"}})
    assert onnx_side.provenance(gs) == golden.Provenance(
        "sha256:inputs", "sha256:" + hashlib.sha256(b"graph").hexdigest(),
        "sha256:" + hashlib.sha256(b"{}").hexdigest(), "onnxruntime")
    torch_side = parity_of(tmp_path, {"reference": {"runner": "torch", "artifact": "ref.onnx",
                                                    "builder": "build.py:make"}})
    assert torch_side.provenance(gs).artifact == "sha256:" + hashlib.sha256(b"graph").hexdigest() + " build.py:make"


def test_a_recording_is_read_for_this_model_with_the_requests_trust(tmp_path: Path) -> None:
    from driftguard.parity import golden

    np.savez(tmp_path / "golden.npz", x=np.zeros((2, 1)))
    mp = parity_of(tmp_path, request=ParityRequest(trusted_recordings=lambda p: p.name == "nothing"))
    [gs] = mp.golden_sets()
    assert mp.recording(gs) is None
    golden.record(gs, {"y": np.ones((2, 1))}, mp.provenance(gs), model="m")
    assert mp.recording(gs) is None  # the trusted revision does not hold it
    trusting = parity_of(tmp_path)
    got = trusting.recording(gs)
    assert got is not None and got["y"].tolist() == [[1.0], [1.0]]
    golden.record(gs, {"y": np.ones((2, 1))}, mp.provenance(gs), model="other")
    (tmp_path / "golden.m.reference.npz").unlink()
    assert trusting.recording(gs) is None  # another model's recording is not this one's


def test_a_runner_setting_the_runner_refuses_is_one_parity_error(tmp_path: Path) -> None:
    from driftguard.manifest import ParityRunner
    from driftguard.parity.model_parity import runner_config

    spec = ParityRunner.model_construct(runner="callable", batch_size=0, function="m:f", threads=2)
    with pytest.raises(ParityError) as err:
        runner_config(spec, tmp_path, "cpu")
    assert err.value.message.startswith("runner callable: batch_size: Input should be greater than or equal to 1")


def test_plain_values_by_key() -> None:
    from driftguard.model import Origin, Value
    from driftguard.parity.model_parity import plain

    origin = Origin("c.json")
    assert list(plain({"b": Value(2, origin), "a": Value("x", origin)}).items()) == [("a", "x"), ("b", 2)]


def test_a_profile_from_the_manifest_else_the_deployed_precision_and_its_tolerances(tmp_path: Path) -> None:
    assert profile_for(parity_of(tmp_path), "y")[0].name == "fp32"
    assert profile_for(parity_of(tmp_path, deployed={"precision.compute": "bf16"}), "y")[0].name == "bf16"
    assert profile_for(parity_of(tmp_path, {"profile": "int8"}, deployed={"precision.compute": "bf16"}),
                       "y")[0].name == "int8"
    prof = profile_for(parity_of(tmp_path, {"atol": 0.5, "rtol": 0.25}), "y")[0]
    assert (prof.atol, prof.rtol) == (0.5, 0.25)
    own = parity_of(tmp_path, {"atol": 0.5, "rtol": 0.25, "outputs": {"y": {"atol": 2.0}}})
    assert (profile_for(own, "y")[0].atol, profile_for(own, "y")[0].rtol) == (2.0, 0.25)
    assert profile_for(own, "z")[0].atol == 0.5
    # the fp32 profile as the README's table gives it: Polygraphy's atol = rtol = 1e-5
    assert (profile_for(parity_of(tmp_path), "y")[0].atol, profile_for(parity_of(tmp_path), "y")[0].rtol) == (
        1e-5, 1e-5)


def test_an_outputs_kind_from_its_name_in_any_case_and_dtype(tmp_path: Path) -> None:
    mp = ModelParity("m", Parity.model_validate(SPEC), tmp_path, "driftguard.yaml", {}, {})
    f, i = np.zeros(2, dtype=np.float16), np.zeros(2, dtype=np.int32)
    assert [output_kind(mp, n, f) for n in ("SCORES", "probs", "Logits", "ids", "hidden")] == [
        "logits", "logits", "logits", "tensor", "tensor"]
    assert [output_kind(mp, n, i) for n in ("sequences", "IDS", "output_tokens", "scores", "hidden")] == [
        "sequence", "sequence", "sequence", "tensor", "tensor"]
    unset = ModelParity("m", Parity.model_validate({**SPEC, "outputs": {"scores": {"atol": 1.0}}}), tmp_path,
                        "driftguard.yaml", {}, {})
    assert output_kind(unset, "scores", f) == "logits"  # an output entry without a kind: from its name


def test_outputs_pair_in_the_references_order() -> None:
    a = np.zeros(1)
    assert output_pairs({"b": a, "a": a, "c": a}, {"a": a, "b": a}) == ([("b", "b"), ("a", "a")], ["c"], [])
    assert output_pairs({"a": a}, {"a": a, "b": a}) == ([("a", "a")], [], ["b"])
    assert output_pairs({}, {}) == ([], [], [])


def test_an_output_only_one_side_gives_is_never_paired() -> None:
    a = np.zeros(1)
    assert output_pairs({}, {"y": a}) == ([], [], ["y"])
    assert output_pairs({"y": a}, {}) == ([], ["y"], [])
    # two reference outputs and one candidate output: by name, not as the only two
    assert output_pairs({"x": a, "y": a}, {"y": a}) == ([("y", "y")], ["x"], [])
    assert output_pairs({"y": a}, {"x": a, "y": a}) == ([("y", "y")], [], ["x"])


def test_a_models_parity_is_frozen(tmp_path: Path) -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        parity_of(tmp_path).model = "other"  # type: ignore[misc]
