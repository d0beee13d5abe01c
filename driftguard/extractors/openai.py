"""OpenAI-style requests (Chat Completions ``messages`` / legacy Completions ``prompt``) resolved with the
OpenAI API's documented defaults (defaults.md §5). The API has no top_k, repetition_penalty or min_p.

Documented request fields that map to no canonical key are kept under ``openai.*``; a field the API does not
define (a typo, ``top-p``, an engine extension such as ``top_k``) is kept as ``openai.unknown_fields.<name>``
with the closest documented name, and rule DG304 reports it: api.openai.com rejects such a request, and an
OpenAI-compatible server either drops the field or reads it as its own extension, so either way the file does
not say what an OpenAI client means. A file with no OpenAI field at all is an input error.
"""

from __future__ import annotations

from pathlib import Path

from driftguard.engines import openai as openai_engine
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    apply_fields,
    endpoint,
    fill_layers,
    flag_unknown,
    keep_namespaced,
    load_document,
    require_mapping,
    sniff,
)
from driftguard.model import EffectiveConfig

INFO = KindInfo(
    kind="openai",
    description="OpenAI-style chat/completions request body (messages or prompt, with max_tokens)",
    role="deployment",
    rank=70,
    engine="openai",
    namespaces=("generation",),
    keeps=("openai",),
    defaults=openai_engine.OPENAI_DEFAULTS,
    engine_shown=False,  # every engine speaks the OpenAI request shape
)

_NOT_CONFIG = ("messages", "prompt", "input")
_API_FIELDS = openai_engine.CHAT.known | openai_engine.COMPLETIONS.known


def detect(path: Path, head: bytes) -> bool:
    """A JSON body in the API's shape: ``messages`` a list of role objects, or ``prompt`` with ``max_tokens``,
    and every member a field the API defines (a vLLM extension such as ``top_k`` says the engine is not
    OpenAI's: name the kind). ``prompt`` and ``temperature`` alone are in many products' YAML configs."""
    if path.suffix.lower() != ".json":
        return False
    data = sniff(path, head)
    if not isinstance(data, dict) or not set(map(str, data)) <= _API_FIELDS:
        return False
    messages = data.get("messages")
    if isinstance(messages, list) and messages and all(isinstance(m, dict) and "role" in m for m in messages):
        return "max_tokens" in data or "max_completion_tokens" in data
    return isinstance(data.get("prompt"), (str, list)) and ("max_tokens" in data or "max_completion_tokens" in data)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    return extract_document(load_document(path, options.limits), options)


def extract_document(doc: Document, options: ExtractOptions) -> EffectiveConfig:
    """The effective config of an already-read request body (the python kind hands a client call's arguments
    here as a Document whose lines are the call's)."""
    path = doc.path
    data = require_mapping(doc, "an OpenAI chat/completions request body")
    if "messages" not in data and "prompt" not in data:
        raise ExtractionError("not an OpenAI request: expected 'messages' (chat) or 'prompt' (completions)",
                              str(path), doc.line("") or 1)
    b = ValueBuilder(INFO.kind, path)
    spec = openai_engine.CHAT if "messages" in data else openai_engine.COMPLETIONS
    unknown = flag_unknown(b, doc, "openai", spec.ignored_why, data, "", spec.known)
    # max_completion_tokens supersedes the deprecated max_tokens: apply it last so it wins.
    ordered = {k: v for k, v in data.items() if k != "max_completion_tokens"}
    if "max_completion_tokens" in data:
        ordered["max_completion_tokens"] = data["max_completion_tokens"]
    used = apply_fields(b, doc, ordered, "", spec, "request")
    endpoint(b, doc, data, spec)
    keep_namespaced(b, doc, "openai", data, "", used | unknown | set(_NOT_CONFIG), "request")
    fill_layers(b, spec)
    apply_decoding(b, spec)
    return b.build()
