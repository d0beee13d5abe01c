"""The facade's functions the CLI reaches the library through (``api.reader_limits``, ``parse_shard``,
``merge_reports``, ``progress_bar``, ``init_manifest``, ``explain``, ``kinds``, ``EXECUTORS``); ``check``,
``extract`` and ``diff`` are in ``tests/test_check_api.py`` and the commands' tests."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import UsageError
from driftguard.readers.limits import DEFAULT
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"


def test_reader_limits_take_the_cli_overrides() -> None:
    assert api.reader_limits() == DEFAULT
    assert api.reader_limits({"pickle_bytes": "256M"}).pickle_bytes == 256 * 1024 * 1024
    with pytest.raises(UsageError):
        api.reader_limits({"no_such_limit": "1"})


def test_parse_shard() -> None:
    assert api.parse_shard("2/5") == (2, 5)
    with pytest.raises(UsageError, match="--shard expects I/N"):
        api.parse_shard("6/5")


def test_merge_reports_joins_the_shards_into_the_whole(tmp_path: Path) -> None:
    whole = api.check(EXAMPLE / "driftguard.yaml", today=EXAMPLES_TODAY)
    paths = []
    for i in (1, 2):
        part = api.check(EXAMPLE / "driftguard.yaml", today=EXAMPLES_TODAY, shard=(i, 2))
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(part.to_json(), encoding="utf-8")
    merged = api.merge_reports(paths)
    assert [m.name for m in merged.models] == [m.name for m in whole.models]
    assert [f.fingerprint for f in merged.findings] == [f.fingerprint for f in whole.findings]


def test_progress_bar_draws_on_the_stream() -> None:
    stream = io.StringIO()
    bar = api.progress_bar(stream)
    bar("m reference", 1, 2)
    bar.close()
    assert "1/2" in stream.getvalue()


def test_init_manifest_returns_the_text_and_what_was_found(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE / "training", tmp_path / "summarizer" / "training")
    text, found = api.init_manifest(tmp_path / "summarizer")
    assert text.startswith("# driftguard manifest") and "summarizer:" in text
    assert {f.kind for f in found if f.skipped is None} >= {"hf-generation", "hf-tokenizer"}


def test_explain_and_kinds() -> None:
    assert "DG101" in api.explain() and "DG501" in api.explain()
    assert api.explain("dg101").startswith("DG101")
    with pytest.raises(UsageError, match="unknown rule 'DG999'"):
        api.explain("DG999")
    kinds = dict(api.kinds())
    assert kinds.get("triton")  # each kind with its description
    assert api.EXECUTORS == ("local", "threads", "ray")
