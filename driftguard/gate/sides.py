"""Build one side of a model: extract its artifacts in the order the serving path reads them, merge them with
the side's precedence, and record which serving path serves it.

Every kind's role in this (merge rank, whether it is a serving engine's file) is declared by its extractor
(``extractors.info``); nothing here lists kinds.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard import extractors
from driftguard.errors import DriftguardError, ExtractionError, ManifestError
from driftguard.extractors.base import ExtractCache, ExtractOptions
from driftguard.model import EffectiveConfig, How, Value
from driftguard.readers.limits import DEFAULT as DEFAULT_LIMITS
from driftguard.readers.limits import Limits
from driftguard.rules.base import KindTraits, Side
from driftguard.rules.decoding import with_decoding

if TYPE_CHECKING:  # the manifest pulls in pydantic
    from driftguard.manifest import Artifact as ArtifactSpec


def merge_side(configs: Sequence[EffectiveConfig]) -> dict[str, Value]:
    """One ``{key: Value}`` for a side's artifacts (in manifest order); see ``merge``."""
    return merge(configs)[0]


def merge(configs: Sequence[EffectiveConfig]) -> tuple[dict[str, Value], dict[str, tuple[Value, ...]]]:
    """The merged ``{key: Value}`` of a side's artifacts (in manifest order), and the values it shadowed.

    Precedence for a key several artifacts give, first difference wins:

    1. a serving engine's value (a kind whose ``KindInfo.engine`` is set) beats the model files', default or
       not: the engine extractor already resolved the serving path's own precedence with those files as
       context, so its value, even its documented default, is what the server does (Triton's vllm_backend
       ignores generation_config.json's ``top_k``; the merged side must too);
    2. an explicit value beats a documented default;
    3. the higher ``KindInfo.rank`` wins (config.json < tokenizer_config.json < generation_config.json <
       training arguments < checkpoint hyper-parameters; ONNX/Triton < serving engine);
    4. the later artifact in the manifest wins.

    A key whose winning value is unresolved (``How.UNRESOLVED``: ``--max-model-len $LEN`` with ``LEN`` set
    nowhere in the files) is left out of the merge: the side's value is unknown, not the next layer's.

    The winning Value keeps its origin, so every merged value still names its file and line; the losers are
    kept per key, so conflict rules and attribution can name them.
    """
    merged: dict[str, Value] = {}
    score: dict[str, tuple[bool, bool, int, int]] = {}
    shadowed: dict[str, list[Value]] = {}
    for i, cfg in enumerate(configs):
        meta = extractors.info(cfg.kind)
        for key, value in cfg.values.items():
            s = (meta.runtime, value.explicit, meta.rank, i)
            if key not in score:
                merged[key], score[key] = value, s
            elif s > score[key]:
                shadowed.setdefault(key, []).append(merged[key])
                merged[key], score[key] = value, s
            else:
                shadowed.setdefault(key, []).append(value)
    for key in [k for k, v in merged.items() if v.how == How.UNRESOLVED]:
        # The side's value is not known from its files: no value of a lower layer stands in for it, and no rule
        # compares the expression (DG304 reports it from the artifact).
        shadowed.setdefault(key, []).append(merged.pop(key))
    return merged, {k: tuple(v) for k, v in shadowed.items()}


def tied(configs: Sequence[EffectiveConfig]) -> dict[str, tuple[Value, ...]]:
    """Per key, the values that only manifest order ranks (``merge``'s rule 4): those of the artifacts that tie
    the best on the documented rules (serving engine, explicit, kind rank), in manifest order; keys one artifact
    decides are left out. Two graphs of one model, two Triton configs: which one the server uses is nowhere in
    the files, so a rule (DG204) reports them when they disagree rather than letting the later one win."""
    counts: dict[str, int] = {}
    for cfg in configs:
        for key in cfg.values:
            counts[key] = counts.get(key, 0) + 1
    best: dict[str, tuple[bool, bool, int]] = {}
    stated: dict[str, list[tuple[tuple[bool, bool, int], Value]]] = {}
    for cfg in configs:
        meta = extractors.info(cfg.kind)
        for key, value in cfg.values.items():
            if counts[key] < 2:  # one artifact states it: nothing ties
                continue
            level = (meta.runtime, value.explicit, meta.rank)
            stated.setdefault(key, []).append((level, value))
            best[key] = max(best.get(key, level), level)
    out: dict[str, tuple[Value, ...]] = {}
    for key, found in stated.items():
        top = tuple(v for level, v in found if level == best[key])
        if len(top) > 1:
            out[key] = top
    return out


