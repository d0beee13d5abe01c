"""The comparison metrics on arrays whose answers are known by hand."""

from __future__ import annotations

import math
from typing import Any

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


# Issue 25 point 2: mutants of metrics.py that survived the tests above (tests/mutation/metrics.toml). Expected
# values are computed by hand from the definitions (cosine a·b / (|a||b|), numpy's argmax and quantile) and from
# what the docstrings promise (both zero: cosine 1; one zero: 0), never read back from metrics.py.

def test_cosine_of_zero_samples_is_one_when_both_are_zero_and_zero_when_one_is() -> None:
    ref = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    cand = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [3.0, 4.0]])
    assert metrics.per_sample_cosine(ref, cand).tolist() == [1.0, 0.0, 0.0, 1.0]
    m = metrics.compare(ref, cand, atol=0.0, rtol=0.0)
    assert m.cosine_min == 0.0 and m.cosine_mean == 0.5


@pytest.mark.parametrize(("ref", "cand", "cosine"), [
    ([0.0, 0.0], [0.0, 0.0], 1.0), ([0.0, 0.0], [1.0, 2.0], 0.0), ([1.0, 2.0], [0.0, 0.0], 0.0),
    ([1.0, 2.0], [-1.0, -2.0], -1.0), ([1.0, 0.0], [0.0, 1.0], 0.0), ([1.0, 2.0], [2.0, 4.0], 1.0),
])
def test_whole_cosine_by_hand(ref: list[float], cand: list[float], cosine: float) -> None:
    """Polygraphy's cosine similarity of the flattened outputs: a·b / (|a| |b|), in [-1, 1]."""
    assert metrics.whole_cosine(np.array(ref), np.array(cand)) == pytest.approx(cosine, abs=1e-12)
    assert metrics.compare(np.array([ref]), np.array([cand]), atol=0.0, rtol=0.0).cosine == \
        pytest.approx(cosine, abs=1e-12)


def test_per_sample_cosine_of_opposite_samples_is_minus_one() -> None:
    cos = metrics.per_sample_cosine(np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([[-1.0, -2.0], [3.0, 0.0]]))
    assert cos.tolist() == pytest.approx([-1.0, 1.0])


@pytest.mark.parametrize(("ref", "cand", "padded_ref", "padded_cand"), [
    ([[1, 2]], [[1, 2, 3]], [[1, 2, -1]], [[1, 2, 3]]),
    ([[1, 2, 3], [4, 5, 6]], [[1], [4]], [[1, 2, 3], [4, 5, 6]], [[1, -1, -1], [4, -1, -1]]),
    ([[[1, 2]], [[3, 4]]], [[[1, 2, 9, 9]], [[3, 4, 9, 9]]], [[[1, 2, -1, -1]], [[3, 4, -1, -1]]],
     [[[1, 2, 9, 9]], [[3, 4, 9, 9]]]),
])
def test_token_sequences_of_different_lengths_are_padded_with_no_token(ref: list[object], cand: list[object],
                                                                        padded_ref: list[object],
                                                                        padded_cand: list[object]) -> None:
    r, c = metrics.pad_sequences(np.array(ref), np.array(cand))
    assert r.tolist() == padded_ref and c.tolist() == padded_cand


@pytest.mark.parametrize(("ref", "cand"), [
    (np.ones((2, 3)), np.ones((2, 3))),      # equal shapes: nothing to pad
    (np.ones(3), np.ones(4)),                # one axis: not samples × positions
    (np.ones((2, 3)), np.ones((3, 3))),      # a different number of samples
    (np.ones((3, 3)), np.ones((2, 4))),
    (np.ones((2, 1, 3)), np.ones((2, 2, 4))),  # differ before the last axis
    (np.ones((2, 3)), np.ones((2, 3, 1))),   # different ranks
])
def test_other_shapes_are_returned_as_they_are(ref: Any, cand: Any) -> None:
    r, c = metrics.pad_sequences(ref, cand)
    assert r is ref and c is cand


