"""ONNX Runtime GenAI ``genai_config.json``: the file the GenAI runtime (``og.Model(folder)``) reads, and the
only one: it does not read generation_config.json, so its ``search`` section and GenAI's own defaults are what
the served model generates with.

Canonical keys (GenAI's reader, ``src/config.cpp`` @ ORTG, defaults.md §14):

- ``model.context_length`` -> ``serving.max_model_len`` (GenAI refuses a config without it, except for its
  RNN-T types); ``model.type`` -> ``model.type``; ``model.vocab_size``; the decoder's ``hidden_size``,
  ``num_attention_heads``, ``num_hidden_layers`` -> ``model.hidden_size``, ``model.num_attention_heads``,
  ``model.num_layers``;
- ``model.bos_token_id``/``pad_token_id``/``decoder_start_token_id`` -> ``generation.*_token_id``;
  ``model.eos_token_id`` (an int or a list) -> ``generation.eos_token_id`` (a sorted list); unset, GenAI uses
  ``[pad_token_id]`` (recorded as derived);
- ``search.*`` -> ``generation.*`` (``random_seed`` -> ``generation.seed``, -1 meaning random: null), GenAI's
  defaults filled for the rest (they differ from transformers': ``early_stopping`` true, ``top_p`` 0).
  ``search.max_length`` 0 or unset is ``model.context_length`` (derived). GenAI applies ``top_p`` only when
  0 < top_p < 1, so its 0 is written 1.0 (no nucleus cut) here, as every other kind spells "off"; it decodes
  greedily when ``do_sample`` is false, ``top_k`` is 1 or ``temperature`` is 0 (``generators.cpp``
  ``InitializeSamplingMethod``), so ``generation.do_sample`` is derived false in the last two cases.
- the decoder's execution providers (``session_options.provider_options``, in order) -> ``genai.providers``,
  and ``serving.device_kind`` when the first says it plainly (``cuda``, ``rocm``, ``dml``, ``NvTensorRtRtx``:
  gpu; none listed: ONNX Runtime's CPU provider, cpu).

Everything else is kept as ``genai.<path>`` (``genai.model.decoder.filename``,
``genai.model.decoder.session_options.log_id``...), lists as one JSON value. GenAI's reader throws
"Unknown value" for a field it does not know in ``model``, ``model.decoder`` and ``search`` and for an
unknown top-level object, and a type mismatch for a wrongly typed value (``"do_sample": "false"``, ``null``):
each is an input error naming the field and its line, as GenAI would refuse the file. A top-level scalar it
ignores (``Root_Element::OnValue`` does nothing) is kept as ``genai.unknown_fields.<name>`` (DG304). Sections
read as a whole (encoder, vision, speech, ``engine``, ``speculative``...) are kept, not validated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import (
    Document,
    escape,
    flag_unknown,
    keep_unread,
    load_document,
    require_mapping,
    sniff,
)
from driftguard.keys import Default
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_number

FILE_NAME = "genai_config.json"

_ORTG = "defaults.md §14 GenAI Config::Search (ORTG src/config.h)"

#: GenAI's ``Config::Search`` member initializers for the keys driftguard compares (ORTG ``src/config.h``).
GENAI_SEARCH_DEFAULTS: dict[str, Default] = {
    "generation.do_sample": Default(False, f"{_ORTG} do_sample{{}}"),
    "generation.min_length": Default(0, f"{_ORTG} min_length{{}}"),
    "generation.num_beams": Default(1, f"{_ORTG} num_beams{{1}}"),
    "generation.num_return_sequences": Default(1, f"{_ORTG} num_return_sequences{{1}}"),
    "generation.repetition_penalty": Default(1.0, f"{_ORTG} repetition_penalty{{1.0f}}"),
    "generation.top_k": Default(50, f"{_ORTG} top_k{{50}}"),
    "generation.top_p": Default(1.0, f"{_ORTG} top_p{{}} is 0, which generators.cpp applies only when "
                                     "0 < top_p < 1: no nucleus cut, spelled 1.0"),
    "generation.temperature": Default(1.0, f"{_ORTG} temperature{{1.0f}}"),
    "generation.early_stopping": Default(True, f"{_ORTG} early_stopping{{true}}"),
    "generation.no_repeat_ngram_size": Default(0, f"{_ORTG} no_repeat_ngram_size{{}}"),
    "generation.length_penalty": Default(1.0, f"{_ORTG} length_penalty{{1.0f}}"),
    "generation.seed": Default(None, f"{_ORTG} random_seed{{-1}}: seeded from a random device"),
}

INFO = KindInfo(
    kind="genai",
    description="ONNX Runtime GenAI genai_config.json (context length, search settings with GenAI's defaults)",
    role="deployment",
    rank=60,
    namespaces=("model", "serving"),
    keeps=("genai",),
    defaults=GENAI_SEARCH_DEFAULTS,
    names=(FILE_NAME,),
)

# --- what GenAI's reader knows (ORTG src/config.cpp: Root_, Model_, Decoder_, Search_Element) -------------

#: search member -> (canonical key or None to keep it as genai.search.<name>, JSON type GenAI reads).
_SEARCH: dict[str, tuple[str | None, str]] = {
    "do_sample": ("generation.do_sample", "bool"),
    "min_length": ("generation.min_length", "int"),
    "max_length": ("generation.max_length", "int"),
    "num_beams": ("generation.num_beams", "int"),
    "num_return_sequences": ("generation.num_return_sequences", "int"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "top_k": ("generation.top_k", "int"),
    "top_p": ("generation.top_p", "float"),
    "temperature": ("generation.temperature", "float"),
    "early_stopping": ("generation.early_stopping", "bool"),
    "no_repeat_ngram_size": ("generation.no_repeat_ngram_size", "int"),
    "length_penalty": ("generation.length_penalty", "float"),
    "random_seed": ("generation.seed", "int"),
    "diversity_penalty": (None, "float"),
    "batch_size": (None, "int"),
    "past_present_share_buffer": (None, "bool"),
    "chunk_size": (None, "float"),
    "blank_penalty": (None, "float"),
}
#: model scalar member -> canonical key (None: kept as genai.model.<name>); every one is a number but ``type``
#: and ``tokenizer_dir`` (strings) and ``eos_token_id`` (a number or an array).
_MODEL: dict[str, str | None] = {
    "type": "model.type", "tokenizer_dir": None, "vocab_size": "model.vocab_size",
    "context_length": "serving.max_model_len", "pad_token_id": "generation.pad_token_id",
    "eos_token_id": "generation.eos_token_id", "bos_token_id": "generation.bos_token_id",
    "decoder_start_token_id": "generation.decoder_start_token_id",
    **dict.fromkeys((
        "sep_token_id", "image_token_id", "audio_token_id", "boa_token_id", "video_token_id",
        "vision_start_token_id", "num_mels", "fft_size", "hop_length", "win_length", "preemph", "log_eps",
        "norm_eps", "subsampling_factor", "left_context", "conv_context", "pre_encode_cache_size", "sample_rate",
        "chunk_samples", "blank_id", "max_symbols_per_step", "left_context_samples", "right_context_samples",
        "bot_token_id", "eot_token_id", "bor_token_id", "eor_token_id")),
}
_MODEL_STRINGS = frozenset({"type", "tokenizer_dir"})
_MODEL_FLOATS = frozenset({"preemph", "log_eps", "norm_eps"})
_MODEL_OBJECTS = frozenset({"encoder", "decoder", "draft", "vision", "embedding", "speech", "joiner", "vad", "mtp"})
_MODEL_ARRAYS = frozenset({"eos_token_id", "tdt_durations"})
_DECODER: dict[str, str | None] = {
    "filename": None, "hidden_size": "model.hidden_size", "num_attention_heads": "model.num_attention_heads",
    "num_hidden_layers": "model.num_layers", "num_key_value_heads": None, "head_size": None,
    "conv_cache_size": None,
}
_DECODER_OBJECTS = frozenset({"session_options", "run_options", "inputs", "outputs", "sliding_window", "pipeline"})
_DECODER_ARRAYS = frozenset({"pipeline", "layer_types", "shared_initializers"})
_ROOT_OBJECTS = frozenset({"model", "search", "speculative", "engine"})
#: GenAI model types that need no context_length (``ModelType::IsRNNT``, ORTG src/models/model_type.h).
_RNNT_TYPES = frozenset({"nemotron_speech"})
#: Execution providers that plainly run on a GPU (ORTG provider names, compared lower-cased).
_GPU_PROVIDERS = frozenset({"cuda", "rocm", "dml", "nvtensorrtrtx"})
_CONFIG_CPP = "src/config.cpp"


def detect(path: Path, head: bytes) -> bool:
    """``genai_config.json`` by name; else a JSON object whose ``model`` holds a ``decoder`` object and which has
    a ``search`` object (the two sections GenAI's builder always writes)."""
    if path.name == FILE_NAME:
        return path.is_file()
    data = sniff(path, head, (".json",))
    if not isinstance(data, dict):
        return False
    model = data.get("model")
    return isinstance(model, dict) and isinstance(model.get("decoder"), dict) and isinstance(data.get("search"), dict)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective configuration GenAI serves with, from one genai_config.json."""
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "an ONNX Runtime GenAI config (genai_config.json)")
    b = ValueBuilder(INFO.kind, path)
    reader = _Reader(doc, b)
    reader.root(data)
    b.fill_defaults(GENAI_SEARCH_DEFAULTS, default_of="onnxruntime-genai")
    _derive(b, doc, data)
    return b.build()


class _Reader:
    """Reads one document's sections as GenAI's Element classes do, recording values and what it used."""

    def __init__(self, doc: Document, b: ValueBuilder) -> None:
        self.doc = doc
        self.b = b
        self.used: set[str] = set()

    def error(self, pointer: str, message: str) -> ExtractionError:
        return ExtractionError(f"{_dotted(pointer).lstrip('.')}: {message}", str(self.doc.path),
                               self.doc.line(pointer))

    def root(self, data: dict[str, Any]) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
        if "model" not in data:
            raise ExtractionError("not an ONNX Runtime GenAI config: it has no 'model' section; check the kind",
                                  str(self.doc.path), self.doc.line("") or 1)
        for name, raw in data.items():
            if (isinstance(raw, dict) and name not in _ROOT_OBJECTS) or isinstance(raw, list):
                raise self.error(f"/{escape(name)}", f"GenAI does not know this section ('Unknown value' in "
                                 f"{_CONFIG_CPP} Root_Element): it refuses to load the config; it reads "
                                 f"{', '.join(sorted(_ROOT_OBJECTS))}")
        flag_unknown(self.b, self.doc, "genai", "ignored by GenAI (it reads no top-level value)", scalars, "", (),
                     source=None)
        self.used.update(f"/{escape(n)}" for n in scalars)
        self.model(data["model"])
        if isinstance(data.get("search"), dict):
            self.search(data["search"])
        self.keep(data, "")

    def model(self, model: Any) -> None:
        if not isinstance(model, dict):
            raise self.error("/model", "must be an object")
        self.members(model, "/model", _MODEL, _MODEL_OBJECTS, _MODEL_ARRAYS)
        for name, key in _MODEL.items():
            if name not in model:
                continue
            ptr = f"/model/{name}"
            raw = model[name]
            if name == "eos_token_id":
                value: Any = sorted({self.typed(f"{ptr}/{i}", v, "int") for i, v in enumerate(raw)}) \
                    if isinstance(raw, list) else [self.typed(ptr, raw, "int")]
            else:
                kind = "str" if name in _MODEL_STRINGS else "float" if name in _MODEL_FLOATS else "int"
                value = self.typed(ptr, raw, kind)
            if name == "context_length" and value <= 0:
                raise self.error(ptr, f"context_length must be > 0, got {value} (GenAI refuses it)")
            self.put(key or f"genai.model.{name}", value, ptr)
        if isinstance(model.get("decoder"), dict):
            self.decoder(model["decoder"])
        self.providers(model.get("decoder"))

    def decoder(self, decoder: dict[str, Any]) -> None:
        self.members(decoder, "/model/decoder", _DECODER, _DECODER_OBJECTS, _DECODER_ARRAYS)
        for name, key in _DECODER.items():
            if name in decoder:
                ptr = f"/model/decoder/{name}"
                self.put(key or f"genai.model.decoder.{name}",
                         self.typed(ptr, decoder[name], "str" if name == "filename" else "int"), ptr)

    def search(self, search: dict[str, Any]) -> None:
        self.members(search, "/search", _SEARCH, frozenset(), frozenset())
        for name, raw in search.items():
            key, kind = _SEARCH[name]
            ptr = f"/search/{escape(name)}"
            value = self.typed(ptr, raw, kind)
            note = None
            if name == "top_p" and value == 0:
                value, note = 1.0, "top_p 0: GenAI applies top_p only when 0 < top_p < 1; no nucleus cut"
            elif name == "random_seed" and value == -1:
                value, note = None, "random_seed -1: seeded from a random device"
            elif name == "max_length" and value == 0:
                self.used.add(ptr)
                continue  # 0: context_length (derived below)
            self.put(key or f"genai.search.{name}", value, ptr, note)

    def providers(self, decoder: Any) -> None:
        """The decoder's execution providers, in order, and the device the first one plainly names."""
        session = decoder.get("session_options") if isinstance(decoder, dict) else None
        options = session.get("provider_options") if isinstance(session, dict) else None
        ptr = "/model/decoder/session_options/provider_options"
        if options is not None and not isinstance(options, list):
            raise self.error(ptr, "must be an array of {provider: {options}} objects")
        names = [n for item in options or [] if isinstance(item, dict) for n in item]
        anchor = ptr if options is not None else "/model/decoder" if isinstance(decoder, dict) else "/model"
        self.b.set("genai.providers", names, self.doc.line(anchor), anchor)
        first = names[0].lower() if names else "cpu"
        device = "gpu" if first in _GPU_PROVIDERS else "cpu" if first == "cpu" else None
        if device is not None:
            why = "no execution provider listed: ONNX Runtime's CPU provider" if not names else \
                f"first execution provider '{names[0]}'"
            self.b.derive("serving.device_kind", device, self.b.values["genai.providers"], why,
                          ("genai.providers",), explicit=bool(names))

    def members(self, data: Mapping[str, Any], pointer: str, values: Iterable[str], objects: frozenset[str],
                arrays: frozenset[str]) -> None:
        """GenAI's "Unknown value": a member its Element class has no branch for, for the member's JSON type."""
        scalars = set(values)
        for name, raw in data.items():
            known = objects if isinstance(raw, dict) else arrays if isinstance(raw, list) else scalars
            if name not in known:
                raise self.error(f"{pointer}/{escape(name)}", f"GenAI does not know this field ('Unknown value' in "
                                 f"{_CONFIG_CPP}): it refuses to load the config")

    def typed(self, pointer: str, raw: Any, kind: str) -> Any:
        """A value of the JSON type GenAI's ``JSON::Get<T>`` expects (integral where it converts to int)."""
        if kind == "bool":
            if not isinstance(raw, bool):
                raise self.error(pointer, f"expected true or false, got {_shown(raw)} (GenAI: type mismatch)")
            return raw
        if kind == "str":
            if not isinstance(raw, str):
                raise self.error(pointer, f"expected a string, got {_shown(raw)} (GenAI: type mismatch)")
            return raw
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise self.error(pointer, f"expected a number, got {_shown(raw)} (GenAI: type mismatch)")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise self.error(pointer, f"expected a finite number, got {raw} (not JSON to GenAI's reader)")
        if kind == "int":
            if not float(raw).is_integer() or abs(raw) > 2**31 - 1:
                raise self.error(pointer, f"expected a 32-bit integer, got {_shown(raw)} (GenAI: SafeDoubleToInt)")
            return int(raw)
        if abs(raw) > 3.4e38:
            raise self.error(pointer, f"expected a 32-bit float, got {_shown(raw)}")
        return normalize_number(float(raw))

    def put(self, key: str, value: Any, pointer: str, note: str | None = None) -> None:
        self.b.set(key, value, self.doc.line(pointer), pointer, note=note)
        self.used.add(pointer)

    def keep(self, data: Mapping[str, Any], pointer: str) -> None:
        """Every member not read into a key, as ``genai.<path>`` (objects walked, arrays kept whole)."""
        keep_unread(self.b, self.doc, "genai", data, pointer, self.used)


def _derive(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> None:
    """GenAI's load-time rules (ORTG src/config.cpp ``Config::Config``) and its greedy rule (generators.cpp)."""
    model = data["model"]
    context = b.values.get("serving.max_model_len")
    if context is None and model.get("type") not in _RNNT_TYPES:
        raise ExtractionError("model.context_length: not set; GenAI refuses the config (\"model context_length is "
                              "0 or was not set\")", str(doc.path), doc.line("/model") or 1)
    if "generation.max_length" not in b.values and context is not None:
        b.derive("generation.max_length", context.value, context,
                 "GenAI sets search.max_length to model.context_length when it is 0 or unset",
                 ("serving.max_model_len",), explicit=True)
    pad = b.values.get("generation.pad_token_id")
    if "generation.eos_token_id" not in b.values and pad is not None:
        b.derive("generation.eos_token_id", [pad.value], pad,
                 "GenAI uses [pad_token_id] when no eos_token_id is set", ("generation.pad_token_id",), explicit=True)
    sample = b.values["generation.do_sample"]
    for key, greedy in (("generation.top_k", 1), ("generation.temperature", 0)):
        if sample.value is True and b.values[key].value == greedy:
            b.derive("generation.do_sample", False, b.values[key],
                     f"GenAI decodes greedily when {key.split('.')[1]} is {greedy} (generators.cpp)", (key,),
                     explicit=b.values[key].explicit)
            break


def _dotted(pointer: str) -> str:
    """``/model/decoder/filename`` -> ``.model.decoder.filename`` (JSON-pointer escapes undone)."""
    return "".join("." + p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:])


def _shown(raw: Any) -> str:
    text = "null" if raw is None else repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."
