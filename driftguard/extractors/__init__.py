"""Extractors: one module per source format, found through this explicit registry.

``EXTRACTORS`` maps a kind name to the module that implements it (see ``base.Extractor``). Modules are
imported only when used, so a Triton-only check never imports the ONNX or torch code paths. Third parties add
kinds through the ``driftguard.extractors`` entry point (value: a module path).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors.base import ExtractOptions, Extractor
from driftguard.model import EffectiveConfig

#: kind → module implementing it. Order matters for detection: first match wins.
EXTRACTORS: dict[str, str] = {
    "triton": "driftguard.extractors.triton",
    "hf-model": "driftguard.extractors.hf_model",
    "hf-generation": "driftguard.extractors.hf_generation",
    "hf-config": "driftguard.extractors.hf_config",
    "hf-tokenizer": "driftguard.extractors.hf_tokenizer",
    "onnx": "driftguard.extractors.onnx_graph",
    "safetensors": "driftguard.extractors.safetensors_file",
    "lightning": "driftguard.extractors.lightning",
    "torch": "driftguard.extractors.torch_checkpoint",
    "training-args": "driftguard.extractors.training_args",
    "vllm": "driftguard.extractors.vllm",
    "tgi": "driftguard.extractors.tgi",
    "tensorrt-llm": "driftguard.extractors.tensorrt_llm",
    "openai": "driftguard.extractors.openai",
    "lmdeploy": "driftguard.extractors.lmdeploy",
}


@cache
def _entry_points() -> dict[str, str]:
    from driftguard.plugins import entry_points

    return {ep.name: ep.value for ep in entry_points("driftguard.extractors")}


def available_kinds() -> list[str]:
    """Every kind this installation can extract: built-in first, then plug-ins."""
    kinds = [k for k in EXTRACTORS if _module_exists(EXTRACTORS[k])]
    kinds += [k for k in _entry_points() if k not in EXTRACTORS]
    return kinds


@cache  # detection asks for every kind of every artifact: one import-system lookup per module, not thousands
def _module_exists(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ImportError:
        return False


def get(kind: str) -> Extractor:
    """The extractor module of a kind; UsageError listing the kinds when unknown."""
    module = EXTRACTORS.get(kind) or _entry_points().get(kind)
    if module is None or not _module_exists(module):
        raise UsageError(f"unknown kind '{kind}'; known kinds: {', '.join(available_kinds())}")
    return cast(Extractor, importlib.import_module(module))


@dataclass(frozen=True)
class KindInfo:
    """What the gate needs to know about a kind, declared by its extractor module (``ROLE``, ``RANK``,
    ``ENGINE``, ``NAMESPACES``; plug-ins that declare none get the defaults below).

    ``role``: the side the kind usually belongs to (``training``, ``deployment``, ``either``), for ``init``.
    ``rank``: merge rank within a side, low to high (``gate.sides.merge_side``).
    ``engine``: the serving engine the kind configures (its files are extracted after the side's model files,
    which they get as context, and its resolved values win the merge); None for model files.
    ``namespaces``: canonical namespaces the kind can state beyond those of its documented defaults (DG103).
    """

    kind: str
    role: str = "either"
    rank: int = 45
    engine: str | None = None
    namespaces: tuple[str, ...] = ()

    @property
    def runtime(self) -> bool:
        """A serving engine's runtime parameters (request, engine args)."""
        return self.engine is not None


@cache
def info(kind: str) -> KindInfo:
    """The metadata of a kind (UsageError when unknown)."""
    module = get(kind)
    return KindInfo(kind, getattr(module, "ROLE", "either"), getattr(module, "RANK", 45),
                    getattr(module, "ENGINE", None), tuple(getattr(module, "NAMESPACES", ())))


def _exists(path: Path) -> bool:
    from driftguard.readers.files import exists

    return exists(path)


def split_kind(spec: str) -> tuple[str | None, str]:
    """``KIND:PATH`` → (kind, path); a plain path → (None, path). Windows drive letters are not kinds."""
    head, sep, tail = spec.partition(":")
    if sep and tail and (head in EXTRACTORS or head in _entry_points()):
        return head, tail
    if sep and tail and len(head) > 1 and "/" not in head and "\\" not in head and "." not in head \
            and not _exists(Path(spec)):
        raise UsageError(f"unknown kind '{head}' in '{spec}'; known kinds: {', '.join(available_kinds())}")
    return None, spec


def detect(path: Path) -> str:
    """The kind of an artifact from its name and first bytes; UsageError when none or several match."""
    if not _exists(path):
        raise ExtractionError("no such file or folder", str(path))
    from driftguard.readers.files import head as read_head

    head = read_head(path)  # refuses FIFOs and devices: detection must not block or read without end
    for kind in available_kinds():
        try:
            if get(kind).detect(path, head):
                return kind
        except (OSError, ValueError):
            continue
    raise UsageError(
        f"cannot tell what kind of artifact this is; name it as KIND:PATH (or kind: in the manifest), "
        f"one of: {', '.join(available_kinds())}",
        str(path),
    )


def extract(path: str | Path, kind: str | None = None, options: ExtractOptions | None = None) -> EffectiveConfig:
    """Extract one artifact's effective config; ``kind`` forces the extractor, else it is detected."""
    p = Path(path)
    if kind is None:
        kind = detect(p)
    elif not _exists(p):
        raise ExtractionError("no such file or folder", str(p))
    options = options or ExtractOptions()
    cache = options.cache
    if cache is None or info(kind).runtime:
        return get(kind).extract(p, options)
    # A model file reads the same whichever side, model or model folder names it: once per run.
    key = (str(p.resolve()), kind, tuple(sorted(options.substitutions.items())), options.limits,
           str(options.root_for(p).resolve()))
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = get(kind).extract(p, options)
    return hit


__all__ = ["EXTRACTORS", "ExtractOptions", "Extractor", "KindInfo", "available_kinds", "detect", "extract", "get",
           "info", "split_kind"]
