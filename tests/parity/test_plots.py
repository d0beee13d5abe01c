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
from driftguard.model import Finding, Metric
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


# Fast tests of the pieces, without a parity run (issue 25: the mutants that survived the runs above). Expected
# values by hand from the module's documented contract and the README ("driftguard parity": `--plots DIR` writes
# `<model>.<output>.png`, the error histogram with the profile's `atol`, the per-sample cosine, the worst sample
# circled, the legends below the plots; the failing findings are DG501 and DG502 and name it in `delta.plot`).

def finding(rule: str, key: str, *evidence: Metric) -> Finding:
    return Finding(rule=rule, name="n", key=key, message="m", evidence=evidence)


def lower(name: str, value: float | None, bound: float | None, output: str | None = "logits") -> Metric:
    return Metric(name, value, bound, "lower", output)


def test_file_name_keeps_letters_digits_dot_dash_underscore_and_squeezes_the_rest() -> None:
    from driftguard.parity import plots

    assert plots._file_name("m.a-b_C9.logits") == "m.a-b_C9.logits.png"
    assert plots._file_name("my model/x  y.out") == "my_model_x_y.out.png"
    assert plots._file_name("a/ \\b") == "a_b.png"


def test_verdict_says_the_metric_its_value_and_the_bound_it_crossed() -> None:
    from driftguard.parity import plots

    assert plots._verdict(finding("DG502", "parity.logits.x", lower("max_abs", None, 1.0))) == "NaN/Inf"
    built = "".join(["DG", "502"])  # a rule read back, equal to the code but not the same string object
    assert plots._verdict(finding(built, "parity.logits.x", lower("max_abs", None, 1.0))) == "NaN/Inf"
    assert plots._verdict(finding("DG501", "k", lower("max_abs", 0.5, 0.25))) == "max_abs 0.5 > 0.25"
    assert plots._verdict(finding("DG501", "k", Metric("cosine_min", 0.5, 0.75, "higher"))) == "cosine_min 0.5 < 0.75"
    assert plots._verdict(finding("DG501", "k", lower("mean_abs", None, 2.0))) == "mean_abs not finite > 2"


def test_owns_a_failing_finding_of_that_output_only() -> None:
    from driftguard.parity import plots

    assert plots._owns("parity.logits.", finding("DG501", "parity.logits.max_abs"))
    assert plots._owns("parity.logits.", finding("DG502", "parity.logits.non_finite"))
    assert not plots._owns("parity.logits.", finding("DG503", "parity.logits.max_abs"))  # a form mismatch
    assert not plots._owns("parity.logits.", finding("DG501", "parity.logits2.max_abs"))
    assert not plots._owns("parity.logits.", finding("DG501", "parity.a.logits.max_abs"))
    assert not plots._owns("parity.a.", finding("DG501", "parity.a.logits.max_abs"))  # set a's output, not 'a'


def test_failing_outputs_groups_the_failing_findings_by_output() -> None:
    from driftguard.parity import plots

    a1 = finding("DG501", "parity.logits.max_abs", lower("max_abs", 1.0, 0.5))
    a2 = finding("DG502", "parity.logits.non_finite", lower("non_finite", 3.0, 0.0))
    b = finding("DG501", "parity.probs.cosine", lower("cosine", 0.5, 0.9, output="probs"))
    others = [finding("DG503", "parity.logits.shape", lower("shape", 1.0, 0.0)),  # not failing numbers
              finding("DG501", "parity.logits.x"),  # no evidence
              finding("DG501", "parity.logits.y", lower("max_abs", 1.0, 0.5, output=None)),  # no output
              finding("DG501", "parity.other.max_abs", lower("max_abs", 1.0, 0.5))]  # another output's key
    got = plots._failing_outputs([*others, a1, b, a2], "")
    assert got == {"logits": [a1, a2], "probs": [b]}
    assert list(got) == ["logits", "probs"]
    set_a = finding("DG501", "parity.a.logits.max_abs", lower("max_abs", 1.0, 0.5))
    assert plots._failing_outputs([a1, set_a], "a.") == {"logits": [set_a]}


