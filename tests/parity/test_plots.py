"""The optional picture per failing output (``--plots DIR``, ``parity.plots``; matplotlib imported only
then)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from tests.parity.conftest import np, write_manifest

ORT = """      golden: golden.npz
      reference: {runner: onnxruntime, artifact: ref.onnx}
      candidate: {runner: onnxruntime, artifact: %s}
"""
ROOT = Path(__file__).resolve().parents[2]


def parity_json(capsys: pytest.CaptureFixture[str], manifest: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = run(["parity", "--config", str(manifest), "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.slow
def test_plots_one_picture_per_failing_output_named_in_the_findings(pair: dict[str, Path], tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "report"
    code, report = parity_json(capsys, write_manifest(pair["dir"], ORT % "cand.onnx"), "--plots", str(folder))
    assert code == 1
    assert sorted(p.name for p in folder.iterdir()) == ["m.logits.png"]
    picture = folder / "m.logits.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000
    failing = [f for f in report["models"][0]["findings"] if f["rule"] == "DG501"]
    assert failing and all(f["delta"]["plot"] == str(picture) for f in failing)
    assert all("attribution" in f["delta"] for f in failing)  # the attribution is kept beside it


def test_plots_nothing_for_a_passing_output(pair: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "report"
    code, report = parity_json(capsys, write_manifest(pair["dir"], ORT % "ref.onnx"), "--plots", str(folder))
    assert code == 0 and not folder.exists()
    assert all("plot" not in (f.get("delta") or {}) for f in report["models"][0]["findings"])


def test_plots_per_golden_set_in_a_folder(pair: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    sets = pair["dir"] / "sets"
    sets.mkdir()
    rng = np.random.default_rng(3)
    for stem in ("a", "b"):
        np.savez(sets / f"{stem}.npz", x=rng.standard_normal((8, 8)).astype(np.float32))
    manifest = write_manifest(pair["dir"], (ORT % "cand.onnx").replace("golden.npz", "sets"))
    code, report = parity_json(capsys, manifest, "--plots", str(tmp_path / "p"), "--no-attribution")
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["m.a.logits.png", "m.b.logits.png"]
    plots = {f["key"]: f["delta"]["plot"] for f in report["models"][0]["findings"] if f["rule"] == "DG501"}
    assert plots and all(Path(v).name == f"m.{k.split('.')[1]}.logits.png" for k, v in plots.items())


def test_check_plots_needs_parity(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(pair["dir"], ORT % "cand.onnx")
    assert run(["check", "--config", str(manifest), "--plots", "x"]) == 2
    assert "needs --parity" in capsys.readouterr().err


def _modules_after(args: list[str], block_matplotlib: bool = False) -> tuple[int, str, bool]:
    probe = ("import sys\n" + ("sys.modules['matplotlib'] = None\n" if block_matplotlib else "")
             + "from driftguard.cli import run\n"
             f"rc = run({args!r})\nprint('MPL', 'matplotlib.figure' in sys.modules, rc)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT)
    last = res.stdout.strip().splitlines()[-1].split()
    return int(last[2]), res.stderr, last[1] == "True"


@pytest.mark.slow
def test_matplotlib_is_imported_only_when_pictures_are_asked_for(pair: dict[str, Path], tmp_path: Path) -> None:
    manifest = str(write_manifest(pair["dir"], ORT % "cand.onnx"))
    rc, _, loaded = _modules_after(["parity", "--config", manifest, "--no-attribution"])
    assert (rc, loaded) == (1, False)
    rc, _, loaded = _modules_after(["parity", "--config", manifest, "--no-attribution", "--plots", str(tmp_path)])
    assert (rc, loaded) == (1, True)


def test_plots_without_matplotlib_is_one_line_naming_the_extra(pair: dict[str, Path], tmp_path: Path) -> None:
    manifest = str(write_manifest(pair["dir"], ORT % "cand.onnx"))
    rc, err, _ = _modules_after(["parity", "--config", manifest, "--plots", str(tmp_path)], block_matplotlib=True)
    assert rc == 2
    assert err.strip().splitlines() == ["driftguard: error: parity --plots needs the 'plots' extra (matplotlib is "
                                        "not installed): pip install 'driftguard-ml[plots]'"]


def test_the_legends_leave_the_data_and_the_worst_sample_is_circled() -> None:
    """Issue 21 point 4: the scatter's legend covered the worst sample. Every legend lies outside its axes."""
    pytest.importorskip("matplotlib")
    from driftguard.parity import plots

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((64, 8))
    cand = ref.copy()
    cand[49] *= -1  # the worst sample, at the right of the scatter
    fig = plots.figure("m.logits", ref, cand, [], atol=1e-5)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        assert legend is not None
        box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert not box.overlaps(area), ax.get_title()
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "worst: sample 49, cosine -1" in labels
