"""DG401 ``weights.provenance`` (opt-in: it reads weights): the deployed weights are the training checkpoint's.

Each tensor gets a fingerprint that survives what export does to it: it is matched by value, never by name
(exporters rename initializers: ``onnx::MatMul_123``), and in every axis order (export folds ``weight.t()``
into a transposed initializer). A fingerprint is the element count, an exact order-free digest of the float32
bit patterns, the sum of magnitudes and the L2 norm, and the values at pseudo-random positions in each axis
order of the tensor. Float32 weights must match exactly; float16/bfloat16 ones within their rounding; int8
weights are dequantized (``(q - zero_point) * scale``) and must match within one quantization step.

Tensors are read one at a time (``readers.tensors``) and only fingerprints are kept, so peak memory is
about the largest tensor, not the model. numpy, torch, safetensors and onnx are imported only when the rule
runs.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from driftguard.model import EffectiveConfig, Finding, Origin, Severity, Unjudged, Value, WeightMatch
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.rules.base import Rule, RuleContext

if TYPE_CHECKING:
    import numpy as np

    from driftguard.readers.tensors import WeightTensor

KEY = "model.weights.fingerprint"
#: The weights this rule reads per side, by the format a kind declares (``KindTraits.weights``): checkpoints on
#: the training side, checkpoints and exports on the deployed side.
TRAINING_WEIGHTS = ("torch", "safetensors", "folder")
DEPLOYED_WEIGHTS = ("onnx", "safetensors", "torch", "folder")
#: Sampled positions per axis order.
SAMPLES = 64
#: Deployed tensors smaller than this are exporter constants (epsilons, scalars), not weights.
DEFAULT_MIN_ELEMENTS = 16
_CHUNK = 1 << 20
_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What is kept of one tensor. ``samples`` maps each axis order's shape to the sampled values (several
    orders may share a shape: a square matrix and its transpose)."""

    name: str
    pointer: str
    shape: tuple[int, ...]
    numel: int
    stored_as: str
    digest: int
    abs_sum: float
    l2: float
    samples: dict[tuple[int, ...], tuple[np.ndarray[Any, Any], ...]]
    abs_tol: float = 0.0
    rel_tol: float = 0.0


def _positions(numel: int) -> np.ndarray[Any, Any]:
    import numpy as np

    if numel <= SAMPLES:
        return np.arange(numel)
    return np.sort(np.random.default_rng(numel).integers(0, numel, size=SAMPLES))


def _orders(rank: int) -> Iterable[tuple[int, ...]]:
    if rank <= 4:
        return itertools.permutations(range(rank))
    return (tuple(range(rank)), tuple(reversed(range(rank))))


def _digest(flat: np.ndarray[Any, Any]) -> tuple[int, float, float]:
    """Order-free digest of the float32 bit patterns (a sum of splitmix64-mixed elements, so a permutation of
    the same values gives the same digest), the sum of magnitudes and the L2 norm; read in chunks."""
    import numpy as np

    total, abs_sum, squares = 0, 0.0, 0.0
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start:start + _CHUNK].astype(np.float32) + np.float32(0.0)  # -0.0 -> 0.0
        z = chunk.view(np.uint32).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        total = (total + int(z.sum(dtype=np.uint64))) & _MASK
        wide = chunk.astype(np.float64)
        abs_sum += float(np.abs(wide).sum())
        squares += float(np.dot(wide, wide))
    return total, abs_sum, squares ** 0.5


def fingerprint(t: WeightTensor, all_orders: bool) -> Fingerprint:
    """The fingerprint of one tensor; ``all_orders`` samples every axis order (the training side's), else only
    the stored one."""
    import numpy as np

    values = t.values
    shape = tuple(int(d) for d in values.shape)
    numel = int(values.size)
    digest, abs_sum, l2 = _digest(values.reshape(-1))
    positions = _positions(numel)
    samples: dict[tuple[int, ...], list[np.ndarray[Any, Any]]] = {}
    orders = _orders(len(shape)) if all_orders else (tuple(range(len(shape))),)
    for order in orders:
        permuted = tuple(shape[a] for a in order)
        coords = np.unravel_index(positions, permuted) if permuted else ()
        source: list[Any] = [None] * len(shape)
        for i, axis in enumerate(order):
            source[axis] = coords[i]
        picked = values[tuple(source)] if shape else values.reshape(1)
        samples.setdefault(permuted, []).append(np.asarray(picked, dtype=np.float64))
    return Fingerprint(t.name, t.pointer, shape, numel, t.stored_as, digest, abs_sum, l2,
                       {k: tuple(v) for k, v in samples.items()}, t.abs_tol, t.rel_tol)


