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
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors import runtime_common as rc
from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.keys import OPENAI_COMPLETIONS_DEFAULTS, OPENAI_DEFAULTS
from driftguard.model import EffectiveConfig

KIND = "openai"
DESCRIPTION = "OpenAI-style chat/completions request body (messages or prompt, with max_tokens)"

FIELDS: rc.Fields = {
    "temperature": ("generation.temperature", "float"),
    "top_p": ("generation.top_p", "float"),
    "n": ("generation.num_return_sequences", "int"),
    "max_tokens": ("generation.max_new_tokens", "int"),
    "max_completion_tokens": ("generation.max_new_tokens", "int"),
    "presence_penalty": ("generation.presence_penalty", "float"),
    "frequency_penalty": ("generation.frequency_penalty", "float"),
    "seed": ("generation.seed", "int"),
    "stop": ("generation.stop", "strs"),
}
_NOT_CONFIG = ("messages", "prompt", "input")
#: The other documented Chat Completions / Completions request fields (defaults.md §5).
_OTHER = frozenset((
    "model", "stream", "stream_options", "logprobs", "top_logprobs", "logit_bias", "user", "response_format",
    "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call", "modalities", "audio", "store",
    "metadata", "reasoning_effort", "service_tier", "prediction", "web_search_options", "suffix", "echo",
    "best_of", "verbosity", "prompt_cache_key", "safety_identifier",
))
_KNOWN = frozenset(FIELDS) | frozenset(_NOT_CONFIG) | _OTHER
_IGNORED = "not an OpenAI API field (api.openai.com rejects it; compatible servers may drop it)"


def _check(name: str, value: Any) -> str | None:
    if name == "temperature" and not 0 <= value <= 2:
        return "must be in [0, 2]"
    if name == "top_p" and not 0 <= value <= 1:
        return "must be in [0, 1]"
    if name in ("presence_penalty", "frequency_penalty") and not -2 <= value <= 2:
        return "must be in [-2, 2]"
    if name == "n" and not 1 <= value <= 128:
        return "must be in [1, 128]"
    if name in ("max_tokens", "max_completion_tokens") and value < 1:
        return "must be at least 1"
    return None


def detect(path: Path, head: bytes) -> bool:
    data = rc.sniff(path, head)
    return isinstance(data, dict) and ("messages" in data or "prompt" in data) and \
        ("max_tokens" in data or "max_completion_tokens" in data)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    doc = rc.load_document(path, options.limits)
    data = rc.require_mapping(doc, "an OpenAI chat/completions request body")
    if "messages" not in data and "prompt" not in data:
        raise ExtractionError("not an OpenAI request: expected 'messages' (chat) or 'prompt' (completions)",
                              str(path), doc.line("") or 1)
    b = ValueBuilder(KIND, path)
    unknown = rc.flag_unknown(b, doc, "openai", _IGNORED, data, "", _KNOWN)
    # max_completion_tokens supersedes the deprecated max_tokens: apply it last so it wins.
    ordered = {k: v for k, v in data.items() if k != "max_completion_tokens"}
    if "max_completion_tokens" in data:
        ordered["max_completion_tokens"] = data["max_completion_tokens"]
    used = rc.apply_fields(b, doc, ordered, "", FIELDS, "request", _check)
    rc.keep_namespaced(b, doc, "openai", data, "", used | unknown | set(_NOT_CONFIG), "request")
    rc.fill_defaults(b, OPENAI_DEFAULTS, "openai default")
    if "messages" not in data:
        rc.fill_defaults(b, OPENAI_COMPLETIONS_DEFAULTS, "openai default")
    rc.greedy_derived(b, b.values["generation.temperature"].value == 0, "generation.temperature",
                      "OpenAI samples at any temperature above 0")
    return b.build()
