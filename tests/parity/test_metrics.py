"""The comparison metrics on arrays whose answers are known by hand."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")

from driftguard.parity import metrics  # noqa: E402
from driftguard.parity.profiles import METRICS, PROFILES, profile_for  # noqa: E402


def test_identical_outputs() -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    m = metrics.compare(a, a.copy(), atol=1e-5, rtol=1e-5)
    assert (m.max_abs, m.max_rel, m.elementwise_failures) == (0.0, 0.0, 0)
    assert m.cosine_min == m.cosine_mean == m.cosine == 1.0
    assert m.sqnr_db == metrics.SQNR_CAP_DB


def test_absolute_and_relative_errors() -> None:
    ref = np.array([[1.0, 2.0, 4.0, 0.0]])
    cand = np.array([[1.5, 2.0, 3.0, 0.0]])
    m = metrics.compare(ref, cand, atol=0.1, rtol=0.1)
    assert m.max_abs == 1.0 and m.mean_abs == pytest.approx(0.375) and m.median_abs == pytest.approx(0.25)
    assert m.max_rel == 0.5 and m.mean_rel == pytest.approx((0.5 + 0.25) / 4)
    assert m.elementwise_failures == 2 and m.elementwise_fraction == 0.5


def test_elementwise_rule_fails_only_beyond_both_tolerances() -> None:
    # Polygraphy's rule: 1e-3 absolute on a large value is within rtol; 1e-6 on a tiny value is within atol.
    ref = np.array([[1000.0, 1e-9, 1.0]])
    cand = np.array([[1000.001, 1e-9 + 1e-6, 1.1]])
    m = metrics.compare(ref, cand, atol=1e-5, rtol=1e-5)
    assert m.elementwise_failures == 1  # only the last element exceeds both


def test_per_sample_cosine_and_sqnr() -> None:
    ref = np.array([[1.0, 0.0], [0.0, 1.0]])
    cand = np.array([[1.0, 0.0], [1.0, 1.0]])
    m = metrics.compare(ref, cand, atol=0, rtol=0)
    assert m.cosine_min == pytest.approx(1 / math.sqrt(2))
    assert m.cosine_mean == pytest.approx((1 + 1 / math.sqrt(2)) / 2)
    assert m.sqnr_db == pytest.approx(10 * math.log10(2 / 1))


def test_classifier_agreement_and_top_k() -> None:
    ref = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    cand = np.array([[0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    m = metrics.compare(ref, cand, atol=0, rtol=0, kind="logits", top_k=2)
    assert m.argmax_agreement == 0.5 and m.top_k == 2
    assert m.topk_overlap == pytest.approx((1.0 + 1.0) / 2)


def test_sequences_exact_match_token_agreement_first_divergence() -> None:
    ref = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    cand = np.array([[1, 2, 3, 4], [5, 6, 9, 9]])
    m = metrics.compare(ref, cand, atol=0, rtol=0, kind="sequence")
    assert (m.exact_match, m.token_agreement, m.first_divergence) == (0.5, 0.75, 2)


def test_nan_is_counted_and_never_a_pass() -> None:
    ref = np.ones((2, 2))
    cand = ref.copy()
    cand[1, 1] = np.nan
    m = metrics.compare(ref, cand, atol=1.0, rtol=1.0)
    assert m.nonfinite_candidate == 1 and m.elementwise_failures == 1
    assert m.max_abs is None and m.cosine_min is None


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.compare(np.ones((2, 2)), np.ones((2, 3)), atol=0, rtol=0)


def test_profiles_bound_known_metrics_only() -> None:
    for prof in PROFILES.values():
        assert set(prof.bounds) <= set(METRICS), prof.name


def test_profile_follows_the_deployed_precision() -> None:
    assert profile_for({"precision.weights": "float32"}) == "fp32"
    assert profile_for({"precision.weights": "int8", "precision.quantization": "dynamic"}) == "int8"
    assert profile_for({"precision.compute": "float16"}) == "fp16"
    assert profile_for({"precision.weights": "bfloat16"}) == "bf16"
    assert profile_for({"precision.weights": "float32", "precision.quantization": "awq"}) == "int8"


def test_manifest_metric_names_are_the_profiles() -> None:
    from typing import get_args

    from driftguard.manifest import ParityMetric

    assert set(get_args(ParityMetric)) == set(METRICS)


# Boundaries (issue 25: mutants of `>` vs `>=`, the SQNR floor's sign and the p99 statistic survived). Values are
# exact in binary floating point, so the answers are the definitions', not a rounding's.

@pytest.mark.parametrize(("atol", "failures"), [(0.5, 0), (0.25, 1)])
def test_a_difference_exactly_at_atol_passes(atol: float, failures: int) -> None:
    """Polygraphy's SimpleCompareFunc fails an element only when it exceeds both tolerances (absdiff > atol and
    reldiff > rtol): |1.5 - 1.0| = 0.5 is within atol 0.5, not within 0.25."""
    m = metrics.compare(np.array([1.0]), np.array([1.5]), atol=atol, rtol=0.0)
    assert m.elementwise_failures == failures and m.elementwise_fraction == float(failures)


@pytest.mark.parametrize(("rtol", "failures"), [(0.5, 0), (0.25, 1)])
def test_a_difference_exactly_at_rtol_passes(rtol: float, failures: int) -> None:
    """|3.0 - 2.0| / |2.0| = 0.5: within rtol 0.5, beyond 0.25 (atol 0 does not cover it)."""
    m = metrics.compare(np.array([2.0]), np.array([3.0]), atol=0.0, rtol=rtol)
    assert m.elementwise_failures == failures


def test_sqnr_of_a_zero_signal_is_the_floor_and_of_no_noise_the_cap() -> None:
    """SQNR = 10 log10(signal power / noise power): a zero reference with noise is the worst value (the negative
    cap), identical outputs the best (the positive cap)."""
    assert metrics.sqnr_db(np.zeros(4), np.ones(4)) == -metrics.SQNR_CAP_DB < 0
    assert metrics.sqnr_db(np.zeros(4), np.zeros(4)) == metrics.SQNR_CAP_DB > 0
    # signal 4 (four ones), noise 2**-8 (one element off by 2**-4): 10 log10(1024)
    m = metrics.compare(np.ones(4), np.array([1.0, 1.0, 1.0, 1.0625]), atol=0, rtol=0)
    assert m.sqnr_db == pytest.approx(10 * math.log10(1024))


def test_p99_is_the_99th_percentile_with_linear_interpolation() -> None:
    """numpy's default quantile (linear): of 0..99 the 0.99 quantile is at position 0.99 * 99 = 98.01."""
    m = metrics.compare(np.zeros(100), np.arange(100, dtype=np.float64), atol=0, rtol=0)
    assert m.p99_abs == pytest.approx(98.01)
    assert m.median_abs == pytest.approx(49.5) and m.mean_abs == pytest.approx(49.5) and m.max_abs == 99.0
    # relative to a reference of ones: the same differences, divided by 1
    r = metrics.compare(np.ones(100), 1 + np.arange(100, dtype=np.float64), atol=0, rtol=0)
    assert r.p99_rel == pytest.approx(98.01) and r.median_rel == pytest.approx(49.5) and r.max_rel == 99.0


