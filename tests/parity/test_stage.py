"""The parity stage's bounds: each says, as data, whether the manifest wrote it or the profile supplied it."""

from __future__ import annotations

from pathlib import Path

from driftguard.manifest import Parity
from driftguard.model import How
from driftguard.parity import stage
from driftguard.parity.request import ParityRequest


def test_each_bound_says_whether_the_manifest_or_the_profile_set_it(tmp_path: Path) -> None:
    spec = {"golden": "golden.npz", "profile": "fp16",
            "reference": {"runner": "callable", "function": "m:f"},
            "candidate": {"runner": "callable", "function": "m:f"},
            "tolerances": {"cosine_min": 0.99}, "outputs": {"logits": {"tolerances": {"max_abs": 0.5}}}}
    model_parity = stage.ModelParity("m", Parity.model_validate(spec), tmp_path, "driftguard.yaml", {}, {}, (),
                           ParityRequest(attribution=False))
    prof, bounds = stage.profile_for(model_parity, "logits")
    cosine, max_abs = bounds["cosine_min"], bounds["max_abs"]
    assert (cosine.value, cosine.how, cosine.explicit) == (0.99, How.EXPLICIT, True)
    assert cosine.origin.pointer == "models.m.parity.tolerances.cosine_min"
    assert (max_abs.value, max_abs.how, max_abs.origin.source) == (0.5, How.EXPLICIT, "manifest")
    assert max_abs.origin.pointer == "models.m.parity.outputs.logits.tolerances.max_abs"
    profile = {k: v for k, v in bounds.items() if k not in ("cosine_min", "max_abs")}
    assert profile and all(v.how is How.DEFAULT and not v.explicit and v.origin.source == "fp16 profile"
                           and v.value == prof.bounds[k] for k, v in profile.items())
    # Another output keeps the manifest's model-wide bound, but not the logits output's own.
    other = stage.profile_for(model_parity, "other")[1]
    assert other["cosine_min"].how is How.EXPLICIT and ("max_abs" not in other or other["max_abs"].how is How.DEFAULT)
