"""Extractors: one module per source format, found through one registry (``driftguard.registry``).

``EXTRACTORS`` maps a kind name to the module that implements it (``base.Extractor``: ``INFO``, a
``base.KindInfo`` record, plus ``detect`` and ``extract``): the model-file kinds from its own table, then each
serving engine's request kind, which the engine declares (``engines.Engine.EXTRACTOR``, the kind named as the
engine), so one ``driftguard.engines`` entry point adds an engine's serving paths and its kind; third parties
add other kinds through the ``driftguard.extractors`` entry-point group (value: a module path). Modules are
imported only when used, so a Triton-only check never imports the ONNX or torch code paths. A module without a
valid ``INFO`` for its name is a ``PluginLoadError`` naming it.

Detection (``detect``) asks every kind, never the first that answers: a kind claims a file by name when the
name matches its ``KindInfo.names`` and its ``detect`` agrees, else by content (``detect`` alone). Name claims
outrank content claims; two claims on the same footing make the file ambiguous, an input error listing the
candidates and how to name one (``KIND:PATH``, ``kind:``). A new kind follows the rule by declaring the names
its format owns and claiming content only on a strong signal (``base.Extractor.detect``).
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import cast

from driftguard import engines
from driftguard.errors import ExtractionError, UsageError, did_you_mean
from driftguard.extractors.base import ExtractOptions, Extractor, KindInfo
from driftguard.model import EffectiveConfig
from driftguard.registry import PluginLoadError, Registry, module_with

#: Every kind, kind -> module: the model-file kinds of this table, then the serving engines' kinds
#: (``engines.kinds()``: built-in engines first), then plug-ins. Detection asks every kind (``detect``).
EXTRACTORS: Registry[Extractor] = Registry("driftguard.extractors", {
    "triton": "driftguard.extractors.triton",
    "hf-model": "driftguard.extractors.hf_model",
    "genai": "driftguard.extractors.genai",
    "tensorrt-llm-engine": "driftguard.extractors.tensorrt_llm_engine",
    "hf-preprocessor": "driftguard.extractors.hf_preprocessor",
    "hf-generation": "driftguard.extractors.hf_generation",
    "hf-config": "driftguard.extractors.hf_config",
    "hf-tokenizer": "driftguard.extractors.hf_tokenizer",
    "onnx": "driftguard.extractors.onnx",
    "safetensors": "driftguard.extractors.safetensors",
    "gguf": "driftguard.extractors.gguf",
    "ollama": "driftguard.extractors.ollama",
    "lightning": "driftguard.extractors.lightning",
    "torch": "driftguard.extractors.torch",
    "training-args": "driftguard.extractors.training_args",
    "shell": "driftguard.extractors.shell",
    "llamafactory": "driftguard.extractors.llamafactory",
    "axolotl": "driftguard.extractors.axolotl",
    "glm-finetune": "driftguard.extractors.glm_finetune",
    "dockerfile": "driftguard.extractors.dockerfile",
    "compose": "driftguard.extractors.compose",
    "kubernetes": "driftguard.extractors.kubernetes",
    "snapshot": "driftguard.extractors.snapshot",
    "python": "driftguard.extractors.python",
}, lambda obj: _accept(obj), derived=engines.kinds)


def _accept(obj: object) -> Extractor:
    """An extractor module: ``INFO`` a KindInfo, ``detect`` and ``extract`` callables (TypeError saying what
    it lacks, which the registry turns into a PluginLoadError naming the plug-in)."""
    module = module_with("INFO", "detect", "extract")(obj)
    info = module.INFO
    if not isinstance(info, KindInfo):
        raise TypeError(f"a module whose INFO is a driftguard.extractors.base.KindInfo (it is a {type(info).__name__})")
    if not (callable(module.detect) and callable(module.extract)):
        raise TypeError("a module with callable detect and extract")
    return cast(Extractor, module)


def available_kinds() -> list[str]:
    """Every kind this installation can extract: built-in first, then plug-ins."""
    return EXTRACTORS.names()


def get(kind: str) -> Extractor:
    """The extractor module of a kind; UsageError listing the kinds when unknown, PluginLoadError when its
    module cannot be loaded or declares another kind."""
    module = EXTRACTORS.get(kind)
    if module is None:
        raise UsageError(f"unknown kind '{kind}'; known kinds: {', '.join(available_kinds())}"
                         f"{did_you_mean(kind, available_kinds())}")
    if module.INFO.kind != kind:
        ref = EXTRACTORS.ref(kind)
        raise PluginLoadError(f"{EXTRACTORS.group} '{kind} = {ref.target if ref else kind}' is not the extractor of "
                              f"'{kind}': its INFO.kind is '{module.INFO.kind}'")
    return module


@cache
def info(kind: str) -> KindInfo:
    """The kind info its extractor module declares (UsageError when the kind is unknown)."""
    return get(kind).INFO


def kept_namespaces(kind: str) -> tuple[str, ...]:
    """The namespaces a kind keeps its format's own keys under: ``KindInfo.keeps``, and for a kind that reads launch
    commands (``KindInfo.launches``) every registered launcher's, since a script or container may start any."""
    kind_info = info(kind)
    if not kind_info.launches:
        return kind_info.keeps
    return tuple(dict.fromkeys((*kind_info.keeps, *(lc.namespace.split(".", 1)[0] for lc in engines.launchers()))))


