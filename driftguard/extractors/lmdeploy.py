"""lmdeploy: TurboMind INI files (``[request]`` section: request_output_len, top_k, top_p, temperature...,
read with configparser, inline ``;`` comments) and ``GenerationConfig`` YAML/JSON, resolved with the class
defaults of defaults.md §6 (T 0.8, top_k 50, max_new_tokens 512, do_sample false).

The pipeline path is greedy when ``do_sample`` is false: top_k 1, temperature 1.0, repetition_penalty 1.0
(``_determine_gen_config``). An api_server request (``messages``/``prompt``, v0.15+) always samples. INI files
carry the C++ example's explicit values only (the reference documents no defaults for them); other sections,
such as a FasterTransformer config.ini (an HF config dumped to INI), are kept under ``lmdeploy.<section>.*``.

YAML/JSON files are validated against ``GenerationConfig``'s and the api_server request's fields: another
field (a typo, ``top-p``) is kept as ``lmdeploy.unknown_fields.<name>`` with the closest known name (rule
DG304; ``GenerationConfig(**d)`` raises on it, the api_server drops it), and a file with no known field is an
input error.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError, LimitError
from driftguard.extractors import runtime_common as rc
from driftguard.extractors.base import ExtractOptions, ValueBuilder, read_text
from driftguard.keys import LMDEPLOY_DEFAULTS
from driftguard.model import EffectiveConfig, Origin, Value
from driftguard.normalize import int_digits, is_int_literal, normalize_dtype, parse_scalar
from driftguard.readers.limits import Limits

KIND = "lmdeploy"
DESCRIPTION = "lmdeploy TurboMind INI ([request] section) or GenerationConfig YAML/JSON"

GEN_FIELDS: rc.Fields = {
    "n": ("generation.num_return_sequences", "int"),
    "max_new_tokens": ("generation.max_new_tokens", "int"),
    "max_tokens": ("generation.max_new_tokens", "int"),
    "max_completion_tokens": ("generation.max_new_tokens", "int"),
    "min_new_tokens": ("generation.min_new_tokens", "int"),
    "do_sample": ("generation.do_sample", "bool"),
    "top_p": ("generation.top_p", "float"),
    "top_k": ("generation.top_k", "int"),
    "min_p": ("generation.min_p", "float"),
    "temperature": ("generation.temperature", "float"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "random_seed": ("generation.seed", "int"),
    "seed": ("generation.seed", "int"),
    "stop_words": ("generation.stop", "strs"),
    "stop": ("generation.stop", "strs"),
}
INI_REQUEST: rc.Fields = {
    "request_output_len": ("generation.max_new_tokens", "int"),
    "beam_width": ("generation.num_beams", "int"),
    "top_k": ("generation.top_k", "int"),
    "top_p": ("generation.top_p", "float"),
    "temperature": ("generation.temperature", "float"),
    "repetition_penalty": ("generation.repetition_penalty", "float"),
    "presence_penalty": ("generation.presence_penalty", "float"),
    "len_penalty": ("generation.length_penalty", "float"),
    "random_seed": ("generation.seed", "int"),
    "end_id": ("generation.eos_token_id", "ints"),
}
_INI_MARKERS = ("request", "ft_instance_hyperparameter")
#: The other GenerationConfig (LMD) and api_server request fields.
_OTHER = frozenset((
    "ignore_eos", "bad_words", "stop_token_ids", "bad_token_ids", "skip_special_tokens",
    "spaces_between_special_tokens", "logprobs", "response_format", "logits_processors", "output_logits",
    "output_last_hidden_state", "include_stop_str_in_output", "with_cache", "preserve_cache",
    "migration_request", "return_routed_experts",
    # api_server (OpenAI protocol and /generate)
    "model", "messages", "prompt", "stream", "stream_options", "top_logprobs", "logit_bias", "user", "tools",
    "tool_choice", "session_id", "interactive_mode", "echo", "suffix", "best_of", "presence_penalty",
    "frequency_penalty", "enable_thinking", "chat_template_kwargs", "do_preprocess", "adapter_name",
    "reasoning_effort", "parallel_tool_calls", "image_url",
))
_KNOWN = frozenset(GEN_FIELDS) | _OTHER
_IGNORED = "not an lmdeploy GenerationConfig / api_server field"
_HEADER = re.compile(r"^\s*\[([^\]]+)\]")
_OPTION = re.compile(r"^\s*([^=:;#\s][^=:]*?)\s*[=:]")


def _check(name: str, value: Any) -> str | None:
    """GenerationConfig.__post_init__ validation (LMD)."""
    if name == "top_p" and not 0 <= value <= 1:
        return "must be in [0, 1]"
    if name == "top_k" and value < 0:
        return "must be >= 0"
    if name == "temperature" and not 0 <= value <= 2:
        return "must be in [0, 2]"
    if name == "min_p" and not 0 <= value <= 1:
        return "must be in [0, 1]"
    return None


def detect(path: Path, head: bytes) -> bool:
    """INI files with a TurboMind ``[request]`` or ``[ft_instance_hyperparameter]`` section."""
    if path.suffix.lower() not in (".ini", ".cfg"):
        return False
    text = head.decode("utf-8", "replace")
    return any(m.group(1).strip() in _INI_MARKERS for m in map(_HEADER.match, text.splitlines()) if m)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    if path.suffix.lower() in (".ini", ".cfg"):
        return _extract_ini(path, options.limits)
    doc = rc.load_document(path, options.limits)
    data = rc.require_mapping(doc, "an lmdeploy GenerationConfig")
    b = ValueBuilder(KIND, path)
    server = "messages" in data or "prompt" in data
    rc.require_recognized(doc, KIND, "GenerationConfig or api_server request", data, _KNOWN)
    source = "request" if server else "generation config"
    unknown = rc.flag_unknown(b, doc, "lmdeploy", _IGNORED, data, "", _KNOWN, source)
    used = rc.apply_fields(b, doc, data, "", GEN_FIELDS, source, _check) | unknown
    rc.keep_namespaced(b, doc, "lmdeploy", data, "", used | {"messages", "prompt"})
    defaults = dict(LMDEPLOY_DEFAULTS)
    if server:
        defaults.pop("generation.max_new_tokens")  # session_len - prompt_len (§6, api_server)
        b.values["generation.do_sample"] = Value(True, Origin(b.path), False,
                                                 "derived: lmdeploy api_server v0.15+ always samples (§6)")
    rc.fill_defaults(b, defaults, "lmdeploy default")
    if not server and not b.values["generation.do_sample"].value:
        _pipeline_greedy(b)
    return b.build()


def _pipeline_greedy(b: ValueBuilder) -> None:
    """``_determine_gen_config``: do_sample False forces top_k 1, temperature 1.0, repetition_penalty 1.0."""
    ds = b.values["generation.do_sample"].origin
    # The forced value comes from the engine rule, not from the line that held the raw one: the origin is the
    # do_sample that triggered it, the note keeps what it replaced.
    rule = Origin(ds.path, ds.line, ds.pointer, "forced: lmdeploy pipeline greedy (do_sample false, §6)")
    for key, forced in (("generation.top_k", 1), ("generation.temperature", 1.0),
                        ("generation.repetition_penalty", 1.0)):
        v = b.values[key]
        if v.value != forced:
            raw = v.origin.location() if v.explicit else v.origin.source or "a default"
            b.values[key] = Value(forced, rule, v.explicit, f"forced from {json.dumps(v.value)} ({raw})")


def _extract_ini(path: Path, limits: Limits) -> EffectiveConfig:
    text = read_text(path, limits)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep option names' case
    try:
        parser.read_string(text, str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise ExtractionError("invalid INI: a value before any [section]", str(path), exc.lineno) from None
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if exc.errors else None
        raise ExtractionError("invalid INI: line is neither 'key = value' nor a [section]", str(path),
                              line) from None
    except (configparser.DuplicateOptionError, configparser.DuplicateSectionError) as exc:
        raise ExtractionError(f"invalid INI: {exc.message.split(':')[-1].strip()}", str(path), exc.lineno) \
            from None
    except configparser.Error as exc:
        raise ExtractionError(f"invalid INI: {exc.message}", str(path)) from None
    doc = rc.Document(path, None, _ini_lines(text))
    b = ValueBuilder(KIND, path)
    for section in parser.sections():
        items = dict(parser.items(section))
        base = f"/{rc.escape(section)}"
        _check_int_digits(doc, base, items, limits)
        used: set[str] = set()
        if section == "request":
            used = rc.apply_fields(b, doc, {k: parse_scalar(v) for k, v in items.items()}, base, INI_REQUEST,
                                   "request", None)
        elif section == "ft_instance_hyperparameter" and "data_type" in items:
            # "auto" stays as written: rule DG105 resolves it from the model files the way lmdeploy does
            # (fp32/fp16 -> fp16, bf16 -> bf16; defaults.md §8, TurbomindEngineConfig in messages.py).
            auto = items["data_type"].strip().lower() == "auto"
            dtype = "auto" if auto else normalize_dtype(items["data_type"])
            if dtype is None:
                raise ExtractionError(f"data_type: unknown element type {items['data_type']!r}", str(path),
                                      doc.line(f"{base}/data_type"))
            rc.put(b, doc, "precision.compute", dtype, f"{base}/data_type", "engine config")
            used = {"data_type"}
        rc.keep_namespaced(b, doc, f"lmdeploy.{section}", {k: parse_scalar(v) for k, v in items.items()}, base, used)
    if "generation.top_k" in b.values or "generation.top_p" in b.values:
        top_k = b.values.get("generation.top_k")
        top_p = b.values.get("generation.top_p")
        greedy = (top_k is not None and top_k.value == 1) or \
            (top_p is not None and top_p.value == 0 and (top_k is None or top_k.value == 0))
        rc.greedy_derived(b, greedy, "generation.top_k",
                          "TurboMind samples unless top_k == 1 (or top_k 0 with top_p 0)")
    return b.build()


def _check_int_digits(doc: rc.Document, base: str, items: dict[str, str], limits: Limits) -> None:
    """An integer value longer than ``limits.int_digits`` digits is refused at its line (TurboMind would read
    it into an int64 anyway; huge literals only cost time)."""
    for name, raw in items.items():
        if is_int_literal(raw) and int_digits(raw) > limits.int_digits:
            raise LimitError("int_digits", limits.int_digits, f"{name}: integer of {int_digits(raw)} digits",
                             str(doc.path), doc.line(f"{base}/{rc.escape(name)}"))


def _ini_lines(text: str) -> dict[str, int]:
    """``/section/option`` -> line, for origins only (configparser has already validated the file)."""
    lines: dict[str, int] = {}
    section = ""
    for n, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            section = f"/{rc.escape(m.group(1).strip())}"
            lines.setdefault(section, n)
            continue
        m = _OPTION.match(line)
        if m and section:
            lines.setdefault(f"{section}/{rc.escape(m.group(1).strip())}", n)
    return lines
