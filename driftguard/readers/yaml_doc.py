"""Bounded YAML: one loader for every YAML file driftguard reads (engine files, the manifest, approvals).

A YAML file can be small and still expand without end: aliases (``&a``/``*a``) are shared on the page but
every reader that walks the data pays for each use, so a "billion laughs" file of a few lines stands for
10^9 values, and ``&a [*a]`` is a list that contains itself. This loader composes the node graph in one
iterative pass over the parser's events and refuses, with the line, before anything is built:

* nesting deeper than ``Limits.depth`` (aliases count with the depth of what they stand for);
* more than ``Limits.objects`` values, counting every alias as the full size of its anchor (sizes are kept per
  node, so the check is linear in the file, whatever the expansion);
* an alias to a collection still open (a recursive anchor);
* an integer literal longer than ``Limits.int_digits`` digits;
* a tag that is not a JSON-like value: str, int, float, bool, null, seq, map (and the ``<<`` merge key).
  ``!!binary``, ``!!set``, ``!!omap``, ``!!pairs``, ``!!timestamp`` and custom tags are errors; dates written
  plainly (``2027-01-31``) stay strings, or are refused (``timestamps="refuse"``, see below).

Scalars are read as PyYAML's ``yaml.safe_load`` reads them (YAML 1.1), because that is the parser of every engine
whose YAML files driftguard reads: ``vllm serve --config`` (``FlexibleArgumentParser.load_config_file`` in
vllm-project/vllm@00da11e37d1f ``vllm/utils/argparse_utils.py``: ``yaml.safe_load``, then each value as
``str(value)`` on the command line), ``trtllm-serve --extra_llm_api_options`` (``update_llm_args_with_extra_options``
in NVIDIA/TensorRT-LLM@fcd3f3168280 ``tensorrt_llm/llmapi/llm_args.py``: ``yaml.safe_load``), and lmdeploy, whose
library parses no YAML (InternLM/lmdeploy@1263d5cd889b: no loader under ``lmdeploy/``) so that its YAML files are
read by the user's own code, as its scripts do (``benchmark/benchmark_serving.py``: ``yaml.safe_load``). So
``010`` is 8 (octal), ``0x1F`` 31, ``1_000`` 1000, ``1:30`` 90 (sexagesimal), ``yes``/``on`` true, ``.inf``
infinity and ``~`` null, exactly as the engine sees them, never the spelling's YAML 1.2 or JSON meaning
(``tests/readers/test_yaml_doc.py`` checks it against ``yaml.safe_load`` over generated scalars). A plain ``=``
or ``<<`` as a value, which ``yaml.safe_load`` cannot construct, is an error. Where PyYAML would build a date
(a plain ``2027-01-31``) the engine receives a ``datetime`` that no JSON-like value stands for: engine files
(``timestamps="refuse"``) refuse it with the line (quote it to mean the text); driftguard's own files (manifest,
approvals), which pydantic validates from the text, keep it as written.

Values are then built bottom-up as each node closes, so nothing recurses on the input's nesting. ``line_of``
maps a pydantic error location back to the YAML line through the nodes' marks (manifest, approvals).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from yaml import events as ev

from driftguard.errors import DriftguardError, LimitError, did_you_mean
from driftguard.readers import files
from driftguard.readers.limits import DEFAULT, Limits

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, SEQ, MAP, MERGE, VALUE = (
    _T + n for n in ("str", "int", "float", "bool", "null", "seq", "map", "merge", "value"))
#: The tags a scalar may carry: JSON-like values, plus merge keys (``<<``) and ``=`` (both refused as values).
SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, MERGE, VALUE})

#: What a repeated mapping key does: ``"error"`` (manifest, approvals) or ``"last"`` wins (engine files, like
#: the engines' own parsers).
Duplicates = Literal["error", "last"]
#: What a plain scalar that PyYAML reads as a timestamp becomes: its ``"text"`` (manifest, approvals), or an error
#: (``"refuse"``: engine files, whose engine would receive a date; see the module docstring).
Timestamps = Literal["text", "refuse"]

_Base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's scanner when installed


class _Loader(_Base):  # type: ignore[misc]  # PyYAML has no type hints for its loader classes
    """The parser plus SafeLoader's resolver, without the timestamp resolver: dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _T + "timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
