"""Bounded JSON and YAML documents with a line for every value: the one reader of every JSON/YAML artifact.

``load_json``/``loads_json`` parse JSON with the json module (its C scanner), refusing with the line, before
anything deep is walked: more than ``Limits.objects`` values, nesting deeper than ``Limits.depth``, an integer
literal longer than ``Limits.int_digits`` digits. YAML goes through :mod:`driftguard.readers.yaml_doc` (aliases
counted as expanded, recursive anchors and non-JSON tags refused). ``load_document`` reads either, by suffix,
with the line of every JSON pointer; a repeated key keeps its last value, as the engines' own parsers do, and
the pointer's line is that last key's. YAML scalars read as the engines' PyYAML reads them (``010`` is 8; a plain
date is refused: see ``yaml_doc``). ``sniff`` is the never-raising variant ``detect`` uses.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from driftguard.errors import DriftguardError, ExtractionError, LimitError
from driftguard.readers import files, yaml_doc
from driftguard.readers.limits import DEFAULT, Limits, capped

#: Largest file ``sniff`` parses to look at its content (runtime parameter files are small).
SNIFF_LIMIT = 1 << 20

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Document:
    """A parsed JSON/YAML document plus the 1-based line of every JSON pointer (``/parameters/top_p``)."""

    path: Path
    data: Any
    lines: Mapping[str, int] = field(default_factory=dict)

    def line(self, pointer: str) -> int | None:
        """The line of a pointer, else of its nearest parent that has one."""
        p = pointer
        while p:
            hit = self.lines.get(p)
            if hit is not None:
                return hit
            p = p.rpartition("/")[0]
        return self.lines.get("")


def escape(key: str) -> str:
    """One JSON-pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def load_document(path: Path, limits: Limits = DEFAULT) -> Document:
    """Parse ``path`` as JSON (``.json``) or YAML (anything else); errors carry the line (and column)."""
    if path.suffix.lower() == ".json":
        data, text = load_json(path, limits)
        return Document(path, data, json_pointer_lines(text))
    # timestamps refused: the engines read these files with PyYAML, which makes a plain date a ``datetime``
    doc = yaml_doc.load(path, ExtractionError, limits, duplicates="last", timestamps="refuse")
    return Document(path, doc.data, yaml_pointer_lines(doc.node))


# ---------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------

def load_json(path: Path | str, limits: Limits = DEFAULT) -> tuple[Any, str]:
    """Read and parse a JSON file within ``limits``. Returns (data, text); ExtractionError/LimitError with the
    line otherwise."""
    text = files.read_text(path, limits)
    return loads_json(text, str(path), limits), text


class _LongInt(Exception):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def loads_json(text: str, path: str, limits: Limits = DEFAULT) -> Any:
    """Parse JSON text bounded by ``limits`` (``path`` names it in errors)."""
    # Cheap upper bounds first (C-speed counts): every value but the first follows a ',' or ':' or opens a
    # container, and only '[' and '{' nest. Only a text that could break a limit pays for the exact scan.
    openers = text.count("[") + text.count("{")
    if openers + text.count(",") + text.count(":") + 1 > limits.objects or openers > limits.depth:
        _scan(text, path, limits)

    def parse_int(literal: str) -> int:
        if len(literal) - literal.startswith("-") > limits.int_digits:
            raise _LongInt(literal)
        try:
            return int(literal)
        except ValueError:  # past the interpreter's own digit limit (int_digits raised beyond it)
            raise _LongInt(literal) from None

    try:
        return json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as exc:
        raise ExtractionError(f"invalid JSON: {exc.msg}", path, exc.lineno, exc.colno) from None
    except _LongInt as exc:
        digits = len(exc.literal.lstrip("-"))
        raise LimitError("int_digits", limits.int_digits, f"integer literal of {digits} digits", path,
                         _line_of_literal(text, exc.literal)) from None
    except RecursionError:  # only when depth was raised past what the interpreter's stack allows
        raise ExtractionError("invalid JSON: nested too deeply for this interpreter", path) from None


def _line_of_literal(text: str, literal: str) -> int | None:
    m = re.search(rf"(?<![\w.\"]){re.escape(literal)}(?![\w.])", text)
    return text.count("\n", 0, m.start()) + 1 if m else None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]|[-0-9.eE+]+|[A-Za-z]+')


def _scan(text: str, path: str, limits: Limits) -> None:
    """Walk the tokens of ``text`` counting values (keys included) and depth; LimitError at the first excess.

    Tolerant of invalid JSON (json.loads reports that afterwards, with its own line)."""
    depth = count = 0
    for m in _TOKEN.finditer(text):
        c = text[m.start()]
        if c in "]}":
            depth -= 1
            continue
        count += 1
        if count > limits.objects:
            raise LimitError("objects", limits.objects, f"more than {limits.objects} values", path,
                             text.count("\n", 0, m.start()) + 1)
        if c in "[{":
            depth += 1
            if depth > limits.depth:
                raise LimitError("depth", limits.depth, f"nested more than {limits.depth} levels deep", path,
                                 text.count("\n", 0, m.start()) + 1)


