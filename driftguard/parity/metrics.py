"""Comparison metrics for one output: pure numpy functions, no I/O.

Definitions follow Polygraphy's ``CompareFunc.simple`` so the numbers can be checked against it: absolute
error ``|candidate - reference|`` in float64 (float16 cast up first), relative error ``absolute / |reference|``
where a reference value of 0 gets 2.22e-16 added (Polygraphy's epsilon), and the elementwise rule: an element
fails only where its absolute error exceeds ``atol`` **and** its relative error exceeds ``rtol`` (NaN fails).
``cosine`` is Polygraphy's cosine similarity of the whole flattened output; ``cosine_min``/``cosine_mean`` are
per sample (axis 0). SQNR is ``10·log10(Σ reference² / Σ (reference − candidate)²)`` in dB, capped at
``SQNR_CAP_DB`` when the outputs are identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

EPSILON = 2.220446049250313e-16
SQNR_CAP_DB = 200.0


@dataclass(frozen=True)
class OutputMetrics:
    """Every number parity measures on one output (None where it does not apply or is not finite)."""

    shape: tuple[int, ...]
    elements: int
    nonfinite_reference: int
    nonfinite_candidate: int
    max_abs: float | None
    mean_abs: float | None
    median_abs: float | None
    p99_abs: float | None
    max_rel: float | None
    mean_rel: float | None
    median_rel: float | None
    p99_rel: float | None
    atol: float
    rtol: float
    elementwise_failures: int
    elementwise_fraction: float
    cosine: float | None
    cosine_min: float | None
    cosine_mean: float | None
    sqnr_db: float | None
    argmax_agreement: float | None = None
    topk_overlap: float | None = None
    top_k: int | None = None
    exact_match: float | None = None
    token_agreement: float | None = None
    first_divergence: int | None = None
    #: Where the largest absolute error is: the element's index (Polygraphy prints ``max=0.0597 at (49, 4)``).
    max_abs_at: tuple[int, ...] | None = None
    #: The ``WORST`` samples with the lowest per-sample cosine, ``(index on axis 0, cosine)``, worst first.
    worst_samples: tuple[tuple[int, float], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: How many worst samples a comparison names.
WORST = 3


def worst_samples(cos: np.ndarray[Any, Any], k: int = WORST) -> tuple[tuple[int, float], ...]:
    """The ``k`` samples of lowest per-sample cosine (NaN first: a non-finite sample is the worst), worst first,
    ties by index."""
    keyed = np.where(np.isnan(cos), -np.inf, cos)
    order = np.argsort(keyed, kind="stable")[:k]
    return tuple((int(i), float(cos[i])) for i in order)


def argmax_at(absdiff: np.ndarray[Any, Any]) -> tuple[int, ...] | None:
    """The index of the largest absolute error (the first NaN, where there is one), None for an empty output."""
    if not absdiff.size:
        return None
    flat = np.where(np.isnan(absdiff), np.inf, absdiff).ravel()
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(flat)), absdiff.shape))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _cast_up(a: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(a, dtype=np.float64)


def per_sample_cosine(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Cosine similarity per sample (axis 0), the rest flattened; 1.0 where both are zero, 0.0 where one is."""
    ref = _cast_up(reference).reshape(reference.shape[0], -1) if reference.ndim else _cast_up(reference).reshape(1, 1)
    cand = _cast_up(candidate).reshape(ref.shape)
    dot = np.sum(ref * cand, axis=1)
    norms = np.sqrt(np.sum(ref * ref, axis=1)) * np.sqrt(np.sum(cand * cand, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(norms > 0, dot / np.where(norms > 0, norms, 1.0), 0.0)
    both_zero = (np.sum(ref * ref, axis=1) == 0) & (np.sum(cand * cand, axis=1) == 0)
    cos = np.where(np.isfinite(dot) & np.isfinite(norms), cos, np.nan)  # NaN/Inf never look similar
    return np.clip(np.where(both_zero, 1.0, cos), -1.0, 1.0)


def whole_cosine(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any]) -> float:
    """Polygraphy's cosine similarity: of the two outputs flattened."""
    a, b = _cast_up(reference).ravel(), _cast_up(candidate).ravel()
    na, nb = math.sqrt(float(np.sum(a * a))), math.sqrt(float(np.sum(b * b)))
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    c = float(np.sum(a * b)) / (na * nb)
    return c if math.isnan(c) else max(-1.0, min(1.0, c))


def sqnr_db(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any]) -> float:
    ref = _cast_up(reference)
    noise = float(np.sum((ref - _cast_up(candidate)) ** 2))
    signal = float(np.sum(ref * ref))
    if noise == 0:
        return SQNR_CAP_DB
    if signal == 0:
        return -SQNR_CAP_DB
    ratio = signal / noise
    if ratio == 0:  # an infinite noise power (an Inf in the candidate): -inf dB, not finite
        return -math.inf
    return min(SQNR_CAP_DB, 10.0 * math.log10(ratio))


