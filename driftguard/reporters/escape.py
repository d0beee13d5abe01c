"""Untrusted text made safe to show: the one place every reporter (and the CLI's error line) escapes.

Everything a report shows that came from input is untrusted: keys, values, file paths (a file name may hold a
newline), model names, approval ids, reasons and notes, rule messages that quote values. A config value can
carry an escape sequence that clears the screen and prints a forged ``PASS``, a newline or ``\\r`` that forges
a table row, a bidi override that makes the reader see other characters than the ones there; an approval reason
can carry HTML or markdown that a GitHub job summary would render as an image, a link or a script tag.

**Terminal** (``for_terminal``): every character in ``CONTROLS`` (C0 controls including ``\\n``, ``\\r`` and
``\\t``, DEL, the C1 controls U+0080-U+009F, the bidi controls U+061C, U+200E, U+200F, U+202A-U+202E,
U+2066-U+2069, and the line/paragraph separators U+2028/U+2029) is written as an escape in Python's spelling:
``\\n``, ``\\r``, ``\\t``, ``\\x1b``, ``\\u202e``. A backslash is written ``\\\\``, so what the reader sees is
unambiguous: a value holding the four characters ``\\x1b`` shows as ``\\\\x1b``, an ESC as ``\\x1b``. One value
is therefore one line of printable text. Messages driftguard composes (``message_for_terminal``: input errors,
rule messages, approval notes) quote input with ``repr``, which has escaped it already; they get the control
escapes but keep their backslashes, so a quoted ``'a\\x1b'`` is not garbled into ``'a\\\\x1b'``.

**JSON** is data, not display: values are never altered. ``json.dumps`` already escapes C0 controls, quotes and
backslashes; ``json_for_terminal`` writes the rest of ``CONTROLS`` (which ``ensure_ascii=False`` leaves raw) as
``\\uXXXX`` escapes, which every JSON parser reads back as the same characters. The text is still valid JSON
and loads to exactly the input values; it just no longer drives a terminal that it is printed to.

**Markdown** (``for_markdown``, for GitHub job summaries, ``$GITHUB_STEP_SUMMARY``): the text is first made
visible as for the terminal (controls and newlines show as ``\\n``...), then every character GitHub-flavoured
markdown could read as markup is escaped: ``&``, ``<``, ``>``, ``"`` and ``'`` become HTML entities, and
``\\ ` * _ [ ] ( ) ! # | ~ { } $`` get a backslash (``|`` keeps a table cell whole, ``$`` stops math).

Autolinks (GFM turns a bare ``https://…``, ``www.…``, ``bob@host.tld``, ``mailto:``/``xmpp:`` into links) are
broken with ``<wbr>`` after every ``:`` and ``@`` and before the dot of ``www.``. Entities are not enough:
cmark-gfm finds e-mail addresses after decoding them (``bob&#64;evil.example`` is still a link), and GitHub
runs a second autolink pass over the rendered text in places. ``<wbr>`` is an empty element GitHub's sanitizer
keeps: it splits the text at both stages, shows nothing and is not copied, so the rendered text reads the same.

The result is inline text for a table cell or after a list marker: reporters never start a line with it, so
markers that only count at a line start (``-``, ``+``, ``1.``, ``>``, ``=``) need no escape.
``code_for_markdown`` puts plain text (a canonical key) in backticks and anything else in ``<code>``, escaped,
since the text could close a backtick span early.
"""

from __future__ import annotations

import re

_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
#: Characters never written raw to a terminal (or into markdown), as a regex class body: C0, DEL, C1, the bidi
#: controls and U+2028/U+2029.
CONTROLS = "\x00-\x1f" + _BEYOND_C0

_CONTROL = re.compile(f"[{CONTROLS}]")
_CONTROL_OR_BACKSLASH = re.compile(f"[\\\\{CONTROLS}]")
# Raw tab, newline and carriage return in JSON text are its own whitespace (json.dumps escapes them in strings).
_JSON_RAW_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_BEYOND_C0}]")
_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _python_escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """``text`` as one line of printable characters: controls escaped (``\\x1b``, ``\\n``, ``\\u202e``) and a
    backslash doubled, so every escape seen is unambiguous."""
    return _CONTROL_OR_BACKSLASH.sub(_python_escape, text)


def message_for_terminal(message: str) -> str:
    """A message driftguard composed (an input error, a rule's finding message, a stale approval's note) as one
    line: controls escaped, backslashes left as written. Such messages quote input with ``repr``, already
    escaped (``'a\\x1b'``), which doubling would garble into ``'a\\\\x1b'``; a raw control that reached one
    (a file name, a library's message quoting a line) is still escaped."""
    return _CONTROL.sub(_python_escape, message)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character of ``CONTROLS``."""
    return _CONTROL.search(text) is not None


def json_for_terminal(json_text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the controls JSON leaves raw written as
    ``\\uXXXX``: still valid JSON that loads to the same values. Outside strings JSON text holds only ASCII
    structure and whitespace (its tabs and newlines stay), so every other control is inside a string, where
    the escape means the character itself."""
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


#: Written after every ``:`` and ``@`` and before the dot of ``www.``: an empty element that splits the text
#: GitHub scans for autolinks, both while parsing and on the rendered page, and shows nothing.
AUTOLINK_BREAK = "<wbr>"

_MARKUP = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    ":": ":" + AUTOLINK_BREAK, "@": "@" + AUTOLINK_BREAK,
    **{ch: "\\" + ch for ch in "\\`*_[]()!#|~{}$"},
})
_WWW_DOT = re.compile(r"(?<=www)\.", re.IGNORECASE)


def for_markdown(text: str, *, visible: bool = False) -> str:
    """``text`` as inline GitHub-flavoured markdown that renders as the literal characters: no HTML, link,
    image, emphasis, code span, math, table cell break or autolink can come out of it.

    ``visible=True`` says ``text`` is already ``for_terminal`` output (what the shared report helpers return),
    so it is not escaped for the terminal a second time; any control still in it is escaped anyway.
    """
    shown = _CONTROL.sub(_python_escape, text) if visible else for_terminal(text)
    return _WWW_DOT.sub(AUTOLINK_BREAK + ".", shown.translate(_MARKUP))


_PLAIN = re.compile(r"[A-Za-z0-9_.\-/\[\]]+")


def code_for_markdown(text: str, *, visible: bool = False) -> str:
    """``text`` in monospace. Plain text (letters, digits, ``_ . - / [ ]``: a canonical key) goes in backticks
    as it is, since nothing in a code span is markup; anything else in ``<code>``, escaped by ``for_markdown``,
    since the text could close a backtick span early (and nothing can be escaped inside one)."""
    if _PLAIN.fullmatch(text):
        return f"`{text}`"
    return f"<code>{for_markdown(text, visible=visible)}</code>"