def test_the_worst_samples_and_the_largest_error_are_located() -> None:
    """Issue 21 point 5: where it is worst (Polygraphy prints ``max=... at (49, 4)``). Sample 2 is turned against
    its reference (cosine -1 by construction), sample 0 nudged in one element; the rest equal (cosine 1)."""
    ref = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    cand = ref.copy()
    cand[2] = -ref[2]           # the largest error, 2.0, at (2, 0) and (2, 1): the first is named
    cand[0] = [1.0, 0.5]        # cosine 1/sqrt(1.25)
    m = metrics.compare(ref, cand, atol=0.0, rtol=0.0)
    assert m.max_abs_at == (2, 0)
    assert [i for i, _ in m.worst_samples] == [2, 0, 1]
    assert m.worst_samples[0][1] == pytest.approx(-1.0)
    assert m.worst_samples[1][1] == pytest.approx(1 / np.sqrt(1.25))


def test_a_nan_sample_is_the_worst_and_its_element_the_largest_error() -> None:
    ref = np.ones((3, 2))
    cand = ref.copy()
    cand[1, 1] = np.nan
    m = metrics.compare(ref, cand, atol=0.0, rtol=0.0)
    assert m.max_abs_at == (1, 1) and m.worst_samples[0][0] == 1


def test_an_infinite_error_has_no_sqnr_and_is_no_crash() -> None:
    """An Inf in the candidate against a finite reference: the noise power is infinite, so 10 log10(signal /
    noise) is -inf dB, not a finite number (None), as every metric an Inf poisons (DG502 reports the Inf).
    It was log10(0): compare() raised ValueError (math domain error), which the parity stage does not catch."""
    m = metrics.compare(np.array([1.0, 2.0]), np.array([np.inf, 2.0]), atol=0, rtol=0)
    assert m.sqnr_db is None and m.nonfinite_candidate == 1
    assert metrics.sqnr_db(np.array([1.0, 2.0]), np.array([-np.inf, 2.0])) == -math.inf
