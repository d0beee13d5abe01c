"""The README's limits table is the Limits dataclass: every limit listed once, with its real default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from driftguard.errors import LimitError
from driftguard.readers.limits import Limits, parse_limit_value

README = Path(__file__).resolve().parents[1] / "README.md"


def _table() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Hostile input: limits, and what is refused", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([0-9A-Z]+) \|", section, re.M))


def test_readme_lists_every_limit_with_its_default() -> None:
    table = _table()
    assert list(table) == [f.name for f in dataclasses.fields(Limits)]
    for f in dataclasses.fields(Limits):
        assert parse_limit_value(table[f.name]) == f.default, f.name


def test_readme_limit_message_is_the_real_one() -> None:
    text = README.read_text(encoding="utf-8")
    shown = next(line for line in text.splitlines() if "exceeds the pickle_bytes limit" in line)
    real = str(LimitError("pickle_bytes", Limits().pickle_bytes, "data.pkl of 209715203 bytes",
                          "tests/fixtures/hostile/bomb.pt"))
    assert shown == f"driftguard: error: {real}"
