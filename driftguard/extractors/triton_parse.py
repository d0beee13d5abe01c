"""Parsing Triton ``config.pbtxt`` with Triton's own ``ModelConfig`` schema and protobuf's text_format parser,
keeping the line of every field, and filling template placeholders.

Lines: ``text_format`` does not report positions, so we subclass its parser and, each time it merges a field,
record the tokenizer's current line under the field's path (``input[0].dims[1]``, ``parameters[top_p]``). The
grammar stays protobuf's own; we only listen.

Templates: real repositories ship configs with ``${name}`` placeholders (filled by tensorrtllm_backend's
``fill_template.py``), ``#NAME`` (also glued inside a token, ``TYPE_#DTYPE``) and bare ``NAME`` placeholders
(filled by sed, as in k2-fsa/sherpa). ``--set name=value`` fills them the same way; placeholders left where the
schema wants a value are one error naming every one and its lines. A Jinja template (``{% ... %}``,
``{{ ... }}``) is an error saying to render it first.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from bisect import bisect_right
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

from driftguard.errors import ExtractionError, LimitError, TemplateError, UsageError
from driftguard.readers.limits import DEFAULT, Limits

_DOLLAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_HASH_NAME = re.compile(r"#([A-Za-z_][A-Za-z0-9_]*)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UPPER = re.compile(r"[A-Z][A-Z0-9_]*")
_HASH_UPPER = re.compile(r"#[A-Z][A-Z0-9_]*\b")
#: Characters of a token a ``#NAME`` placeholder can be glued to (``TYPE_#DTYPE``, ``/models/#NAME``).
_GLUE = re.compile(r"[A-Za-z0-9_.\-/+]")
_JINJA = re.compile(r"\{[%{]")
#: Stands for a character of a ``${name}``/``#NAME`` placeholder while bare names are looked for.
_MASK = "\x00"
#: Enum value families of the schema: ``TYPE_FP33`` is a bad enum value, not a placeholder.
_ENUM_FAMILIES = ("TYPE_", "KIND_", "FORMAT_", "CONTROL_", "PRIORITY_")
#: Float words protobuf's text format accepts in any case.
_FLOAT_WORDS = frozenset({"INF", "INFF", "INFINITY", "INFINITYF", "NAN", "NANF"})


@cache
def model_config_pb2() -> ModuleType:
    """Triton's generated ``model_config_pb2`` module from the tritonclient wheel.

    Imported by file so that ``tritonclient.grpc/__init__`` (which needs grpcio and costs ~140 ms) is not run.
    """
    loaded = sys.modules.get("tritonclient.grpc.model_config_pb2")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("tritonclient")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("Triton configs need the 'tritonclient' package (pip install driftguard-ml)")
    path = Path(next(iter(spec.submodule_search_locations))) / "grpc" / "model_config_pb2.py"
    mod_spec = importlib.util.spec_from_file_location("driftguard._triton_model_config_pb2", path)
    if mod_spec is None or mod_spec.loader is None:
        raise UsageError(f"tritonclient has no model_config_pb2 at {path}")
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    sys.modules[mod_spec.name] = module
    return module


@dataclass(frozen=True)
class Parsed:
    """A parsed config: the ModelConfig message, ``{field path: line}``, and placeholders left in strings."""

    config: Any
    lines: Mapping[str, int]
    unfilled: Mapping[str, int]


# Code up to a ``#`` comment: plain characters and quoted strings (backslash escapes; an unterminated string
# runs to the end of the line). Each alternative starts with a different character, so matching is linear.
_CODE = re.compile(r"""(?:[^"'#]+|"(?:[^"\\]+|\\.)*"?|'(?:[^'\\]+|\\.)*'?)*""")
_QUOTED = re.compile(r""""(?:[^"\\]+|\\.)*(?:"|\\?$)|'(?:[^'\\]+|\\.)*(?:'|\\?$)""")
#: protobuf's CUnescape runs a regex that backtracks over every run of backslashes not followed by ``x``: a run
#: of n costs about n**2 steps. The sum of those squares over a config is capped (real configs spend a few).
_BACKSLASHES = re.compile(r"\\{2,}")
_MAX_ESCAPE_COST = 16_000_000
#: The longest protobuf error message kept (it can quote a whole crafted line).
_MAX_MESSAGE = 300


def _code_end(line: str) -> int:
    """Where the line's ``#`` comment starts (its length when it has none), skipping quoted strings and ``#NAME``
    placeholders (``#`` glued to a token, as in ``TYPE_#DTYPE``, or right after ``key:``)."""
    i = 0
    while True:
        m = _CODE.match(line, i)
        end = m.end() if m else i
        if end >= len(line):
            return len(line)
        hm = _HASH_NAME.match(line, end)
        if hm is None or not _hash_is_placeholder(line, end):
            return end
        i = hm.end()


def _hash_is_placeholder(code: str, pos: int) -> bool:
    """``#NAME`` at ``pos`` (outside strings) is a placeholder, not a comment: glued to the token before it, the
    value of ``key:``, or an upper-case name as a list item (``dims: [ -1, #DIM ]``)."""
    if pos > 0 and _GLUE.match(code, pos - 1):
        return True
    j = pos - 1
    while j >= 0 and code[j] in " \t":
        j -= 1
    if j < 0:
        return False
    if code[j] == ":":
        return True
    return code[j] in "[," and bool(_HASH_UPPER.match(code, pos))


def _strip_comment(line: str) -> tuple[str, str]:
    """Split a pbtxt line into code and ``#`` comment, respecting quoted strings and ``#NAME`` placeholders."""
    end = _code_end(line)
    return line[:end], line[end:]


def _outside_strings(code: str) -> list[tuple[int, int]]:
    """Spans of ``code`` that are not inside quoted strings."""
    spans, start = [], 0
    for m in _QUOTED.finditer(code):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(code)))
    return spans


