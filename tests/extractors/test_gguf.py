"""gguf kind: GGUF files written by llama.cpp's ``gguf`` package at test time, mapped onto the vocabulary."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect
from driftguard.keys import chat_template_digest

np = pytest.importorskip("numpy")
gguf = pytest.importorskip("gguf")

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


def _write(path: Path, build: Callable[[gguf.GGUFWriter], None], arch: str = "llama") -> Path:
    w = gguf.GGUFWriter(str(path), arch)
    build(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _served(w: gguf.GGUFWriter) -> None:
    """A Q4_K_M llama as llama-quantize leaves it: most elements in Q4_K blocks, norms in F32."""
    w.add_name("Tiny Llama 3")
    w.add_context_length(8192)
    w.add_block_count(2)
    w.add_embedding_length(256)
    w.add_head_count(8)
    w.add_rope_freq_base(500000.0)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    w.add_token_list([f"t{i}" for i in range(1000)])
    w.add_token_merges(["t t", "t1 t2"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(TEMPLATE)
    q4k = np.zeros((2, 144), dtype=np.uint8)  # 2 rows of one 256-element Q4_K block (144 bytes)
    w.add_tensor("blk.0.attn_q.weight", q4k, raw_shape=q4k.shape, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    w.add_tensor("output_norm.weight", np.zeros((256,), dtype=np.float32))


def test_maps_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "tiny-q4_k_m.gguf", _served)
    assert detect(path) == "gguf"
    cfg = api.extract(path)
    plain = cfg.plain()
    assert plain["model.type"] == "llama"
    assert plain["model.max_position_embeddings"] == 8192
    assert plain["model.num_layers"] == 2
    assert plain["model.hidden_size"] == 256
    assert plain["model.num_attention_heads"] == 8
    assert plain["model.vocab_size"] == 1000
    assert plain["generation.bos_token_id"] == 1
    assert plain["generation.eos_token_id"] == [2]
    assert plain["generation.pad_token_id"] == 0
    assert plain["preprocessing.add_bos_token"] is True
    assert plain["preprocessing.add_eos_token"] is False
    assert plain["preprocessing.chat_template"] == chat_template_digest(TEMPLATE)
    assert plain["preprocessing.chat_template_text"] == TEMPLATE
    assert plain["precision.quantization"] == "q4_k_m"
    assert plain["precision.weights"] == "q4_k"  # 512 Q4_K elements against 256 F32
    assert plain["model.weights.count"] == 2
    assert plain["model.weights.parameters"] == 512 + 256
    assert plain["gguf.general.name"] == "Tiny Llama 3"
    assert plain["gguf.llama.rope.freq_base"] == 500000.0
    assert plain["gguf.tokenizer.ggml.merges"] == {"array": "STRING", "length": 2}
    assert plain["gguf.version"] == 3
    for key in ("general.architecture", "general.file_type", "tokenizer.ggml.tokens", "tokenizer.chat_template"):
        assert f"gguf.{key}" not in plain  # mapped, not kept twice
    ctx = cfg["model.max_position_embeddings"]
    assert ctx.origin.path == str(path) and ctx.origin.line is None and ctx.origin.pointer == "llama.context_length"
    assert "Q4_K_M" in (cfg["precision.quantization"].note or "")


@pytest.mark.parametrize(("file_type", "tensor_type", "weights", "scheme"), [
    (gguf.LlamaFileType.MOSTLY_F16, gguf.GGMLQuantizationType.F16, "float16", "none"),
    (gguf.LlamaFileType.MOSTLY_BF16, gguf.GGMLQuantizationType.BF16, "bfloat16", "none"),
    (gguf.LlamaFileType.ALL_F32, gguf.GGMLQuantizationType.F32, "float32", "none"),
    (gguf.LlamaFileType.MOSTLY_Q8_0, gguf.GGMLQuantizationType.F16, "float16", "q8_0"),
])
def test_file_types(tmp_path: Path, file_type: int, tensor_type: int, weights: str, scheme: str) -> None:
    """general.file_type names the scheme; the tensor infos the element type (a Q8_0 file's F16 tensors)."""
    def build(w: gguf.GGUFWriter) -> None:
        w.add_file_type(file_type)
        raw = np.zeros((4, 4), dtype=np.float32 if weights == "float32" else np.uint16)
        w.add_tensor("w", raw, raw_shape=raw.shape, raw_dtype=tensor_type)

    plain = api.extract(_write(tmp_path / "m.gguf", build)).plain()
    assert plain["precision.quantization"] == scheme
    assert plain["precision.weights"] == weights


def test_quantization_derived_without_file_type(tmp_path: Path) -> None:
    def build(w: gguf.GGUFWriter) -> None:
        q8 = np.zeros((1, 34), dtype=np.uint8)  # one 32-element Q8_0 block
        w.add_tensor("w", q8, raw_shape=q8.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)

    cfg = api.extract(_write(tmp_path / "m.gguf", build))
    assert cfg["precision.quantization"].value == "q8_0"
    assert cfg["precision.quantization"].how.value == "derived"


def test_other_architecture_keys(tmp_path: Path) -> None:
    """``{arch}`` is general.architecture: a qwen2 file's qwen2.context_length."""
    plain = api.extract(_write(tmp_path / "q.gguf", lambda w: w.add_context_length(32768), "qwen2")).plain()
    assert plain["model.type"] == "qwen2"
    assert plain["model.max_position_embeddings"] == 32768


def test_detected_by_magic_without_extension(tmp_path: Path) -> None:
    """Ollama keeps models as sha256-<digest> blobs."""
    blob = _write(tmp_path / "sha256-0123abcd", _served)
    assert detect(blob) == "gguf"


def test_gguf_name_without_magic_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.gguf"
    path.write_text("not a model")
    with pytest.raises(ExtractionError, match="no GGUF magic") as err:
        api.extract(path)
    assert err.value.path == str(path)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120)


def test_cli_extract(tmp_path: Path) -> None:
    path = _write(tmp_path / "model.gguf", _served)
    out = _cli("extract", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    values = json.loads(out.stdout)["values"]
    assert values["precision.quantization"]["value"] == "q4_k_m"
    assert values["model.max_position_embeddings"]["origin"]["pointer"] == "llama.context_length"
    forced = _cli("extract", f"gguf:{path}")
    assert forced.returncode == 0 and "q4_k_m" in forced.stdout


def test_cli_hostile_header_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"k" + struct.pack("<I", 42))
    out = _cli("extract", str(path))
    assert out.returncode == 2
    assert out.stderr.strip() == f"driftguard: error: {path}: GGUF header: 'k' has unknown value type 42 " \
                                 "(the specification's are 0-12)"


def test_detection_knows_the_readers_magic() -> None:
    # the kind keeps its own copy so that detecting any file does not import the header reader
    from driftguard.extractors import gguf as kind
    from driftguard.readers import gguf as reader

    assert kind.MAGIC == reader.MAGIC
    assert kind.detect(Path("blob"), reader.MAGIC + bytes(20)) and not kind.detect(Path("blob"), b"GGUX")