def format_namespaces() -> list[str]:
    """Every namespace a kind keeps its format's own keys under (``kept_namespaces``), in registry order."""
    return list(dict.fromkeys(ns for kind in available_kinds() for ns in kept_namespaces(kind)))


def builtin_kinds() -> list[str]:
    """The kinds driftguard itself provides: its model-file kinds, then its engines' kinds."""
    return [r.name for r in EXTRACTORS.refs() if r.builtin]


def clear() -> None:
    """Forget loaded extractors, kind infos, engines and entry points (tests that install a plug-in call this,
    after ``driftguard.plugins.clear_cache``)."""
    engines.clear()
    EXTRACTORS.clear()
    info.cache_clear()


def _exists(path: Path) -> bool:
    from driftguard.readers.files import exists

    return exists(path)


def split_kind(spec: str) -> tuple[str | None, str]:
    """``KIND:PATH`` → (kind, path); a plain path → (None, path). Windows drive letters are not kinds."""
    head, sep, tail = spec.partition(":")
    if sep and tail and head in EXTRACTORS:
        return head, tail
    if sep and tail and len(head) > 1 and "/" not in head and "\\" not in head and "." not in head \
            and not _exists(Path(spec)):
        raise UsageError(f"unknown kind '{head}' in '{spec}'; known kinds: {', '.join(available_kinds())}"
                         f"{did_you_mean(head, available_kinds())}")
    return None, spec


def candidates(path: Path) -> tuple[list[str], str]:
    """The kinds that claim an artifact, and on what footing (``name`` or ``content``): those whose
    ``KindInfo.names`` match its name and whose ``detect`` agrees, else those whose ``detect`` claims its content
    (none: ``([], "content")``). ExtractionError when it does not exist."""
    if not _exists(path):
        raise ExtractionError("no such file or folder", str(path))
    from driftguard.readers.documents import sniffing
    from driftguard.readers.files import head as read_head

    head = read_head(path)  # refuses FIFOs and devices: detection must not block or read without end
    with sniffing(path, head):  # each kind asks about the same file: it is read and parsed once
        claims = [kind for kind in available_kinds() if _claims(kind, path, head)]
    by_name = [kind for kind in claims if any(fnmatchcase(path.name, p) for p in info(kind).names)]
    return (by_name, "name") if by_name else (claims, "content")


def detect(path: Path) -> str:
    """The kind of an artifact from its name and first bytes: the one kind that claims it by name, else the one
    that claims it by content (``candidates``); UsageError naming the candidates when several do, or the kinds
    when none does."""
    found, footing = candidates(path)
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"ambiguous: {', '.join(found)} all claim this file by {footing}; name the one that reads "
                         f"it as KIND:PATH (or kind: in the manifest)", str(path))
    raise UsageError(
        f"cannot tell what kind of artifact this is; name it as KIND:PATH (or kind: in the manifest), "
        f"one of: {', '.join(available_kinds())}",
        str(path),
    )


def _claims(kind: str, path: Path, head: bytes) -> bool:
    """Whether ``kind``'s detect claims the file (a detect that fails on odd input claims nothing)."""
    try:
        return bool(get(kind).detect(path, head))
    except (OSError, ValueError):
        return False


def extract(path: str | Path, kind: str | None = None, options: ExtractOptions | None = None) -> EffectiveConfig:
    """Extract one artifact's effective config; ``kind`` forces the extractor, else it is detected."""
    p = Path(path)
    if kind is None:
        kind = detect(p)
    elif not _exists(p):
        raise ExtractionError("no such file or folder", str(p))
    options = options or ExtractOptions()
    from driftguard.readers import files

    if not files.confinement():  # on its own (not in a gate run, which confines to its tree): to the artifact's
        with files.confined(options.root_for(p)):
            return extract(p, kind, options)
    cache = options.cache
    if cache is None or info(kind).runtime:
        return get(kind).extract(p, options)
    # A model file reads the same whichever side, model or model folder names it: once per run. The root as
    # given (a run has one): resolving it again for every artifact cost more than the rare second spelling saves.
    key = (os.path.realpath(p), kind, tuple(sorted(options.substitutions.items())), options.limits,
           str(options.root_for(p)))
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = get(kind).extract(p, options)
    return hit


__all__ = ["EXTRACTORS", "ExtractOptions", "Extractor", "KindInfo", "available_kinds", "builtin_kinds", "candidates",
           "clear", "detect", "extract", "format_namespaces", "get", "info", "kept_namespaces", "split_kind"]