@dataclass(frozen=True)
class Placeholder:
    """One template placeholder in a config: the name ``--set`` fills, its spelling in the file (``${name}``,
    ``#NAME``, ``NAME``), its 1-based line and column, and whether it sits inside a quoted string.

    ``likely``: it looks like a placeholder even when nobody fills it. ``${name}`` and ``#NAME`` always do; a bare
    name only when it is upper case and not one of the schema's enum values (``TYPE_FP32``), a near miss of one
    (``TYPE_FP33`` is a bad enum, not a placeholder) or ``INF``/``NAN``. Every other bare identifier in value
    position is still filled when ``--set`` names it.
    """

    name: str
    spelling: str
    line: int
    column: int
    in_string: bool
    likely: bool


def find_placeholders(text: str, limits: Limits = DEFAULT, path: str = "") -> list[Placeholder]:
    """Every placeholder of a config, in file order: ``${name}`` anywhere (strings included, as
    tensorrtllm_backend's fill_template.py fills them), ``#NAME`` inside a token or a string or as a value
    (sed-filled templates: ``data_type: TYPE_#DTYPE``, ``max_batch_size: #MAX_BATCH``), and bare identifiers in
    value position outside strings (``max_batch_size: MAX_BATCH``, ``dims: [-1, ENCODER_DIM]``). Comments are
    skipped. The scan runs before the parser counts fields, so it counts them itself (``_Budget``)."""
    found: list[Placeholder] = []
    budget = _Budget(limits, path)
    for n, line in enumerate(text.splitlines(), 1):
        found.extend(budget.scan(line, n))
    return found


class _Budget:
    """The template scan's share of ``limits.triton_fields``: a config's fields, bounded from above by every
    ``:`` and ``{`` of its lines (checked before a line is scanned), and the placeholders found, each a field's
    value (checked while a line is scanned, so one long line stops at the limit too). A config the parser would
    refuse for its fields is refused here first, with the same limit, before the scan costs more than that."""

    def __init__(self, limits: Limits, path: str) -> None:
        self.limits, self.path = limits, path or None
        self.fields = self.found = 0

    def scan(self, line: str, n: int) -> list[Placeholder]:
        allowed = self.limits.triton_fields
        self.fields += line.count(":") + line.count("{")
        self.limits.check("triton_fields", self.fields, f"model config with more than {allowed} fields",
                          self.path, n)
        out = _line_placeholders(line, n, allowed - self.found)
        self.found += len(out)
        self.limits.check("triton_fields", self.found, f"more than {allowed} placeholders and enum values",
                          self.path, n)
        return out


