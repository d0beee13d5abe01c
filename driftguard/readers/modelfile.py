"""Ollama ``Modelfile``s: the commands, parsed as Ollama parses them, with the line each starts on.

There is no Python package for the format (none on PyPI reads it; ``owist-modelfile-lint`` is a linter with its
own rules), so this is a port of Ollama's own parser, ollama/ollama@fb3076099687 ``parser/parser.go``
(``ParseFile``, ``parseRuneForState``, ``unquote``, ``isValidCommand``, ``isValidMessageRole``), rune by rune,
state by state, and tested against that file's own cases (``parser/parser_test.go``, same commit):

- a command is a name of ASCII letters, any case (``FROM``, ``ADAPTER``, ``DRAFT``, ``LICENSE``, ``TEMPLATE``,
  ``SYSTEM``, ``PARAMETER``, ``MESSAGE``, ``RENDERER``, ``PARSER``, ``REQUIRES``), then a space or tab; anything else
  is an error on that line. ``FROM`` becomes the command ``model``, the others their lower-case name;
- ``PARAMETER`` takes a name (letters, digits, ``_``; case kept) and ``MESSAGE`` a role (``system``, ``user``,
  ``assistant``, lower case) before the value;
- a value runs to the end of the line, surrounding spaces trimmed; double quotes or triple double quotes quote it, and
  an unclosed quote carries it over newlines (so a triple-quoted template spans lines); there are no escapes;
- ``#`` starts a comment where a command could start (not inside a value);
- runes that are not printable (Go's ``strconv.IsPrint``, Python's ``str.isprintable``) are dropped from names
  and values, except spaces, tabs and newlines inside a value;
- the text is UTF-8 (invalid bytes become U+FFFD, as Go's decoder makes them) or, after a byte-order mark, UTF-16;
- a file without a ``FROM`` is an error ("no FROM line"), as is a value left open at the end.

Line numbers are the real ones (Ollama's own messages count ``\\r\\n`` as two lines). The text is read whole,
within ``Limits.file_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driftguard.errors import ExtractionError
from driftguard.readers.files import read_bytes
from driftguard.readers.limits import DEFAULT, Limits

#: parser.go ``isValidCommand``.
COMMANDS = ("from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter",
            "message", "requires")
#: parser.go ``isValidMessageRole``.
ROLES = ("system", "user", "assistant")

_NIL, _NAME, _VALUE, _PARAMETER, _MESSAGE, _COMMENT = range(6)
_INVALID_COMMAND = ('command must be one of "from", "license", "template", "system", "adapter", "draft", '
                    '"renderer", "parser", "parameter", "message", or "requires"')


@dataclass(frozen=True)
class Command:
    """One command: ``name`` as parser.go names it (``model`` for FROM, a PARAMETER's own name, ``message``),
    ``args`` its value (a MESSAGE's is ``role: content``), ``line`` where the command starts."""

    name: str
    args: str
    line: int


class _Unexpected(Exception):
    """parser.go's ``io.ErrUnexpectedEOF`` (returned without a line)."""


def decode(data: bytes) -> str:
    """The text as ``unicode.BOMOverride(unicode.UTF8.NewDecoder())`` reads it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data[2:].decode("utf-16-le" if data[0] == 0xFF else "utf-16-be", "replace")
    return data.decode("utf-8", "replace")


def read(path: Path, limits: Limits = DEFAULT) -> list[Command]:
    """The commands of a Modelfile; ExtractionError with the line for what Ollama's parser refuses."""
    text = decode(read_bytes(path, limits, what="Modelfile"))
    return parse(text, str(path))


def _is_space(r: str) -> bool:
    return r in " \t"


def _is_newline(r: str) -> bool:
    return r in "\r\n"


def _is_alpha(r: str) -> bool:
    return "a" <= r <= "z" or "A" <= r <= "Z"


def _next(r: str, state: int) -> tuple[int, str]:
    """parser.go ``parseRuneForState``: the next state and the rune to keep ("" for none)."""
    if state == _NIL:
        if r == "#":
            return _COMMENT, ""
        if _is_space(r) or _is_newline(r):
            return _NIL, ""
        return _NAME, r
    if state == _NAME:
        if _is_alpha(r):
            return _NAME, r
        if _is_space(r):
            return _VALUE, ""
        raise ValueError(_INVALID_COMMAND)
    if state == _VALUE:
        return (_NIL, r) if _is_newline(r) or _is_space(r) else (_VALUE, r)
    if state in (_PARAMETER, _MESSAGE):
        if _is_alpha(r) or (state == _PARAMETER and ("0" <= r <= "9" or r == "_")):
            return state, r
        if _is_space(r):
            return _VALUE, ""
        raise _Unexpected
    return (_NIL, "") if _is_newline(r) else (_COMMENT, "")


def unquote(s: str) -> tuple[str, bool]:
    """parser.go ``unquote``: a value in triple or single double quotes without them; False when one is open."""
    if s[:3] == '"""':
        return (s[3:-3], True) if len(s) >= 6 and s[-3:] == '"""' else ("", False)
    if s[:1] == '"':
        return (s[1:-1], True) if len(s) >= 2 and s[-1] == '"' else ("", False)
    return s, True


def _trim(buffer: list[str]) -> str:
    # Go's strings.TrimSpace; the buffer holds only printable runes, spaces, tabs and newlines.
    return "".join(buffer).strip(" \t\r\n")


def parse(text: str, path: str) -> list[Command]:
    """The commands of a Modelfile's text (``path`` names it in errors)."""
    commands: list[Command] = []
    state, name, role, start = _NIL, "", "", 1
    buffer: list[str] = []
    line = 1
    previous = ""
    try:
        for r in text:
            if r == "\r" or (r == "\n" and previous != "\r"):  # \r\n is one line break
                line += 1
            previous = r
            try:
                nxt, keep = _next(r, state)
            except ValueError as exc:
                raise ExtractionError(str(exc), path, start) from None
            if nxt != state:
                if state == _NAME:
                    word = "".join(buffer)
                    if word.lower() not in COMMANDS:
                        raise ExtractionError(_INVALID_COMMAND, path, start)
                    lower = word.lower()
                    name = "model" if lower == "from" else lower
                    nxt = {"parameter": _PARAMETER, "message": _MESSAGE}.get(lower, nxt)
                elif state == _PARAMETER:
                    name = "".join(buffer)
                elif state == _MESSAGE:
                    role = "".join(buffer)
                    if role not in ROLES:
                        raise ExtractionError('message role must be one of "system", "user", or "assistant"',
                                              path, start)
                elif state == _VALUE:
                    value, closed = unquote(_trim(buffer))
                    if not closed or _is_space(r):
                        buffer.append(r)
                        continue
                    commands.append(Command(name, f"{role}: {value}" if role else value, start))
                    role = ""
                if nxt == _NAME:
                    start = line
                buffer.clear()
                state = nxt
            if keep and keep.isprintable():
                buffer.append(keep)
        if state == _VALUE:
            value, closed = unquote(_trim(buffer))
            if not closed:
                raise _Unexpected
            commands.append(Command(name, f"{role}: {value}" if role else value, start))
        elif state not in (_NIL, _COMMENT):
            raise _Unexpected
    except _Unexpected:
        raise ExtractionError(f"unexpected end of the command started on line {start} (a value is missing, or a "
                              "quote is never closed)", path, start) from None
    if not any(c.name == "model" for c in commands):
        raise ExtractionError("no FROM line (ollama create needs the model to start from)", path)
    return commands