def side_of(name: str, configs: Sequence[EffectiveConfig]) -> Side:
    """A Side from extracted configs: merged, with its derived ``generation.decoding``, its serving path, what
    its kinds declare and the values only manifest order ranked (``tied``)."""
    merged, shadowed = merge(configs)
    return Side(name, tuple(configs), with_decoding(merged), serving_path(configs), shadowed,
                kind_traits(c.kind for c in configs), tied(configs))


def kind_traits(kinds: Iterable[str]) -> dict[str, KindTraits]:
    """What rules may ask of each kind (``rules.base.KindTraits``), from its ``extractors.KindInfo``."""
    out: dict[str, KindTraits] = {}
    for kind in kinds:
        if kind not in out:
            info = extractors.info(kind)
            out[kind] = KindTraits(info.speaks, info.weights, info.engine_loads, info.io)
    return out


def serving_path(configs: Sequence[EffectiveConfig]) -> str | None:
    """The serving path that serves a side: the one its serving engine's files were resolved for (the last
    such artifact in manifest order), None when the side has none."""
    paths = [c.serving for c in configs if c.serving is not None]
    return paths[-1] if paths else None


#: Where an artifact entry is in the manifest, for an error about it: (entry index, key) -> (dotted location, line).
Locate = Callable[[int, str], tuple[str, int | None]]


def build_side(name: str, artifacts: Sequence[ArtifactSpec], base: Path, limits: Limits = DEFAULT_LIMITS,
               root: Path | None = None, manifest: str | None = None, cache: ExtractCache | None = None,
               locate: Locate | None = None) -> Side:
    """Extract a side's artifacts (paths relative to ``base``; kind detected when not given) and merge them.

    Every artifact must lie inside ``root`` (default ``base``) once symlinks are resolved: a manifest may not
    point the gate at files outside the tree it checks, and neither may a path an artifact names.
    ``cache``: the run's extracted model files (``extractors.base.ExtractCache``), so a file both sides,
    several models, or a model folder and one of its files name is read once. ``locate``: where each entry
    is in the manifest (``Manifest.artifact_at``), for the line of an error about an entry; without it errors
    name the key only.

    Model artifacts are extracted first, then the side's engine args (files a kind's ``KindInfo.engine_args``
    claims: vLLM's ``model.json`` or a vLLM file with engine markers) with them as ``ExtractOptions.context``,
    then the other serving-engine artifacts with both, so a request on a side with a Triton ``model.json``
    resolves through Triton's vllm_backend.
    """
    root = root if root is not None else base
    resolved: list[tuple[int, str, Path, ArtifactSpec]] = []
    where = locate if locate is not None else (lambda _i, key: (key, None))
    for i, a in enumerate(artifacts):
        at = functools.partial(where, i)
        path, kind = _resolve(a, base, root, manifest, at)
        _check_set(a, kind, path, limits, manifest, at)
        _check_pick(a, kind, manifest, at)
        resolved.append((i, kind, path, a))
    out: dict[int, EffectiveConfig] = {}
    for i, kind, path, a in resolved:
        if not extractors.info(kind).runtime:  # through the cache (a serving engine's file is read per side)
            with _forced(a, functools.partial(where, i), manifest):
                out[i] = extractors.extract(path, kind, ExtractOptions(substitutions=dict(a.set), limits=limits,
                                                                       root=root, cache=cache))
    engine_args = [r for r in resolved if _configures_engine(r[1], r[2])]
    rest = [r for r in resolved if extractors.info(r[1]).runtime and r not in engine_args]
    for phase in (engine_args, rest):
        context = tuple(out[i] for i in sorted(out))
        for i, kind, path, a in phase:
            with _forced(a, functools.partial(where, i), manifest):
                out[i] = extractors.extract(path, kind, ExtractOptions(substitutions=dict(a.set), context=context,
                                                                       limits=limits, root=root, cache=cache,
                                                                       call=a.call, line=a.line))
    return side_of(name, tuple(out[i] for i in sorted(out)))