def _line_placeholders(line: str, n: int, room: int = sys.maxsize) -> list[Placeholder]:
    """The placeholders of one line, in column order; past ``room`` of them the scan stops (the caller refuses
    the config)."""
    if not line.strip():
        return []
    code = line[:_code_end(line)]
    outside = _outside_strings(code)
    strings = [(b, a) for (_, b), (a, _) in pairwise(outside)]

    starts = [a for a, _ in strings]

    def in_string(pos: int) -> bool:
        i = bisect_right(starts, pos) - 1
        return i >= 0 and pos < strings[i][1]

    out: list[Placeholder] = []
    masked = list(code)
    for m in _DOLLAR.finditer(code):
        out.append(Placeholder(m.group(1), m.group(0), n, m.start() + 1, in_string(m.start()), True))
        masked[m.start():m.end()] = _MASK * (m.end() - m.start())
        if len(out) > room:
            return out
    for m in _HASH_NAME.finditer(code):
        inside = in_string(m.start())
        if masked[m.start()] == _MASK or not (inside or _hash_is_placeholder(code, m.start())):
            continue
        out.append(Placeholder(m.group(1), m.group(0), n, m.start() + 1, inside, True))
        masked[m.start():m.end()] = _MASK * (m.end() - m.start())
        if len(out) > room:
            return out
    text = "".join(masked)
    for a, b in outside:
        for m in _IDENT.finditer(text, a, b):
            if _is_value(text, m.start(), m.end(), a, b):
                out.append(Placeholder(m.group(0), m.group(0), n, m.start() + 1, False, _likely_bare(m.group(0))))
                if len(out) > room:
                    return out
    return sorted(out, key=lambda p: p.column)


def _is_value(text: str, start: int, end: int, lo: int, hi: int) -> bool:
    """The identifier ``text[start:end]`` is a whole token in value position (after ``:``, ``[`` or ``,``; not
    a field name followed by ``:``, ``{`` or ``<``). Looks only across the whitespace around it, so a scan of
    a line stays linear."""
    if start > lo and (_GLUE.match(text, start - 1) or text[start - 1] == _MASK):
        return False
    if end < hi and text[end] == _MASK:
        return False
    j = start - 1
    while j >= lo and text[j].isspace():
        j -= 1
    if j < lo or text[j] not in ":[,":
        return False
    k = end
    while k < hi and text[k].isspace():
        k += 1
    return not (k < hi and text[k] in ":{<")


def _likely_bare(name: str) -> bool:
    return (bool(_UPPER.fullmatch(name)) and name not in _enum_values() and not name.startswith(_ENUM_FAMILIES)
            and name.upper() not in _FLOAT_WORDS)


@cache
def _enum_values() -> frozenset[str]:
    """Every enum value name of Triton's ModelConfig schema (``TYPE_FP32``, ``KIND_GPU``, ``REJECT``...)."""
    names: set[str] = set()
    stack = list(model_config_pb2().DESCRIPTOR.message_types_by_name.values())
    for enum in model_config_pb2().DESCRIPTOR.enum_types_by_name.values():
        names.update(v.name for v in enum.values)
    while stack:
        message = stack.pop()
        for enum in message.enum_types:
            names.update(v.name for v in enum.values)
        stack.extend(message.nested_types)
    return frozenset(names)


def fill_template(text: str, values: Mapping[str, str], path: str, limits: Limits = DEFAULT) -> str:
    """Substitute the placeholders ``--set`` names (``find_placeholders``): ``${name}`` anywhere, ``#NAME``
    anywhere in a token or string, bare ``NAME`` in value position outside strings (never as a field name).
    Values may not contain newlines, so every line number stays true."""
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise UsageError(f"--set {name}: the value may not contain a newline", path)
    if not values:
        return text
    out_lines = []
    budget = _Budget(limits, path)
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        pieces, last = [], 0
        for p in budget.scan(body, n):
            if p.name in values:
                at = p.column - 1
                pieces += [body[last:at], values[p.name]]
                last = at + len(p.spelling)
        out_lines.append("".join(pieces) + body[last:] + ending)
    return "".join(out_lines)


