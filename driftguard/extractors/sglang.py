"""SGLang request bodies (``engines.sglang``): the native ``/generate`` body (``text`` or ``input_ids`` and a
``sampling_params`` object) and the OpenAI-compatible ``/v1/chat/completions`` (``messages``) and
``/v1/completions`` (``prompt``) bodies with SGLang's extensions (``top_k``, ``regex``, ``ignore_eos``...).

A ``/generate`` body is detected by its shape (``sampling_params`` beside ``text`` or ``input_ids``, every member
one ``GenerateReqInput`` has); an OpenAI-compatible body says nothing SGLang-only about itself, so it is named:
``sglang:request.json``.

Layers: ``request`` > the model's generation_config.json for the five fields SGLang takes from it
(``--sampling-defaults model``, the default: repetition_penalty, temperature, top_k, top_p, min_p, as transformers'
``GenerationConfig.to_dict()`` gives them, its class defaults included), read where the side holds the model's
files > SGLang's own defaults (``sglang default``: penalties 0, min_new_tokens 0, n 1; max_new_tokens 128 for
``/generate``, 16 for a completion). A side without the model's files leaves the five unknown: SGLang's fallback
constants apply only to a model without a generation config, which the side does not show.

Fields SGLang does not take (a typo, ``max_tokens`` inside ``sampling_params``) are kept as
``sglang.unknown_fields.<name>`` with the closest known name (DG304); the other SamplingParams and request fields
are kept as ``sglang.<name>`` (output-changing ones judged by DG108, ``engines.sglang.OUTPUT_FIELDS``), the input
itself (text, token ids, images) is not a setting. The endpoint decides ``preprocessing.chat_template_applied``:
``/generate`` takes raw text, ``/v1/completions`` too, ``/v1/chat/completions`` renders the messages with the chat
template unless the request gives ``input_ids``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftguard.engines import sglang as sglang_engine
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    apply_decoding,
    apply_fields,
    context_generation,
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
    kind="sglang",
    description=("SGLang request body: native /generate (text or input_ids with sampling_params) or "
                 "OpenAI-compatible chat/completions with SGLang's extensions"),
    role="deployment",
    rank=70,
    engine="sglang",
    namespaces=("generation", "preprocessing"),
    keeps=("sglang",),
    defaults=sglang_engine.SGLANG_DEFAULTS,
)

_GENERATE = sglang_engine.GENERATE
#: The input itself, not a setting: never kept.
_INPUT = frozenset(("text", "input_ids", "input_embeds", "image_data", "audio_data", "video_data", "messages",
                    "prompt", "sampling_params"))


def detect(path: Path, head: bytes) -> bool:
    """A JSON ``/generate`` body: ``sampling_params`` a mapping beside ``text`` or ``input_ids``, and every member
    one ``GenerateReqInput`` has."""
    if path.suffix.lower() != ".json":
        return False
    data = sniff(path, head)
    return (isinstance(data, dict) and isinstance(data.get("sampling_params"), dict)
            and ("text" in data or "input_ids" in data) and set(map(str, data)) <= sglang_engine.GENERATE_FIELDS)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    return extract_document(load_document(path, options.limits), options)


def extract_document(doc: Document, options: ExtractOptions) -> EffectiveConfig:
    path = doc.path
    data = require_mapping(doc, "an SGLang /generate or OpenAI-compatible request body")
    b = ValueBuilder(INFO.kind, path)
    if "sampling_params" in data or "text" in data:
        spec = _GENERATE
        skip = flag_unknown(b, doc, "sglang", "not an SGLang GenerateReqInput field", data, "",
                            sglang_engine.GENERATE_FIELDS)
        params = _sampling_params(doc, data.get("sampling_params"))
        inner = flag_unknown(b, doc, "sglang", spec.ignored_why, params, "/sampling_params", spec.known)
        used = apply_fields(b, doc, params, "/sampling_params", spec, "request")
        keep_namespaced(b, doc, "sglang", params, "/sampling_params", used | inner, "request")
    elif "messages" in data or "prompt" in data:
        spec = sglang_engine.CHAT if "messages" in data else sglang_engine.COMPLETIONS
        skip = flag_unknown(b, doc, "sglang", spec.ignored_why, data, "", spec.known)
        # max_completion_tokens supersedes the deprecated max_tokens (to_sampling_params): apply it last.
        ordered = {k: v for k, v in data.items() if k != "max_completion_tokens"}
        if "max_completion_tokens" in data:
            ordered["max_completion_tokens"] = data["max_completion_tokens"]
        skip |= apply_fields(b, doc, ordered, "", spec, "request")
    else:
        raise ExtractionError("not an SGLang request: expected 'text' or 'input_ids' with 'sampling_params' "
                              "(/generate), 'messages' (chat) or 'prompt' (completions)", str(path),
                              doc.line("") or 1)
    endpoint(b, doc, data, spec)
    keep_namespaced(b, doc, "sglang", data, "", skip | _INPUT, "request")
    _model_defaults(b, options)
    fill_layers(b, spec)
    apply_decoding(b, spec)
    return b.build()


def _sampling_params(doc: Document, raw: Any) -> dict[str, Any]:
    """The ``sampling_params`` object (absent: every field SGLang's); a list (one per prompt) is read when its
    objects agree, else it is an input error naming the line."""
    if raw is None:
        return {}
    if isinstance(raw, list) and raw and all(isinstance(p, dict) for p in raw):
        if any(p != raw[0] for p in raw[1:]):
            raise ExtractionError("sampling_params differ per prompt: check one request per setting",
                                  str(doc.path), doc.line("/sampling_params"))
        raw = raw[0]
    if not isinstance(raw, dict):
        raise ExtractionError("sampling_params must be an object of SamplingParams fields", str(doc.path),
                              doc.line("/sampling_params"))
    return raw


def _model_defaults(b: ValueBuilder, options: ExtractOptions) -> None:
    """The five fields SGLang takes from the model's generation_config.json, where the side holds it: its values
    as transformers' ``GenerationConfig.to_dict()`` gives them (the class defaults included, as the side's
    generation config resolves them)."""
    gc = _GENERATE.generation_config
    ctx = context_generation(options)
    if gc is None or ctx is None:
        return
    for key in dict.fromkeys(gc.fields.values()):
        v = ctx.get(key)
        if v is not None and v.value is not None:
            b.inherit(key, v, "generation_config.json", gc.why)
