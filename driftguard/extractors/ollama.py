"""Ollama ``Modelfile``s: the model Ollama builds, its sampling parameters and its prompt template.

Parsed by ``driftguard.readers.modelfile`` (a port of Ollama's ``parser/parser.go``), then read as ``ollama create``
reads the commands (ollama/ollama@fb3076099687 ``parser/parser.go`` ``CreateRequest``, ``api/types.go``
``FormatParams``):

- ``FROM`` -> ``model.source`` (a model name such as ``llama3.2:3b``, or a path as written; a GGUF file it names
  inside the checked tree is read too, its header's ``model.*``, ``precision.*``, token ids and BOS/EOS flags
  inherited with the GGUF's own origin, not its chat template); ``ADAPTER`` ->
  ``model.adapters`` (Ollama keeps only the last ADAPTER: an earlier one is ``ollama.unknown_fields.adapter``,
  DG304); ``DRAFT`` -> ``ollama.draft``; ``TEMPLATE`` -> ``ollama.template`` (Go template text, NOT comparable
  with a Jinja chat template, so never ``preprocessing.chat_template``) and its digest ``ollama.template_digest``;
  ``SYSTEM`` -> ``ollama.system``; ``MESSAGE`` -> ``ollama.messages``; ``LICENSE`` -> ``ollama.license``;
  ``RENDERER``, ``PARSER``, ``REQUIRES`` (a semantic version, or ``ollama create`` refuses the file) ->
  ``ollama.*``. A repeated single command keeps the last, as ``CreateRequest`` does; the value's note says so.
- ``PARAMETER``: the names and types of ``api.Options`` (its ``json`` tags), each parsed as ``FormatParams`` does
  (Go's ``ParseInt``/``ParseFloat(32)``/``ParseBool``; ``stop`` repeatable). ``num_ctx`` ->
  ``serving.max_model_len``; ``num_predict`` -> ``generation.max_new_tokens`` (``-1``, Ollama's default, is
  "no limit": generation runs to an end token or the context's end; kept as ``-1``, the note says so);
  ``temperature``, ``top_k``, ``top_p``, ``min_p``, ``typical_p``, ``presence_penalty``, ``frequency_penalty``,
  ``stop`` -> ``generation.*``; ``repeat_penalty`` -> ``generation.repetition_penalty`` (Ollama applies it over
  the last ``repeat_last_n`` tokens only, kept as ``ollama.repeat_last_n``); ``seed`` -> ``generation.seed``
  (``-1`` is a random seed: ``null``, as the vocabulary spells it). The runner's own options (``num_keep``,
  ``num_batch``, ``num_gpu``, ``main_gpu``, ``use_mmap``, ``num_thread``, ``draft_num_predict``,
  ``repeat_last_n``) -> ``ollama.<name>``. A name ``api.Options`` lacks is an input error, as ``ollama create``
  refuses it ("unknown parameter"); a deprecated one (``mirostat``, ``use_mlock``, ...), which ``ollama create``
  accepts with a warning and drops, is ``ollama.unknown_fields.<name>`` (DG304).
- ``generation.do_sample`` is derived from the temperature: Ollama hands it to llama.cpp's sampler, where a
  temperature <= 0 keeps only the most likely token (llama.cpp ``src/llama-sampling.cpp``
  ``llama_sampler_temp_impl``): greedy.

Defaults: ``OLLAMA_DEFAULTS``, Ollama's ``api.DefaultOptions()``; ``min_p`` has no entry there and is sent to the
runner as Go's zero value, 0 (``llm/llama_server.go``), so llama.cpp's own 0.05 never applies. ``num_ctx`` has
none: Ollama picks 4k, 32k or 256k from the GPU's memory (``envconfig.ContextLength``, ``OLLAMA_CONTEXT_LENGTH``).
They are filled only when ``FROM`` is a file (a GGUF, a safetensors folder): ``FROM`` a model (``llama3.2``,
``hf.co/org/repo:Q4_K_M``) inherits that model's own parameters layer, which ``ollama create`` merges under the
Modelfile's (``server/create.go`` ``setParameters``) and which no file here shows, so nothing unset is filled
and ``model.source``'s note says why. ``FROM`` is a file when it is one beside the Modelfile (inside the checked
tree), or is spelled as one: an absolute, home or ``./`` path, a Windows drive, or a ``.gguf``/``.bin``/
``.safetensors`` name (``CreateRequest`` reads any path that exists on the author's machine).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard import extractors as registry
from driftguard.errors import ExtractionError
from driftguard.extractors.base import UNKNOWN_FIELDS, ExtractOptions, KindInfo, ValueBuilder, ignored_note
from driftguard.keys import Default, chat_template_digest
from driftguard.model import EffectiveConfig
from driftguard.readers import files

if TYPE_CHECKING:
    from driftguard.readers.modelfile import Command

_SRC = "defaults.md §12 Ollama (OLLAMA) "
#: Ollama's ``api.DefaultOptions()`` (ollama/ollama@fb3076099687 ``api/types.go``), by canonical key.
OLLAMA_DEFAULTS: dict[str, Default] = {
    "generation.temperature": Default(0.8, _SRC + "DefaultOptions Temperature"),
    "generation.top_k": Default(40, _SRC + "DefaultOptions TopK"),
    "generation.top_p": Default(0.9, _SRC + "DefaultOptions TopP"),
    "generation.min_p": Default(0.0, _SRC + "Options.MinP (not in DefaultOptions: Go's zero value, sent to the "
                                            "runner as is by llm/llama_server.go)"),
    "generation.typical_p": Default(1.0, _SRC + "DefaultOptions TypicalP"),
    "generation.repetition_penalty": Default(1.0, _SRC + "DefaultOptions RepeatPenalty"),
    "generation.presence_penalty": Default(0.0, _SRC + "DefaultOptions PresencePenalty"),
    "generation.frequency_penalty": Default(0.0, _SRC + "DefaultOptions FrequencyPenalty"),
    "generation.seed": Default(None, _SRC + "DefaultOptions Seed (-1: random)"),
    "generation.max_new_tokens": Default(-1, _SRC + "DefaultOptions NumPredict (-1: no limit)"),
    "generation.stop": Default([], _SRC + "Options.Stop (none)"),
    "ollama.repeat_last_n": Default(64, _SRC + "DefaultOptions RepeatLastN"),
    "ollama.num_keep": Default(4, _SRC + "DefaultOptions NumKeep"),
    "ollama.num_batch": Default(512, _SRC + "DefaultOptions NumBatch"),
}

INFO = KindInfo(
    kind="ollama",
    description="Ollama Modelfile: FROM, ADAPTER, PARAMETER (sampling, num_ctx), TEMPLATE, SYSTEM",
    role="deployment",
    rank=50,
    namespaces=("model", "serving", "generation"),
    keeps=("ollama",),
    defaults=OLLAMA_DEFAULTS,
    names=("Modelfile", "*.Modelfile", "Modelfile.*"),
)

#: ``api.Options`` (its embedded ``Runner`` included): json tag -> Go kind ("int", "float", "bool", "strs").
OPTIONS = {
    "num_ctx": "int", "num_batch": "int", "num_gpu": "int", "main_gpu": "int", "use_mmap": "bool",
    "num_thread": "int", "draft_num_predict": "int", "num_keep": "int", "seed": "int", "num_predict": "int",
    "top_k": "int", "top_p": "float", "min_p": "float", "typical_p": "float", "repeat_last_n": "int",
    "temperature": "float", "repeat_penalty": "float", "presence_penalty": "float", "frequency_penalty": "float",
    "stop": "strs",
}
#: parser.go ``deprecatedParameters``: accepted with a warning, then dropped.
DEPRECATED = ("penalize_newline", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock", "mirostat",
              "mirostat_tau", "mirostat_eta")
_CANONICAL = {
    "num_ctx": "serving.max_model_len", "num_predict": "generation.max_new_tokens",
    "temperature": "generation.temperature", "top_k": "generation.top_k", "top_p": "generation.top_p",
    "min_p": "generation.min_p", "typical_p": "generation.typical_p",
    "repeat_penalty": "generation.repetition_penalty", "presence_penalty": "generation.presence_penalty",
    "frequency_penalty": "generation.frequency_penalty", "seed": "generation.seed", "stop": "generation.stop",
}
#: Commands ``CreateRequest`` keeps one of (the last): command -> key.
_SINGLE = {"model": "model.source", "adapter": "model.adapters", "draft": "ollama.draft",
           "template": "ollama.template", "system": "ollama.system", "renderer": "ollama.renderer",
           "parser": "ollama.parser", "requires": "ollama.requires"}
_FLOAT32_MAX = 3.4028234663852886e38
_PATH_PREFIXES = ("/", "\\", "./", "../", ".\\", "..\\", "~")
_WEIGHT_SUFFIXES = (".gguf", ".bin", ".safetensors")
#: What a GGUF file named by FROM states about the model ``ollama create`` builds from it (Ollama reads the same
#: header), inherited where the Modelfile says nothing. Not its chat template: Ollama prompts with the TEMPLATE, or
#: with a renderer or template it picks itself, never the Jinja text.
_FROM_GGUF = ("model.", "precision.", "generation.bos_token_id", "generation.eos_token_id",
              "generation.pad_token_id", "preprocessing.add_bos_token", "preprocessing.add_eos_token")
_NAMED_MODEL = ("a model name: ollama create starts from that model's own parameters layer (not visible here), "
                "so what this Modelfile leaves unset is not filled with Ollama's defaults")


def detect(path: Path, head: bytes) -> bool:
    """``Modelfile``, ``*.Modelfile`` or ``Modelfile.*`` (the names Ollama's docs and repositories use)."""
    name = path.name
    return (name == "Modelfile" or name.endswith(".Modelfile") or name.startswith("Modelfile.")) and path.is_file()


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective config ``ollama create`` builds from one Modelfile."""
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.readers import modelfile

    commands = modelfile.read(path, options.limits)
    vb = ValueBuilder(INFO.kind, path)
    last: dict[str, Command] = {}
    for cmd in commands:
        if cmd.name in _SINGLE:
            if cmd.name == "adapter" and "adapter" in last:
                earlier = last["adapter"]
                vb.set(f"ollama.{UNKNOWN_FIELDS}.adapter", earlier.args, earlier.line, source="Modelfile",
                       note=f"replaced by the ADAPTER on line {cmd.line}: ollama create keeps the last one")
            last[cmd.name] = cmd
    _singles(vb, commands, last)
    _lists(vb, commands)
    _parameters(vb, path, commands)
    if _names_a_file(last["model"].args, path, options.root_for(path)):
        vb.fill_defaults(OLLAMA_DEFAULTS, default_of="ollama")
        _from_gguf(vb, last["model"], path, options)
    else:
        source = vb.values["model.source"]
        vb.set("model.source", source.value, source.origin.line, source="Modelfile",
               note=_NAMED_MODEL if source.note is None else f"{source.note}; {_NAMED_MODEL}")
    _decoding(vb)
    return vb.build()


def _from_gguf(vb: ValueBuilder, cmd: Command, path: Path, options: ExtractOptions) -> None:
    """Inherit what the GGUF file ``FROM`` names says (``_FROM_GGUF``), when it is inside the checked tree."""
    model = path.parent / cmd.args
    try:
        if not (files.is_within(model, options.root_for(path)) and files.exists(model)) or files.is_dir(model) \
                or files.head(model, 4) != b"GGUF":
            return
    except ExtractionError:  # a name no file can have, a FIFO: Ollama could not read it either
        return
    header = registry.extract(model, "gguf", options)
    for key in header:
        if key.startswith(_FROM_GGUF):
            vb.inherit(key, header[key], f"FROM {cmd.args}")


def _names_a_file(source: str, modelfile_path: Path, root: Path) -> bool:
    """Whether ``FROM`` reads a file or folder (no parameters layer under the Modelfile's) rather than a model."""
    if source.startswith(_PATH_PREFIXES) or source in (".", "..") or source.lower().endswith(_WEIGHT_SUFFIXES):
        return True
    if len(source) > 2 and source[0].isalpha() and source[1] == ":" and source[2] in "\\/":
        return True  # C:\models\x or C:/models/x
    beside = modelfile_path.parent / source
    try:
        return files.is_within(beside, root) and files.exists(beside)
    except ExtractionError:  # a name no file can have (too long)
        return False


def _singles(vb: ValueBuilder, commands: list[Command], last: dict[str, Command]) -> None:
    for name, cmd in last.items():
        key = _SINGLE[name]
        repeats = [c.line for c in commands if c.name == name and c is not cmd]
        note = (f"the last {name.upper() if name != 'model' else 'FROM'}: ollama create keeps it over line(s) "
                f"{', '.join(map(str, repeats))}") if repeats and name != "adapter" else None
        if name == "requires":
            _check_semver(vb, cmd)
        value: object = [cmd.args] if name == "adapter" else cmd.args
        vb.set(key, value, cmd.line, source="Modelfile", note=note)
        if name == "template":
            vb.set("ollama.template_digest", chat_template_digest(cmd.args), cmd.line, source="Modelfile",
                   note="sha256 of the TEMPLATE text (a Go template: not comparable with a Jinja chat template)")


def _lists(vb: ValueBuilder, commands: list[Command]) -> None:
    """LICENSE and MESSAGE: every one, in order."""
    licenses = [c for c in commands if c.name == "license"]
    if licenses:
        vb.set("ollama.license", [c.args for c in licenses], licenses[0].line, source="Modelfile")
    messages = [c for c in commands if c.name == "message"]
    if messages:
        pairs = [c.args.split(": ", 1) for c in messages]
        vb.set("ollama.messages", [{"role": p[0], "content": p[1] if len(p) > 1 else ""} for p in pairs],
               messages[0].line, source="Modelfile")


def _parameters(vb: ValueBuilder, path: Path, commands: list[Command]) -> None:
    stops: list[Command] = []
    for cmd in commands:
        if cmd.name in _SINGLE or cmd.name in ("license", "message"):
            continue
        if cmd.name in DEPRECATED:
            vb.set(f"ollama.{UNKNOWN_FIELDS}.{cmd.name}", cmd.args, cmd.line, source="Modelfile",
                   note="deprecated: ollama create accepts it with a warning and drops it (parser.go "
                        "deprecatedParameters)")
            continue
        kind = OPTIONS.get(cmd.name)
        if kind is None:
            why = f"unknown parameter '{cmd.name}': ollama create refuses it (api/types.go FormatParams)"
            raise ExtractionError(ignored_note(why, cmd.name, OPTIONS), str(path), cmd.line)
        if kind == "strs":
            stops.append(cmd)
            continue
        value = _PARSE[kind](cmd.args)
        if value is None:
            raise ExtractionError(f"invalid {kind} value {cmd.args!r} for parameter '{cmd.name}': ollama create "
                                  "refuses it", str(path), cmd.line)
        _put_parameter(vb, cmd, value)
    if stops:
        vb.set("generation.stop", [c.args for c in stops], stops[0].line, source="Modelfile",
               note=None if len(stops) == 1 else f"PARAMETER stop on lines {', '.join(str(c.line) for c in stops)}")


def _put_parameter(vb: ValueBuilder, cmd: Command, value: int | float | bool) -> None:
    key = _CANONICAL.get(cmd.name, f"ollama.{cmd.name}")
    note = None
    stored: int | float | bool | None = value
    if cmd.name == "seed" and value == -1:
        stored, note = None, "seed -1: a random seed"
    elif cmd.name == "num_predict" and value == -1:
        note = "-1: no limit (until an end token or the end of the context)"
    elif cmd.name == "repeat_penalty":
        note = "Ollama penalizes the last repeat_last_n tokens only (ollama.repeat_last_n)"
    vb.set(key, stored, cmd.line, source="Modelfile", note=note)


def _parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(s, 10, 64)``: an optional sign and decimal digits, within int64."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _parse_float(text: str) -> float | None:
    """Go's ``strconv.ParseFloat(s, 32)``: decimal or hexadecimal, ``inf``/``infinity``/``nan``; out of float32's
    range is an error. Python's ``float`` also takes ``_`` between digits and surrounding spaces, Go does not."""
    body = text[1:] if text[:1] in "+-" else text
    if not text.isascii() or "_" in text or text != text.strip() or not body:
        return None
    try:
        value = float.fromhex(text) if body[:2].lower() == "0x" else float(text)
    except (ValueError, OverflowError):
        return None
    if math.isfinite(value) and abs(value) > _FLOAT32_MAX:
        return None
    return value


def _parse_bool(text: str) -> bool | None:
    """Go's ``strconv.ParseBool``."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


_PARSE: dict[str, Callable[[str], int | float | bool | None]] = {
    "int": _parse_int, "float": _parse_float, "bool": _parse_bool,
}


def _check_semver(vb: ValueBuilder, cmd: Command) -> None:
    """``REQUIRES`` must be a semantic version (golang.org/x/mod/semver ``IsValid`` after a ``v`` is prefixed:
    ``0.14.0``, ``0.14``, ``1``, ``0.14.0-rc1``), or ``ollama create`` refuses the file."""
    text = cmd.args.removeprefix("v")
    core, _, build = text.partition("+")
    core, dash, pre = core.partition("-")
    parts = core.split(".")
    ok = 1 <= len(parts) <= 3 and all(_numeric(p) for p in parts) and (len(parts) == 3 or not (dash or build))
    ok = ok and (not dash or _idents(pre, numeric_rule=True)) and (not build or _idents(build, numeric_rule=False))
    if not ok:
        raise ExtractionError(f"REQUIRES {cmd.args!r} is not a semantic version (e.g. 0.14.0): ollama create "
                              "refuses it", vb.path, cmd.line)


def _numeric(part: str) -> bool:
    return part.isascii() and part.isdigit() and (part == "0" or not part.startswith("0"))


def _idents(text: str, *, numeric_rule: bool) -> bool:
    """Dot-separated identifiers of ``[0-9A-Za-z-]``; a numeric prerelease identifier has no leading zero."""
    for ident in text.split("."):
        if not ident or not all(c.isascii() and (c.isalnum() or c == "-") for c in ident):
            return False
        if numeric_rule and ident.isdigit() and not _numeric(ident):
            return False
    return True


def _decoding(vb: ValueBuilder) -> None:
    """``generation.do_sample`` from the temperature: llama.cpp samples greedily at a temperature <= 0."""
    temperature = vb.values.get("generation.temperature")
    if temperature is None:
        return
    t = temperature.value
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        vb.derive("generation.do_sample", t > 0, temperature,
                  "Ollama's runner (llama.cpp llama_sampler_temp_impl) keeps only the most likely token at a "
                  "temperature <= 0", ("generation.temperature",), explicit=temperature.explicit)