def placeholder_names(text: str, wanted: Collection[str] = (), limits: Limits = DEFAULT,
                      path: str = "") -> dict[str, tuple[int, ...]]:
    """``{name: lines}`` of the placeholders ``--set`` can fill in a config: the likely ones, and any bare
    identifier in value position named in ``wanted`` (``--set`` fills those too)."""
    out: dict[str, list[int]] = {}
    for p in find_placeholders(text, limits, path):
        if p.likely or p.name in wanted:
            lines = out.setdefault(p.name, [])
            if p.line not in lines:
                lines.append(p.line)
    return {name: tuple(lines) for name, lines in sorted(out.items())}


def _lines(lines: Sequence[int]) -> str:
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(str(x) for x in lines)


def _unfilled_error(left: Sequence[Placeholder], path: str) -> TemplateError:
    """One error naming every unfilled placeholder (with its lines) and the ``--set`` that fills each."""
    by_name: dict[str, list[Placeholder]] = {}
    for p in left:
        by_name.setdefault(p.name, []).append(p)
    first = left[0]
    fill = " ".join(f"--set {name}=VALUE" for name in by_name)
    if len(by_name) == 1:
        lines = sorted({p.line for p in left})
        where = f" on {_lines(lines)}" if len(lines) > 1 else ""
        message = f"unfilled template placeholder '{first.spelling}'{where} (fill it with {fill})"
    else:
        listed = ", ".join(f"'{ps[0].spelling}' ({_lines(sorted({p.line for p in ps}))})"
                           for ps in by_name.values())
        message = f"{len(by_name)} unfilled template placeholders: {listed} (fill them with {fill})"
    return TemplateError(message, first.spelling, path, first.line, first.column,
                         names=tuple(by_name))


def _jinja_error(text: str, path: str) -> TemplateError | None:
    """A TemplateError when the file is a Jinja template (``{%`` or ``{{`` outside strings and comments)."""
    if "{%" not in text and "{{" not in text:
        return None
    for n, line in enumerate(text.splitlines(), 1):
        code, _ = _strip_comment(line)
        for a, b in _outside_strings(code):
            m = _JINJA.search(code, a, b)
            if m:
                return TemplateError(f"this is a Jinja template ('{m.group(0)}' on line {n}): render it first, "
                                     "then check the rendered config", m.group(0), path, n, m.start() + 1)
    return None


def parse(text: str, path: str, substitutions: Mapping[str, str] | None = None,
          limits: Limits = DEFAULT) -> Parsed:
    """Parse config.pbtxt text into Triton's ModelConfig, recording the line of every field.

    Raises TemplateError for a Jinja template, or naming every placeholder left where the schema wants a value
    (all of them at once, with their lines); ExtractionError (with line:column from protobuf's own ParseError)
    for any other syntax or schema error, LimitError (with the line) past ``limits.triton_fields`` merged
    fields or an integer longer than ``limits.int_digits``.
    """
    from google.protobuf import text_format

    jinja = _jinja_error(text, path)
    if jinja is not None:
        raise jinja
    pb2 = model_config_pb2()
    values = substitutions or {}
    filled = fill_template(text, values, path, limits)
    left = [p for p in find_placeholders(text, limits, path) if p.likely and p.name not in values]
    if any(not p.in_string for p in left):  # those in strings parse; named too, so one run shows them all
        raise _unfilled_error(left, path)
    parser = _make_parser(text_format, limits, path)
    message = pb2.ModelConfig()
    try:
        parser.ParseLines(filled.split("\n"), message)
    except text_format.ParseError as exc:
        line, column = exc.GetLine(), exc.GetColumn()
        msg = re.sub(r"^\d+:\d+ : ", "", str(exc))
        if len(msg) > _MAX_MESSAGE:
            msg = msg[:_MAX_MESSAGE] + "..."
        raise ExtractionError(f"not a valid Triton model config: {msg}", path, line, column) from None
    except RecursionError:
        raise ExtractionError("not a valid Triton model config: nested too deeply", path, parser.line) from None
    except (ValueError, TypeError) as exc:  # protobuf raises these for some bad values
        raise ExtractionError(f"not a valid Triton model config: {str(exc)[:_MAX_MESSAGE]}", path,
                              parser.line) from None
    in_strings: dict[str, int] = {}
    for p in left:
        in_strings.setdefault(p.spelling, p.line)
    return Parsed(message, dict(parser.lines), in_strings)


