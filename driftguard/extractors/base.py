"""What every extractor module provides, and helpers they share (reading files, building values).

The rules every kind follows, so that no file is ever misread in silence (issue 18):

* **It recognises something of its own format.** ``extract`` calls ``require_recognized`` with the fields the
  file holds and the fields its format defines (or checks the equivalent itself: a protobuf or pickle reader
  that refuses foreign bytes already does). A file in which the kind finds none is an input error (exit 2)
  naming the file and what the kind expected: it is another format's file, given the wrong kind, and reading
  it as pure defaults would hide that. ``tests/extractors/test_no_misreading.py`` runs every registered kind
  on a file of every other format and holds each kind to it.
* **It reports fields its format does not know.** Where the format's field set is closed (a request body, a
  ``GenerationConfig``), a field outside it is kept as ``<namespace>.unknown_fields.<name>`` with the closest
  known name (``runtime_common.flag_unknown``), which rule DG304 reports; where it is open (a ``config.json``
  whose attributes depend on the model class), the extractor's docstring says so and the fields are kept
  under its namespace.
* **It claims files only on a strong signal** (``Extractor.detect``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from driftguard.errors import ExtractionError
from driftguard.keys import Default
from driftguard.model import EffectiveConfig, How, Origin, Value, basis_of
from driftguard.readers import documents, files
from driftguard.readers.limits import DEFAULT, Limits

#: A run's extracted model files: (resolved path, kind, substitutions, limits, resolved root) -> its
#: EffectiveConfig (immutable, so shared freely).
ExtractCache = dict[tuple[str, str, tuple[tuple[str, str], ...], Limits, str], EffectiveConfig]


@dataclass(frozen=True)
class ExtractOptions:
    """Options an extraction may need.

    ``substitutions``: values for template placeholders (``--set name=value``).
    ``context``: effective configs of other artifacts on the same side, for engines whose precedence reads
    them (vLLM and TensorRT-LLM fall back to the model's generation_config.json).
    ``limits``: what one read may cost (``readers.limits.Limits``).
    ``root``: the folder every path an artifact *names* (a vLLM ``model`` folder, ONNX external data) must
    stay inside; None: the artifact's own folder.
    ``cache``: a run's extracted model files (``ExtractCache``), shared by every extraction of the run, so a
    file that both sides, several models, or a model folder and one of its files name is read once
    (``extractors.extract`` consults it; serving-engine files are never cached: they depend on ``context``).
    ``call``/``line``: which call sites of a file with several are meant (the python kind; ``call:`` and
    ``line:`` on a manifest's artifact entry).
    """

    substitutions: Mapping[str, str] = field(default_factory=dict)
    context: tuple[EffectiveConfig, ...] = ()
    limits: Limits = DEFAULT
    root: Path | None = None
    cache: ExtractCache | None = field(default=None, compare=False, repr=False)
    call: str | None = None
    line: int | None = None

    def root_for(self, artifact: Path) -> Path:
        """The folder paths named inside ``artifact`` must stay in."""
        return self.root if self.root is not None else artifact.parent


#: The side a kind of artifact usually belongs to (``driftguard init`` places it there).
Role = Literal["training", "deployment", "either"]
_ROLES = ("training", "deployment", "either")
#: The weight formats DG401 reads (``KindInfo.weights``).
WeightsFormat = Literal["onnx", "torch", "safetensors", "folder"]
_WEIGHTS = ("onnx", "torch", "safetensors", "folder")
#: Where a kind's model IO signature comes from (``KindInfo.io``).
IoSignature = Literal["declared", "graph"]
_IO = ("declared", "graph")


@dataclass(frozen=True)
class KindInfo:
    """What the gate needs to know about a kind of artifact, declared by its extractor module as one record
    (``INFO = KindInfo(...)``; ``extractors.get`` refuses a module without it).

    ``kind``: the name the registry knows it by (``KIND:PATH``, ``kind:`` in the manifest).
    ``description``: one line for ``extract --help``.
    ``role``: the side the kind usually belongs to, for ``init``.
    ``rank``: merge rank within a side, low to high (``gate.sides.merge``).
    ``engine``: the serving engine the kind configures (its files are extracted after the side's model files,
    which they get as context, and its resolved values win the merge); None for model files.
    ``namespaces``: canonical namespaces the kind can state beyond those of its documented defaults (DG103).
    ``keeps``: the namespaces it keeps the format's own keys under, those the vocabulary lacks (``triton.*``,
    ``hf.*``, ``vllm.*``...).
    ``defaults``: the documented defaults of every artifact of the kind (its format's or its engine's table).
    ``engine_shown``: False for a request shape every engine speaks (the OpenAI body): ``init`` offers the
    other engines' kinds beside it.
    ``names``: file-name patterns (``fnmatch``, case-sensitive) the format owns, so that its claim on a file so
    named is by name (``detect`` must still say yes): it outranks every claim by content. Leave it empty where
    the name is shared (``config.json`` is transformers' and TensorRT-LLM's engine config).
    ``engine_args``: for a serving engine whose files may configure the engine itself rather than a request
    (vLLM engine args, Triton's ``model.json``): path -> whether this file does; such files are extracted
    before the side's other engine files, which get them as context.
    ``launches``: the kind reads launch commands (a shell script, a container's command line): which engine
    and serving path it configures depends on the launcher each file starts (``EffectiveConfig.serving``
    says), so ``engine`` stays None; such a file is a serving engine's file all the same (``runtime``), and it
    configures the engine itself, so it is extracted with the side's engine args, before its requests. It keeps
    every registered launcher's namespace (``Launcher.namespace``, from ``engines.LAUNCHERS``) besides ``keeps``:
    ``extractors.kept_namespaces``; a new launcher is one registry line, not an edit of every kind.

    What rules may ask of a kind (the gate passes these on each side as ``rules.base.KindTraits``, so no rule
    names a kind):
    ``weights``: the format of the weights its artifacts hold, which DG401 reads: ``onnx``, ``torch`` (a
    pickled checkpoint), ``safetensors``, or ``folder`` (a model folder: its weight files); None for none.
    ``engine_loads``: a serving engine loads the model from files of this kind (a model folder, its
    config.json, its weights), so their weight precision is what ``dtype: auto`` resolves from (DG105).
    ``io``: the model IO signature its artifacts state (``io.inputs``/``io.outputs``): ``declared`` by a
    serving config (Triton's), or the model ``graph``'s own (ONNX); DG21x check the one against the other.
    """

    kind: str
    description: str
    role: Role = "either"
    rank: int = 45
    engine: str | None = None
    namespaces: tuple[str, ...] = ()
    keeps: tuple[str, ...] = ()
    defaults: Mapping[str, Default] = field(default_factory=dict, hash=False)
    engine_shown: bool = True
    names: tuple[str, ...] = ()
    engine_args: Callable[[Path], bool] | None = None
    launches: bool = False
    weights: WeightsFormat | None = None
    engine_loads: bool = False
    io: IoSignature | None = None

    def __post_init__(self) -> None:
        # Checked here, not only by mypy: a plug-in's record is built at run time by code mypy never saw.
        problems = [what for what, ok in (
            ("kind: a non-empty str", isinstance(self.kind, str) and bool(self.kind)),
            ("description: a str", isinstance(self.description, str)),
            (f"role: one of {', '.join(_ROLES)}", self.role in _ROLES),
            ("rank: an int", isinstance(self.rank, int) and not isinstance(self.rank, bool)),
            ("engine: a str or None", self.engine is None or isinstance(self.engine, str)),
            *((f"{name}: a tuple of str", isinstance(names, tuple) and all(isinstance(n, str) for n in names))
              for name, names in (("namespaces", self.namespaces), ("keeps", self.keeps), ("names", self.names))),
            ("defaults: a mapping of key -> Default", isinstance(self.defaults, Mapping)
             and all(isinstance(d, Default) for d in self.defaults.values())),
            (f"weights: one of {', '.join(_WEIGHTS)} or None", self.weights is None or self.weights in _WEIGHTS),
            ("engine_loads: a bool", isinstance(self.engine_loads, bool)),
            ("launches: a bool", isinstance(self.launches, bool)),
            (f"io: one of {', '.join(_IO)} or None", self.io is None or self.io in _IO),
        ) if not ok]
        if problems:
            raise TypeError(f"KindInfo({self.kind!r}) needs " + "; ".join(problems))

    @property
    def runtime(self) -> bool:
        """A serving engine's runtime parameters (request, engine args, a launch command)."""
        return self.engine is not None or self.launches

    @property
    def speaks(self) -> tuple[str, ...]:
        """Every canonical namespace the kind can state: its documented defaults' and ``namespaces`` (DG103)."""
        return tuple(dict.fromkeys([*(k.split(".", 1)[0] for k in self.defaults), *self.namespaces]))


class Extractor(Protocol):
    """An extractor module: ``INFO`` (its ``KindInfo``), ``detect`` and ``extract``."""

    INFO: KindInfo

    def detect(self, path: Path, head: bytes) -> bool:
        """True when the file (name, first bytes) is this kind. Must be cheap and never raise.

        Claim a file only on a strong signal: a file name the format owns (``KindInfo.names``), or content
        only this format has (a field set no other product writes, not one shared key such as ``prompt`` or
        ``temperature``). ``extractors.detect`` asks every kind: a name claim outranks content claims, and
        when several kinds claim the same file on the same footing the file is ambiguous, an input error
        listing them, never the first one's guess. Files whose meaning depends on who reads them (a bare
        ``{"temperature": 0.7}``) are claimed by no kind: the user names it (``KIND:PATH``, ``kind:``).
        """
        ...

    def extract(self, path: Path, options: ExtractOptions) -> EffectiveConfig:
        """The artifact's effective config. Raises ExtractionError (with file and line) on bad input."""
        ...


#: The namespace segment under which fields a format does not know are recorded (``vllm.unknown_fields.<name>``,
#: ``hf.generation.unknown_fields.<name>``); rule DG304 reports every such key.
UNKNOWN_FIELDS = "unknown_fields"


def ignored_note(why: str, name: str, known: Iterable[str]) -> str:
    """``why`` plus difflib's closest known name: "ignored by vLLM; did you mean temperature?"."""
    import difflib  # here, not at the top: only a misspelt name needs it

    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f"{why}; did you mean {close[0]}?" if close else why


def require_recognized(path: Path | str, kind: str, what: str, names: Iterable[object], known: Container[str],
                       line: int | None = 1) -> None:
    """An input error (exit 2) unless one of ``names`` (the fields the file holds) is in ``known`` (the fields
    its format defines): the message names the file, its first fields and what ``kind`` expected (``what``).

    Every kind calls it (or does the same itself) before reading values, so a file of another format given
    the wrong kind fails here instead of passing with the kind's defaults."""
    held = [str(n) for n in names]
    if any(n in known for n in held):
        return
    shown = ", ".join(sorted(held)[:5]) + (", ..." if len(held) > 5 else "") if held else "none"
    raise ExtractionError(f"not a {kind} file: none of its fields ({shown}) is one {what} has; "
                          f"check the kind (KIND:PATH, or `kind:` in the manifest)", str(path), line)


def read_text(path: Path, limits: Limits = DEFAULT) -> str:
    """The file's text as UTF-8 (a regular file within ``limits.file_bytes``); ExtractionError naming the
    file otherwise."""
    return files.read_text(path, limits)


def load_json(path: Path, limits: Limits = DEFAULT) -> tuple[Any, str]:
    """Parse a JSON file within ``limits`` (bytes, values, depth, integer digits: ``readers.documents``);
    invalid JSON raises ExtractionError with line:column. Returns (data, text)."""
    return documents.load_json(path, limits)


def json_key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key of a JSON object (already parsed within limits), found with the json module's
    own scanner; a repeated key maps to its last occurrence, whose value json.loads keeps.

    ``json`` gives no positions, so we re-decode the top level with ``JSONDecoder.raw_decode`` member by
    member: the decoder tells where each value ends, and the key before it sits at a known offset.
    """
    lines: dict[str, int] = {}
    decoder = json.JSONDecoder()
    i = text.find("{")
    if i < 0:
        return lines
    i += 1
    n = len(text)
    ws = " \t\r\n"
    while i < n:
        while i < n and text[i] in ws + ",":
            i += 1
        if i >= n or text[i] == "}":
            break
        if text[i] != '"':
            break
        try:
            key, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            break
        line = text.count("\n", 0, i) + 1
        lines[str(key)] = line
        i = end
        while i < n and text[i] in ws:
            i += 1
        if i >= n or text[i] != ":":
            break
        i += 1
        while i < n and text[i] in ws:
            i += 1
        try:
            _, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            break
    return lines


class ValueBuilder:
    """Collects ``{key: Value}`` for one artifact, then fills the kind's documented defaults."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = str(path)
        self.values: dict[str, Value] = {}
        #: The serving path (``engines.get``'s name) the artifact was resolved for, when it is a runtime file.
        self.serving: str | None = None

    def set(self, key: str, value: Any, line: int | None = None, pointer: str | None = None,
            source: str | None = None, note: str | None = None) -> None:
        """Record an explicit value (the last write wins)."""
        self.values[key] = Value(value, Origin(self.path, line, pointer, source), How.EXPLICIT, note)

    def set_at(self, key: str, value: Any, origin: Origin, note: str | None = None) -> None:
        """Record an explicit value read from another file than the artifact (a chat_template.jinja beside a
        tokenizer_config.json)."""
        self.values[key] = Value(value, origin, How.EXPLICIT, note)

    def set_default(self, key: str, default: Default, source: str | None = None, *, line: int | None = None,
                    pointer: str | None = None, note: str | None = None, default_of: str | None = None) -> None:
        """Record a documented default for a key the artifact leaves unset (``line``/``pointer``: where the
        artifact says "unset", such as a JSON null). ``default_of``: whose default it is (an engine's or a
        library's layer, ``vllm``), kept in ``Origin.default_of`` and named ``<default_of> default`` in
        ``Origin.source`` unless ``source`` is given."""
        if key not in self.values:
            layer = source if source is not None or default_of is None else f"{default_of} default"
            self.values[key] = Value(default.value, Origin(self.path, line, pointer, layer, default_of), How.DEFAULT,
                                     note if note is not None else default.source)

    def derive(self, key: str, value: Any, anchor: Value | Origin | None, why: str,
               derived_from: tuple[str, ...] = (), *, explicit: bool = False) -> None:
        """Record a value an engine rule computes from others (``how`` derived): the origin is the value that
        decided it (``anchor``), the note says which rule (``derived: <why>``). ``explicit``: the values it
        follows from were written down (a request's ``truncate`` makes its truncation side explicit)."""
        origin = anchor.origin if isinstance(anchor, Value) else anchor if anchor is not None else Origin(self.path)
        self.values[key] = Value(value, origin, How.DERIVED, derived_from=derived_from,
                                 basis=How.EXPLICIT if explicit else How.DEFAULT, derivation=why)

    def resolve(self, key: str, value: Any, why: str, derived_from: tuple[str, ...] = ()) -> None:
        """Replace a symbolic value by what it resolves to (vLLM ``dtype: auto`` -> ``bfloat16``): the origin
        stays the line that wrote the symbol, ``replaced`` keeps it, ``how`` is derived."""
        old = self.values[key]
        self.values[key] = Value(value, old.origin, How.DERIVED, why, old, derived_from, basis_of(old))

    def force(self, key: str, value: Any, trigger_key: str, rule: str) -> None:
        """An engine rule replaces the value of ``key`` (``how`` forced): the origin is the value of
        ``trigger_key`` that triggered the rule, its layer ``forced: <rule>``; ``replaced`` keeps the raw
        value. No-op when the value already is ``value``."""
        old = self.values.get(key)
        if old is not None and old.value == value:
            return
        trigger = self.values.get(trigger_key)
        t = trigger.origin if trigger is not None else Origin(self.path)
        raw = "unset" if old is None else old.origin.location() if old.explicit else \
            old.origin.source or "a default"
        note = f"forced from {json.dumps(None if old is None else old.value)} ({raw})"
        self.values[key] = Value(value, Origin(t.path, t.line, t.pointer, f"forced: {rule}"), How.FORCED, note, old,
                                 (trigger_key,), basis_of(old))

    def inherit(self, key: str, value: Value, source: str, note: str | None = None) -> None:
        """Take ``value`` from another artifact of the side (``how`` inherited) when ``key`` is unset here,
        keeping its file and line and naming the layer it came through in ``Origin.source``."""
        if key in self.values:
            return
        o = value.origin
        self.values[key] = Value(value.value, Origin(o.path, o.line, o.pointer, source), How.INHERITED,
                                 note if note is not None else value.note, basis=basis_of(value),
                                 derivation=value.derivation if note is None else None)

    def fill_defaults(self, defaults: Mapping[str, Default], source: str | None = None, *,
                      default_of: str | None = None) -> None:
        """Set every documented default of ``defaults`` whose key is still unset (``set_default``)."""
        for key, default in defaults.items():
            self.set_default(key, default, source, default_of=default_of)

    def build(self) -> EffectiveConfig:
        return EffectiveConfig(self.kind, self.path, dict(self.values), self.serving)