def test_arrays_pairs_the_output_by_name_or_the_only_one_of_each() -> None:
    from driftguard.parity import plots

    x, y, z = np.zeros(2), np.ones(2), np.full(2, 2.0)
    ref, cand = plots._arrays({"logits": x}, {"logits": y, "other": z}, "logits")
    assert (ref.tolist(), cand.tolist()) == ([0.0, 0.0], [1.0, 1.0])
    ref, cand = plots._arrays({"logits": [1, 2]}, {"renamed": [3, 4]}, "logits")  # one output each
    assert isinstance(ref, np.ndarray) and isinstance(cand, np.ndarray)
    assert (ref.tolist(), cand.tolist()) == ([1, 2], [3, 4])
    assert plots._arrays({"logits": x}, {"a": y, "b": z}, "logits")[1] is None
    assert plots._arrays({"logits": x, "p": x}, {"a": y}, "logits")[1] is None
    assert plots._arrays({"logits": x}, {}, "logits")[1] is None
    assert plots._arrays({}, {"logits": y}, "logits")[0] is None
    assert plots._arrays({}, {"renamed": y}, "logits") == (None, None)  # no reference: not one output each


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    from driftguard.parity import plots

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(plots, "draw", lambda *a: calls.append(a))
    return calls


def _unit(folder: Path, parity: dict[str, Any] | None = None) -> Any:
    from driftguard.manifest import Parity
    from driftguard.parity.model_parity import ModelParity
    from driftguard.parity.request import ParityRequest

    fn = {"runner": "callable", "function": "fns.py:double"}
    spec = {"golden": "golden.npz", "reference": fn, "candidate": fn, **(parity or {})}
    return ModelParity("my model", Parity.model_validate(spec), folder, "driftguard.yaml", {}, {}, (),
                       ParityRequest(plots=str(folder / "pics")))


def _set(name: str) -> Any:
    from driftguard.parity.golden import GoldenSet

    return GoldenSet(Path("g") / name, "0" * 64)


