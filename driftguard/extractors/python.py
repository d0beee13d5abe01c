"""Python files (``serve.py``, ``eval.py``): the literal arguments of the known calls they make, read statically with
the standard ``ast`` module. The file is never imported or executed.

``readers.python_ast`` parses the file within limits and folds each argument to a value where the file alone
fixes it (literals, module constants, arithmetic, f-strings of constants, ``**{...}``); ``python_calls`` knows
which calls matter (the callee named through the file's imports: ``from vllm import SamplingParams``, never a
bare name) and resolves each one through the engine kind that reads the same fields in a file. A value computed
at run time is kept as written, ``How.UNRESOLVED``, at its line: shown, never compared, never guessed.

Several call sites are several sources of values. Where they agree, or set different keys, they are one
config (an ``LLM(...)`` and a ``SamplingParams(...)``: the engine and its requests; a request's values win over
the defaults an engine call fills). Where two set the same key differently, the file alone does not say which
runs: an input error listing the call sites, unless the artifact picks one (``call: NAME`` or ``line: N`` in
the manifest, ``ExtractOptions.call``/``line``): the picked sites' values win, the others fill what they leave.
A file with no known call is an input error naming the calls the kind reads.

Detected for ``*.py`` files whose first 4 KiB import vLLM, transformers, openai, TensorRT-LLM, lmdeploy or SGLang (read
with Python's own tokenizer); any other ``.py`` is left unclaimed (name the kind).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo
from driftguard.model import EffectiveConfig, How, Value
from driftguard.readers.files import read_text

if TYPE_CHECKING:  # imported when a .py file is read: detection asks every kind, the check of a JSON file too
    from driftguard.extractors.python_calls import Resolved

INFO = KindInfo(
    kind="python",
    description="Python file: literal arguments of vLLM, transformers, OpenAI-client, TensorRT-LLM, lmdeploy and "
                "SGLang calls (read, never run)",
    role="deployment",  # its values configure a serving engine's requests or the engine itself
    rank=70,
    namespaces=("generation", "serving", "precision", "model", "batching", "preprocessing"),
    keeps=("vllm", "hf", "openai"),
    names=("*.py",),
    # Its calls may start an engine (LLM(...)) as a launch command does, and it configures requests too: which
    # engine and serving path is the file's (EffectiveConfig.serving), so it is read with the side's engine args.
    launches=True,
)

#: Top-level modules whose import makes a ``.py`` file this kind's.
ENGINE_MODULES = frozenset(("vllm", "transformers", "openai", "tensorrt_llm", "lmdeploy", "sglang"))
_KNOWN_CALLS = ("vllm SamplingParams, LLM, EngineArgs, AsyncEngineArgs; transformers GenerationConfig, generate, "
                "pipeline, tokenizer calls; openai chat.completions.create, completions.create; tensorrt_llm "
                "SamplingParams, LLM; lmdeploy GenerationConfig, pipeline, TurbomindEngineConfig, PytorchEngineConfig; "
                "sglang Engine; "
                "requests/httpx post(json=...) to an OpenAI, TGI or SGLang endpoint")


def detect(path: Path, head: bytes) -> bool:
    """A ``.py`` file whose first bytes import a known engine module (``ENGINE_MODULES``)."""
    if path.suffix != ".py":
        return False
    from driftguard.readers import python_ast

    return bool(python_ast.imported_roots(head) & ENGINE_MODULES)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import python_calls
    from driftguard.readers import python_ast

    text = read_text(path, options.limits, "Python file")
    source = python_ast.read(text, str(path), options.limits)
    sites = [r for call in source.calls if (r := python_calls.resolve(call, source, path, options)) is not None]
    if not sites:
        raise ExtractionError(f"no known call in this Python file; the python kind reads: {_KNOWN_CALLS}",
                              str(path), 1)
    picked = _picked(sites, options, path)
    return _merge(path, picked, [s for s in sites if s not in picked], sites)


def _picked(sites: list[Resolved], options: ExtractOptions, path: Path) -> list[Resolved]:
    """The call sites the artifact entry picks (``call``: the name shown or qualified, ``line``: a line the call
    spans); none picked when it names neither. A pick that matches no site is an input error listing them."""
    if options.call is None and options.line is None:
        return []
    picked = [s for s in sites if _named(s, options.call) and _at(s, options.line)]
    if not picked:
        wanted = " and ".join(x for x in (options.call and f"call {options.call}",
                                          options.line and f"line {options.line}") if x)
        raise ExtractionError(f"no known call matches {wanted}; call sites: {_listing(sites)}", str(path),
                              options.line)
    return picked


def _named(site: Resolved, call: str | None) -> bool:
    name = site.call.name
    return call is None or call in (site.shown, name) or name.endswith("." + call)


def _at(site: Resolved, line: int | None) -> bool:
    return line is None or site.call.line <= line <= site.call.end_line


@dataclass
class _Held:
    value: Value
    site: Resolved
    tier: int


def _merge(path: Path, picked: list[Resolved], others: list[Resolved], sites: list[Resolved]) -> EffectiveConfig:
    """One config from the call sites (module docstring): stated values (explicit, or unresolved) of a higher
    tier (picked, then the rest) win; two stated values of one tier that differ are an input error; a key no
    site states takes the first request's value (a request's defaults are what runs), else the first engine
    call's."""
    held: dict[str, _Held] = {}
    order = [(0, s) for s in _ordered(picked)] + [(1, s) for s in _ordered(others)]
    for tier, site in order:
        for key, v in site.config.values.items():
            have = held.get(key)
            if have is None or (_stated(v) and not _stated(have.value)):
                held[key] = _Held(v, site, tier)
            elif _stated(v) and _stated(have.value) and have.tier == tier and v.value != have.value.value:
                _ambiguous(path, key, have, _Held(v, site, tier), sites)
    serving = next((s.config.serving for _, s in order if s.config.serving), None)
    return EffectiveConfig(INFO.kind, str(path), {k: h.value for k, h in held.items()}, serving)


def _ordered(sites: list[Resolved]) -> list[Resolved]:
    return sorted(sites, key=lambda s: (not s.request, s.call.line))


def _stated(v: Value) -> bool:
    """Written at the call site: explicit, or an expression the file does not fix. A value an engine takes from
    a model whose files are not here (``LLM(model="org/name")``: vLLM's generation_config.json layer) is not
    written, so a ``SamplingParams`` call beside it states the key alone."""
    return v.explicit or (v.how == How.UNRESOLVED and v.derived_from != ("model.source",))


def _ambiguous(path: Path, key: str, a: _Held, b: _Held, sites: list[Resolved]) -> None:
    raise ExtractionError(
        f"call sites set {key} differently: {_shown(a.value)} ({a.site.shown}, line {a.value.origin.line}) vs "
        f"{_shown(b.value)} ({b.site.shown}, line {b.value.origin.line}); pick one with `call: NAME` or "
        f"`line: N` on the artifact entry; call sites: {_listing(sites)}", str(path), b.value.origin.line)


def _shown(v: Value) -> str:
    return str(v.value) if v.how == How.UNRESOLVED else json.dumps(v.value)


def _listing(sites: list[Resolved]) -> str:
    return ", ".join(f"{s.config.path}:{s.call.line} {s.shown}" for s in sites)