def matches(deployed: Fingerprint, training: Fingerprint) -> bool:
    """True when ``deployed`` holds ``training``'s values (in some axis order) within its storage tolerance."""
    import numpy as np

    if deployed.numel != training.numel:
        return False
    candidates = training.samples.get(deployed.shape, ())
    mine = deployed.samples[deployed.shape][0]
    if deployed.abs_tol == 0.0 and deployed.rel_tol == 0.0:
        return deployed.digest == training.digest and any(np.array_equal(mine, c) for c in candidates)
    abs_tol, rel_tol, n = deployed.abs_tol, deployed.rel_tol, deployed.numel
    slack = 1e-6  # float32 arithmetic of dequantization
    for c in candidates:
        bound = abs_tol + (rel_tol + slack) * np.abs(c) + 1e-12
        if bool(np.all(np.abs(mine - c) <= bound)) \
                and abs(deployed.abs_sum - training.abs_sum) <= n * abs_tol + (rel_tol + slack) * training.abs_sum \
                and abs(deployed.l2 - training.l2) <= n ** 0.5 * abs_tol + (rel_tol + slack) * training.l2 + 1e-12:
            return True
    return False


def combined(prints: Sequence[Fingerprint]) -> str:
    """A stable identity for a set of tensors: ``<16 hex digits> (N tensors)``, order-free."""
    h = hashlib.sha256()
    for numel, digest in sorted((p.numel, p.digest) for p in prints):
        h.update(f"{numel}:{digest:016x};".encode())
    return f"{h.hexdigest()[:16]} ({len(prints)} tensors)"


# ---------------------------------------------------------------------------------------------------------
# reading a side
# ---------------------------------------------------------------------------------------------------------

def weight_files(cfg: EffectiveConfig, weights: str) -> list[tuple[Path, str]]:
    """(file, reader) for an artifact whose kind holds weights in format ``weights`` (``KindTraits.weights``):
    the reader is ``onnx``, ``torch`` or ``safetensors``; a model ``folder``'s weight files, none when it has
    none."""
    from driftguard.readers.tensors import weight_files as folder_files

    path = Path(cfg.path)
    if weights != "folder":
        return [(path, weights)]
    if path.is_dir():
        return [(f, "safetensors" if f.suffix == ".safetensors" else "torch") for f in folder_files(path)]
    return []


def read_tensors(path: Path, reader: str, limits: Limits = DEFAULT_LIMITS
                 ) -> Iterator[WeightTensor | tuple[str, str, str]]:
    from driftguard.readers import tensors as pt

    if reader == "onnx":
        return pt.onnx_tensors(path, limits)
    if reader == "safetensors":
        return pt.safetensors_tensors(path, limits)
    return pt.checkpoint_tensors(path, limits)


@lru_cache(maxsize=16)
def _training_prints(path: str, reader: str, mtime_ns: int, size: int, limits: Limits) -> tuple[Fingerprint, ...]:
    out = []
    for t in read_tensors(Path(path), reader, limits):
        if not isinstance(t, tuple):
            out.append(fingerprint(t, all_orders=True))
    return tuple(out)


def training_prints(path: Path, reader: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Fingerprint, ...]:
    """Fingerprints (every axis order) of a training file's float tensors; cached per file version."""
    st = path.stat()
    return _training_prints(str(path), reader, st.st_mtime_ns, st.st_size, limits)


@dataclass
class Comparison:
    """The outcome for one deployed file against the training side's tensors."""

    matched: list[Fingerprint]
    unmatched: list[Fingerprint]
    not_comparable: list[tuple[str, str, str]]
    skipped: int