def classifier_agreement(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any],
                         k: int = 5) -> tuple[float, float, int]:
    """``(argmax agreement, mean top-k overlap, k)`` over the last axis, per sample."""
    ref = _cast_up(reference).reshape(-1, reference.shape[-1])
    cand = _cast_up(candidate).reshape(ref.shape)
    k = max(1, min(k, ref.shape[1]))
    agree = float(np.mean(np.argmax(ref, axis=1) == np.argmax(cand, axis=1)))
    top_ref = np.argsort(-ref, axis=1, kind="stable")[:, :k]
    top_cand = np.argsort(-cand, axis=1, kind="stable")[:, :k]
    overlap = float(np.mean([len(set(r.tolist()) & set(c.tolist())) / k
                             for r, c in zip(top_ref, top_cand, strict=True)]))
    return agree, overlap, k


def sequence_agreement(reference: np.ndarray[Any, Any],
                       candidate: np.ndarray[Any, Any]) -> tuple[float, float, int | None]:
    """Generated token sequences (samples × positions): ``(exact match rate, token agreement, first divergence)``;
    the first divergence is the earliest position where any sample differs (None: none does)."""
    ref = np.asarray(reference).reshape(reference.shape[0], -1)
    cand = np.asarray(candidate).reshape(ref.shape)
    same = ref == cand
    exact = float(np.mean(np.all(same, axis=1)))
    diverged = np.where(~np.all(same, axis=0))[0]
    return exact, float(np.mean(same)), int(diverged[0]) if diverged.size else None


def pad_sequences(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any],
                  fill: int = -1) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Two token-sequence outputs that differ only in their last axis (generated with different lengths),
    padded with ``fill`` (no token) to the longer; other shapes are returned as they are."""
    if reference.shape == candidate.shape or reference.ndim != candidate.ndim or reference.ndim < 2 \
            or reference.shape[:-1] != candidate.shape[:-1]:
        return reference, candidate
    width = max(reference.shape[-1], candidate.shape[-1])

    def pad(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        extra = [(0, 0)] * (a.ndim - 1) + [(0, width - a.shape[-1])]
        return np.pad(a, extra, constant_values=fill)

    return pad(reference), pad(candidate)


def compare(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any], *, atol: float, rtol: float,
            kind: str = "tensor", top_k: int = 5) -> OutputMetrics:
    """All metrics of one output. ``kind``: ``logits`` adds argmax agreement and top-k overlap, ``sequence``
    (integer token ids) adds exact match, token agreement and first divergence. Shapes must be equal."""
    if reference.shape != candidate.shape:
        raise ValueError(f"shapes differ: {reference.shape} vs {candidate.shape}")
    with np.errstate(all="ignore"):  # NaN and Inf are counted and reported, not warned about
        return _compare(reference, candidate, atol=atol, rtol=rtol, kind=kind, top_k=top_k)


def _compare(reference: np.ndarray[Any, Any], candidate: np.ndarray[Any, Any], *, atol: float, rtol: float,
             kind: str, top_k: int) -> OutputMetrics:
    ref, cand = _cast_up(reference), _cast_up(candidate)
    nonfinite_ref = int(np.size(ref) - np.count_nonzero(np.isfinite(ref)))
    nonfinite_cand = int(np.size(cand) - np.count_nonzero(np.isfinite(cand)))
    absdiff = np.abs(cand - ref)
    denom = np.abs(ref)
    denom = np.where(denom == 0, EPSILON, denom)
    reldiff = absdiff / denom
    failing = (np.greater(absdiff, atol) | np.isnan(absdiff)) & (np.greater(reldiff, rtol) | np.isnan(reldiff))
    n = int(absdiff.size)

    def stat(f: Any, a: np.ndarray[Any, Any]) -> float | None:
        return _finite(float(f(a))) if n else 0.0

    cos = per_sample_cosine(ref, cand) if n else np.ones(1)
    extra: dict[str, Any] = {}
    if kind == "logits" and ref.ndim >= 1 and ref.shape[-1] > 1 and n:
        agree, overlap, k = classifier_agreement(ref, cand, top_k)
        extra = {"argmax_agreement": agree, "topk_overlap": overlap, "top_k": k}
    elif kind == "sequence" and n:
        exact, tokens, first = sequence_agreement(np.asarray(reference), np.asarray(candidate))
        extra = {"exact_match": exact, "token_agreement": tokens, "first_divergence": first}
    return OutputMetrics(
        shape=tuple(int(d) for d in reference.shape), elements=n,
        nonfinite_reference=nonfinite_ref, nonfinite_candidate=nonfinite_cand,
        max_abs=stat(np.max, absdiff), mean_abs=stat(np.mean, absdiff), median_abs=stat(np.median, absdiff),
        p99_abs=stat(lambda a: np.quantile(a, 0.99), absdiff),
        max_rel=stat(np.max, reldiff), mean_rel=stat(np.mean, reldiff), median_rel=stat(np.median, reldiff),
        p99_rel=stat(lambda a: np.quantile(a, 0.99), reldiff),
        atol=atol, rtol=rtol, elementwise_failures=int(np.count_nonzero(failing)),
        elementwise_fraction=float(np.count_nonzero(failing)) / n if n else 0.0,
        cosine=_finite(whole_cosine(ref, cand)), cosine_min=_finite(float(np.min(cos))),
        cosine_mean=_finite(float(np.mean(cos))), sqnr_db=_finite(sqnr_db(ref, cand)) if n else None,
        max_abs_at=argmax_at(absdiff), worst_samples=worst_samples(cos) if n and ref.ndim else (),
        **extra,
    )
