"""rules.comparison: per-key tolerances (abs and rel, first matching glob wins, never tighter than the float32
round trip), ignore globs and compare_sides, called directly and through a manifest's ``rules.tolerances``."""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import driftguard
from driftguard.model import Origin, Value
from driftguard.rules.comparison import CompareOptions, Tolerance, compare_sides


def f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def side(values: Mapping[str, Any], path: str = "x.json") -> dict[str, Value]:
    return {k: Value(v, Origin(path, i + 1)) for i, (k, v) in enumerate(values.items())}


def differing(training: Mapping[str, Any], deployed: Mapping[str, Any],
              options: CompareOptions | None = None) -> list[str]:
    return [k for k, _, _ in compare_sides(side(training), side(deployed), options)]


# --- CompareOptions -------------------------------------------------------------------------------------

def test_tolerance_for_defaults_to_the_float32_round_trip() -> None:
    assert CompareOptions().tolerance_for("generation.top_p") == (1e-6, 0.0)


def test_first_matching_tolerance_wins() -> None:
    opts = CompareOptions(tolerances=(Tolerance("generation.temperature", abs=0.05),
                                      Tolerance("generation.*", rel=0.1), Tolerance("generation.top_p", rel=0.5)))
    assert opts.tolerance_for("generation.temperature") == (1e-6, 0.05)
    assert opts.tolerance_for("generation.top_p") == (0.1, 0.0)
    assert opts.tolerance_for("preprocessing.max_length") == (1e-6, 0.0)
    assert opts.tolerance_for("generation.top_p") == (0.1, 0.0)  # cached, same answer


def test_a_tolerance_never_drops_below_the_round_trip() -> None:
    opts = CompareOptions(tolerances=(Tolerance("generation.*", abs=0.0, rel=0.0),))
    assert opts.tolerance_for("generation.top_p") == (1e-6, 0.0)
    assert differing({"generation.top_p": 0.92}, {"generation.top_p": f32(0.92)}, opts) == []


def test_ignored_globs() -> None:
    opts = CompareOptions(ignore=("generation.seed", "serving.*"))
    assert opts.ignored("generation.seed") and opts.ignored("serving.gpus")
    assert not opts.ignored("generation.top_p") and not opts.ignored("generation.seed2")


# --- compare_sides --------------------------------------------------------------------------------------

def test_only_keys_on_both_sides_that_differ_sorted() -> None:
    got = compare_sides(side({"generation.top_p": 0.92, "generation.temperature": 0.7, "generation.seed": 1}),
                        side({"generation.temperature": 1.0, "generation.top_p": 0.85, "generation.top_k": 5}))
    assert [k for k, _, _ in got] == ["generation.temperature", "generation.top_p"]
    _, a, b = got[1]
    assert (a.value, b.value) == (0.92, 0.85)


def test_keys_after_a_one_sided_or_an_equal_key_are_still_compared() -> None:
    # the training side's first key is missing on the deployed side, its second is equal on both: neither
    # ends the walk, so the differing key after them is found
    got = differing({"generation.seed": 1, "generation.temperature": 0.7, "generation.top_p": 0.92},
                    {"generation.temperature": 0.7, "generation.top_p": 0.85})
    assert got == ["generation.top_p"]
    assert differing({"generation.temperature": 0.7, "preprocessing.max_length": 1024},
                     {"generation.temperature": 0.7, "preprocessing.max_length": 512}) == ["preprocessing.max_length"]


def test_default_comparison() -> None:
    assert differing({"generation.top_p": 0.92}, {"generation.top_p": f32(0.92)}) == []
    assert differing({"generation.top_p": 0.92}, {"generation.top_p": 0.9201}) == ["generation.top_p"]
    assert differing({"generation.do_sample": True}, {"generation.do_sample": 1}) == ["generation.do_sample"]
    assert differing({"generation.top_k": 50}, {"generation.top_k": 50.0}) == []
    assert differing({"x.y": float("nan")}, {"x.y": float("nan")}) == []


def test_unordered_keys_and_bookkeeping_keys() -> None:
    assert differing({"generation.eos_token_id": [2, 107]}, {"generation.eos_token_id": [107, 2]}) == []
    assert differing({"io.inputs.x.shape": [1, 3]}, {"io.inputs.x.shape": [3, 1]}) == ["io.inputs.x.shape"]
    assert differing({"model.weights.count": 10}, {"model.weights.count": 12}) == []  # compared=False
    # a key left out of the comparison does not end it: the keys after it are still compared
    assert differing({"model.weights.count": 10, "generation.top_p": 0.9},
                     {"model.weights.count": 12, "generation.top_p": 0.8}) == ["generation.top_p"]
    assert differing({"hf.config.list": [1, 2]}, {"hf.config.list": [2, 1]}) == ["hf.config.list"]