def compare_file(path: Path, reader: str, training: Sequence[Fingerprint], min_elements: int,
                 ignore: Sequence[str], limits: Limits = DEFAULT_LIMITS) -> Comparison:
    """Match each weight of a deployed file against the training fingerprints, one tensor at a time."""
    by_numel: dict[int, list[Fingerprint]] = {}
    for known in training:
        by_numel.setdefault(known.numel, []).append(known)
    out = Comparison([], [], [], 0)
    for t in read_tensors(path, reader, limits):
        name = t[0] if isinstance(t, tuple) else t.name
        if any(fnmatchcase(name, g) for g in ignore):
            out.skipped += 1
            continue
        if isinstance(t, tuple):
            out.not_comparable.append(t)
            continue
        if t.values.size < min_elements:
            out.skipped += 1
            continue
        fp = fingerprint(t, all_orders=False)
        hit = any(matches(fp, c) for c in by_numel.get(fp.numel, ()))
        (out.matched if hit else out.unmatched).append(fp)
    return out


# ---------------------------------------------------------------------------------------------------------
# the rule
# ---------------------------------------------------------------------------------------------------------

def _describe(fps: Sequence[Fingerprint], limit: int = 3) -> str:
    shown = ", ".join(f"{f.name} {list(f.shape)} {f.stored_as}" for f in fps[:limit])
    return shown + (f" and {len(fps) - limit} more" if len(fps) > limit else "")


_OPTIONS = ("min_elements", "ignore")


