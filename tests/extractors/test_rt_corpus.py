"""Every JSON/YAML/INI file of tests/corpus/runtime: extract exits 0 where the serving tool accepts the file,
else 2 with one ``FILE:LINE: message`` line, never a traceback (exit 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import cli

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "runtime"

#: file-name suffix -> (KIND to force or None to let detection decide, expected exit code, expected kind, fewest
#: explicit values the file must give: a file that extracts to nothing is not "accepted")
EXPECTED: dict[str, tuple[str | None, int, str | None, int]] = {
    "examples__cpp__llama__llama_config.ini": (None, 0, "lmdeploy", 59),
    # A FasterTransformer T5 config (an HF config dumped to INI): no TurboMind section, so not lmdeploy's
    "t5__fastertransformer__1__config.ini": ("lmdeploy", 2, None, 0),
    "tgi-hosting-examples__models.json": (None, 0, "tgi", 78),  # SageMaker env: namespaced
    "tgi-hosting-examples__payload.json": (None, 0, "tgi", 2),
    "chatbot-apps__test_file__payload.json": (None, 0, "tgi", 5),
    "docs__openapi.json": ("tgi", 2, None, 0),  # an OpenAPI document, not a request
    "requests__sample_request.json": (None, 0, "tensorrt-llm", 11),
    "requests__sample_request_runtime_top_k.json": (None, 0, "tensorrt-llm", 11),
    "inflight_batcher_llm__tests__first.json": ("tensorrt-llm", 0, None, 8),  # backend parameters
    "llmapi__tensorrt_llm__1__model.yaml": ("tensorrt-llm", 0, None, 9),
    "llama-3.1-8b-instruct__1__model.json": (None, 0, "vllm", 2),
    "eagle_model__1__model.json": (None, 0, "vllm", 4),
    "llama2vllm__1__model.json": (None, 0, "vllm", 4),
    "vllm__vllm_engine_args.json": (None, 0, "vllm", 3),
    "vllm_opt__model.json": (None, 0, "vllm", 2),
    "vllm_model__1__model.json": (None, 0, "vllm", 3),
}


def _files() -> list[Path]:
    # tests/corpus is part of the repository: a missing folder fails the collection instead of skipping
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".json", ".yaml", ".yml", ".ini"))


def _expected(path: Path) -> tuple[str | None, int, str | None, int]:
    for suffix, exp in EXPECTED.items():
        if path.name.endswith(suffix):
            return exp
    return (None, -1, None, 1)  # a file added later: "0 or 2, never a traceback", and something extracted


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name[-60:])
def test_corpus_file(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kind, code, detected, explicit = _expected(path)
    spec = f"{kind}:{path}" if kind else str(path)
    rc = cli.run(["extract", "--format", "json", spec])
    out, err = capsys.readouterr()
    assert rc in (0, 2), err
    if code >= 0:
        assert rc == code, err
    if rc == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"driftguard: error: {path}:"), err
        assert lines[0].split(f"{path}:")[1].split(":")[0].isdigit(), err  # FILE:LINE
        return
    doc = json.loads(out)
    assert doc["kind"] == (detected or kind)
    values = doc["values"]
    assert sum(v["explicit"] for v in values.values()) >= explicit, sorted(values)
    # every explicit value points back into the file it came from
    assert all(v["origin"]["path"] == str(path) for v in values.values() if v["explicit"])


def test_corpus_every_expectation_matches_a_file() -> None:
    names = [p.name for p in _files()]
    assert all(any(n.endswith(s) for n in names) for s in EXPECTED)
    assert len(names) == 16  # the walk really ran over the corpus: every JSON/YAML/INI file of runtime/


def test_corpus_cli_subprocess() -> None:
    good = next(p for p in _files() if p.name.endswith("requests__sample_request.json"))
    bad = next(p for p in _files() if p.name.endswith("docs__openapi.json"))
    ok = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(good)], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "generation.max_new_tokens" in ok.stdout
    fail = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"tgi:{bad}"], capture_output=True,
                          text=True, check=False)
    assert fail.returncode == 2
    assert fail.stderr.strip() == (f"driftguard: error: {bad}:1: not a TGI /generate request: no 'inputs' "
                                   "(top-level keys: components, info, openapi, paths, tags)")
    assert "Traceback" not in fail.stderr
