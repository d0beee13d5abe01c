"""Text output fits the terminal: COLUMNS / the terminal's width, origins elided in the middle of the path,
one block per finding when a table cannot fit, colour on a terminal (NO_COLOR, FORCE_COLOR), a multi-line value
as one line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from driftguard.reporters.configs import show
from driftguard.reporters.style import Style
from driftguard.reporters.table import fit, render
from tests.dates import EXAMPLES_TODAY_ISO

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "summarizer"


def _check(env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--today", EXAMPLES_TODAY_ISO], cwd=EXAMPLE,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert proc.returncode == 1, proc.stderr
    return proc.stdout


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_style_from_the_environment() -> None:
    assert Style.for_stream(io.StringIO(), {}) == Style(None, False)  # a pipe: whole cells, no colour
    assert Style.for_stream(io.StringIO(), {"COLUMNS": "100"}).width == 100
    assert Style.for_stream(io.StringIO(), {"FORCE_COLOR": "1"}).color
    assert not Style.for_stream(io.StringIO(), {"FORCE_COLOR": "0"}).color
    assert Style.for_stream(_Tty(), {}).color and Style.for_stream(_Tty(), {}).width
    assert not Style.for_stream(_Tty(), {"NO_COLOR": "1"}).color
    assert not Style.for_stream(_Tty(), {"TERM": "dumb"}).color


def test_a_pipe_gets_every_cell_whole() -> None:
    out = _check({})
    row = next(line for line in out.splitlines() if line.startswith("generation.top_p"))
    assert "approved by summarizer-top-p" in row and "deployment/sampling-params.yaml:4 (request)" in row


def test_a_narrow_terminal_gets_one_block_per_finding_within_its_width() -> None:
    out = _check({"COLUMNS": "72"})
    lines = out.splitlines()
    assert all(len(line) <= 72 for line in lines), out
    i = lines.index("preprocessing.max_length  UNAPPROVED  DG101")
    assert lines[i + 1].split() == ["training", "1024", "training/tokenizer_config.json:10"]
    assert lines[i + 2].split() == ["deployed", "512", "deployment/sampling-params.yaml:8", "(request)"]


def test_colour_on_demand_and_only_on_status_words() -> None:
    out = _check({"FORCE_COLOR": "1"})
    assert "\x1b[1;31mUNAPPROVED\x1b[0m" in out and "\x1b[32mapproved by summarizer-top-p\x1b[0m" in out
    assert out.rstrip().splitlines()[-1].startswith("\x1b[1;31mFAIL: ")
    assert "\x1b[" not in _check({"NO_COLOR": "1"})


def test_table_fits_a_width_and_keeps_file_and_line() -> None:
    rows = [["generation.top_p", "0.92", "deployment/model_repository/summarizer/1/sampling.yaml:4 (request)"]]
    text = render(["key", "value", "origin"], rows, width=60, keep_tail=(2,))
    assert max(map(len, text.splitlines())) <= 60
    assert text.splitlines()[2].endswith("…/sampling.yaml:4 (request)")
    assert render(["key", "value", "origin"], rows) .splitlines()[2].endswith(rows[0][2])  # no width: whole


def test_fit_elides_the_middle_of_a_path() -> None:
    assert fit("a/very/long/path/to/config.pbtxt:12", 24, path=True) == "a/very/…/config.pbtxt:12"
    assert fit("short", 24, path=True) == "short"
    assert fit("a value that is too long", 10) == "a value t…"


def test_a_multi_line_value_is_one_line() -> None:
    text = "{% for m in messages %}\n{{ m.content }}\n{% endfor %}"
    shown = show(text)
    assert "\n" not in shown and shown.startswith("{% for m in messages %} … (3 lines, sha256 ")
    assert show("one line") == "one line"


def test_a_narrow_table_never_cuts_the_key() -> None:
    """Issue 23 point 9: at 100 columns the within-side table cut the key itself (``consistency.side-contrad…``
    names no key). The values column gives way instead; without ``whole`` the key would be cut."""
    key = "consistency.draft_model.repetition_penalty"
    rows = [[key, "training/a.json:3 = 1.0; training/b.json:9 = 1.2 (two artifacts disagree)", "FAIL", "DG204",
             "training/very/deep/folder/a.json:3, training/very/deep/folder/b.json:9"]]
    headers = ["key", "values", "status", "rule", "origins"]
    text = render(headers, rows, width=100, keep_tail=(4,), whole=(0,))
    assert text.splitlines()[2].startswith(key + "  ")
    assert max(map(len, text.splitlines())) <= 100
    cut = render(headers, rows, width=100, keep_tail=(4,))
    assert not cut.splitlines()[2].startswith(key)


def test_extract_at_a_narrow_width_keeps_every_key_whole() -> None:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", "training/"], cwd=EXAMPLE,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    keys = [line.split()[0] for line in proc.stdout.splitlines()[3:] if line.strip()]
    assert "generation.no_repeat_ngram_size" in keys and "generation.num_return_sequences" in keys
    assert not any(k.endswith("…") for k in keys)