@pytest.mark.parametrize(("ref", "cand"), [((2, 3), (2, 2)), ((2, 2), (2, 3)), ((3,), (2,)), ((2, 2), (4,))])
def test_any_shape_difference_is_refused(ref: tuple[int, ...], cand: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.compare(np.ones(ref), np.ones(cand), atol=0, rtol=0)


def test_top_k_is_at_most_the_number_of_classes_and_at_least_one() -> None:
    """k is clipped to the classes on the last axis, not to the samples: one sample of three classes keeps k 2."""
    one = metrics.compare(np.array([[0.5, 0.3, 0.2]]), np.array([[0.5, 0.2, 0.3]]), atol=0, rtol=0,
                          kind="logits", top_k=2)
    assert (one.top_k, one.argmax_agreement, one.topk_overlap) == (2, 1.0, 0.5)  # {0, 1} vs {0, 2}
    wide = metrics.compare(np.array([[0.5, 0.3, 0.2]]), np.array([[0.5, 0.2, 0.3]]), atol=0, rtol=0,
                           kind="logits", top_k=9)
    assert (wide.top_k, wide.topk_overlap) == (3, 1.0)
    assert metrics.classifier_agreement(np.array([[0.5, 0.3, 0.2]]), np.array([[0.2, 0.3, 0.5]]), k=0)[2] == 1


def test_top_k_is_top_5_by_default() -> None:
    """The top-5 convention of classification benchmarks (ImageNet's top-5 accuracy)."""
    ref = np.arange(14, dtype=np.float64).reshape(2, 7)
    m = metrics.compare(ref, ref.copy(), atol=0, rtol=0, kind="logits")
    assert m.top_k == 5 and metrics.classifier_agreement(ref, ref.copy())[2] == 5


def test_agreement_is_per_sample_over_the_last_axis() -> None:
    """Four samples (2 × 2) of three classes: the argmax differs in one of them."""
    ref = np.array([[[0.1, 0.8, 0.1], [0.7, 0.2, 0.1]], [[0.2, 0.2, 0.6], [0.3, 0.4, 0.3]]])
    cand = ref.copy()
    cand[1, 1] = [0.5, 0.4, 0.1]
    agree, _, _ = metrics.classifier_agreement(ref, cand, k=1)
    assert agree == 0.75


def test_one_class_logits_have_no_argmax_agreement() -> None:
    m = metrics.compare(np.array([[0.2], [0.4], [0.6]]), np.array([[0.2], [0.4], [0.7]]), atol=0, rtol=0,
                        kind="logits")
    assert m.argmax_agreement is None and m.top_k is None
    one_sample = metrics.compare(np.array([[0.2, 0.8]]), np.array([[0.9, 0.1]]), atol=0, rtol=0, kind="logits")
    assert one_sample.argmax_agreement == 0.0 and one_sample.top_k == 2


def test_only_sequences_get_token_metrics_and_only_logits_argmax() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    tensor = metrics.compare(a, a.copy(), atol=0, rtol=0)
    assert tensor.exact_match is None and tensor.token_agreement is None and tensor.argmax_agreement is None
    seq = metrics.compare(a, a.copy(), atol=0, rtol=0, kind="sequence")
    assert seq.exact_match == 1.0 and seq.argmax_agreement is None and seq.first_divergence is None


def test_the_first_divergence_is_the_earliest_position() -> None:
    ref = np.array([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]])
    cand = np.array([[1, 9, 3, 4, 5], [1, 2, 3, 9, 9]])
    m = metrics.compare(ref, cand, atol=0, rtol=0, kind="sequence")
    assert (m.exact_match, m.token_agreement, m.first_divergence) == (0.0, 0.7, 1)


def test_a_scalar_output_has_no_samples_to_rank() -> None:
    m = metrics.compare(np.array(2.0), np.array(3.0), atol=0.5, rtol=0.0)
    assert m.worst_samples == () and m.max_abs == 1.0 and m.elementwise_failures == 1 and m.shape == ()


@pytest.mark.parametrize(("nan_at", "count"), [((), 0), ((0,), 1), ((0, 1), 2), ((0, 1, 2), 3)])
def test_non_finite_values_are_counted_on_each_side(nan_at: tuple[int, ...], count: int) -> None:
    clean = np.array([1.0, 2.0, 3.0, 4.0])
    dirty = clean.copy()
    dirty[list(nan_at)] = np.nan
    cand_side = metrics.compare(clean, dirty, atol=0, rtol=0)
    ref_side = metrics.compare(dirty, clean, atol=0, rtol=0)
    assert (cand_side.nonfinite_reference, cand_side.nonfinite_candidate) == (0, count)
    assert (ref_side.nonfinite_reference, ref_side.nonfinite_candidate) == (count, 0)
    inf = metrics.compare(clean, np.array([np.inf, -np.inf, 3.0, 4.0]), atol=0, rtol=0)
    assert inf.nonfinite_candidate == 2


