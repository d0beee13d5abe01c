"""Rule documentation (reStructuredText docstrings) as plain terminal text for ``driftguard explain``:
section markers become underlined headings, inline literals lose their doubled backquotes, ``::`` before a
literal block becomes a colon, and literal blocks keep their indentation."""

from __future__ import annotations

import re

_HEADING = re.compile(r"^\*\*([^*]+)\*\*$")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_LITERAL = re.compile(r"``([^`]+)``")


def plain(doc: str) -> str:
    """``doc`` (reStructuredText, as the rules write it) as plain text."""
    out: list[str] = []
    for line in doc.splitlines():
        stripped = line.strip()
        heading = _HEADING.match(stripped)
        if heading:
            out += [heading.group(1), "-" * len(heading.group(1))]
            continue
        if stripped == "::":
            continue
        if line.rstrip().endswith("::"):
            line = line.rstrip()[:-1]
        line = _LITERAL.sub(r"`\1`", _BOLD.sub(r"\1", line))
        out.append(line)
    return "\n".join(out) + ("\n" if doc.endswith("\n") else "")