def _make_parser(text_format: Any, limits: Limits, path: str) -> Any:
    """A text_format parser that records ``{field path: 1-based line}`` as it merges fields, counting them
    against ``limits.triton_fields``.

    A map entry's fields are recorded in a fresh table while the entry is merged (its key is only known at its
    end), then copied under ``field[key]``: each line is recorded once and copied once per enclosing map, so
    the work stays linear in the number of fields.
    """

    class LineRecordingParser(text_format._Parser):  # type: ignore[misc]  # protobuf's own parser is untyped
        def __init__(self) -> None:
            super().__init__()
            self.lines: dict[str, int] = {}
            self.line: int | None = None  # the line of the field being merged, for errors
            self._stack: list[str] = []
            self._map_keys: list[Any] = []
            self._fields = 0
            self._escape_cost = 0

        def _path(self, segment: str) -> str:
            return ".".join([*self._stack, segment]) if self._stack else segment

        def _record(self, path: str, line: int) -> None:
            self.lines.setdefault(path, line)

        def _count(self, tokenizer: Any) -> int:
            line: int = tokenizer._line + 1
            self.line = line
            self._fields += 1
            limits.check("triton_fields", self._fields, f"model config with more than {self._fields - 1} fields",
                         path, line)
            return line

        def _MergeMessageField(self, tokenizer: Any, message: Any, field: Any) -> None:
            line = self._count(tokenizer)
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                self._merge_map_entry(tokenizer, message, field, line)
                return
            if field.is_repeated:
                segment = f"{field.name}[{len(getattr(message, field.name))}]"
                self._record(self._path(field.name), line)
            else:
                segment = field.name
            self._record(self._path(segment), line)
            self._stack.append(segment)
            try:
                super()._MergeMessageField(tokenizer, message, field)
            finally:
                self._stack.pop()

        def _merge_map_entry(self, tokenizer: Any, message: Any, field: Any, line: int) -> None:
            outer_lines, outer_stack = self.lines, self._stack
            self.lines, self._stack = {}, []
            self._map_keys.append(None)
            try:
                super()._MergeMessageField(tokenizer, message, field)
            finally:
                entry_lines, key = self.lines, self._map_keys.pop()
                self.lines, self._stack = outer_lines, outer_stack
            final = self._path(f"{field.name}[{key}]")
            # A repeated key overwrites, as the map itself does.
            self.lines[final] = line
            for p, ln in entry_lines.items():
                self.lines[f"{final}.{p}"] = ln
            self._record(self._path(field.name), line)

        def _MergeScalarField(self, tokenizer: Any, message: Any, field: Any) -> None:
            line = self._count(tokenizer)
            bare = str(tokenizer.token).lstrip("-+")
            digits = len(bare) if bare.isdigit() else 0
            if digits > limits.int_digits:
                raise LimitError("int_digits", limits.int_digits, f"number of {digits} digits", path, line)
            if "\\\\" in bare:
                self._escape_cost += sum(len(m.group()) ** 2 for m in _BACKSLASHES.finditer(bare))
                if self._escape_cost > _MAX_ESCAPE_COST:
                    raise ExtractionError("not a valid Triton model config: string escapes with runs of "
                                          "backslashes too long to unescape", path, line)
            if field.is_repeated:
                self._record(self._path(field.name), line)
                self._record(self._path(f"{field.name}[{len(getattr(message, field.name))}]"), line)
            else:
                self._record(self._path(field.name), line)
            super()._MergeScalarField(tokenizer, message, field)
            if field.name == "key" and message.DESCRIPTOR.GetOptions().map_entry and self._map_keys:
                self._map_keys[-1] = message.key

    return LineRecordingParser()
