"""Parsing Triton ``config.pbtxt`` with Triton's own ``ModelConfig`` schema and protobuf's text_format parser,
keeping the line of every field, and filling template placeholders.

Lines: ``text_format`` does not report positions, so we subclass its parser and, each time it merges a field,
record the tokenizer's current line under the field's path (``input[0].dims[1]``, ``parameters[top_p]``). The
grammar stays protobuf's own; we only listen.

Templates: real repositories ship configs with ``${name}`` placeholders (filled by tensorrtllm_backend's
``fill_template.py``), ``#NAME`` and bare ``NAME`` placeholders (filled by sed in k2-fsa/sherpa). ``--set
name=value`` fills them the same way; a placeholder left where the schema wants a number or an enum is an
error naming it and its line.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from types import ModuleType
from typing import Any

from driftguard.errors import ExtractionError, LimitError, TemplateError, UsageError
from driftguard.readers.limits import DEFAULT, Limits

_DOLLAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_HASH = re.compile(r"(:\s*)#([A-Za-z_][A-Za-z0-9_]*)\b")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def _strip_comment(line: str) -> tuple[str, str]:
    """Split a pbtxt line into code and ``#`` comment, respecting quoted strings."""
    m = _CODE.match(line)
    end = m.end() if m else 0
    return line[:end], line[end:]


def _outside_strings(code: str) -> list[tuple[int, int]]:
    """Spans of ``code`` that are not inside quoted strings."""
    spans, start = [], 0
    for m in _QUOTED.finditer(code):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(code)))
    return spans


def fill_template(text: str, values: Mapping[str, str], path: str) -> str:
    """Substitute ``${name}``, ``#NAME`` (in value position) and bare ``NAME`` values given by ``--set``.

    ``${name}`` is replaced anywhere (as fill_template.py does, strings included). Bare names are replaced only
    in value position outside strings, never as field names. Values may not contain newlines, so every line
    number stays true.
    """
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise UsageError(f"--set {name}: the value may not contain a newline", path)
    if not values:
        return text
    out_lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        body = _DOLLAR.sub(lambda m: values.get(m.group(1), m.group(0)), body)
        body = _HASH.sub(lambda m: m.group(1) + values[m.group(2)] if m.group(2) in values else m.group(0), body)
        code, comment = _strip_comment(body)
        pieces, last = [], 0
        for a, b in _outside_strings(code):
            pieces.append(code[last:a])
            segment = code[a:b]
            pieces.append(_IDENT.sub(partial(_bare, segment=segment, values=values), segment))
            last = b
        pieces.append(code[last:])
        out_lines.append("".join(pieces) + comment + ending)
    return "".join(out_lines)


def _bare(m: re.Match[str], segment: str, values: Mapping[str, str]) -> str:
    name = m.group(0)
    if name not in values:
        return name
    rest = segment[m.end():].lstrip()
    before = segment[: m.start()].rstrip()
    if rest.startswith((":", "{", "<")):  # a field name, not a value
        return name
    if not before.endswith((":", "[", ",")):
        return name
    return values[name]


def _placeholders_in_strings(text: str) -> dict[str, int]:
    """``${name}`` placeholders left in the text (outside comments), with the line of their first use."""
    found: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if "${" not in line:
            continue
        code, _ = _strip_comment(line)
        for m in _DOLLAR.finditer(code):
            found.setdefault("${" + m.group(1) + "}", n)
    return found


def _template_error(text: str, path: str, line: int | None, column: int | None) -> TemplateError | None:
    """If the parse failed on a placeholder, a TemplateError naming it (and its own line); else None."""
    lines = text.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return None
    code, _ = _strip_comment(lines[line - 1])
    m = _DOLLAR.search(code)
    if m:
        return TemplateError(
            f"unfilled template placeholder '{m.group(0)}' (fill it with --set {m.group(1)}=VALUE)",
            m.group(0), path, line, m.start() + 1)
    if column:
        bm = _IDENT.match(code[column - 1:])
        if bm and re.fullmatch(r"[A-Z][A-Z0-9_]*", bm.group(0)):
            return TemplateError(
                f"unfilled template placeholder '{bm.group(0)}' where a value is expected "
                f"(fill it with --set {bm.group(0)}=VALUE)", bm.group(0), path, line, column)
    # ``key: #NAME`` reads as a key with its value commented out: the parser trips on a later line.
    for n in range(line, 0, -1):
        code, comment = _strip_comment(lines[n - 1])
        hm = re.fullmatch(r"#([A-Za-z_][A-Za-z0-9_]*)\s*", comment)
        if hm and code.rstrip().endswith(":"):
            return TemplateError(
                f"unfilled template placeholder '#{hm.group(1)}' (fill it with --set {hm.group(1)}=VALUE)",
                "#" + hm.group(1), path, n, len(code) + 1)
        if code.strip() and n != line:
            break
    return None


def parse(text: str, path: str, substitutions: Mapping[str, str] | None = None,
          limits: Limits = DEFAULT) -> Parsed:
    """Parse config.pbtxt text into Triton's ModelConfig, recording the line of every field.

    Raises TemplateError for a placeholder the schema cannot take, ExtractionError (with line:column from
    protobuf's own ParseError) for any other syntax or schema error, LimitError (with the line) past
    ``limits.triton_fields`` merged fields or an integer longer than ``limits.int_digits``.
    """
    from google.protobuf import text_format

    pb2 = model_config_pb2()
    filled = fill_template(text, substitutions or {}, path)
    parser = _make_parser(text_format, limits, path)
    message = pb2.ModelConfig()
    try:
        parser.ParseLines(filled.split("\n"), message)
    except text_format.ParseError as exc:
        line, column = exc.GetLine(), exc.GetColumn()
        templ = _template_error(filled, path, line, column)
        if templ is not None:
            raise templ from None
        msg = re.sub(r"^\d+:\d+ : ", "", str(exc))
        if len(msg) > _MAX_MESSAGE:
            msg = msg[:_MAX_MESSAGE] + "..."
        raise ExtractionError(f"not a valid Triton model config: {msg}", path, line, column) from None
    except RecursionError:
        raise ExtractionError("not a valid Triton model config: nested too deeply", path, parser.line) from None
    except (ValueError, TypeError) as exc:  # protobuf raises these for some bad values
        raise ExtractionError(f"not a valid Triton model config: {str(exc)[:_MAX_MESSAGE]}", path,
                              parser.line) from None
    return Parsed(message, dict(parser.lines), _placeholders_in_strings(filled))


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
