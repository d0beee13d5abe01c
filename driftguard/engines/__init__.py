"""Serving paths as data: one ``EngineSpec`` per way a request reaches a model (``spec.py`` says what a spec
holds). Extractors apply a spec; rules ask it what the engine does (DG303's ranges, DG105's dtype resolution);
the gate records which path serves a side.

Modules are plain tables and small pure functions: importing this package reads no file and imports nothing
heavy.
"""

from __future__ import annotations

from driftguard.engines import lmdeploy, openai, tensorrt_llm, tgi, transformers, vllm
from driftguard.engines.spec import Decision, EngineSpec, Field, GenerationConfigUse, Layer, Range

#: Every serving path by name.
SPECS: dict[str, EngineSpec] = {s.name: s for s in (
    transformers.GENERATE, vllm.SERVE, vllm.TRITON, tgi.ROUTER, openai.CHAT, openai.COMPLETIONS,
    tensorrt_llm.TRITON, tensorrt_llm.LLM_API, tensorrt_llm.SERVE,
    lmdeploy.PIPELINE, lmdeploy.SERVER, lmdeploy.TURBOMIND,
)}


def get(name: str) -> EngineSpec:
    """The spec of a serving path; KeyError naming the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown serving path '{name}'; one of: {', '.join(SPECS)}") from None


def _canonical_ranges() -> dict[str, Range]:
    """The range each canonical key must lie in wherever it is written, for rule DG303: transformers'
    validation for ``generation.*`` (the strictest common reading: a file valid for ``generate()``), and the
    serving config's for batching, instances and context lengths. Engines' own request ranges are applied
    where their files are read (an engine that rejects a value makes it an input error)."""
    out = {f.key: f.range for f in transformers.FIELDS.values() if f.range is not None}
    out.update(transformers.SERVING_RANGES)
    return out


#: Canonical key -> Range, for DG303.
CANONICAL_RANGES: dict[str, Range] = _canonical_ranges()

__all__ = ["CANONICAL_RANGES", "SPECS", "Decision", "EngineSpec", "Field", "GenerationConfigUse", "Layer", "Range",
           "get"]
