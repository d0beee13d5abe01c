"""`driftguard parity` end to end on tiny models built in code: verdicts, typed evidence, approvals pinned to a
bound, recordings, attribution, concurrency, and every bad input as one line with exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from tests.parity.conftest import USERFNS, linear_onnx, np, write_manifest


def parity(capsys: pytest.CaptureFixture[str], manifest: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    code = run(["parity", "--config", str(manifest), "--format", "json", "--today", "2026-12-01", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for m in report["models"] for f in m["findings"]}


ORT = """      golden: golden.npz
      reference: {runner: onnxruntime, artifact: ref.onnx}
      candidate: {runner: onnxruntime, artifact: %s}
"""


def test_same_graph_passes_with_metrics_as_evidence(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = parity(capsys, write_manifest(pair["dir"], ORT % "ref.onnx"))
    assert code == 0, err
    f = findings(report)["parity.logits"]
    assert (f["rule"], f["status"]) == ("DG500", "info")
    evidence = {e["name"]: e for e in f["evidence"]}
    assert evidence["max_abs"]["value"] == 0.0 and evidence["cosine_min"]["passed"] is True
    assert evidence["argmax_agreement"]["bound"] == 1.0  # fp32 profile, output named logits


def test_nudged_weights_fail_the_fp32_profile_with_the_metric_named(pair: dict[str, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = parity(capsys, write_manifest(pair["dir"], ORT % "cand.onnx"))
    assert code == 1
    f = findings(report)["parity.logits.elementwise_fraction"]
    assert (f["rule"], f["training"]) == ("DG501", 0.0) and f["deployed"] > 0
    assert f["evidence"][0]["name"] == "elementwise_fraction" and f["evidence"][0]["passed"] is False
    assert "attribution:" in f["message"] and "the artifact changed" in f["message"]


def test_parity_writes_every_reporter_as_check_does(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 23 point 6: ``parity --format`` took only text/json/markdown, one at a time."""
    manifest = write_manifest(pair["dir"], ORT % "cand.onnx")
    sarif, junit = pair["dir"] / "parity.sarif", pair["dir"] / "parity.xml"
    code = run(["parity", "--config", str(manifest), "--today", "2026-12-01", "--no-attribution", "--format", "text",
                "--format", f"sarif={sarif}", "--format", f"junit={junit}"])
    out, _ = capsys.readouterr()
    assert code == 1 and "parity.logits.elementwise_fraction" in out and out.rstrip().splitlines()[-1].startswith(
        "FAIL: 1 model")
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert "DG501" in {r["ruleId"] for r in results}
    assert "<failure" in junit.read_text(encoding="utf-8") and "DG501" in junit.read_text(encoding="utf-8")
    assert run(["parity", "--config", str(manifest), "--format", "yaml"]) == 2  # refused before any model runs
    assert "--format: unknown format 'yaml'" in capsys.readouterr().err


