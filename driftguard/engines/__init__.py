"""Serving engines as data: one module per engine, each holding one ``EngineSpec`` per way a request reaches
its model (a serving path; ``spec.py`` says what a spec holds). Extractors apply a spec; rules ask it what the
engine does (DG303's ranges, DG105's dtype resolution); the gate records which path serves a side.

``ENGINES`` is the one registry of engines (``driftguard.registry``): engine name -> its module, plus the
``driftguard.engines`` entry-point group (value: a module path). An engine module (``Engine``) declares
``SPECS``, its serving paths, and ``EXTRACTOR``, the module path of the extractor of its request / launch-args
kind (None when it has none), a string because engines never import extractors: the kind is named as the
engine, and ``driftguard.extractors`` derives it from here. The module holds everything driftguard knows about
the engine: its fields and ranges, its documented default tables (the layers of its specs), its decoding and
dtype rules. Adding an engine is its module(s) and one line here.

``LAUNCHERS`` is the registry of launchers (the programs people type to start a server, ``launcher.py`` says
what one is): launcher family -> a module declaring ``LAUNCHERS: tuple[Launcher, ...]``, plus the
``driftguard.launchers`` entry-point group (value: a module path). ``launchers()`` lists them all, in registry
order; ``extractors.launch_common`` matches commands against them. Adding a launcher is its module and one line
in that table.

Modules are plain tables and small pure functions: importing this package reads no file and imports nothing
heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from driftguard.engines import transformers
from driftguard.engines.spec import Decision, EngineSpec, Field, GenerationConfigUse, Layer, Range
from driftguard.registry import PluginLoadError, Ref, Registry, module_with

if TYPE_CHECKING:  # re-exported, imported on first use (``__getattr__``): only launch commands need them
    from driftguard.engines.launcher import Flag as Flag
    from driftguard.engines.launcher import Invocation as Invocation
    from driftguard.engines.launcher import Launcher as Launcher


class Engine(Protocol):
    """An engine module: ``SPECS``, its serving paths (each spec's ``engine`` is the engine's name), and
    ``EXTRACTOR``, the ``module`` of its request kind's extractor, or None."""

    SPECS: tuple[EngineSpec, ...]
    EXTRACTOR: str | None


def _accept(obj: object) -> Engine:
    """An engine module (TypeError saying what it lacks, which the registry turns into a PluginLoadError naming
    the plug-in)."""
    module = module_with("SPECS", "EXTRACTOR")(obj)
    specs, extractor = module.SPECS, module.EXTRACTOR
    if not isinstance(specs, tuple) or not specs or not all(isinstance(s, EngineSpec) for s in specs):
        what = (f"is a {type(specs).__name__}" if not isinstance(specs, tuple) else "is empty" if not specs else
                "holds a " + ", ".join(sorted({type(s).__name__ for s in specs if not isinstance(s, EngineSpec)})))
        raise TypeError(f"a module whose SPECS is a non-empty tuple of driftguard.engines.spec.EngineSpec (it {what})")
    if not (extractor is None or (isinstance(extractor, str) and extractor)):
        raise TypeError(f"a module whose EXTRACTOR is a module path or None (it is a {type(extractor).__name__})")
    return cast(Engine, module)


#: Every engine by name, built-ins in this order (their kinds are detected in it, after the model files'),
#: then plug-ins.
ENGINES: Registry[Engine] = Registry("driftguard.engines", {
    "transformers": "driftguard.engines.transformers",
    "vllm": "driftguard.engines.vllm",
    "tgi": "driftguard.engines.tgi",
    "tensorrt-llm": "driftguard.engines.tensorrt_llm",
    "openai": "driftguard.engines.openai",
    "lmdeploy": "driftguard.engines.lmdeploy",
    "sglang": "driftguard.engines.sglang",
}, _accept)


class LauncherModule(Protocol):
    """A launcher module: ``LAUNCHERS``, the launchers of one family (``launcher.Launcher`` records)."""

    LAUNCHERS: tuple[Launcher, ...]


