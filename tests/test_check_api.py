"""The library API for deploy scripts (``driftguard.check``, ``Report``), side precedence and ``init``
(``approve``: ``tests/gate/test_approve.py``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import driftguard
from driftguard import api, cli, manifest
from driftguard.errors import DriftDetected
from driftguard.model import EffectiveConfig, How, Origin, Value
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY


def test_check_returns_a_report() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    assert isinstance(report, driftguard.Report)
    assert not report.ok
    by_key = {f.key: f for f in report.findings}
    assert set(by_key) == {"generation.top_p", "preprocessing.max_length"}
    top_p = by_key["generation.top_p"]
    assert (top_p.status, top_p.approval, top_p.model) == ("approved", "summarizer-top-p", "summarizer")
    assert top_p.training is not None and top_p.training.origin.line == 7
    trunc = by_key["preprocessing.max_length"]
    assert (trunc.status, trunc.training and trunc.training.value, trunc.deployed and trunc.deployed.value) == \
        ("unapproved", 1024, 512)
    assert trunc.deployed is not None and trunc.deployed.origin.source == "request"
    assert [a.id for a in report.approvals] == ["summarizer-top-p"]
    assert report.approvals[0].state == "used"


def test_raise_for_drift() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=TODAY)
    with pytest.raises(DriftDetected, match=r"1 unapproved difference: summarizer:preprocessing.max_length") as info:
        report.raise_for_drift()
    assert [getattr(f, "key", None) for f in info.value.findings] == ["preprocessing.max_length"]


def test_raise_for_drift_passes_once_fixed(example: Path) -> None:
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    report = driftguard.check(example / "driftguard.yaml", today=TODAY)
    assert report.ok
    report.raise_for_drift()  # does not raise


def test_a_model_says_whether_it_passes(example: Path) -> None:
    """Issue 23 point 8: ``ModelResult.ok``, as JSON's per-model ``ok`` says it (a deploy script asks one model)."""
    failing = driftguard.check(example / "driftguard.yaml", today=TODAY).models[0]
    assert (failing.ok, failing.to_dict()["ok"]) == (False, False)
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024"))
    passing = driftguard.check(example / "driftguard.yaml", today=TODAY).models[0]
    assert (passing.ok, passing.to_dict()["ok"]) == (True, True)
    assert passing.findings  # the approved top_p difference is still a finding: ok is about failing ones


def test_check_accepts_a_loaded_manifest_and_a_folder(example: Path) -> None:
    m = manifest.load(example)
    assert m.base == example and m.models["summarizer"].deployment[2].kind == "vllm"
    assert len(driftguard.check(m, model="summarizer", today=TODAY).findings) == 2


def test_strict_fails_on_warnings(example: Path) -> None:
    # A seed on the deployment side only is a DG103 warning: reported, fails only with strict.
    params = example / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("truncate_prompt_tokens: 512", "truncate_prompt_tokens: 1024")
                      + "seed: 7\n")
    report = driftguard.check(example, today=TODAY)
    warn = [f for f in report.findings if f.severity == "warning"]
    assert [f.key for f in warn] == ["generation.seed"] and report.ok
    assert not driftguard.check(example, today=TODAY, strict=True).ok


def _cfg(kind: str, path: str, values: dict[str, tuple[object, bool]]) -> EffectiveConfig:
    return EffectiveConfig(kind, path, {k: Value(v, Origin(path), How.EXPLICIT if e else How.DEFAULT)
                                        for k, (v, e) in values.items()})


def test_merge_precedence() -> None:
    config = _cfg("hf-config", "config.json", {"generation.top_k": (10, True), "model.x": (1, True)})
    gen = _cfg("hf-generation", "generation_config.json", {"generation.top_k": (40, True),
                                                           "generation.top_p": (1.0, False)})
    gen2 = _cfg("hf-generation", "other/generation_config.json", {"generation.top_k": (41, True)})
    tok = _cfg("hf-tokenizer", "tokenizer_config.json", {"model.x": (2, False)})
    merged = api.merge_side([gen, config, tok])
    assert merged["generation.top_k"].value == 40  # generation config outranks config.json
    assert merged["model.x"].value == 1  # explicit beats default, whatever the rank
    assert api.merge_side([gen, gen2])["generation.top_k"].value == 41  # same rank: later wins
    engine = _cfg("vllm", "params.yaml", {"generation.top_k": (0, False), "generation.top_p": (0.85, True)})
    merged = api.merge_side([engine, gen])
    # the engine resolved its own precedence: even its default beats the model file's explicit value
    assert merged["generation.top_k"].value == 0 and merged["generation.top_p"].value == 0.85


