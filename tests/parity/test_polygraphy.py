"""Cross-check with Polygraphy (NVIDIA): on the same ONNX pair and inputs, driftguard's max/mean/median absolute
and relative errors and its cosine equal the accuracy results Polygraphy saves, within 1e-6."""

from __future__ import annotations

from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("polygraphy")

from driftguard.parity import metrics  # noqa: E402
from tests.parity.conftest import linear_onnx  # noqa: E402


def _polygraphy(ref: Path, cand: Path, feeds: list[dict[str, object]], tmp: Path) -> tuple[object, object]:
    from polygraphy.backend.onnxrt import OnnxrtRunner, SessionFromOnnx
    from polygraphy.comparator import Comparator
    from polygraphy.comparator.compare import CosineSimilarityCompareFunc, SimpleCompareFunc
    from polygraphy.comparator.struct import AccuracyResults

    # Polygraphy divides by the second runner's output: the reference goes second, as driftguard divides by it.
    runners = [OnnxrtRunner(SessionFromOnnx(str(cand)), name="candidate"),
               OnnxrtRunner(SessionFromOnnx(str(ref)), name="reference")]
    results = Comparator.run(runners, data_loader=feeds)
    simple = Comparator.compare_accuracy(results, compare_func=SimpleCompareFunc(atol=1e-5, rtol=1e-5))
    cosine = Comparator.compare_accuracy(results, compare_func=CosineSimilarityCompareFunc())
    saved = []
    for i, acc in enumerate((simple, cosine)):  # "saved accuracy results": through Polygraphy's own JSON
        path = tmp / f"accuracy-{i}.json"
        acc.save(str(path))
        saved.append(AccuracyResults.load(str(path))[0])
    return saved[0], saved[1]


@pytest.mark.parametrize("scale", [1e-3, 3e-2])
def test_errors_and_cosine_equal_polygraphys(tmp_path: Path, scale: float) -> None:
    rng = np.random.default_rng(7)
    w = rng.standard_normal((16, 10)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    ref = linear_onnx(tmp_path / "ref.onnx", w, b, batch=4)
    cand = linear_onnx(tmp_path / "cand.onnx", w + scale * rng.standard_normal(w.shape).astype(np.float32), b,
                       batch=4)
    x = rng.standard_normal((4, 16)).astype(np.float32)
    simple, cosine = _polygraphy(ref, cand, [{"x": x}], tmp_path)

    import onnxruntime as ort

    out_ref = ort.InferenceSession(str(ref), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    out_cand = ort.InferenceSession(str(cand), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    ours = metrics.compare(out_ref, out_cand, atol=1e-5, rtol=1e-5)

    [(_, [iteration])] = list(simple.items())
    theirs = iteration["logits"]
    for name in ("max_abs", "mean_abs", "median_abs", "max_rel", "mean_rel", "median_rel"):
        stat, kind = name.split("_")
        assert getattr(ours, name) == pytest.approx(getattr(theirs, f"{stat}_{kind}diff"), abs=1e-6, rel=1e-6), name
    [(_, [cos_iteration])] = list(cosine.items())
    assert ours.cosine == pytest.approx(cos_iteration["logits"].cosine_similarity, abs=1e-6)
    # The elementwise verdict agrees too (SimpleCompareFunc checks elementwise by default).
    assert (ours.elementwise_failures == 0) == bool(theirs)