def test_tolerances_abs_and_rel() -> None:
    t = {"generation.temperature": 0.7, "generation.top_p": 0.92}
    d = {"generation.temperature": 0.72, "generation.top_p": 0.9}
    assert differing(t, d) == ["generation.temperature", "generation.top_p"]
    abs_only = CompareOptions(tolerances=(Tolerance("generation.temperature", abs=0.05),))
    assert differing(t, d, abs_only) == ["generation.top_p"]
    rel_only = CompareOptions(tolerances=(Tolerance("generation.top_p", rel=0.1),))
    assert differing(t, d, rel_only) == ["generation.temperature"]
    too_tight = CompareOptions(tolerances=(Tolerance("generation.temperature", abs=0.01),
                                           Tolerance("generation.top_p", rel=0.01)))
    assert differing(t, d, too_tight) == ["generation.temperature", "generation.top_p"]
    swapped = CompareOptions(tolerances=(Tolerance("generation.temperature", rel=0.01),
                                         Tolerance("generation.top_p", abs=0.01)))
    assert differing(t, d, swapped) == ["generation.temperature", "generation.top_p"]


def test_tolerances_reach_inside_lists() -> None:
    opts = CompareOptions(tolerances=(Tolerance("hf.config.scales", rel=0.1),))
    assert differing({"hf.config.scales": [1.0, 2.0]}, {"hf.config.scales": [1.05, 2.1]}, opts) == []
    assert differing({"hf.config.scales": [1.0, 2.0]}, {"hf.config.scales": [1.05, 2.1]}) == ["hf.config.scales"]


def test_ignore_skips_only_its_keys() -> None:
    t = {"generation.seed": 1, "generation.top_p": 0.92}
    d = {"generation.seed": 2, "generation.top_p": 0.85}
    assert differing(t, d, CompareOptions(ignore=("generation.seed",))) == ["generation.top_p"]
    assert differing(t, d, CompareOptions(ignore=("generation.*",))) == []


# --- through a manifest ---------------------------------------------------------------------------------

MANIFEST = """\
version: 1
models:
  m:
    training:
      - path: training/generation_config.json
    deployment:
      - path: deployment/sampling-params.yaml
        kind: vllm
{model_rules}
rules:
  tolerances:
{tolerances}
"""


def _check(tmp_path: Path, tolerances: list[str], model_tolerances: list[str] | None = None) -> set[str]:
    (tmp_path / "training").mkdir(exist_ok=True)
    (tmp_path / "deployment").mkdir(exist_ok=True)
    (tmp_path / "training" / "generation_config.json").write_text(
        '{"do_sample": true, "temperature": 0.7, "top_p": 0.92, "top_k": 0}\n')
    (tmp_path / "deployment" / "sampling-params.yaml").write_text("temperature: 0.72\ntop_p: 0.9\n")
    model_rules = ""
    if model_tolerances is not None:
        model_rules = "    rules:\n      tolerances:\n" + "".join(f"        - {t}\n" for t in model_tolerances)
    (tmp_path / "driftguard.yaml").write_text(MANIFEST.format(
        model_rules=model_rules, tolerances="".join(f"    - {t}\n" for t in tolerances) or "    []\n"))
    report = driftguard.check(tmp_path / "driftguard.yaml", today=date(2026, 12, 1))
    return {f.key for f in report.findings if f.rule == "DG101"}


def test_manifest_without_tolerances_finds_both(tmp_path: Path) -> None:
    assert _check(tmp_path, []) == {"generation.temperature", "generation.top_p"}


@pytest.mark.parametrize(("tolerances", "left"), [
    (["{key: generation.temperature, abs: 0.05}"], {"generation.top_p"}),
    (["{key: generation.temperature, abs: 0.01}"], {"generation.temperature", "generation.top_p"}),
    (["{key: generation.top_p, rel: 0.1}"], {"generation.temperature"}),
    (["{key: generation.top_p, rel: 0.01}"], {"generation.temperature", "generation.top_p"}),
    (["{key: generation.top_p, abs: 0.01}"], {"generation.temperature", "generation.top_p"}),
    (["{key: 'generation.*', rel: 0.05}"], set()),
    (["{key: preprocessing.max_length, rel: 0.5}"], {"generation.temperature", "generation.top_p"}),
])
def test_manifest_tolerances(tmp_path: Path, tolerances: list[str], left: set[str]) -> None:
    assert _check(tmp_path, tolerances) == left


def test_a_models_own_tolerance_comes_first(tmp_path: Path) -> None:
    # The model's rel 0.1 on top_p wins over the manifest-wide exact-ish one.
    assert _check(tmp_path, ["{key: 'generation.*', rel: 0.001}"], ["{key: generation.top_p, rel: 0.1}"]) == \
        {"generation.temperature"}


def test_options_are_frozen_hashable_records() -> None:
    tol = Tolerance("generation.*", rel=0.1)
    opts = CompareOptions(tolerances=(tol,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tol.rel = 0.5  # type: ignore[misc]  # deliberately assigning to a frozen record
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.ignore = ("x",)  # type: ignore[misc]  # deliberately assigning to a frozen record
    fresh = CompareOptions(tolerances=(Tolerance("generation.*", rel=0.1),))
    opts.tolerance_for("generation.top_p")  # fills the lookup cache of one of them
    assert opts == fresh and hash(opts) == hash(fresh)  # the cache is not part of the value
    assert len({tol, Tolerance("generation.*", rel=0.1)}) == 1