class WeightsCheckOptions(BaseModel):
    """DG401's options (``rules.options.DG401``), checked when the manifest loads: a typo or a wrong type is a
    manifest error (exit 2), never ignored and never a crash. The messages name the option as the rule's
    documentation does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_elements: int = Field(default=DEFAULT_MIN_ELEMENTS, ge=0,
                              description="deployed tensors with fewer elements are exporter constants, not weights")
    ignore: tuple[str, ...] = Field(default=(), description="initializer name globs never compared")

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, raw: Any) -> Any:
        opts = {} if raw is None else raw
        if not isinstance(opts, dict):
            raise ValueError(f"must be a mapping of {', '.join(cls.model_fields)}")
        unknown = sorted(set(opts) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"unknown option '{unknown[0]}'; options: {', '.join(cls.model_fields)}")
        min_elements = opts.get("min_elements", DEFAULT_MIN_ELEMENTS)
        if isinstance(min_elements, bool) or not isinstance(min_elements, int) or min_elements < 0:
            raise ValueError(f"min_elements must be a non-negative integer, got {min_elements!r}")
        ignore = opts.get("ignore", [])
        if isinstance(ignore, str):
            ignore = [ignore]
        if not isinstance(ignore, list) or not all(isinstance(g, str) for g in ignore):
            raise ValueError(f"ignore must be a list of globs, got {ignore!r}")
        return {"min_elements": min_elements, "ignore": tuple(ignore)}


class WeightsCheck(Rule):
    """The deployed weights are not the training checkpoint's (opt-in: reads every tensor).

    Each deployed weight (an ONNX graph's float initializers, its int8 weights after dequantization, or the
    tensors of a deployed checkpoint/safetensors file) must equal a tensor of the training side's checkpoint
    by value: renamed initializers and the transposes export introduces do not matter; float32 must match
    exactly, fp16/bf16 within rounding, int8 within one quantization step. Options (``rules.options.DG401``):
    ``min_elements`` (default 16: smaller initializers are exporter constants) and ``ignore`` (initializer
    name globs). Weights that cannot be compared (the checkpoint refused by ``torch.load(weights_only=True)``,
    4-bit packing, no checkpoint on the training side) are a warning, never a pass. Enable it with
    ``rules: {enable: [DG401]}``.

    **Anti-pattern**

    The model was retrained (checkpoint B) and evaluated, but the ONNX in the model repository is still the
    export of checkpoint A; every config key matches, so nothing else notices::

        training:   checkpoints/epoch=3.ckpt          # B
        deployment: model_repository/clf/1/model.onnx # exported from A

    ``model.onnx: 3 of 3 weight tensors match no tensor of epoch=3.ckpt``.

    **Best practice**

    Export the ONNX from the checkpoint that was evaluated, in the same pipeline step, and keep DG401 enabled
    so that a stale export fails the gate::

        rules:
          enable: [DG401]
    """

    code = "DG401"
    name = "weights.provenance"
    severity = Severity.ERROR
    opt_in = True

    Options = WeightsCheckOptions

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        opts = self.options(ctx)
        assert isinstance(opts, WeightsCheckOptions)
        min_elements, ignore = opts.min_elements, opts.ignore
        deployed = [(cfg, f, r) for cfg, w in ctx.deployed.with_weights(*DEPLOYED_WEIGHTS)
                    for f, r in weight_files(cfg, w)]
        if not deployed:
            return  # nothing deployed that holds weights: the rule has nothing to judge
        training = [(f, r) for cfg, w in ctx.training.with_weights(*TRAINING_WEIGHTS) for f, r in weight_files(cfg, w)]
        if not training:
            for _, f, _ in deployed:
                yield self.finding(
                    KEY, f"{f}: weights not comparable: the training side lists no checkpoint (torch, lightning, "
                         "safetensors, or a model folder with weight files) to compare them with",
                    deployed=Value(Unjudged.NOT_COMPARED.value, Origin(str(f))), severity=Severity.WARNING,
                    weights=WeightMatch(str(f), deployed=Unjudged.NOT_COMPARED))
            return
        prints: list[Fingerprint] = []
        train_values: list[Value] = []
        from driftguard.readers.tensors import NotComparable

        for f, r in training:
            try:
                fps = training_prints(f, r, ctx.limits)
            except NotComparable as exc:
                for _, d, _ in deployed:
                    yield self.finding(KEY, f"{d}: weights not comparable with {f}: {exc}", severity=Severity.WARNING,
                                       training=Value(Unjudged.NOT_READ.value, Origin(str(f))),
                                       deployed=Value(Unjudged.NOT_COMPARED.value, Origin(str(d))),
                                       weights=WeightMatch(str(d), training=Unjudged.NOT_READ,
                                                           deployed=Unjudged.NOT_COMPARED))
                return
            prints.extend(fps)
            train_values.append(Value(combined(fps), Origin(str(f), pointer=fps[0].pointer if fps else "/"),
                                      note="fingerprint of the checkpoint's float tensors"))
        names = ", ".join(Path(f).name for f, _ in training)
        for _, d, r in deployed:
            yield from self._judge(d, r, prints, train_values, names, min_elements, ignore, ctx.limits)

    def _judge(self, path: Path, reader: str, prints: Sequence[Fingerprint], train_values: Sequence[Value],
               names: str, min_elements: int, ignore: Sequence[str], limits: Limits) -> Iterator[Finding]:
        from driftguard.readers.tensors import NotComparable

        try:
            result = compare_file(path, reader, prints, min_elements, ignore, limits)
        except NotComparable as exc:
            yield self.finding(KEY, f"{path}: weights not comparable with {names}: {exc}", severity=Severity.WARNING,
                               training=train_values[0], related=tuple(train_values[1:]),
                               deployed=Value(Unjudged.NOT_READ.value, Origin(str(path))),
                               weights=WeightMatch(str(path), deployed=Unjudged.NOT_READ))
            return
        judged = result.matched + result.unmatched
        first = (result.unmatched or judged)[:1]
        deployed_value = Value(combined(judged), Origin(str(path), pointer=first[0].pointer if first else None),
                               note="fingerprint of the deployed weights")
        weights = WeightMatch(str(path), tuple(f.name for f in result.matched), tuple(f.name for f in result.unmatched),
                              tuple(n for n, _, _ in result.not_comparable), result.skipped)
        common: dict[str, Any] = {"training": train_values[0], "related": tuple(train_values[1:]),
                                  "deployed": deployed_value, "delta": weights.delta(), "weights": weights}
        if result.unmatched:
            yield self.finding(KEY, f"{path}: {len(result.unmatched)} of {len(judged)} weight tensors match no "
                                    f"tensor of {names}: {_describe(result.unmatched)}", **common)
        elif result.not_comparable:
            opaque, _, why = result.not_comparable[0]
            yield self.finding(KEY, f"{path}: {len(result.not_comparable)} weight tensors not comparable with "
                                    f"{names} ({opaque}: {why}); {len(result.matched)} others match",
                               severity=Severity.WARNING, **common)
        elif not judged:
            yield self.finding(KEY, f"{path}: weights not comparable with {names}: no float or dequantizable "
                                    f"weights of {min_elements}+ elements", severity=Severity.WARNING, **common)
