"""Drift between the training side and the deployment side: the plain, fast comparison of two effective
configs by canonical key, following the sides' decoding mode (``rules.decoding``). Rule classes (DG1xx) build on
``compare_sides``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from driftguard.equality import values_equal
from driftguard.keys import spec_for
from driftguard.model import Value
from driftguard.rules.decoding import irrelevant_keys, with_decoding


@dataclass(frozen=True)
class Tolerance:
    """Per-key numeric tolerance (``abs``/``rel``) matched by glob."""

    key: str
    abs: float = 0.0
    rel: float = 0.0


@dataclass(frozen=True)
class CompareOptions:
    """How two sides are compared: tolerances and ignored keys (globs)."""

    tolerances: tuple[Tolerance, ...] = ()
    ignore: tuple[str, ...] = ()
    default_rel_tol: float = 1e-6
    _cache: dict[str, tuple[float, float]] = field(default_factory=dict, compare=False, hash=False)

    def tolerance_for(self, key: str) -> tuple[float, float]:
        """(rel, abs) for a key: the first matching tolerance, else the default float round-trip slack."""
        hit = self._cache.get(key)
        if hit is None:
            hit = (self.default_rel_tol, 0.0)
            for t in self.tolerances:
                if fnmatchcase(key, t.key):
                    hit = (max(t.rel, self.default_rel_tol), t.abs)
                    break
            self._cache[key] = hit
        return hit

    def ignored(self, key: str) -> bool:
        return any(fnmatchcase(key, g) for g in self.ignore)


def compare_sides(training: Mapping[str, Value], deployed: Mapping[str, Value],
                  options: CompareOptions | None = None) -> list[tuple[str, Value, Value]]:
    """Keys present on both sides whose values differ, sorted by key: ``[(key, training, deployed)]``.

    A key on one side only is not a difference here (the other format may not express it); rules that care
    about one-sided keys look at them separately. The comparison follows the decoding mode: each side gets its
    derived ``generation.decoding`` (when not already merged in), and keys that mean nothing under the two
    modes are skipped (``rules.decoding.irrelevant_keys``: sampling knobs unless both sample, beam knobs unless
    both search beams, everything the mode decides when the modes differ).
    """
    opts = options or CompareOptions()
    training, deployed = with_decoding(training), with_decoding(deployed)
    skip = irrelevant_keys(training, deployed)
    out: list[tuple[str, Value, Value]] = []
    no_tolerances = not opts.tolerances and not opts.ignore
    get = deployed.get
    for key, a in training.items():
        b = get(key)
        if b is None or key in skip:
            continue
        va, vb = a.value, b.value
        if va == vb and type(va) is type(vb):  # fast path: most keys are identical
            continue
        spec = spec_for(key)
        if spec is not None and not spec.compared:
            continue
        unordered = spec.unordered if spec is not None else False
        if no_tolerances:
            rel, abs_ = opts.default_rel_tol, 0.0
        else:
            if opts.ignored(key):
                continue
            rel, abs_ = opts.tolerance_for(key)
        if not values_equal(va, vb, rel_tol=rel, abs_tol=abs_, unordered=unordered):
            out.append((key, a, b))
    out.sort(key=lambda t: t[0])
    return out