def test_a_zero_reference_gets_polygraphys_epsilon() -> None:
    """Polygraphy (comparator/compare.py, ``EPSILON = 2.220446049250313e-16``, 2**-52) adds it to reference
    values of 0 before dividing: an absolute error of 2**-40 there is a relative error of 2**12."""
    m = metrics.compare(np.array([0.0, 1.0]), np.array([2.0 ** -40, 1.0]), atol=0, rtol=0)
    assert m.max_rel == 4096.0 and m.max_abs == 2.0 ** -40


def test_logits_are_ranked_over_the_last_axis_whatever_the_rank() -> None:
    """(batch, positions, classes): the classes are the last axis, even where the middle one has length 1."""
    ref = np.array([[[0.1, 0.7, 0.2]], [[0.5, 0.3, 0.2]]])
    cand = np.array([[[0.1, 0.6, 0.3]], [[0.2, 0.3, 0.5]]])
    m = metrics.compare(ref, cand, atol=0, rtol=0, kind="logits", top_k=1)
    assert (m.argmax_agreement, m.top_k) == (0.5, 1)
    one_class = metrics.compare(ref.reshape(2, 3, 1), cand.reshape(2, 3, 1), atol=0, rtol=0, kind="logits")
    assert one_class.argmax_agreement is None


def test_cosines_stay_within_minus_one_and_one() -> None:
    """Cosine similarity lies in [-1, 1] by definition; computed in floating point a vector against itself can
    come out a rounding above 1 (here [0.1, 0.7]), which is reported as 1, and against its negation as -1."""
    a = np.array([[0.1, 0.7], [1 / 3, 2 / 3]])
    same = metrics.per_sample_cosine(a, a.copy())
    opposite = metrics.per_sample_cosine(a, -a)
    assert same.max() <= 1.0 and same.min() >= 1.0 - 1e-12
    assert opposite.min() >= -1.0 and opposite.max() <= -1.0 + 1e-12
    for v in a:
        assert -1.0 <= metrics.whole_cosine(v, -v) <= -1.0 + 1e-12 and 1.0 - 1e-12 <= metrics.whole_cosine(v, v) <= 1.0


def test_a_nan_sample_ranks_before_an_opposite_one() -> None:
    """A non-finite sample is the worst, worse than one turned against its reference (cosine -1)."""
    ref = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    cand = np.array([[-1.0, 0.0], [0.0, np.nan], [1.0, 1.0]])
    assert [i for i, _ in metrics.worst_samples(metrics.per_sample_cosine(ref, cand))] == [1, 0, 2]


def test_an_overflowing_norm_is_not_a_cosine() -> None:
    """Finite values whose norms overflow float64 give no cosine (NaN, reported as not finite), never a number
    computed from an infinity: NaN and Inf never look similar."""
    with np.errstate(over="ignore"):
        cos = metrics.per_sample_cosine(np.array([[1e200, 0.0]]), np.array([[0.0, 1e200]]))
    assert np.isnan(cos[0])


def test_smaller_tokens_are_no_match() -> None:
    ref = np.array([[5, 6, 7], [5, 6, 7]])
    cand = np.array([[5, 6, 1], [5, 6, 7]])
    m = metrics.compare(ref, cand, atol=0, rtol=0, kind="sequence")
    assert (m.exact_match, m.first_divergence) == (0.5, 2) and m.token_agreement == pytest.approx(5 / 6)


def test_padding_goes_to_the_longer_last_axis() -> None:
    r, c = metrics.pad_sequences(np.ones((1, 5, 2), dtype=np.int64), np.ones((1, 5, 3), dtype=np.int64))
    assert r.shape == c.shape == (1, 5, 3) and r[0, 0].tolist() == [1, 1, -1]


def test_one_dimensional_logits_are_one_sample() -> None:
    m = metrics.compare(np.array([0.1, 0.9, 0.0]), np.array([0.2, 0.7, 0.1]), atol=0, rtol=0, kind="logits",
                        top_k=2)
    assert (m.argmax_agreement, m.topk_overlap, m.top_k) == (1.0, 1.0, 2)


