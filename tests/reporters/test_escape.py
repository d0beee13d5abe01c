"""driftguard.reporters.escape: what reaches a terminal or a job summary from untrusted text."""

from __future__ import annotations

import json
import re

import pytest

from driftguard.reporters import table
from driftguard.reporters.escape import (
    AUTOLINK_BREAK,
    CONTROLS,
    code_for_markdown,
    for_markdown,
    for_terminal,
    json_for_terminal,
    message_for_terminal,
)

RAW_CONTROL = re.compile(f"[{CONTROLS}]")

#: One of every kind of character that must never reach a terminal raw.
EVERY_CONTROL = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]) + \
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_every_control_is_escaped_and_the_text_is_one_printable_line() -> None:
    shown = for_terminal(EVERY_CONTROL)
    assert not RAW_CONTROL.search(shown)
    assert shown.isprintable() and shown.isascii()


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2J\x1b[H PASS", "\\x1b[2J\\x1b[H PASS"),
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
    ("evil\u202etxt.json", "evil\\u202etxt.json"),
    ("\u2066x\u2069", "\\u2066x\\u2069"),
    ("plain text, ümlaut, 中文", "plain text, ümlaut, 中文"),
])
def test_terminal_spelling(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


def test_a_backslash_is_doubled_so_an_escape_seen_is_unambiguous() -> None:
    # The four characters \x1b and a real ESC must not look the same.
    assert for_terminal("\\x1b") == "\\\\x1b"
    assert for_terminal("\x1b") == "\\x1b"
    assert for_terminal("a\\nb") != for_terminal("a\nb")


def test_a_message_keeps_its_backslashes_but_not_its_controls() -> None:
    # Messages quote input with repr, which has escaped it already: no doubling, but a raw control is escaped.
    message = f"refused pickle global {'os.sys' + chr(0x1b) + 'tem'!r} in C:\\ckpt\n\u202e.pt"
    assert message_for_terminal(message) == "refused pickle global 'os.sys\\x1btem' in C:\\ckpt\\n\\u202e.pt"


def test_json_escapes_keep_the_values_exactly() -> None:
    value = {"k\x1b\u202e": [EVERY_CONTROL, "<img src=x onerror=alert(1)>", "\\x1b", "ümlaut"]}
    text = json_for_terminal(json.dumps(value, ensure_ascii=False))
    assert not RAW_CONTROL.search(text)
    assert json.loads(text) == value
    assert "ümlaut" in text and "<img src=x onerror=alert(1)>" in text  # readable text and HTML stay as they are


def test_table_refuses_a_cell_that_was_not_escaped() -> None:
    with pytest.raises(ValueError, match="not escaped"):
        table.render(["key"], [["a\nb"]])
    assert "a\\nb" in table.render(["key"], [[for_terminal("a\nb")]])


MARKDOWN_ATTACKS = [
    "<img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "</details><script>alert(1)</script>",
    "![x](https://evil/x.png)",
    "see https://evil.example/a and www.evil.example and mail bob@evil.example or mailto:bob@evil.example",
    "**bold** _em_ ~~strike~~ `code` # head $x^2$ {x}",
    "a | b | c",
    "line\n| forged | row |\x1b[2J",
]


def _rendered_text(md: str) -> str:
    """What a CommonMark renderer shows for inline text made by ``for_markdown``: escapes and entities undone."""
    import html

    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md.replace(AUTOLINK_BREAK, "")))


@pytest.mark.parametrize("raw", MARKDOWN_ATTACKS)
def test_markdown_has_no_markup_left(raw: str) -> None:
    md = for_markdown(raw)
    assert "<" not in md.replace(AUTOLINK_BREAK, "") and ">" not in md.replace(AUTOLINK_BREAK, "")
    assert "](" not in md and "[" not in md.replace("\\[", "")
    # No autolink: no scheme, www. or address in one piece of text (cmark-gfm links e-mail addresses even
    # when the @ is an entity, so only an element between the parts breaks them).
    assert not re.search(r"[a-z]:/|[a-z]:[a-z]|www\.|@[a-z]|&#", md, re.IGNORECASE), md
    assert "\n" not in md and not RAW_CONTROL.search(md)
    assert "|" not in md.replace("\\|", "")
    for ch in "*_`#$~!()":
        assert ch not in re.sub(r"\\.", "", md), (ch, md)
    # ... and it still reads as the text, as the terminal would show it.
    assert _rendered_text(md) == for_terminal(raw)


def test_markdown_of_display_text_is_not_escaped_for_the_terminal_twice() -> None:
    shown = for_terminal("a\\b\nc")
    assert _rendered_text(for_markdown(shown, visible=True)) == shown
    assert not RAW_CONTROL.search(for_markdown("a\x1bb", visible=True))


def test_code_cannot_be_closed_from_inside() -> None:
    md = code_for_markdown("`</code><script>`")
    assert md.startswith("<code>") and md.endswith("</code>")
    assert md.count("<") == 2 and "`" not in md.replace("\\`", "")


def test_a_plain_key_is_a_code_span_as_typed() -> None:
    assert code_for_markdown("preprocessing.max_length") == "`preprocessing.max_length`"
    assert code_for_markdown("input[0].dims") == "`input[0].dims`"
    assert code_for_markdown("a`b") == "<code>a\\`b</code>"


def test_autolink_triggers_are_split() -> None:
    md = for_markdown("https://evil.example www.evil.example bob@evil.example mailto:x")
    assert md == ("https:<wbr>//evil.example www<wbr>.evil.example bob@<wbr>evil.example mailto:<wbr>x")


def test_github_renders_the_text_and_no_markup() -> None:
    """Through cmark-gfm itself (GitHub's renderer, when installed): one row, two cells, no element from input."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    for raw in MARKDOWN_ATTACKS:
        md = f"| k | v |\n|---|---|\n| {code_for_markdown(raw)} | {for_markdown(raw)} |\n"
        html = cmarkgfm.github_flavored_markdown_to_html(md, options=cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE)
        tags = set(re.findall(r"<(/?[a-z]+)", html))
        assert tags <= {"table", "/table", "thead", "/thead", "tbody", "/tbody", "tr", "/tr", "th", "/th", "td",
                        "/td", "code", "/code", "wbr"}, (raw, html)
        assert html.count("<td>") == 2, html
