"""Tolerance profiles: which profile a deployment's precision calls for, and how a manifest's overrides apply.

Expected values come from outside ``profiles.py``: the precisions' own orders (bfloat16 keeps 8 significant bits,
float16 11, float32 24: the format with fewer is the narrower), Polygraphy's elementwise rule as the module
docstring and the README state it (fp32: ``atol = rtol = 1e-5``), and values written out by hand."""

from __future__ import annotations

import pytest

from driftguard.parity.profiles import PROFILE_NAMES, PROFILES, Profile, profile_for


@pytest.mark.parametrize(("deployed", "profile"), [
    ({}, "fp32"),
    ({"precision.weights": "float32", "precision.compute": "float32"}, "fp32"),
    ({"precision.weights": "float16"}, "fp16"), ({"precision.compute": "fp16"}, "fp16"),
    ({"precision.compute": "half"}, "fp16"), ({"precision.weights": "Float16"}, "fp16"),
    ({"precision.weights": "bfloat16"}, "bf16"), ({"precision.compute": "bf16"}, "bf16"),
    ({"precision.compute": "BFloat16"}, "bf16"),
    # the narrowest wins: bfloat16 (8 significant bits) is narrower than float16 (11), both narrower than fp32
    ({"precision.weights": "bfloat16", "precision.compute": "float16"}, "bf16"),
    ({"precision.weights": "float16", "precision.compute": "bfloat16"}, "bf16"),
    ({"precision.weights": "float32", "precision.compute": "float16"}, "fp16"),
    # a weight or compute precision of 8-bit integers is quantized, whatever quantization says
    ({"precision.weights": "int8"}, "int8"), ({"precision.weights": "uint8"}, "int8"),
    ({"precision.compute": "INT8", "precision.weights": "bfloat16"}, "int8"),
    ({"precision.weights": "float16", "precision.quantization": "gptq"}, "int8"),
    ({"precision.quantization": "QDQ"}, "int8"), ({"precision.quantization": "dynamic"}, "int8"),
])
def test_the_narrowest_stated_precision_picks_the_profile(deployed: dict[str, object], profile: str) -> None:
    assert profile_for(deployed) == profile


@pytest.mark.parametrize("quantization", ["none", "None", "", "no", "false", None])
def test_a_quantization_that_says_none_is_not_quantized(quantization: object) -> None:
    """``quantization: none`` (or empty, no, false, null) leaves the float profiles in charge."""
    assert profile_for({"precision.quantization": quantization}) == "fp32"
    assert profile_for({"precision.quantization": quantization, "precision.compute": "float16"}) == "fp16"


def test_the_profiles_are_the_four_named_ones() -> None:
    assert PROFILE_NAMES == ("fp32", "fp16", "bf16", "int8") and tuple(PROFILES) == PROFILE_NAMES
    assert all(p.name == n for n, p in PROFILES.items())


def test_fp32_uses_polygraphys_default_tolerances_and_no_failing_element() -> None:
    """Polygraphy's default comparison tolerances are 1e-5 absolute and relative (README "Numerical parity"
    profile table), with no element allowed beyond both."""
    fp32 = PROFILES["fp32"]
    assert (fp32.atol, fp32.rtol) == (1e-5, 1e-5)
    assert fp32.bounds["elementwise_fraction"] == 0.0


def test_the_looser_precisions_have_no_tighter_tolerances() -> None:
    """Each narrower float format has a larger unit roundoff u (fp32 2**-24, fp16 2**-11, bf16 2**-8), so its
    elementwise tolerances and cosine bound are never tighter than the wider one's, and each tolerance lies
    above its format's u (int8: one step of 127 levels; a tolerance below it fails results that differ by one
    rounding) and below 1."""
    fp32, fp16, bf16, int8 = PROFILES["fp32"], PROFILES["fp16"], PROFILES["bf16"], PROFILES["int8"]
    assert fp32.atol < fp16.atol < bf16.atol and fp32.rtol < fp16.rtol < bf16.rtol
    assert fp32.bounds["cosine_min"] > fp16.bounds["cosine_min"] > bf16.bounds["cosine_min"]
    for prof, u in ((fp32, 2.0 ** -24), (fp16, 2.0 ** -11), (bf16, 2.0 ** -8), (int8, 1 / 127)):
        assert u < prof.atol < 1.0 and u < prof.rtol < 1.0, prof.name


def test_overrides_replace_add_and_remove_bounds_and_leave_the_profile_alone() -> None:
    base = Profile("p", 1e-5, 2e-5, {"cosine_min": 0.9, "argmax_agreement": 1.0})
    out = base.with_overrides({"cosine_min": 0.5, "max_abs": 0.25, "argmax_agreement": None, "sqnr_db": None})
    assert out.bounds == {"cosine_min": 0.5, "max_abs": 0.25}
    assert (out.name, out.atol, out.rtol) == ("p", 1e-5, 2e-5)
    assert base.bounds == {"cosine_min": 0.9, "argmax_agreement": 1.0}  # the shared profile is unchanged


@pytest.mark.parametrize(("atol", "rtol", "expected"), [
    (None, None, (1e-5, 2e-5)), (0.5, None, (0.5, 2e-5)), (None, 0.25, (1e-5, 0.25)), (0.5, 0.25, (0.5, 0.25)),
    (0.0, 0.0, (0.0, 0.0)),
])
def test_an_atol_or_rtol_override_replaces_only_its_own(atol: float | None, rtol: float | None,
                                                        expected: tuple[float, float]) -> None:
    """A tolerance of 0 is an override too (exact comparison), not "unset"."""
    out = Profile("p", 1e-5, 2e-5).with_overrides({}, atol, rtol)
    assert (out.atol, out.rtol) == expected


def test_an_override_names_where_it_came_from() -> None:
    out = PROFILES["fp16"].with_overrides({}, origin="models.m.parity")
    assert out.name == "models.m.parity" and out.bounds == PROFILES["fp16"].bounds


def test_the_shared_profiles_cannot_be_changed() -> None:
    """Every model's parity starts from the same PROFILES entries: one run cannot loosen them for the next."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["fp32"].atol = 1.0  # type: ignore[misc]