def test_a_sequence_kind_read_from_a_file_is_a_sequence() -> None:
    """The kind may come from a manifest (a string built at run time, not the interned literal)."""
    kind = "".join(["seq", "uence"])
    m = metrics.compare(np.array([[1, 2]]), np.array([[1, 3]]), atol=0, rtol=0, kind=kind)
    assert (m.exact_match, m.first_divergence) == (0.0, 1)
    logits = "".join(["log", "its"])
    assert metrics.compare(np.array([[0.1, 0.9]]), np.array([[0.2, 0.8]]), atol=0, rtol=0,
                           kind=logits).argmax_agreement == 1.0


def test_an_empty_output_differs_nowhere() -> None:
    m = metrics.compare(np.zeros((0, 3)), np.zeros((0, 3)), atol=0, rtol=0)
    assert (m.elements, m.max_abs, m.mean_abs, m.p99_rel, m.elementwise_failures, m.elementwise_fraction) == \
        (0, 0.0, 0.0, 0.0, 0, 0.0)
    assert (m.cosine_min, m.cosine_mean, m.sqnr_db, m.max_abs_at, m.worst_samples) == (1.0, 1.0, None, None, ())


def test_tolerances_are_keyword_only() -> None:
    """atol and rtol are easy to swap: they are never taken by position."""
    with pytest.raises(TypeError):
        metrics.compare(np.ones(2), np.ones(2), 0.5, 0.5)  # type: ignore[misc]


def test_an_infinite_error_has_no_sqnr_and_is_no_crash() -> None:
    """An Inf in the candidate against a finite reference: the noise power is infinite, so 10 log10(signal /
    noise) is -inf dB, not a finite number (None), as every metric an Inf poisons (DG502 reports the Inf).
    It was log10(0): compare() raised ValueError (math domain error), which the parity stage does not catch."""
    m = metrics.compare(np.array([1.0, 2.0]), np.array([np.inf, 2.0]), atol=0, rtol=0)
    assert m.sqnr_db is None and m.nonfinite_candidate == 1
    assert metrics.sqnr_db(np.array([1.0, 2.0]), np.array([-np.inf, 2.0])) == -math.inf


def test_measured_metrics_cannot_be_changed() -> None:
    import dataclasses

    m = metrics.compare(np.ones(2), np.ones(2), atol=0, rtol=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.max_abs = 1.0  # type: ignore[misc]


def test_a_sample_summing_to_zero_is_not_a_zero_sample() -> None:
    """[1, -1] is not zero (its squares sum to 2): against a zero sample its cosine is 0, not the both-zero 1."""
    cos = metrics.per_sample_cosine(np.array([[1.0, -1.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, -1.0]]))
    assert cos.tolist() == [0.0, 0.0]


def test_sqnr_of_a_ratio_between_integers() -> None:
    """Signal 1 + 1 + 1 = 3, noise 1 + 1 = 2: 10 log10(1.5) dB."""
    m = metrics.compare(np.array([1.0, 1.0, 1.0]), np.array([2.0, 2.0, 1.0]), atol=0, rtol=0)
    assert m.sqnr_db == pytest.approx(10 * math.log10(1.5))


def test_a_scalar_logit_has_no_classes_to_rank() -> None:
    m = metrics.compare(np.array(0.5), np.array(0.25), atol=0, rtol=0, kind="logits")
    assert m.argmax_agreement is None and m.top_k is None and m.max_abs == 0.25


@pytest.mark.parametrize("kind", ["embedding", "tensor"])
def test_embeddings_and_tensors_get_neither_argmax_nor_token_metrics(kind: str) -> None:
    ref = np.array([[0.1, 0.9], [0.8, 0.2]])
    m = metrics.compare(ref, ref[::-1].copy(), atol=0, rtol=0, kind=kind)
    assert (m.argmax_agreement, m.topk_overlap, m.exact_match, m.token_agreement) == (None, None, None, None)


def test_one_class_logits_are_not_token_sequences() -> None:
    m = metrics.compare(np.array([[0.2], [0.4]]), np.array([[0.2], [0.5]]), atol=0, rtol=0, kind="logits")
    assert (m.exact_match, m.token_agreement, m.first_divergence) == (None, None, None)