@contextlib.contextmanager
def _forced(a: ArtifactSpec, at: Callable[[str], tuple[str, int | None]], manifest: str | None) -> Iterator[None]:
    """An artifact the manifest forced a kind on (``kind: tgi``) that its reader refuses: the error, at the
    file's own line, also names the manifest line that chose the reader, since a wrong ``kind:`` is the
    likelier mistake than a broken file."""
    try:
        yield
    except ExtractionError as exc:
        if a.kind is None or type(exc) is not ExtractionError:
            raise
        where, line = at("kind")
        chosen = f"{manifest}:{line}" if manifest and line else (manifest or "the manifest")
        raise ExtractionError(f"{exc.message} (read as kind '{a.kind}', set by {where} at {chosen})",
                              exc.path, exc.line, exc.column) from None


def _resolve(a: ArtifactSpec, base: Path, root: Path, manifest: str | None,
             at: Callable[[str], tuple[str, int | None]]) -> tuple[Path, str]:
    """An artifact entry's path (inside ``root``) and kind. A kind no extractor has, a path that is missing,
    outside ``root`` or of a kind that cannot be told, is a ManifestError at the entry's line in the manifest."""
    from driftguard.readers.files import confine, exists

    if a.kind is not None:
        try:
            extractors.get(a.kind)
        except DriftguardError as exc:
            raise _at(at, "kind", exc.message, manifest) from None
    try:
        path = confine(base / a.path, root, "artifact", origin=manifest)
        if not exists(path):
            raise ExtractionError("no such file or folder", str(path))
        return path, a.kind or extractors.detect(path)
    except DriftguardError as exc:
        raise _at(at, "path", f"'{a.path}': {exc.message}", manifest) from None


def _check_set(a: ArtifactSpec, kind: str, path: Path, limits: Limits, manifest: str | None,
               at: Callable[[str], tuple[str, int | None]]) -> None:
    """ManifestError at the entry's ``set:`` line for a name no placeholder of the artifact has."""
    if not a.set:
        return
    from driftguard.extractors import templates

    unused, found = templates.unused([(kind, path)], ExtractOptions(substitutions=dict(a.set), limits=limits))
    if unused:
        raise _at(at, "set", templates.message(unused, {a.path: found[str(path)]}, flag=""), manifest)


def _check_pick(a: ArtifactSpec, kind: str, manifest: str | None,
                at: Callable[[str], tuple[str, int | None]]) -> None:
    """ManifestError at the entry's ``call:``/``line:`` for a kind whose files have no call sites to pick."""
    for key, given in (("call", a.call), ("line", a.line)):
        if given is not None and kind != "python":
            raise _at(at, key, f"'{key}' picks a call site of a Python file; '{a.path}' is read as {kind}", manifest)


def _at(at: Callable[[str], tuple[str, int | None]], key: str, message: str, manifest: str | None) -> ManifestError:
    where, line = at(key)
    return ManifestError(f"{where}: {message}", manifest, line)


def _configures_engine(kind: str, path: Path) -> bool:
    """True for a serving engine's file that configures the engine itself (``KindInfo.engine_args``: vLLM
    engine args, Triton's ``model.json``; ``KindInfo.launches``: a launch command), read before the side's
    requests."""
    info = extractors.info(kind)
    return info.launches or (info.runtime and info.engine_args is not None and info.engine_args(path))
