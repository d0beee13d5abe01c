"""``driftguard report`` reads JSON reports a CI job may have been handed by the pull request (a shard's
artifact, a committed file): through the bounded JSON reader like every other input, so a deep or huge file is
exit 2 naming the limit, never a crash (exit 3) or an unbounded read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftguard.readers.limits import DEFAULT

from .bounded import run_cli


@pytest.mark.parametrize(("text", "limit"), [
    ("[" * 100_000 + "]" * 100_000, "depth"),
    ('{"models": [' + ",".join(["{}"] * (DEFAULT.objects + 1)) + "]}", "objects"),
    ('{"n": ' + "9" * 5000 + "}", "int_digits"),
])
def test_a_hostile_report_is_a_limit(tmp_path: Path, text: str, limit: str) -> None:
    path = tmp_path / "shard-1.json"
    path.write_text(text, encoding="utf-8")
    res = run_cli(["report", str(path)])
    res.assert_input_error("shard-1.json")
    res.assert_limit(limit)
    res.assert_bounded()


def test_a_report_past_file_bytes_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as fh:
        fh.truncate(DEFAULT.file_bytes + 1)
    res = run_cli(["report", str(path)])
    res.assert_limit("file_bytes")
    res.assert_bounded(read_at_most=0)


def test_a_fifo_named_as_a_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    os.mkfifo(path)
    run_cli(["report", str(path)]).assert_input_error("FIFO")
