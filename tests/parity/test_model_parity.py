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
    release.set()
    assert with_timeout(lambda: 7, 5, "a quick call") == 7
    with pytest.raises(KeyError, match="inside"):
        with_timeout(lambda: {}["inside"], 5, "a failing call")
