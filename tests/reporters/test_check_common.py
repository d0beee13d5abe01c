"""``reporters.check_common``, what the check reporters share, called directly: a table cell, where a value
came from (its precedence layer, or ``default``), and how a day count is worded. The whole wording of every
format is pinned byte for byte by ``tests/test_output_golden.py``."""

from __future__ import annotations

import pytest

from driftguard.model import How, Origin, Value
from driftguard.reporters.check_common import ago, cell, where


@pytest.mark.parametrize(("days", "said"), [
    (0, "today"), (1, "in 1 day"), (12, "in 12 days"), (-1, "1 day ago"), (-30, "30 days ago"),
])
def test_ago(days: int, said: str) -> None:
    assert ago(days) == said


def test_a_cell_is_the_value_as_one_line_or_a_dash_when_the_side_lacks_the_key() -> None:
    assert cell(None) == "-"
    assert cell(Value(0.9, Origin("g.json", 3))) == "0.9"
    assert cell(Value("bf16", Origin("g.json", 3))) == "bf16"
    assert cell(Value([1, 2], Origin("g.json", 3))) == "[1, 2]"


def test_where_names_the_file_line_and_the_layer_or_default() -> None:
    assert where(None) == "-"
    assert where(Value(0.9, Origin("g.json", 3))) == "g.json:3"
    assert where(Value(0.9, Origin("g.json"))) == "g.json"
    assert where(Value(1.0, Origin("run.yaml", 7, source="request"))) == "run.yaml:7 (request)"
    assert where(Value(1.0, Origin("engine"), how=How.DEFAULT)) == "engine (default)"


def test_where_escapes_what_came_from_input() -> None:
    shown = where(Value(1, Origin("evil\x1b[31m.yaml", 2)))
    assert "\x1b" not in shown and shown.endswith(":2")
