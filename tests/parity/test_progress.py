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


# Each rule of the bar on its own, expected values written out by hand from the module's contract: a redraw at most
# every ``interval`` seconds after the last one (at exactly the interval: drawn), the first batch and the last always
# drawn; a line shorter than the one before is padded over it; ``close`` clears what is shown, once.


def frames(out: io.StringIO) -> list[str]:
    return out.getvalue().split("\r")[1:]


def test_the_first_batch_and_each_interval_are_drawn_at_the_boundary_too() -> None:
    now = [4.0]  # the clock's own origin: elapsed counts from the bar's creation
    out = io.StringIO()
    bar = Bar(out, width=4, interval=1.0, clock=lambda: now[0])
    now[0] = 4.5
    bar("m", 1, 8)  # the first call draws whatever the clock says
    now[0] = 5.5
    bar("m", 2, 8)  # exactly one interval later: drawn
    now[0] = 6.25
    bar("m", 3, 8)  # 0.75 s after the last draw: not drawn
    assert [f.rstrip() for f in frames(out)] == ["driftguard parity: m [....] 1/8 batches, 0.5 s",
                                                 "driftguard parity: m [#...] 2/8 batches, 1.5 s"]


def test_by_default_a_bar_is_24_wide_and_redrawn_at_most_ten_times_a_second() -> None:
    now = [0.0]
    out = io.StringIO()
    bar = Bar(out, clock=lambda: now[0])
    bar("m", 1, 4)
    now[0] = 0.05
    bar("m", 2, 4)  # within a tenth of a second: not drawn
    now[0] = 0.2
    bar("m", 3, 4)
    assert [f.split("[")[1].split("]")[0] for f in frames(out)] == ["#" * 6 + "." * 18, "#" * 18 + "." * 6]


def test_the_bar_fills_in_proportion_and_a_run_of_no_batches_shows_it_full() -> None:
    bar = Bar(io.StringIO(), width=4, clock=lambda: 0.0)
    assert bar.line("m", 0, 1, 0.0) == "driftguard parity: m [....] 0/1 batches, 0.0 s"
    assert bar.line("m", 1, 1, 0.0) == "driftguard parity: m [####] 1/1 batches, 0.0 s"
    assert bar.line("m", 3, 8, 2.5) == "driftguard parity: m [#...] 3/8 batches, 2.5 s"  # 4 * 3 // 8
    out = io.StringIO()
    Bar(out, width=4, clock=lambda: 0.0)("m", 0, 0)
    assert frames(out) == ["driftguard parity: m [####] 0/0 batches, 0.0 s"]


def test_the_last_batch_of_a_long_run_is_drawn() -> None:
    """300 batches within one interval: the first and the last are drawn, counted as the stage counts them (each
    its own int, so only their values can say the run is complete)."""
    out = io.StringIO()
    bar = Bar(out, width=4, interval=1.0, clock=lambda: 0.0)
    total = 300
    for done in range(1, total + 1):
        bar("m", done, total)
    assert [f.rstrip() for f in frames(out)] == ["driftguard parity: m [....] 1/300 batches, 0.0 s",
                                                 "driftguard parity: m [####] 300/300 batches, 0.0 s"]


def test_a_shorter_line_covers_the_longer_one_and_close_clears_once() -> None:
    out = io.StringIO()
    bar = Bar(out, width=2, clock=lambda: 0.0)
    bar.note("loading the manifest, the runners and the models...")
    long = "driftguard parity: loading the manifest, the runners and the models..."
    bar("m", 1, 1)
    short = "driftguard parity: m [##] 1/1 batches, 0.0 s"
    assert len(short) == 44 and len(long) == 70
    assert frames(out) == [long, short + " " * 26]
    bar("a label longer than the manifest's note, by a few", 1, 1)
    longer = "driftguard parity: a label longer than the manifest's note, by a few [##] 1/1 batches, 0.0 s"
    assert frames(out)[-1] == longer  # nothing to cover: no padding
    bar.close()
    assert out.getvalue().endswith("\r" + longer + "\r" + " " * len(longer) + "\r")
    written = out.getvalue()
    bar.close()  # nothing shown any more: nothing written
    assert out.getvalue() == written
    assert Bar(io.StringIO()).shown == 0
    idle = io.StringIO()
    Bar(idle).close()
    assert idle.getvalue() == ""
