"""What driftguard prints stays what it printed: every output format of ``check``, ``diff`` and ``extract`` on the
shipped summarizer example and on every file of the real-world corpus (``tests/corpus``), compared byte for byte
with the recording in ``tests/golden/outputs.json.gz``. A redesign that must not change behaviour (issue 17) is held
to it; a change that means to change an output rewrites the recording on purpose and shows it in the diff:

    DRIFTGUARD_WRITE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_output_golden.py

Everything runs in this process through ``cli.run``, from the repository root, as of ``EXAMPLES_TODAY``, so the
recording depends on neither the machine, the checkout's location nor the day."""

from __future__ import annotations

import contextlib
import difflib
import gzip
import io
import json
import os
from pathlib import Path

import pytest

from driftguard import cli
from driftguard.ci.repo import head_commit
from tests.dates import EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "outputs.json.gz"
CORPUS = ROOT / "tests" / "corpus"
SUMMARIZER = "examples/summarizer"
CHECK_FORMATS = ("text", "json", "markdown", "sarif", "github", "junit")


def commands() -> list[list[str]]:
    """Every command recorded, as CLI arguments run from the repository root."""
    out = [["check", "--format", fmt] for fmt in CHECK_FORMATS]
    out += [["check", "--config", f"{SUMMARIZER}/driftguard.yaml", "--format", "json"],
            ["check", "--strict", "--format", "json"]]
    training = f"{SUMMARIZER}/training/generation_config.json"
    deployed = f"vllm:{SUMMARIZER}/deployment/sampling-params.yaml"
    out += [["diff", "--format", fmt, training, deployed] for fmt in ("text", "json")]
    out += [["extract", "--format", fmt, f"{SUMMARIZER}/training", f"{SUMMARIZER}/deployment/model_repository/"
             "summarizer/config.pbtxt"] for fmt in ("text", "json", "yaml")]
    corpus = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md"))
    out += [["extract", "--format", "json", p.relative_to(ROOT).as_posix()] for p in corpus]
    return out


def run(argv: list[str]) -> dict[str, object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.run(argv)
    return {"rc": rc, "stdout": unbound(out.getvalue()), "stderr": err.getvalue()}


def unbound(text: str) -> str:
    """``text`` with the commit a JSON report is bound to (``run.commit``: this checkout's, a new one with every
    commit) recorded as zeros."""
    commit = head_commit(ROOT)
    return text.replace(commit, "0" * 40) if commit else text


def recorded() -> dict[str, dict[str, object]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        data: dict[str, dict[str, object]] = json.load(fh)
    return data


@pytest.fixture()
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DRIFTGUARD_TODAY", EXAMPLES_TODAY_ISO)


def test_outputs_are_the_recorded_ones(at_root: None) -> None:
    now = {" ".join(argv): run(argv) for argv in commands()}
    if os.environ.get("DRIFTGUARD_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        # mtime=0: the same outputs give the same bytes, so an unchanged recording leaves no diff in git.
        with open(GOLDEN, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(json.dumps(now, indent=1, sort_keys=True).encode("utf-8"))
    before = recorded()
    assert sorted(now) == sorted(before), "commands added or dropped: rewrite the recording on purpose"
    changed = [key for key in now if now[key] != before[key]]
    if changed:
        key = changed[0]
        diff = []
        for part in ("rc", "stdout", "stderr"):
            old, new = str(before[key][part]).splitlines(), str(now[key][part]).splitlines()
            diff += list(difflib.unified_diff(old, new, f"recorded {part}", f"now {part}", lineterm="", n=1))
        pytest.fail(f"{len(changed)} of {len(now)} outputs changed; the first, `driftguard {key}`:\n"
                    + "\n".join(diff[:80]))


def test_the_recording_covers_every_format_and_both_verdicts() -> None:
    data = recorded()
    assert {json.loads(str(v["stdout"]))["ok"] for k, v in data.items() if k.startswith("check") and "json" in k} \
        == {False}  # the summarizer fails on purpose
    assert all(f"check --format {fmt}" in data for fmt in CHECK_FORMATS)
    corpus = [v for k, v in data.items() if k.startswith("extract --format json tests/corpus/")]
    assert len(corpus) >= 140 and {v["rc"] for v in corpus} == {0, 2}  # read ones and refused ones, both kept