def json_pointer_lines(text: str) -> dict[str, int]:
    """Line of every member and element of an already-parsed JSON text, by JSON pointer.

    The json module's own scanner (``raw_decode``) reads keys and scalars, so we only walk the punctuation
    between them. A repeated key maps to its last occurrence (the value json.loads keeps).
    """
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    decoder = json.JSONDecoder()
    lines: dict[str, int] = {}
    n = len(text)

    def line_at(i: int) -> int:
        return bisect_right(newlines, i - 1) + 1

    def skip(i: int) -> int:
        while i < n and text[i] in " \t\r\n\ufeff":
            i += 1
        return i

    def value(i: int, ptr: str, own_line: bool) -> int:
        i = skip(i)
        if own_line:
            lines[ptr] = line_at(i)
        c = text[i]
        if c == "{":
            i = skip(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, end = decoder.raw_decode(text, i)
                kptr = f"{ptr}/{escape(str(key))}"
                lines[kptr] = line_at(i)
                i = skip(end) + 1  # past ':'
                i = skip(value(i, kptr, False))
                if text[i] == "}":
                    return i + 1
                i = skip(i + 1)  # past ','
        if c == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            k = 0
            while True:
                i = skip(value(i, f"{ptr}/{k}", True))
                k += 1
                if text[i] == "]":
                    return i + 1
                i = skip(i + 1)
        _, end = decoder.raw_decode(text, i)
        return int(end)

    with suppress(ValueError, IndexError, RecursionError):  # lines are a convenience: partial beats none
        value(0, "", True)
    return lines


# ---------------------------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------------------------

def yaml_pointer_lines(span: yaml_doc.Span | int | None) -> dict[str, int]:
    """Line of every member of a YAML document by JSON pointer (aliases: the anchor's lines). Merged keys
    (``<<``) come first, the first merged mapping winning; the mapping's own keys, the last of repeated keys
    winning, come after, as in the data."""
    lines: dict[str, int] = {}
    if span is None:
        return lines
    todo: list[tuple[str, yaml_doc.Span | int, int]] = [("", span, yaml_doc.span_line(span))]
    while todo:  # iterative: the composer already bounded depth and expanded size
        ptr, node, line = todo.pop()
        lines[ptr] = line
        if isinstance(node, int):
            continue
        if node.keys is None:
            for i, item in enumerate(node.items):
                todo.append((f"{ptr}/{i}", item, yaml_doc.span_line(item)))
            continue
        # entries in rising precedence: each is popped (and its lines written) after the ones before it
        entries: list[tuple[str, yaml_doc.Span | int, int]] = []
        for (name, _), member in zip(node.keys, node.items, strict=True):
            if name is None:  # '<<': the merged mappings' members, the first listed winning
                merged = [member] if isinstance(member, int) or member.keys is not None else member.items
                for one in merged:
                    if not isinstance(one, int) and one.keys is not None:
                        entries[:0] = [(f"{ptr}/{escape(k)}", m, kl)
                                       for (k, kl), m in zip(one.keys, one.items, strict=True) if k is not None]
        for (name, key_line), member in zip(node.keys, node.items, strict=True):
            if name is not None:
                entries.append((f"{ptr}/{escape(name)}", member, key_line))
        todo.extend(reversed(entries))
    return lines


# ---------------------------------------------------------------------------------------------------------
# detect
# ---------------------------------------------------------------------------------------------------------

#: The parses of the detection under way (``sniffing``), by what was parsed how; None outside one.
_SNIFFED: ContextVar[dict[Hashable, Any] | None] = ContextVar("driftguard_sniffed", default=None)


@contextmanager
def sniffing(path: Path | None = None, head: bytes = b"") -> Iterator[None]:
    """One detection: inside it each file is read and parsed once (``sniffed``), however many kinds' ``detect``
    ask about it (every kind is asked, and a dozen parse JSON or YAML). Detections only read what they get.

    ``path``/``head``: the file detected and its first bytes as ``files.head`` read them; shorter than
    ``files.HEAD_BYTES``, they are the whole file, which ``sniff`` then parses without opening it again."""
    memo: dict[Hashable, Any] = {}
    if path is not None and 0 < len(head) < files.HEAD_BYTES:
        memo[("whole", str(path))] = head
    token = _SNIFFED.set(memo)
    try:
        yield
    finally:
        _SNIFFED.reset(token)


T = TypeVar("T")


def sniffed(key: Hashable, parse: Callable[[], T]) -> T:
    """``parse()``, once per ``key`` inside ``sniffing`` (every call outside one parses)."""
    memo = _SNIFFED.get()
    if memo is None:
        return parse()
    if key not in memo:
        memo[key] = parse()
    return cast(T, memo[key])


def sniff(path: Path, head: bytes, suffixes: Iterable[str] = (".json", ".yaml", ".yml"),
          limits: Limits = DEFAULT) -> Any:
    """The parsed content of a small JSON/YAML file for ``detect``; None when it cannot be read. Never raises
    for bad input: extraction reports the real error."""
    suffix = path.suffix.lower()
    if suffix not in tuple(suffixes):
        return None
    small = capped(limits, "file_bytes", SNIFF_LIMIT)
    return sniffed(("sniff", str(path), small), lambda: _sniff(path, suffix, small))


def _sniff(path: Path, suffix: str, small: Limits) -> Any:
    memo = _SNIFFED.get()
    whole = memo.get(("whole", str(path))) if memo is not None else None
    try:
        if whole is None:
            text = files.read_text(path, small)
        elif len(whole) > small.file_bytes:  # as files.read_text refuses it
            return None
        else:
            text = whole.decode("utf-8-sig")
        if suffix == ".json":
            return loads_json(text, str(path), small)
        return yaml_doc.loads(text, str(path), ExtractionError, small, duplicates="last").data
    except (DriftguardError, UnicodeDecodeError):  # files.read_text refuses bytes that are not UTF-8 as well
        return None