def test_an_approval_accepts_a_bound_not_one_measurement(pair: dict[str, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(pair["dir"], ORT % "cand.onnx" + "      tolerances: {elementwise_fraction: null}\n"
                              "      profile: fp32\n      outputs: {logits: {tolerances: {cosine_min: 0.99999999}}}\n")
    code, report, _ = parity(capsys, manifest)
    measured = findings(report)["parity.logits.cosine_min"]["deployed"]
    assert code == 1 and measured < 0.99999999
    approvals = pair["dir"] / "approvals"
    approvals.mkdir()
    body = ("id: {id}\nmodel: m\nkey: parity.logits.cosine_min\nrule: DG501\ntraining: 0.99999999\n"
            "deployed: {bound}\nreason: the nudged build is accepted down to this cosine\napproved_by: qa\n"
            "approved_on: 2026-11-01\nexpires: 2027-06-30\n")
    (approvals / "a.yaml").write_text(body.format(id="accept", bound=0.99), encoding="utf-8")
    code, report, _ = parity(capsys, manifest)
    f = findings(report)["parity.logits.cosine_min"]
    assert code == 0 and (f["status"], f["approval"]) == ("approved", "accept")
    # a bound tighter than the measurement does not approve it: the approval is stale and the finding fails
    (approvals / "a.yaml").write_text(body.format(id="accept", bound=0.999999999), encoding="utf-8")
    code, report, _ = parity(capsys, manifest)
    assert code == 1 and findings(report)["parity.logits.cosine_min"]["status"] == "unapproved"
    assert [a["state"] for a in report["approvals"]] == ["stale"]


def _two_models_one_golden_set(pair: dict[str, Path]) -> Path:
    """Two models sharing golden.npz, each against its own reference: ``fp32`` (ref.onnx) and ``int8 v2``
    (other.onnx, other weights; a name with a space, spelled with a digest in the file name)."""
    rng = np.random.default_rng(7)
    linear_onnx(pair["dir"] / "other.onnx", rng.standard_normal((8, 4)), rng.standard_normal(4))
    model = ("    training:\n      - path: {ref}\n    deployment:\n      - path: {ref}\n    parity:\n"
             "      golden: golden.npz\n      reference: {{runner: onnxruntime, artifact: {ref}}}\n"
             "      candidate: {{runner: onnxruntime, artifact: {ref}}}\n")
    text = ("version: 1\nmodels:\n  fp32:\n" + model.format(ref="ref.onnx") + "  int8 v2:\n"
            + model.format(ref="other.onnx"))
    manifest = pair["dir"] / "driftguard.yaml"
    manifest.write_text(text, encoding="utf-8")
    return manifest


def test_models_sharing_a_golden_set_keep_one_recording_each(pair: dict[str, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 23 point 5: one recording per golden file made every other model using the file with another
    reference stop with "stale recording", and re-recording broke the first. Each model has its own now."""
    import hashlib

    from driftguard.parity import golden

    manifest = _two_models_one_golden_set(pair)
    assert run(["golden", "record", "--config", str(manifest)]) == 0
    digest = hashlib.sha256(b"int8 v2").hexdigest()[:8]
    fp32, int8 = pair["dir"] / "golden.fp32.reference.npz", pair["dir"] / f"golden.int8_v2-{digest}.reference.npz"
    assert capsys.readouterr().out.split() == ["wrote", str(fp32), "wrote", str(int8)]
    gs = golden.load_file(pair["golden"])
    assert (gs.recording("fp32"), gs.recording("int8 v2")) == (fp32, int8)
    for path, name in ((fp32, "fp32"), (int8, "int8 v2")):
        with np.load(path, allow_pickle=False) as z:
            assert json.loads(str(z["__driftguard__"]))["model"] == name
    code, report, err = parity(capsys, manifest)
    assert code == 0, err  # each model's recording matches its own reference: nothing stale
    assert sorted(m["name"] for m in report["models"]) == ["fp32", "int8 v2"]
    # fp32's reference changes and only fp32 is re-recorded: int8's recording is untouched and still good
    before = int8.read_bytes()
    rng = np.random.default_rng(11)
    linear_onnx(pair["ref"], rng.standard_normal((8, 4)), rng.standard_normal(4))
    code, _, err = parity(capsys, manifest)
    assert code == 2 and "stale recording of model 'fp32': the artifact changed" in err and "int8" not in err
    assert run(["golden", "record", "--config", str(manifest), "--model", "fp32"]) == 0
    capsys.readouterr()
    assert int8.read_bytes() == before
    code, _, err = parity(capsys, manifest)
    assert code == 0, err


def test_a_recording_from_before_per_model_recordings_is_refused_naming_the_model(
        pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """``golden.reference.npz`` cannot say whose reference it holds: refused (exit 2, one line) with the
    command that replaces it, never used for whichever model asks, never silently skipped."""
    manifest = write_manifest(pair["dir"], ORT % "ref.onnx")
    assert run(["golden", "record", "--config", str(manifest)]) == 0
    capsys.readouterr()
    (pair["dir"] / "golden.m.reference.npz").rename(pair["dir"] / "golden.reference.npz")
    code, _, err = parity(capsys, manifest)
    assert code == 2 and err.count("\n") == 1
    assert "golden.reference.npz" in err and "for model 'm'" in err
    assert "driftguard golden record --model m" in err and "golden.m.reference.npz" in err


@pytest.mark.parametrize(("name", "part"), [
    ("m", "m"), ("summarizer-int8_v2", "summarizer-int8_v2"),
    ("summarizer int8", "summarizer_int8-9a2a4058"),  # the README's example
    ("a.b", "a_b-"), ("a_b", "a_b"), ("..", "__-"), ("Ünï", "_n_-"),
])
def test_a_model_name_in_a_recording_file_name(name: str, part: str) -> None:
    from driftguard.parity import golden

    got = golden.file_part(name)
    assert got == part if not part.endswith("-") else got.startswith(part) and len(got) == len(part) + 8
    assert "/" not in got and not got.startswith(".")


def test_two_model_names_spelled_alike_get_two_recording_files() -> None:
    from driftguard.parity import golden

    names = ["a b", "a_b", "a.b", "a:b", "a\tb"]
    assert len({golden.file_part(n) for n in names}) == len(names)


def test_record_then_reuse_then_refuse_a_stale_recording(pair: dict[str, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(pair["dir"], ORT % "ref.onnx")
    assert run(["golden", "record", "--config", str(manifest)]) == 0
    out = capsys.readouterr().out
    recording = pair["dir"] / "golden.m.reference.npz"
    assert out.strip() == f"wrote {recording}"
    with np.load(recording, allow_pickle=False) as z:
        meta = json.loads(str(z["__driftguard__"]))
        assert z["logits"].shape == (32, 4)
    assert set(meta) == {"version", "model", "inputs", "artifact", "config", "runner", "outputs"}
    assert meta["model"] == "m"
    code, _, _ = parity(capsys, manifest)
    assert code == 0
    # the reference artifact changes: the recording is refused, never silently used
    rng = np.random.default_rng(3)
    linear_onnx(pair["ref"], rng.standard_normal((8, 4)), rng.standard_normal(4))
    code, _, err = parity(capsys, manifest)
    assert code == 2
    assert err.count("\n") == 1 and "stale recording of model 'm': the artifact changed" in err
    assert "re-record with `driftguard golden record --model m`" in err


def test_nan_outputs_are_a_finding_never_a_pass(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    fns = USERFNS / "fns.py"
    manifest = write_manifest(pair["dir"], f"""      golden: golden.npz
      reference: {{runner: callable, function: {fns}:double}}
      candidate: {{runner: callable, function: {fns}:nan}}
""")
    code, report, _ = parity(capsys, manifest)
    assert code == 1
    f = findings(report)["parity.y.nonfinite"]
    assert (f["rule"], f["training"], f["deployed"]) == ("DG502", 0, 1)
    assert not [k for k in findings(report) if k.startswith("parity.y.") and k != "parity.y.nonfinite"]


BAD_INPUTS = {
    "missing golden": ("      golden: nowhere.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
                       "      candidate: {runner: onnxruntime, artifact: ref.onnx}\n", "golden inputs not found"),
    "shape mismatch": ("      golden: wide.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
                       "      candidate: {runner: onnxruntime, artifact: ref.onnx}\n",
                       "golden input 'x' has shape [4, 9], the graph expects [batch, 8]"),
    "builder raises": ("      golden: golden.npz\n      reference: {runner: torch, artifact: ref.onnx, "
                       "builder: FNS:builder_raises}\n      candidate: {runner: onnxruntime, artifact: ref.onnx}\n",
                       "builder 'FNS:builder_raises' raised ValueError: no such architecture"),
    "function raises": ("      golden: golden.npz\n      reference: {runner: callable, function: FNS:raises}\n"
                        "      candidate: {runner: onnxruntime, artifact: ref.onnx}\n",
                        "function 'FNS:raises' raised RuntimeError: the model server is down"),
    "runner hangs": ("      golden: golden.npz\n      timeout_s: 0.5\n"
                     "      reference: {runner: callable, function: FNS:hangs}\n"
                     "      candidate: {runner: onnxruntime, artifact: ref.onnx}\n",
                     "did not finish within 0.5 s (parity timeout_s)"),
    "no such function": ("      golden: golden.npz\n      reference: {runner: callable, function: FNS:nope}\n"
                         "      candidate: {runner: onnxruntime, artifact: ref.onnx}\n", "no callable 'nope'"),
    "unknown field": ("      golden: golden.npz\n"
                      "      reference: {runner: onnxruntime, artifact: ref.onnx, thread: 2}\n"
                      "      candidate: {runner: onnxruntime, artifact: ref.onnx}\n",
                      "driftguard.yaml:10: models.m.parity.reference.thread: unknown field"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_bad_input_is_one_line_exit_2(case: str, pair: dict[str, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    section, expected = BAD_INPUTS[case]
    np.savez(pair["dir"] / "wide.npz", x=np.zeros((4, 9), dtype=np.float32))
    manifest = write_manifest(pair["dir"], section.replace("FNS", str(USERFNS / "fns.py")))
    code, _, err = parity(capsys, manifest)
    assert code == 2, err
    assert err.startswith("driftguard: error: ") and err.count("\n") == 1, err
    assert expected.replace("FNS", str(USERFNS / "fns.py")) in err
    assert "Traceback" not in err


def test_not_exercised_keys_are_listed(pair: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    fns = USERFNS / "fns.py"
    (pair["dir"] / "train.json").write_text('{"temperature": 0.7, "top_p": 0.9, "do_sample": true}', encoding="utf-8")
    (pair["dir"] / "serve.json").write_text('{"temperature": 0.5, "top_p": 0.8, "do_sample": true}', encoding="utf-8")
    text = (f"version: 1\nmodels:\n  m:\n    training:\n      - {{path: train.json, kind: hf-generation}}\n"
            f"    deployment:\n      - {{path: serve.json, kind: hf-generation}}\n    parity:\n"
            f"      golden: golden.npz\n      reference: {{runner: callable, function: {fns}:scaled}}\n"
            f"      candidate: {{runner: callable, function: {fns}:scaled}}\n")
    manifest = pair["dir"] / "driftguard.yaml"
    manifest.write_text(text, encoding="utf-8")
    code = run(["check", "--parity", "--config", str(manifest), "--format", "json", "--today", "2026-12-01"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    f = findings(report)
    assert f["generation.temperature"]["rule"] == "DG101"  # both stages, one report
    assert f["parity.not_exercised"]["deployed"] == ["generation.top_p"]  # scaled applies only the temperature
    failing = f["parity.y.elementwise_fraction"]
    [ranked] = failing["delta"]["attribution"]["keys"]
    assert ranked["key"] == "generation.temperature" and ranked["restores"] == ranked["of"] == 32
    assert "reverting generation.temperature 0.5 -> 0.7 restores 32 of 32" in failing["message"]


@pytest.mark.parametrize(("function", "expect"), [("double", set()), ("unsafe_double", {"DG504"})])
def test_concurrency_parity_catches_shared_state(function: str, expect: set[str], pair: dict[str, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fns = USERFNS / "fns.py"
    manifest = write_manifest(pair["dir"], f"""      golden: golden.npz
      reference: {{runner: callable, function: {fns}:double}}
      candidate: {{runner: callable, function: {fns}:{function}, batch_size: 4}}
      concurrency: {{threads: 8, batch_sizes: [1, 32]}}
""")
    code, report, _ = parity(capsys, manifest)
    rules = {f["rule"] for f in findings(report).values()} - {"DG500"}
    assert rules == expect
    assert code == (1 if expect else 0)


def test_explain_covers_parity_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "DG501"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DG501 parity.beyond-tolerance") and "Anti-pattern" in out and "**" not in out
    assert run(["explain"]) == 0
    assert "DG504  parity.concurrency-interference" in capsys.readouterr().out


@pytest.mark.parametrize(("rules", "code", "severity"), [
    ("", 1, "error"),
    ("rules: {severity: {DG502: warning}}\n", 0, "warning"),  # a parity code configured like a rule
    ("rules: {severity: {'DG5*': info}}\n", 0, "info"),  # globs over parity codes too
    ("rules: {select: [DG502]}\n", 1, "error"),  # selecting only a parity code runs no rule, keeps it
    ("rules: {select: [DG101]}\n", 0, None),  # select leaves the parity code out
    ("rules: {severity: {DG502: 'off'}}\n", 0, None),
])
def test_parity_codes_are_configured_like_rules(rules: str, code: int, severity: str | None, pair: dict[str, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """issue 23: ``rules.severity`` and ``rules.select`` name DG5xx codes as they name rules (they were refused as
    unknown rules); the NaN candidate's DG502 follows them."""
    fns = USERFNS / "fns.py"
    manifest = write_manifest(pair["dir"], f"""      golden: golden.npz
      reference: {{runner: callable, function: {fns}:double}}
      candidate: {{runner: callable, function: {fns}:nan}}
""")
    manifest.write_text(manifest.read_text(encoding="utf-8") + rules, encoding="utf-8")
    got, report, err = parity(capsys, manifest)
    assert got == code, err
    f = findings(report).get("parity.y.nonfinite")
    assert (f and f["severity"]) == severity or (f is None and severity is None)


def test_an_unknown_code_in_the_rule_lists_names_the_parity_codes_too(pair: dict[str, Path],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    fns = USERFNS / "fns.py"
    manifest = write_manifest(pair["dir"], f"""      golden: golden.npz
      reference: {{runner: callable, function: {fns}:double}}
      candidate: {{runner: callable, function: {fns}:double}}
rules: {{severity: {{DG599: error}}}}
""")
    got, _, err = parity(capsys, manifest)
    assert got == 2
    assert "driftguard.yaml:12: rules.severity.DG599: no rule or parity check 'DG599'; known: DG101," in err
    assert "DG505, DG506, DG510" in err


def test_a_failing_output_says_where_it_is_worst_and_how_it_ran(pair: dict[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 21 point 4: the worst samples (index, cosine) and the element of the largest error, computed here
    with numpy from the two graphs' own outputs, and the runner, provider and batch size beside the metrics."""
    import onnxruntime as ort

    x = np.load(pair["golden"])["x"]
    ref = ort.InferenceSession(str(pair["ref"]), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    cand = ort.InferenceSession(str(pair["cand"]), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    err = np.abs(cand.astype(np.float64) - ref.astype(np.float64))
    at = np.unravel_index(int(np.argmax(err)), err.shape)
    r, c = ref.astype(np.float64), cand.astype(np.float64)
    cos = (r * c).sum(1) / (np.linalg.norm(r, axis=1) * np.linalg.norm(c, axis=1))
    worst = int(np.argmin(cos))
    code, report, _ = parity(capsys, write_manifest(pair["dir"], ORT % "cand.onnx"), "--no-attribution")
    message = findings(report)["parity.logits.elementwise_fraction"]["message"]
    assert code == 1
    assert f"; max_abs at ({at[0]}, {at[1]}); worst samples #{worst} (cosine {cos[worst]:.3g})" in message
    assert "; ran: candidate onnxruntime on CPUExecutionProvider, batch size 32" in message
