"""Serving paths as data: one ``EngineSpec`` per way a request reaches a model (``spec.py`` says what a spec
holds). Extractors apply a spec; rules ask it what the engine does (DG303's ranges, DG105's dtype resolution);
the gate records which path serves a side.

``SPECS`` is the one registry of serving paths (``driftguard.registry``): path name -> ``module:attr`` of its
spec, plus the ``driftguard.engines`` entry-point group (value: ``module:attr`` of an ``EngineSpec``). An engine
module holds everything driftguard knows about the engine: its fields and ranges, its documented default tables
(the layers of its specs), its decoding and dtype rules. Adding an engine is its module(s) and one line here.

Modules are plain tables and small pure functions: importing this package reads no file and imports nothing
heavy.
"""

from __future__ import annotations

from driftguard.engines import transformers
from driftguard.engines.spec import Decision, EngineSpec, Field, GenerationConfigUse, Layer, Range
from driftguard.registry import Registry


def _accept(obj: object) -> EngineSpec:
    if not isinstance(obj, EngineSpec):
        raise TypeError("a driftguard.engines.spec.EngineSpec")
    return obj


#: Every serving path by name (``EngineSpec.name``), built-ins in this order, then plug-ins.
SPECS: Registry[EngineSpec] = Registry("driftguard.engines", {
    "transformers": "driftguard.engines.transformers:GENERATE",
    "vllm-serve": "driftguard.engines.vllm:SERVE",
    "triton-vllm": "driftguard.engines.vllm:TRITON",
    "tgi": "driftguard.engines.tgi:ROUTER",
    "openai": "driftguard.engines.openai:CHAT",
    "openai-completions": "driftguard.engines.openai:COMPLETIONS",
    "triton-tensorrtllm": "driftguard.engines.tensorrt_llm:TRITON",
    "trtllm-llmapi": "driftguard.engines.tensorrt_llm:LLM_API",
    "trtllm-serve": "driftguard.engines.tensorrt_llm:SERVE",
    "lmdeploy-pipeline": "driftguard.engines.lmdeploy:PIPELINE",
    "lmdeploy-server": "driftguard.engines.lmdeploy:SERVER",
    "turbomind": "driftguard.engines.lmdeploy:TURBOMIND",
}, _accept)


def get(name: str) -> EngineSpec:
    """The spec of a serving path; KeyError naming the known ones, PluginLoadError when a plug-in's reference
    cannot be loaded, is not an EngineSpec, or names another path."""
    spec = SPECS.get(name)
    if spec is None:
        raise KeyError(f"unknown serving path '{name}'; one of: {', '.join(SPECS.names())}")
    if spec.name != name:
        from driftguard.registry import PluginLoadError

        raise PluginLoadError(f"{SPECS.group} '{name}' is not the spec of '{name}': its name is '{spec.name}'")
    return spec


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