def test_annotate_draws_each_failing_output_once_and_names_the_picture(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity import plots

    calls = _calls(monkeypatch)
    a1 = finding("DG501", "parity.logits.max_abs", lower("max_abs", 1.0, 0.5))
    a2 = finding("DG502", "parity.logits.non_finite", lower("non_finite", 3.0, 0.0))
    passing = finding("DG500", "parity.logits.cosine")
    form = finding("DG503", "parity.probs.shape", lower("shape", 1.0, 0.0, output="probs"))
    ref, cand = {"logits": np.zeros((2, 3)), "probs": np.zeros(2)}, {"logits": np.ones((2, 3)), "probs": np.ones(3)}
    out = plots.annotate(_unit(tmp_path, {"atol": 0.25}), [_set("golden.npz")], [a1, passing, a2, form], [ref], [cand])
    picture = tmp_path / "pics" / "my_model.logits.png"
    assert [f.plot for f in out] == [str(picture), None, str(picture), None]
    assert out[1] is passing and out[3] is form
    assert [c[0] for c in calls] == [picture]
    _, title, r, c, failing, atol = calls[0]
    assert title == "my model: output 'logits' (golden.npz)"
    assert (r.tolist(), c.tolist(), failing, atol) == (ref["logits"].tolist(), cand["logits"].tolist(), [a1, a2], 0.25)


def test_annotate_uses_the_profiles_atol_and_skips_outputs_of_another_shape_or_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity import plots

    calls = _calls(monkeypatch)
    fs = [finding("DG501", f"parity.{o}.max_abs", lower("max_abs", 1.0, 0.5, output=o))
          for o in ("missing", "shorter", "logits", "gone", "longer")]
    ref = {"shorter": np.zeros(2), "logits": np.zeros(2), "gone": np.zeros(2), "longer": np.zeros(3)}
    cand = {"shorter": np.zeros(3), "logits": np.ones(2), "missing": np.ones(2), "longer": np.zeros(2)}
    out = plots.annotate(_unit(tmp_path), [_set("golden.npz")], fs, [ref], [cand])
    assert [f.plot for f in out] == [None, None, str(tmp_path / "pics" / "my_model.logits.png"), None, None]
    assert len(calls) == 1 and calls[0][-1] == 1e-5  # fp32 (README "Tolerance profiles": atol 1e-5)


def test_annotate_per_golden_set_when_a_folder_holds_several(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity import plots

    calls = _calls(monkeypatch)
    fa = finding("DG501", "parity.a.logits.max_abs", lower("max_abs", 1.0, 0.5))
    fb = finding("DG501", "parity.b.logits.max_abs", lower("max_abs", 1.0, 0.5))
    arrays = {"logits": np.zeros(2)}
    out = plots.annotate(_unit(tmp_path), [_set("a.npz"), _set("b.npz")], [fb, fa], [arrays, arrays],
                         [{"logits": np.ones(2)}, {"logits": np.ones(2)}])
    pics = tmp_path / "pics"
    assert [f.plot for f in out] == [str(pics / "my_model.b.logits.png"), str(pics / "my_model.a.logits.png")]
    assert [(c[0].name, c[1], c[4]) for c in calls] == [("my_model.a.logits.png", "my model: output 'logits' (a.npz)",
                                                         [fa]),
                                                        ("my_model.b.logits.png", "my model: output 'logits' (b.npz)",
                                                         [fb])]


def test_annotate_takes_one_reference_and_candidate_per_golden_set(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.parity import plots

    _calls(monkeypatch)
    fa = finding("DG501", "parity.a.logits.max_abs", lower("max_abs", 1.0, 0.5))
    arrays = {"logits": np.zeros(2)}
    with pytest.raises(ValueError):  # a set without its outputs is a caller's bug, never a set left out
        plots.annotate(_unit(tmp_path), [_set("a.npz"), _set("b.npz")], [fa], [arrays], [arrays])


def _lines(ax: Any) -> dict[str, Any]:
    return {line.get_label(): line for line in ax.get_lines()}


def test_figure_draws_the_histogram_with_atol_and_the_bounds_of_the_failing_findings() -> None:
    pytest.importorskip("matplotlib")
    from driftguard.parity import plots

    ref = np.zeros((4, 2))
    cand = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    failing = [finding("DG501", "parity.logits.max_abs", lower("max_abs", 1.0, 0.5), lower("p99_abs", 1.0, None),
                       lower("mean_abs", 0.125, 0.0625)),
               finding("DG501", "parity.logits.cosine_min", Metric("cosine_min", 0.0, 0.75, "higher"),
                       Metric("cosine_mean", 0.75, None, "higher"))]
    fig = plots.figure("m.logits", ref, cand, failing, atol=0.25)
    hist, scatter = fig.axes
    assert hist.get_yscale() == "log"
    assert (hist.get_title(), hist.get_xlabel(), hist.get_ylabel()) == (
        "absolute error |candidate − reference|", "absolute error", "elements (log)")
    lines = _lines(hist)
    assert sorted(lines) == ["atol 0.25", "max_abs bound 0.5", "mean_abs bound 0.0625"]
    assert [list(lines[k].get_xdata()) for k in sorted(lines)] == [[0.25, 0.25], [0.5, 0.5], [0.0625, 0.0625]]
    assert sum(p.get_height() for p in hist.patches) == 8  # every element once
    assert list(hist.texts) == []  # every error finite
    assert (scatter.get_title(), scatter.get_xlabel(), scatter.get_ylabel()) == (
        "per-sample cosine", "golden sample", "cosine")
    lines = _lines(scatter)
    # Sample 0 has cosine 0 (one side zero); the others 1 (both zero): mean 0.75, the worst sample 0.
    assert sorted(lines) == ["cosine_min bound 0.75", "mean", "per-sample cosine", "worst: sample 0, cosine 0"]
    assert list(lines["per-sample cosine"].get_xdata()) == [0, 1, 2, 3]
    assert list(lines["per-sample cosine"].get_ydata()) == [0.0, 1.0, 1.0, 1.0]
    assert list(lines["mean"].get_ydata()) == [0.75, 0.75]
    assert list(lines["cosine_min bound 0.75"].get_ydata()) == [0.75, 0.75]
    worst = lines["worst: sample 0, cosine 0"]
    assert (list(worst.get_xdata()), list(worst.get_ydata())) == ([0], [0.0])
    assert worst.get_markersize() > lines["per-sample cosine"].get_markersize()  # circled around the dot
    assert fig.get_suptitle() == "m.logits: max_abs 1 > 0.5, cosine_min 0 < 0.75"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in (hist, scatter):  # each legend below its own plot and its label, within the picture, no frame
        legend = ax.get_legend()
        box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.y1 <= ax.xaxis.label.get_window_extent(renderer).y0 < area.y0
        assert area.x0 < (box.x0 + box.x1) / 2 < area.x1
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
        assert not legend.get_frame_on()


def test_figure_counts_the_non_finite_errors_and_draws_no_worst_or_mean_when_none_is_finite() -> None:
    pytest.importorskip("matplotlib")
    from driftguard.parity import plots

    ref = np.zeros((2, 3))
    cand = np.full((2, 3), np.nan)
    fig = plots.figure("t", ref, cand, [finding("DG502", "parity.x.non_finite")], atol=1.0)
    hist, scatter = fig.axes
    assert [t.get_text() for t in hist.texts] == ["6 non-finite"]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box, area = hist.texts[0].get_window_extent(renderer), hist.get_window_extent(renderer)
    assert area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1  # on the plot
    assert sum(p.get_height() for p in hist.patches) == 1  # no finite error: one zero drawn, never an empty plot
    assert sorted(_lines(scatter)) == ["per-sample cosine"]  # no mean, no worst: every cosine NaN
    assert fig.get_suptitle() == "t: NaN/Inf"
    cand[0, 0] = 0.0
    hist = plots.figure("t", ref, cand, [], atol=1.0).axes[0]
    assert [t.get_text() for t in hist.texts] == ["5 non-finite"]
    assert sum(p.get_height() for p in hist.patches) == 1


def test_figure_histogram_is_of_the_absolute_differences() -> None:
    pytest.importorskip("matplotlib")
    from driftguard.parity import plots

    ref = np.full((20, 20), 3.0)
    cand = ref.copy()
    cand[0, 0] = 1.0  # one error of 2, 399 of 0
    hist = plots.figure("d", ref, cand, [], atol=1.0).axes[0]
    assert (hist.patches[0].get_height(), hist.patches[-1].get_height()) == (399, 1)  # the 0s, then the 2
    assert list(hist.texts) == []  # 400 errors, every one finite


def test_figure_of_a_scalar_output_is_one_sample() -> None:
    pytest.importorskip("matplotlib")
    from driftguard.parity import plots

    fig = plots.figure("s", np.asarray(2.0), np.asarray(-3.0), [], atol=1.0)
    hist, scatter = fig.axes
    assert sum(p.get_height() for p in hist.patches) == 1
    assert len(_lines(scatter)["per-sample cosine"].get_xdata()) == 1


def test_draw_writes_a_png_into_new_folders_and_replaces_an_old_one(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from driftguard.parity import plots

    target = tmp_path / "a" / "b" / "m.logits.png"
    ref = np.zeros((2, 2))
    assert plots.draw(target, "t", ref, ref + 1, [], 1.0) == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target.write_bytes(b"old")
    assert plots.draw(target, "t", ref, ref + 1, [], 1.0) == target  # the folder there already
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_into_a_file_is_a_parity_error_naming_the_picture(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import errno
    import os

    from driftguard.parity import plots
    from driftguard.parity.errors import ParityError

    (tmp_path / "f").write_text("x", encoding="utf-8")
    target = tmp_path / "f" / "m.png"
    with pytest.raises(ParityError) as info:
        plots.draw(target, "t", np.zeros(2), np.ones(2), [], 1.0)
    assert info.value.path == str(target)
    assert info.value.message in (f"cannot write the picture: {os.strerror(errno.EEXIST)}",
                                  f"cannot write the picture: {os.strerror(errno.ENOTDIR)}")


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
