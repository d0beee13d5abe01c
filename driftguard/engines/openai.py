"""The OpenAI API (Chat Completions / Completions) as a serving path: its documented request fields, ranges
and defaults (defaults.md §5, OAI). It has no top_k, repetition_penalty or min_p."""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.spec import Decision, EngineSpec, Field, Layer, between, ge, openai_endpoints
from driftguard.keys import Default
from driftguard.model import Json, Value

#: The API reference's defaults ("openai default" in Origin.source).
_OAI = "defaults.md §5 OpenAI API (OAI)"
OPENAI_DEFAULTS: dict[str, Default] = {
    "generation.temperature": Default(1.0, _OAI + " temperature"),
    "generation.top_p": Default(1.0, _OAI + " top_p"),
    "generation.num_return_sequences": Default(1, _OAI + " n"),
    "generation.presence_penalty": Default(0.0, _OAI + " presence_penalty"),
    "generation.frequency_penalty": Default(0.0, _OAI + " frequency_penalty"),
    "generation.seed": Default(None, _OAI + " seed (no default)"),
}
#: Legacy Completions (``prompt``) only: chat requests have no max_tokens default.
OPENAI_COMPLETIONS_DEFAULTS: dict[str, Default] = {
    "generation.max_new_tokens": Default(16, _OAI + " CreateCompletionRequest.max_tokens"),
}

FIELDS: dict[str, Field] = {
    "temperature": Field("generation.temperature", range=between(0.0, 2.0)),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0)),
    "n": Field("generation.num_return_sequences", "int", between(1.0, 128.0)),
    "max_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "max_completion_tokens": Field("generation.max_new_tokens", "int", ge(1.0)),
    "presence_penalty": Field("generation.presence_penalty", range=between(-2.0, 2.0)),
    "frequency_penalty": Field("generation.frequency_penalty", range=between(-2.0, 2.0)),
    "seed": Field("generation.seed", "int"),
    "stop": Field("generation.stop", "strs"),
}


#: The other documented Chat Completions / Completions request fields (defaults.md §5).
OTHER_FIELDS = frozenset((
    "messages", "prompt", "input",
    "model", "stream", "stream_options", "logprobs", "top_logprobs", "logit_bias", "user", "response_format",
    "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call", "modalities", "audio", "store",
    "metadata", "reasoning_effort", "service_tier", "prediction", "web_search_options", "suffix", "echo",
    "best_of", "verbosity", "prompt_cache_key", "safety_identifier",
))


def decoding(values: Mapping[str, Value]) -> Decision | None:
    t = values.get("generation.temperature")
    if t is None or isinstance(t.value, bool) or not isinstance(t.value, (int, float)):
        return None
    return Decision(t.value != 0, "generation.temperature", "OpenAI samples at any temperature above 0",
                    ("generation.temperature",))


#: Chat Completions sends messages, which the server renders with the model's chat template; the legacy
#: Completions endpoint takes the prompt as raw text (platform.openai.com API reference; every compatible server,
#: vLLM's and TGI's cited in their specs, does the same).
_ENDPOINTS = openai_endpoints("the /v1/chat/completions endpoint renders the messages with the chat template",
                              "the /v1/completions endpoint takes the prompt as raw text, no chat template")

#: Request fields without a canonical key that change the output, with the value that changes nothing (None:
#: unset, null or empty): a logit bias, a response format or tools the reply must follow, a completion's
#: suffix or echoed prompt, the reasoning effort and verbosity (defaults.md §5, OAI: the Chat Completions and
#: Completions request bodies). DG108 judges them.
OUTPUT_FIELDS: dict[str, Json] = {
    "logit_bias": None, "response_format": {"type": "text"}, "tools": None, "tool_choice": None,
    "functions": None, "function_call": None, "best_of": None, "suffix": None, "echo": False,
    "reasoning_effort": None, "verbosity": None,
}

CHAT = EngineSpec(
    name="openai", engine="openai", label="OpenAI API", namespace="openai", fields=FIELDS,
    other_fields=OTHER_FIELDS,
    ignored_why="not an OpenAI API field (api.openai.com rejects it; compatible servers may drop it)",
    layers=(Layer("openai", OPENAI_DEFAULTS),), decoding=decoding, endpoints=_ENDPOINTS[:1],
    output_fields=OUTPUT_FIELDS,
)
#: Legacy Completions (``prompt``): the chat defaults plus its own (max_tokens 16).
COMPLETIONS = EngineSpec(
    name="openai-completions", engine="openai", label="OpenAI Completions", namespace="openai", fields=FIELDS,
    other_fields=OTHER_FIELDS, ignored_why=CHAT.ignored_why,
    layers=(Layer("openai", OPENAI_DEFAULTS), Layer("openai", OPENAI_COMPLETIONS_DEFAULTS)),
    decoding=decoding, endpoints=_ENDPOINTS[1:], output_fields=OUTPUT_FIELDS,
)

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (CHAT, COMPLETIONS)
EXTRACTOR: str | None = "driftguard.extractors.openai"