def _accept_launchers(obj: object) -> LauncherModule:
    """A launcher module (TypeError saying what it lacks: the registry names the plug-in)."""
    from driftguard.engines.launcher import Launcher

    module = module_with("LAUNCHERS")(obj)
    found = module.LAUNCHERS
    if not isinstance(found, tuple) or not found or not all(isinstance(x, Launcher) for x in found):
        raise TypeError("a module whose LAUNCHERS is a non-empty tuple of driftguard.engines.launcher.Launcher")
    return cast(LauncherModule, module)


#: Every launcher family by name, built-ins in this order (a command is matched against them in it), then
#: plug-ins.
LAUNCHERS: Registry[LauncherModule] = Registry("driftguard.launchers", {
    "vllm": "driftguard.engines.vllm_launcher",
    "tgi": "driftguard.engines.tgi_launcher",
    "tensorrt-llm": "driftguard.engines.tensorrt_llm_launcher",
    "lmdeploy": "driftguard.engines.lmdeploy_launcher",
    "sglang": "driftguard.engines.sglang_launcher",
    "tritonserver": "driftguard.engines.triton_launcher",
    "llama-cpp": "driftguard.engines.llama_cpp_launcher",
}, _accept_launchers)


def launchers() -> list[Launcher]:
    """Every launcher of every registered family, in registry order; the first of a name wins."""
    out: dict[str, Launcher] = {}
    for _, module in LAUNCHERS.items():
        for launcher in module.LAUNCHERS:
            out.setdefault(launcher.name, launcher)
    return list(out.values())


def engine(name: str) -> Engine:
    """The module of an engine; KeyError naming the known ones, PluginLoadError when it cannot be loaded, is
    not an engine module, or declares a serving path of another engine."""
    module = ENGINES.load(name)
    for spec in module.SPECS:
        if spec.engine != name:
            ref = ENGINES.ref(name)
            raise PluginLoadError(f"{ENGINES.group} '{name} = {ref.target if ref else name}' is not the engine "
                                  f"'{name}': its serving path '{spec.name}' is of engine '{spec.engine}'")
    return module


def specs() -> dict[str, EngineSpec]:
    """Every serving path by name (``EngineSpec.name``): the engines' in registry order, each engine's in its
    ``SPECS`` order; the first of a name wins (a built-in engine's over a plug-in's)."""
    out: dict[str, EngineSpec] = {}
    for name in ENGINES.names():
        for spec in engine(name).SPECS:
            out.setdefault(spec.name, spec)
    return out


def find(path: str) -> EngineSpec | None:
    """The spec of a serving path, None when no engine declares it; PluginLoadError when an engine it looks
    through cannot be loaded. Engines are loaded in registry order until one declares the path, so a built-in
    path never loads a plug-in."""
    for name in ENGINES.names():
        for spec in engine(name).SPECS:
            if spec.name == path:
                return spec
    return None


def get(path: str) -> EngineSpec:
    """The spec of a serving path (``find``); KeyError naming the known ones when no engine declares it."""
    spec = find(path)
    if spec is None:
        raise KeyError(f"unknown serving path '{path}'; one of: {', '.join(specs())}")
    return spec


def kinds() -> list[Ref]:
    """The request kinds the engines declare, for ``driftguard.extractors``: kind (the engine's name) ->
    ``EXTRACTOR``, built-in when the engine is, in registry order."""
    return [Ref(r.name, extractor, r.builtin) for r in ENGINES.refs()
            if (extractor := engine(r.name).EXTRACTOR) is not None]


def clear() -> None:
    """Forget loaded engines and the entry points (tests that install a plug-in call this, after
    ``driftguard.plugins.clear_cache``)."""
    ENGINES.clear()
    LAUNCHERS.clear()


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

def __getattr__(name: str) -> object:
    """``Flag``, ``Invocation`` and ``Launcher``, imported on first use: a check of model files and requests
    reads no launch command."""
    if name in ("Flag", "Invocation", "Launcher"):
        from driftguard.engines import launcher

        return getattr(launcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CANONICAL_RANGES", "ENGINES", "LAUNCHERS", "Decision", "Engine", "EngineSpec", "Field", "Flag",
           "GenerationConfigUse", "Invocation", "Launcher", "LauncherModule", "Layer", "Range", "clear", "engine",
           "find", "get", "kinds", "launchers", "specs"]