#: PyYAML's timestamp patterns by first character (all digits), for ``timestamps="refuse"``.
_TIMESTAMP_RESOLVERS = {
    first: [rx for tag, rx in resolvers if tag == _T + "timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CONSTRUCT = yaml.constructor.SafeConstructor()  # for single scalars: stateless
_SCALAR_CONSTRUCTORS = {INT: _CONSTRUCT.construct_yaml_int, FLOAT: _CONSTRUCT.construct_yaml_float,
                        BOOL: _CONSTRUCT.construct_yaml_bool, NULL: _CONSTRUCT.construct_yaml_null}


class Span:
    """Where a collection sits and where each of its members does (lines only: the values are in ``data``).

    ``items`` holds, per member, the member's own Span (a collection) or its line (a scalar); ``keys`` holds, for a
    mapping, each member's key as text (``str`` of the key's value; None for a ``<<`` merge key) and line.
    An alias shares the Span of its anchor.
    """

    __slots__ = ("items", "keys", "line")

    def __init__(self, line: int, mapping: bool) -> None:
        self.line = line
        self.keys: list[tuple[str | None, int]] | None = [] if mapping else None
        self.items: list[Span | int] = []


def span_line(span: Span | int) -> int:
    """The line a member starts on."""
    return span if isinstance(span, int) else span.line


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document: the plain data and the lines it came from (None for an empty file)."""

    path: str
    data: Any
    node: Span | int | None


def load(path: Path | str, error: type[DriftguardError], limits: Limits = DEFAULT, *,
         duplicates: Duplicates = "error", what: str = "file", timestamps: Timestamps = "text") -> YamlDoc:
    """Read (a regular file within ``limits.file_bytes``) and parse one YAML file; problems raise ``error``
    (or ``LimitError``) with the line."""
    return loads(_read(path, error, limits, what), str(path), error, limits, duplicates=duplicates,
                 timestamps=timestamps)


def loads(text: str, path: str, error: type[DriftguardError], limits: Limits = DEFAULT, *,
          duplicates: Duplicates = "error", timestamps: Timestamps = "text") -> YamlDoc:
    """``load`` for text already read; ``path`` names it in errors."""
    composer = _start(text, path, error, limits, duplicates, timestamps)
    with _translated(composer, path, error):
        node, data = composer.document()
    return YamlDoc(path, data, node)


def load_all(path: Path | str, error: type[DriftguardError], limits: Limits = DEFAULT, *,
             duplicates: Duplicates = "error", what: str = "file", timestamps: Timestamps = "text") -> list[YamlDoc]:
    """Every document of a multi-document YAML file (``---`` separated: Kubernetes manifests), in order,
    each with the line it starts on in ``YamlDoc.node``'s spans; the limits count over the whole file (values
    and documents together), not per document. An empty file has no documents."""
    return loads_all(_read(path, error, limits, what), str(path), error, limits, duplicates=duplicates,
                     timestamps=timestamps)


def loads_all(text: str, path: str, error: type[DriftguardError], limits: Limits = DEFAULT, *,
              duplicates: Duplicates = "error", timestamps: Timestamps = "text") -> list[YamlDoc]:
    """``load_all`` for text already read."""
    composer = _start(text, path, error, limits, duplicates, timestamps)
    with _translated(composer, path, error):
        docs = composer.documents()
    return [YamlDoc(path, data, node) for node, data in docs]


def _read(path: Path | str, error: type[DriftguardError], limits: Limits, what: str) -> str:
    try:
        return files.read_text(path, limits, what)
    except LimitError:
        raise
    except DriftguardError as exc:
        if isinstance(exc, error):
            raise
        raise error(exc.message, exc.path, exc.line, exc.column) from None


def _start(text: str, path: str, error: type[DriftguardError], limits: Limits,
           duplicates: Duplicates, timestamps: Timestamps) -> _Composer:
    if len(text) > _PRECOUNT_CHARS:
        _precount(text, path, limits)
    return _Composer(_Loader(text), path, error, limits, duplicates, timestamps)


@contextmanager
def _translated(composer: _Composer, path: str, error: type[DriftguardError]) -> Iterator[None]:
    """PyYAML's errors as ``error`` with the line (and column) of the problem; the loader is disposed."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and exc.problem and "end of stream" in exc.problem:
            mark = exc.context_mark  # an unclosed quote or bracket: where it opened, not the end of the file
        problem = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        raise error(f"invalid YAML: {problem}", path, line, col) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {' '.join(str(exc).split())}", path) from None
    finally:
        composer.loader.dispose()


#: Texts longer than this are first counted event by event (libyaml, no Python per value beyond the count):
#: a file of a million plain values is refused in about a second instead of being composed to its limit.
_PRECOUNT_CHARS = 1 << 20
_VALUE_EVENTS = (ev.ScalarEvent, ev.SequenceStartEvent, ev.MappingStartEvent, ev.AliasEvent)


def _precount(text: str, path: str, limits: Limits) -> None:
    """LimitError when the text holds more than ``limits.objects`` values even before aliases are expanded.
    Syntax errors are left to the real parse, which reports them with their line."""
    loader = _Loader(text)
    get, count, objects = loader.get_event, 0, limits.objects
    try:
        while loader.check_event():
            e = get()
            if isinstance(e, _VALUE_EVENTS):
                count += 1
                if count > objects:
                    raise LimitError("objects", objects, f"more than {objects} values (YAML aliases counted each "
                                     "time they are used)", path, e.start_mark.line + 1 if e.start_mark else None)
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def _short(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


class _Merge:
    """The value of a ``<<`` key while its mapping is built."""


_MERGE = _Merge()


class _Open:
    """A collection being composed: its span, its values so far, the count it started at, its anchor."""

    __slots__ = ("anchor", "height", "key", "span", "start_total", "values")

    def __init__(self, span: Span, start_total: int, anchor: str | None) -> None:
        self.span = span
        self.start_total = start_total
        self.anchor = anchor
        self.height = 0  # tallest member so far
        self.values: list[Any] = []  # members' values (sequence) or (key, value) pairs (mapping)
        self.key: tuple[Any, int] | None = None  # a mapping key (value, line) waiting for its value


@dataclass(frozen=True)
class _Anchored:
    """What an alias stands for: its span, its value, the values it counts for and the depth it adds."""

    span: Span | int
    value: Any
    size: int
    height: int


class _Composer:
    """One document's events -> (spans, data), bounded by ``limits``; see the module docstring."""

    def __init__(self, loader: Any, path: str, error: type[DriftguardError], limits: Limits,
                 duplicates: Duplicates, timestamps: Timestamps) -> None:
        self.loader = loader
        self.path = path
        self.error = error
        self.limits = limits
        self.duplicates = duplicates
        self.timestamps: dict[str, list[Any]] = _TIMESTAMP_RESOLVERS if timestamps == "refuse" else {}
        # anchor -> what it stands for; None while its collection is still open (an alias then is recursive)
        self.anchors: dict[str, _Anchored | None] = {}
        self.anchor_lines: dict[str, int] = {}
        self.stack: list[_Open] = []
        self.total = 0  # values of the stream so far (``documents`` counts over every document)
        self.resolvers: dict[str | None, list[tuple[str, Any]]] = loader.yaml_implicit_resolvers

    def _fail(self, message: str, line: int) -> DriftguardError:
        return self.error(message, self.path, line)

    def _too_many(self, line: int) -> LimitError:
        return LimitError("objects", self.limits.objects, f"more than {self.limits.objects} values (YAML aliases "
                          "counted each time they are used)", self.path, line)

    def _too_deep(self, line: int) -> LimitError:
        return LimitError("depth", self.limits.depth, f"nested more than {self.limits.depth} levels deep",
                          self.path, line)

    def document(self) -> tuple[Span | int | None, Any]:
        """The stream's only document (None, None for an empty stream); a second one is an error."""
        loader = self.loader
        get = loader.get_event
        get()  # StreamStart
        if loader.check_event(ev.StreamEndEvent):
            get()
            return None, None
        span, value = self._next()
        if not loader.check_event(ev.StreamEndEvent):
            raise yaml.composer.ComposerError(None, None, "expected one document, found another",
                                              get().start_mark)
        get()
        return span, value

    def documents(self) -> list[tuple[Span | int, Any]]:
        """Every document of the stream as (span, value); each document counts as one value
        more, so a stream of countless empty documents meets ``Limits.objects`` like any other."""
        loader = self.loader
        get = loader.get_event
        get()  # StreamStart
        out: list[tuple[Span | int, Any]] = []
        while not loader.check_event(ev.StreamEndEvent):
            line = loader.peek_event().start_mark.line + 1
            self.total += 1
            if self.total > self.limits.objects:
                raise self._too_many(line)
            out.append(self._next())
        get()
        return out

    def _next(self) -> tuple[Span | int, Any]:
        """Compose the next document; its values count on ``self.total`` (the whole stream's), its anchors are
        its own (YAML scopes anchors to a document)."""
        loader = self.loader
        get = loader.get_event
        self.anchors.clear()
        self.anchor_lines.clear()
        get()  # DocumentStart
        objects, depth, stack = self.limits.objects, self.limits.depth, self.stack
        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        total = self.total  # values so far, every alias counted as the full size of its anchor
        while True:  # the hot loop of every YAML read: kept flat, locals only
            e = get()
            kind = type(e)
            line: int = e.start_mark.line + 1
            span: Span | int
            if kind is scalar_event:
                total += 1
                if total > objects:
                    raise self._too_many(line)
                value = e.value if e.tag is None and not e.implicit[0] else self._scalar(e, line)
                span, height = line, 0
                if e.anchor is not None:
                    self._anchor(e.anchor, line, _Anchored(line, value, 1, 0))
            elif kind is alias_event:
                if e.anchor not in self.anchor_lines:
                    raise self._fail(f"invalid YAML: undefined alias *{e.anchor}", line)
                target = self.anchors[e.anchor]
                if target is None:
                    raise self._fail(f"invalid YAML: alias *{e.anchor} is inside the collection it names "
                                     "(a recursive anchor)", line)
                total += target.size
                if total > objects:
                    raise self._too_many(line)
                if len(stack) + target.height > depth:
                    raise self._too_deep(line)
                span, value, height = target.span, target.value, target.height
            elif kind is ev.SequenceStartEvent or kind is ev.MappingStartEvent:
                total += 1
                if total > objects:
                    raise self._too_many(line)
                if len(stack) >= depth:
                    raise self._too_deep(line)
                mapping = kind is ev.MappingStartEvent
                if e.tag not in (None, "!", MAP if mapping else SEQ):
                    raise self._bad_tag(e.tag, line)
                if e.anchor is not None:
                    self._anchor(e.anchor, line, None)
                stack.append(_Open(Span(line, mapping), total - 1, e.anchor))
                continue
            elif kind is ev.SequenceEndEvent or kind is ev.MappingEndEvent:
                done = stack.pop()
                span, height = done.span, done.height + 1
                value = self._mapping(done) if done.span.keys is not None else done.values
                if done.anchor is not None:
                    self.anchors[done.anchor] = _Anchored(span, value, total - done.start_total, height)
            else:
                raise yaml.composer.ComposerError(None, None, f"unexpected {kind.__name__}", e.start_mark)
            if not stack:
                break
            parent = stack[-1]
            if parent.span.keys is None:  # a sequence member: the common case, inlined
                if height > parent.height:
                    parent.height = height
                parent.span.items.append(span)
                parent.values.append(value)
            else:
                self._attach(parent, span, value, height)
        get()  # DocumentEnd
        self.total = total
        return span, value

    def _anchor(self, anchor: str, line: int, done: _Anchored | None) -> None:
        if anchor in self.anchor_lines:
            raise self._fail(f"invalid YAML: duplicate anchor &{anchor} (first at line "
                             f"{self.anchor_lines[anchor]})", line)
        self.anchors[anchor] = done
        self.anchor_lines[anchor] = line

    @staticmethod
    def _attach(parent: _Open, span: Span | int, value: Any, height: int) -> None:
        if height > parent.height:
            parent.height = height
        keys = parent.span.keys
        if keys is None:
            parent.span.items.append(span)
            parent.values.append(value)
        elif parent.key is None:
            parent.key = (value, span_line(span))
        else:
            key, key_line = parent.key
            parent.key = None
            keys.append((None if key is _MERGE else str(key), key_line))
            parent.span.items.append(span)
            parent.values.append((key, value, key_line))

    def _bad_tag(self, tag: str, line: int) -> DriftguardError:
        return self._fail(f"YAML tag {_short(tag)} is not allowed here: only JSON-like values (strings, "
                          "numbers, booleans, null, lists, mappings)", line)

    def _scalar(self, e: Any, line: int) -> Any:
        value: str = e.value
        tag: str | None = e.tag
        if tag is None or tag == "!":
            tag = STR
            if e.implicit[0]:  # a plain scalar: the resolver's patterns decide (Resolver.resolve, inlined)
                for candidate, regexp in self.resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        tag = candidate
                        break
        if tag == STR:
            if e.implicit[0] and any(rx.match(value) for rx in self.timestamps.get(value[:1], ())):
                raise self._fail(f"YAML timestamp {value!r}: the engine's parser (PyYAML) reads it as a date, not "
                                 "text; quote it", line)
            return value
        if tag == MERGE and self._at_key():
            return _MERGE
        if tag in (MERGE, VALUE):  # PyYAML has no constructor for them outside a mapping key's ``<<``
            raise self._fail(f"invalid YAML: a plain {value!r} is not a value (PyYAML refuses it); quote it", line)
        if tag not in SCALAR_TAGS:
            raise self._bad_tag(tag, line)
        if tag == INT and len(value) > self.limits.int_digits:
            text = value.lower().lstrip("+-")
            digits = sum(c.isalnum() for c in text) - (2 if text.startswith(("0x", "0o", "0b")) else 0)
            if digits > self.limits.int_digits:
                raise LimitError("int_digits", self.limits.int_digits, f"integer literal of {digits} digits",
                                 self.path, line)
        try:
            if tag == INT and value.isdigit() and value[0] != "0":  # a leading 0 is octal (YAML 1.1)
                return int(value)
            return _SCALAR_CONSTRUCTORS[tag](yaml.ScalarNode(tag, value))
        except (ValueError, TypeError, KeyError, IndexError, yaml.constructor.ConstructorError):
            raise self._fail(f"invalid YAML: {value!r} is not a valid {_short(tag)}", line) from None

    def _at_key(self) -> bool:
        """Whether the scalar being read is a mapping key (where ``<<`` merges)."""
        return bool(self.stack) and self.stack[-1].span.keys is not None and self.stack[-1].key is None

    def _mapping(self, done: _Open) -> dict[Any, Any]:
        """The mapping's dict: merged mappings (``<<``) first, the first merged one winning, then its own keys,
        the last of repeated keys winning (or an error with ``duplicates="error"``)."""
        out: dict[Any, Any] = {}
        own: list[tuple[Any, Any]] = []
        seen: dict[Any, int] = {}
        for key, value, key_line in done.values:
            if key is _MERGE:
                out.update(self._merged(value, key_line))
                continue
            try:
                hash(key)
            except TypeError:
                raise self._fail("invalid YAML: a mapping key must be a string, number, boolean or null",
                                 key_line) from None
            if self.duplicates == "error":
                if key in seen:
                    raise self._fail(f"duplicate key '{key}' (first at line {seen[key]})", key_line)
                seen[key] = key_line
            own.append((key, value))
        out.update(own)
        return out

    def _merged(self, value: Any, line: int) -> dict[Any, Any]:
        if isinstance(value, dict):
            return value
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            out: dict[Any, Any] = {}
            for one in reversed(value):  # the first mapping listed wins
                out.update(one)
            return out
        raise self._fail("invalid YAML: a merge key (<<) needs a mapping or a list of mappings", line)


def line_of(doc: YamlDoc, loc: Sequence[int | str], *, key: bool = False) -> int | None:
    """The 1-based line of the member at ``loc`` (the deepest found; parts not in the document, such as
    pydantic's union tags, are skipped). ``key``: the line of the last mapping key rather than its value."""
    if doc.node is None:
        return None
    return line_in(doc.node, loc, key=key)


def members(span: Span | int | None) -> dict[str, tuple[int, Span | int]]:
    """A mapping node's members by key: ``{name: (key line, member)}`` (empty for anything else); for callers
    that look up many members of one large mapping (a manifest of thousands of models) in one pass."""
    if span is None or isinstance(span, int) or span.keys is None:
        return {}
    return {name: (key_line, member) for (name, key_line), member in zip(span.keys, span.items, strict=True)
            if name is not None}


def line_in(span: Span | int, loc: Sequence[int | str], *, key: bool = False) -> int | None:
    """``line_of`` from a node inside the document (``loc`` relative to it)."""
    line = span_line(span)
    for i, part in enumerate(loc):
        if isinstance(span, int):
            break
        if span.keys is not None:
            for (name, key_line), member in zip(span.keys, span.items, strict=True):
                if name == str(part):
                    span = member
                    line = key_line if key and i == len(loc) - 1 else span_line(member)
                    break
        elif isinstance(part, int) and 0 <= part < len(span.items):
            span = span.items[part]
            line = span_line(span)
    return line


def dotted(loc: Sequence[int | str]) -> str:
    """``models.summarizer.training[0].kind`` for a pydantic location."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def raise_validation(doc: YamlDoc, exc: Any, error: type[DriftguardError], prefix: tuple[str | int, ...] = (),
                     schema: type | None = None) -> None:
    """Turn a pydantic ``ValidationError`` into ``error`` for its most telling problem, at the right line.

    An unknown field is reported before anything else: a typo (``deploymnet:``) is also a missing field
    (``deployment``), and the missing one is only the consequence. The unknown field's message ends with the
    closest name the model at that place accepts (``schema``: the validated pydantic model; its fields are
    walked along the location), or the closest missing sibling. Other problems are counted and the next one
    named. ``prefix``: where in the document the validated value sits, when it is part of it (a runner's
    settings)."""
    errs = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errs[0]
    loc = (*prefix, *(p for p in first["loc"] if isinstance(p, (int, str))))
    is_extra = first["type"] == "extra_forbidden"
    line = line_of(doc, loc, key=is_extra)
    msg = first["msg"]
    if is_extra:
        parent = tuple(first["loc"][:-1])
        known = _fields_at(schema, parent) if schema is not None else set()
        known |= {str(e["loc"][-1]) for e in errs if e["type"] == "missing" and tuple(e["loc"][:-1]) == parent}
        msg = "unknown field" + did_you_mean(str(first["loc"][-1]), known)
    elif first["type"] == "missing":
        msg = "required field is missing"
    elif first["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    where = dotted(loc)
    others = [e for e in errs[1:] if not (is_extra and e["type"] == "missing"
                                          and tuple(e["loc"][:-1]) == tuple(first["loc"][:-1]))]
    more = ""
    if others:
        nxt = dotted((*prefix, *(p for p in others[0]["loc"] if isinstance(p, (int, str)))))
        more = f" (and {len(others)} more, first at {nxt})" if len(others) > 1 else f" (and one more at {nxt})"
    raise error(f"{where}: {msg}{more}" if where else f"{msg}{more}", doc.path, line) from None


def _fields_at(schema: type, loc: Sequence[int | str]) -> set[str]:
    """The field names (and aliases) the pydantic model ``schema`` accepts at ``loc``, following fields,
    list items and dict values; empty where the location leaves the models (a free-form mapping)."""
    import typing

    from pydantic import BaseModel

    def models_in(tp: Any) -> list[type[BaseModel]]:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return [tp]
        return [m for arg in typing.get_args(tp) for m in models_in(arg)]

    current: list[Any] = [schema]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            if isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
                field = tp.model_fields.get(part)
                if field is not None:
                    nxt.append(field.annotation)
                    continue
            nxt.extend(typing.get_args(tp)[-1:] if typing.get_args(tp) else ())  # list item / dict value
        current = nxt
    names: set[str] = set()
    for model in (m for tp in current for m in models_in(tp)):
        names.update(model.model_fields)
    return names
