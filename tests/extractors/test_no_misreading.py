"""Every kind, forced on a file of another format, either reads something of its own format or fails with
exit 2 (``extractors.base.require_recognized``): it never passes with its defaults alone (issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import DriftguardError
from driftguard.model import How

TESTS = Path(__file__).resolve().parents[1]
RUNTIME = TESTS / "corpus/runtime"


def _corpus(suffix: str) -> Path:
    """The one runtime corpus file whose name ends with ``suffix``."""
    (path,) = [p for p in RUNTIME.iterdir() if p.name.endswith(suffix)]
    return path


#: One file of each format the fixtures and the corpus hold (the model-file kinds' bytes are built by their own
#: tests: a JSON or INI file is foreign bytes to them).
FORMATS = {
    "hf-generation": TESTS / "fixtures/hf-generation/good/llama2/generation_config.json",
    "hf-config": TESTS / "fixtures/hf-config/good/whisper/config.json",
    "hf-tokenizer": TESTS / "fixtures/hf-tokenizer/good/llama2/tokenizer_config.json",
    "triton": TESTS / "fixtures/triton/good/densenet_onnx.pbtxt",
    "vllm-engine": _corpus("vllm_model__1__model.json"),
    "vllm-serve": TESTS / "fixtures/vllm/good/serve-config.yaml",
    "tgi": TESTS / "fixtures/tgi/good/generate.json",
    "tgi-env": _corpus("tgi-hosting-examples__models.json"),
    "openai": TESTS / "fixtures/openai/good/chat.json",
    "tensorrt-llm": _corpus("llmapi__tensorrt_llm__1__model.yaml"),
    "tensorrt-llm-tensors": TESTS / "fixtures/tensorrt-llm/good/request.json",
    "lmdeploy-ini": TESTS / "fixtures/lmdeploy/good/turbomind.ini",
    "sglang": TESTS / "fixtures/sglang/good/generate.json",
    "openapi": _corpus("docs__openapi.json"),
    "ft-ini": _corpus("t5__fastertransformer__1__config.ini"),
}

#: The kind whose format a FORMATS entry is, where the name says more.
OWNER = {"vllm-engine": "vllm", "vllm-serve": "vllm", "tgi-env": "tgi", "tensorrt-llm-tensors": "tensorrt-llm",
         "lmdeploy-ini": "lmdeploy"}

#: (kind, format) pairs where the kind legitimately reads the other file: the request shapes every engine speaks
#: and the Hugging Face files an engine kind shares fields with; each reports the fields it does not know (DG304).
SHARED = {
    ("hf-generation", "hf-config"),  # config.json holds the legacy generation attributes (from_model_config)
    ("hf-generation", "openai"), ("tensorrt-llm", "openai"), ("lmdeploy", "openai"), ("vllm", "openai"),
    ("hf-generation", "tgi"),
    ("vllm", "hf-generation"), ("tensorrt-llm", "hf-generation"), ("lmdeploy", "hf-generation"),
    ("vllm", "tgi"),  # vLLM's Triton generate extension takes a 'parameters' member
    ("lmdeploy", "hf-tokenizer"),  # skip_special_tokens, spaces_between_special_tokens...
    ("sglang", "openai"),  # SGLang's OpenAI-compatible endpoints take the OpenAI body
    ("vllm", "sglang"),  # vLLM's requests nest 'sampling_params' too; SGLang's own fields are its unknown fields
}


def _kinds() -> list[str]:
    return extractors.builtin_kinds()


def _read_something(kind: str, path: Path) -> tuple[bool, list[str]]:
    """(True, unknown fields) when ``kind`` extracts ``path``; (False, []) on an input error (exit 2)."""
    try:
        cfg = extractors.extract(path, kind)
    except DriftguardError:
        return False, []
    explicit = [k for k, v in cfg.values.items() if v.how is How.EXPLICIT and ".unknown_fields." not in k]
    assert explicit, f"{kind} read {path.name} and found nothing of its own format, yet passed"
    return True, [k for k in cfg.values if ".unknown_fields." in k]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("kind", _kinds())
def test_a_kind_on_a_foreign_file_reads_its_own_fields_or_fails(kind: str, fmt: str) -> None:
    if OWNER.get(fmt, fmt) == kind:
        pytest.skip("the kind's own format")
    path = FORMATS[fmt]
    read, unknown = _read_something(kind, path)
    if (kind, fmt) in SHARED:
        return
    assert not read, f"{kind} read {fmt} ({path.name}) as its own format"
    assert not unknown


def test_every_builtin_kind_is_walked() -> None:
    assert set(_kinds()) >= {"hf-generation", "hf-config", "hf-tokenizer", "hf-model", "training-args", "triton",
                             "vllm", "tgi", "openai", "tensorrt-llm", "lmdeploy", "onnx", "torch", "safetensors",
                             "lightning"}
    assert all(p.is_file() for p in FORMATS.values())


def test_genai_config_forced_as_hf_generation_exits_2(tmp_path: Path) -> None:
    """An ONNX Runtime GenAI genai_config.json is not a GenerationConfig: one line, the file, what was expected."""
    genai = tmp_path / "genai_config.json"
    genai.write_text(json.dumps({"model": {"type": "phi3", "context_length": 4096},
                                 "search": {"max_length": 4096, "top_p": 0.9}}, indent=1))
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"hf-generation:{genai}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"driftguard: error: {genai}:1: not a hf-generation file: none of its fields (model, search) is one a "
        "GenerationConfig has; check the kind (KIND:PATH, or `kind:` in the manifest)"]


@pytest.mark.parametrize("kind", ["hf-config", "hf-tokenizer", "tgi", "openai", "vllm", "tensorrt-llm", "lmdeploy",
                                  "triton"])
def test_genai_config_forced_as_any_config_kind_fails(kind: str, tmp_path: Path) -> None:
    genai = tmp_path / "genai_config.json"
    genai.write_text(json.dumps({"model": {"type": "phi3", "context_length": 4096}, "search": {"top_p": 0.9}}))
    with pytest.raises(DriftguardError):
        extractors.extract(genai, kind)


@pytest.mark.parametrize("kind", ["onnx", "torch", "safetensors", "lightning", "training-args"])
def test_model_file_kinds_refuse_foreign_bytes(kind: str) -> None:
    pytest.importorskip("onnx") if kind == "onnx" else None
    for path in (FORMATS["hf-generation"], FORMATS["lmdeploy-ini"]):
        with pytest.raises(DriftguardError):
            extractors.extract(path, kind)