def test_init_discovers_the_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(EXAMPLE / "training", tmp_path / "summarizer" / "training")
    shutil.copytree(EXAMPLE / "deployment", tmp_path / "summarizer" / "deployment")
    folder = tmp_path / "summarizer"
    found = api.discover(folder)
    assert found["training"] == [("hf-config", "training/config.json"),
                                 ("hf-generation", "training/generation_config.json"),
                                 ("hf-tokenizer", "training/tokenizer_config.json")]
    assert ("triton", "deployment/model_repository/summarizer/config.pbtxt") in found["deployment"]
    assert ("vllm", "deployment/model_repository/summarizer/1/model.json") in found["deployment"]
    assert cli.run(["init", str(folder)]) == 0
    written = folder / "driftguard.yaml"
    m = manifest.load(written)  # the written manifest is valid
    assert list(m.models) == ["summarizer"]
    assert "# driftguard manifest" in written.read_text()
    assert cli.run(["init", str(folder)]) == 2  # refuses to overwrite
    assert "exists" in capsys.readouterr().err
    assert cli.run(["init", str(folder), "--stdout"]) == 0  # printing never overwrites
    assert "kind: triton" in capsys.readouterr().out
    # the discovered manifest runs (the sampling file is not claimed by detection: name its kind to add it)
    report = driftguard.check(written, today=TODAY)
    assert report.models[0].name == "summarizer"


def test_import_driftguard_check_stays_light() -> None:
    code = ("import sys, datetime, driftguard; "
            f"r = driftguard.check('examples/summarizer/driftguard.yaml', today=datetime.date.fromisoformat("
            f"{EXAMPLES_TODAY.isoformat()!r})); "
            "heavy = [m for m in ('torch', 'onnx', 'onnxruntime', 'numpy', 'git') if m in sys.modules]; "
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------------------
# diff is check for two artifacts
# ---------------------------------------------------------------------------------------------------------

#: Training-side and deployment-side artifacts of many kinds (KIND:PATH relative to the repository): every pair
#: is diffed and checked as a two-artifact manifest.
DIFF_TRAINING = ("tests/fixtures/acceptance/generation_config.json",
                 "tests/fixtures/hf-generation/good/gemma2/generation_config.json",
                 "hf-model:tests/fixtures/hf-model/good/llama2",
                 "tests/fixtures/hf-tokenizer/good/llama2/tokenizer_config.json",
                 "tests/fixtures/hf-config/good/wizardcoder-gptq/config.json",
                 "tests/corpus/finetune/QwenLM__Qwen2.5__examples__llama-factory__qwen2-7b-lora-sft.yaml",
                 "tests/corpus/finetune/axolotl-ai-cloud__axolotl__examples__llama-3__fft-8b.yaml")
DIFF_DEPLOYED = ("vllm:tests/fixtures/acceptance/runtime-params.yaml",
                 "vllm:tests/fixtures/vllm/good/serve-config.yaml",
                 "vllm:tests/fixtures/vllm/good/request.json",
                 "tgi:tests/fixtures/tgi/good/generate.json",
                 "openai:tests/fixtures/openai/good/chat.json",
                 "tensorrt-llm:tests/fixtures/tensorrt-llm/good/llmapi-sampling.yaml",
                 "tests/fixtures/tensorrt-llm-engine/good/new/config.json",
                 "lmdeploy:tests/fixtures/lmdeploy/good/gen-config.yaml",
                 "tests/fixtures/genai/good/genai_config.json")


def _seen(f: object) -> tuple[object, ...]:
    """What a finding says, without the verdict: rule, key, severity, message and the values it judged."""
    from driftguard.model import Finding

    assert isinstance(f, Finding)
    values = tuple((v.value, v.origin.path, v.origin.line) for v in (f.training, f.deployed, *f.related)
                   if v is not None)
    return f.rule, f.key, str(f.severity), f.message, values


def _copy(spec: str, into: Path) -> tuple[str, str]:
    """(kind or "", path) of a copy under ``into`` of a KIND:PATH relative to the repository."""
    kind, _, path = spec.rpartition(":")
    source, target = ROOT / path, into / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return kind, str(target)


@pytest.mark.parametrize("deployed", DIFF_DEPLOYED)
@pytest.mark.parametrize("training", DIFF_TRAINING)
def test_diff_reports_what_a_two_artifact_check_reports(training: str, deployed: str, tmp_path: Path) -> None:
    """The property: for a pair of artifacts, ``diff`` reports exactly the findings of the rules it runs
    (``rules.engine.pairwise_codes``) that ``check`` reports on a manifest naming the two; the rules ``check``
    runs beyond those judge one side alone (tests/rules/test_engine.py asserts which)."""
    from driftguard.rules.engine import pairwise_codes

    pair = [_copy(spec, tmp_path / side) for spec, side in ((training, "t"), (deployed, "d"))]
    entries = [f"{{path: '{path}'" + (f", kind: {kind}}}" if kind else "}") for kind, path in pair]
    manifest_path = tmp_path / "driftguard.yaml"
    manifest_path.write_text(f"version: 1\nmodels:\n  m:\n    training: [{entries[0]}]\n"
                             f"    deployment: [{entries[1]}]\n", encoding="utf-8")
    report = api.check(manifest_path, today=TODAY)
    diffed = api.diff(*(f"{kind}:{path}" if kind else path for kind, path in pair))
    codes = set(pairwise_codes())
    checked = sorted(_seen(j.finding) for j in report.findings if j.finding.rule in codes)
    assert sorted(_seen(f) for f in diffed.findings) == checked
    assert codes <= set(report.models[0].rules)  # every rule diff runs ran in check too
