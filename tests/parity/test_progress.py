"""The parity progress bar (``parity.progress.Bar``): drawn in place on stderr, rate limited, cleared before
the report; only on a terminal and never under CI; fed per batch by the stage."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.cli import progress_wanted, run
from driftguard.parity.progress import Bar
from tests.parity.conftest import write_manifest

ORT = """      golden: golden.npz
      reference: {runner: onnxruntime, artifact: ref.onnx}
      candidate: {runner: onnxruntime, artifact: %s}
"""


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_bar_redraws_in_place_rate_limited_and_clears() -> None:
    now = [0.0]
    out = io.StringIO()
    bar = Bar(out, width=10, interval=1.0, clock=lambda: now[0])
    bar("m reference on golden.npz", 1, 4)
    now[0] = 0.5
    bar("m reference on golden.npz", 2, 4)  # within the interval: not drawn
    now[0] = 2.0
    bar("m reference on golden.npz", 3, 4)
    now[0] = 2.1
    bar("m reference on golden.npz", 4, 4)  # the last batch is always drawn
    frames = out.getvalue().split("\r")[1:]
    assert [f.split("[")[1].split("]")[0] for f in frames] == ["##........", "#######...", "##########"]
    assert frames[-1].strip() == "driftguard parity: m reference on golden.npz [##########] 4/4 batches, 2.1 s"
    bar.close()
    assert out.getvalue().endswith("\r" + " " * len(frames[-1]) + "\r")


@pytest.mark.parametrize(("terminal", "env", "wanted"), [
    (True, {}, True), (False, {}, False), (True, {"CI": "true"}, False), (True, {"CI": "1"}, False),
    (True, {"CI": "false"}, True), (True, {"CI": ""}, True)])
def test_bar_only_on_a_terminal_and_not_under_ci(terminal: bool, env: dict[str, str], wanted: bool) -> None:
    assert progress_wanted(Terminal() if terminal else io.StringIO(), env) is wanted


def test_parity_reports_progress_per_batch(pair: dict[str, Path]) -> None:
    manifest = write_manifest(pair["dir"], ORT % "ref.onnx")
    seen: list[tuple[str, int, int]] = []
    report = api.check_parity(manifest, progress=lambda label, done, total: seen.append((label, done, total)))
    assert report.ok
    assert seen == [("m reference on golden.npz", 1, 1), ("m candidate on golden.npz", 1, 1)]


def test_cli_draws_the_bar_on_a_terminal_and_clears_it(pair: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(pair["dir"], ORT.replace("onnxruntime, artifact: %s", "onnxruntime, artifact: %s, "
                                                       "batch_size: 8") % "ref.onnx")
    err = Terminal()
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", err)
    assert run(["parity", "--config", str(manifest), "--no-attribution"]) == 0
    drawn = err.getvalue()
    assert drawn.startswith("\rdriftguard parity: loading the manifest, the runners and the models...")  # at once
    assert "m candidate on golden.npz [" in drawn and "4/4 batches" in drawn
    assert drawn.endswith("\r")  # the line is cleared before the report
    assert "PASS" in capsys.readouterr().out


def test_cli_draws_nothing_when_not_a_terminal_or_under_ci(pair: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(pair["dir"], ORT % "ref.onnx")
    assert run(["parity", "--config", str(manifest)]) == 0
    assert capsys.readouterr().err == ""
    err = Terminal()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(sys, "stderr", err)
    assert run(["parity", "--config", str(manifest)]) == 0
    assert err.getvalue() == ""
