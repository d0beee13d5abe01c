"""``extractors.detect``: every kind is asked; a name claim (``KindInfo.names``) outranks content claims, and two
claims on the same footing are an input error listing the candidates, never the first one's guess. A plug-in
kind (the ``copycat`` fixture: a real dist-info on sys.path) makes the conflicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]

def _engine_args(folder: Path) -> Path:
    p = folder / "engine.json"
    p.write_text(json.dumps({"model": "/models/m", "gpu_memory_utilization": 0.9}))
    return p


def test_one_content_claim_is_the_kind(tmp_path: Path) -> None:
    assert extractors.detect(_engine_args(tmp_path)) == "vllm"


def test_two_content_claims_are_ambiguous_and_list_the_candidates(copycat: Path) -> None:
    path = _engine_args(copycat)
    with pytest.raises(UsageError) as info:
        extractors.detect(path)
    assert info.value.path == str(path)
    assert info.value.message == ("ambiguous: vllm, copycat all claim this file by content; name the one that reads "
                                  "it as KIND:PATH (or kind: in the manifest)")


def test_a_name_claim_outranks_a_content_claim(copycat: Path) -> None:
    gen = copycat / "generation_config.json"
    gen.write_text(json.dumps({"temperature": 0.7, "transformers_version": "4.57.6"}))
    assert extractors.detect(gen) == "hf-generation"


def test_two_name_claims_are_ambiguous(copycat: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYCAT_NAMES", "1")
    extractors.clear()
    gen = copycat / "generation_config.json"
    gen.write_text(json.dumps({"temperature": 0.7}))
    with pytest.raises(UsageError, match=r"ambiguous: hf-generation, copycat all claim this file by name"):
        extractors.detect(gen)


def test_the_cli_says_ambiguous_in_one_line_and_exits_2(copycat: Path) -> None:
    path = _engine_args(copycat)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copycat / "site"), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"driftguard: error: {path}: ambiguous: vllm, copycat all claim this file by content; name the one that "
        "reads it as KIND:PATH (or kind: in the manifest)"]
    named = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"vllm:{path}"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert named.returncode == 0, named.stderr


@pytest.mark.parametrize(("name", "text"), [
    # a YAML with prompt and sampling fields is many products' config, not an OpenAI request body
    ("eval.yaml", "prompt: Summarize\ntemperature: 0.7\nmax_tokens: 64\n"),
    # top_k is no OpenAI field: the body is some engine's, which the file does not show
    ("req.json", json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "top_k": 5})),
    # messages that are not chat messages
    ("req2.json", json.dumps({"messages": "hi", "max_tokens": 8})),
    # model plus tensor_parallel_size is TensorRT-LLM's, lmdeploy's, ... as much as vLLM's
    ("serve.json", json.dumps({"model": "m", "tensor_parallel_size": 2})),
])
def test_weak_signals_claim_nothing(tmp_path: Path, name: str, text: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(UsageError, match="cannot tell what kind of artifact this is"):
        extractors.detect(p)


def test_a_real_openai_body_is_still_claimed(tmp_path: Path) -> None:
    p = tmp_path / "chat.json"
    p.write_text(json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8,
                             "temperature": 0.2}))
    assert extractors.detect(p) == "openai"


def test_names_are_checked_in_kind_info() -> None:
    with pytest.raises(TypeError, match="names: a tuple of str"):
        extractors.KindInfo(kind="x", description="", names=["a.json"])  # type: ignore[arg-type]
    assert "generation_config.json" in extractors.info("hf-generation").names
    assert extractors.info("hf-config").names == ("adapter_config.json", "quantize_config.json")  # not config.json


def test_builtin_kinds_never_claim_the_same_corpus_file() -> None:
    """Every fixture and corpus file is detected as at most one kind (detection never has to guess on them)."""
    from driftguard.readers.files import head

    tests = ROOT / "tests"
    files = [p for folder in ("fixtures", "corpus") for p in sorted((tests / folder).rglob("*")) if p.is_file()]
    assert len(files) > 150
    for p in files:
        claims = [k for k in extractors.builtin_kinds() if extractors.get(k).detect(p, head(p))]
        assert len(claims) <= 1, (p, claims)


