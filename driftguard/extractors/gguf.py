"""GGUF model files (llama.cpp, Ollama): the header's metadata and tensor types, never the tensor data.

Read by ``driftguard.readers.gguf`` (bounded; array payloads skipped by their declared length; why not
``gguf.GGUFReader`` is said there). Values have no line: their pointer is the metadata key.

Canonical keys (the key names of ggml ``docs/gguf.md``, ``{arch}`` being ``general.architecture``):
``general.architecture`` -> ``model.type``; ``{arch}.context_length`` -> ``model.max_position_embeddings``;
``{arch}.block_count`` -> ``model.num_layers``; ``{arch}.embedding_length`` -> ``model.hidden_size``;
``{arch}.attention.head_count`` -> ``model.num_attention_heads``; the length of ``tokenizer.ggml.tokens`` (the
count, the array is not read) -> ``model.vocab_size``; ``tokenizer.ggml.bos_token_id``/``eos_token_id``/
``padding_token_id`` -> ``generation.bos_token_id``/``eos_token_id`` (a one-id list, as the hf kinds spell
it)/``pad_token_id``; ``tokenizer.ggml.add_bos_token``/``add_eos_token`` -> ``preprocessing.add_bos_token``/
``add_eos_token``; ``tokenizer.chat_template`` -> ``preprocessing.chat_template`` (``keys.chat_template_digest``,
as the hf-tokenizer kind, so a template changed between the Hugging Face tokenizer and the GGUF is a finding)
and its text ``preprocessing.chat_template_text``.

Precision: ``general.file_type`` (the type of most tensors, llama.cpp's ``LlamaFileType``) ->
``precision.quantization``: ``none`` for F32/F16/BF16, else llama.cpp's name in lower case (``q4_k_m``,
``q8_0``: the vocabulary's quantization names are lower case). ``precision.weights`` is the ggml type holding
most elements in the tensor infos: ``float32``/``float16``/``bfloat16`` for float types, else the ggml block
type in lower case (``q4_k``); so a bf16-trained model served as Q4_K_M differs on ``precision.weights``
(DG102: trained in bfloat16, deployed as q4_k). Without ``general.file_type`` the quantization is derived from
that type. ``model.weights.count``/``parameters`` count the tensors and their elements.

Everything else is kept under ``gguf.<key>``: scalars as read (float32 values as their shortest decimal), arrays
as ``{"array": <element type>, "length": N}``; ``gguf.version`` and ``gguf.big_endian`` say what was read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.keys import chat_template_digest
from driftguard.model import EffectiveConfig

if TYPE_CHECKING:
    from driftguard.readers import gguf as gguf_header

#: The file's first bytes (``readers.gguf.MAGIC``; here so that detection does not import the reader).
MAGIC = b"GGUF"

INFO = KindInfo(
    kind="gguf",
    description="GGUF model file header (llama.cpp, Ollama): architecture, context, quantization, tokenizer",
    role="deployment",
    rank=20,
    namespaces=("model", "precision", "generation", "preprocessing"),
    keeps=("gguf",),
    names=("*.gguf",),
)

#: ``{arch}.<suffix>`` -> canonical key.
_ARCH_KEYS = {
    "context_length": "model.max_position_embeddings",
    "block_count": "model.num_layers",
    "embedding_length": "model.hidden_size",
    "attention.head_count": "model.num_attention_heads",
}
_TOKEN_IDS = {
    "tokenizer.ggml.bos_token_id": "generation.bos_token_id",
    "tokenizer.ggml.padding_token_id": "generation.pad_token_id",
}
_BOOLS = {
    "tokenizer.ggml.add_bos_token": "preprocessing.add_bos_token",
    "tokenizer.ggml.add_eos_token": "preprocessing.add_eos_token",
}
#: ggml float types as canonical dtypes (``normalize.CANONICAL_DTYPES``).
_FLOATS = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"}
_INTS = {"I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64"}
TOKENS = "tokenizer.ggml.tokens"
CHAT_TEMPLATE = "tokenizer.chat_template"


def detect(path: Path, head: bytes) -> bool:
    """The ``GGUF`` magic (Ollama's blobs have no extension), or a ``.gguf`` name."""
    return head[:4] == MAGIC or (path.suffix.lower() == ".gguf" and path.is_file())


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective config stated by one GGUF file's header."""
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.readers import gguf as gguf_header

    header = gguf_header.read(path, options.limits)
    vb = ValueBuilder(INFO.kind, path)
    meta = header.metadata
    arch = meta.get("general.architecture")
    mapped = {f"{arch}.{suffix}": key for suffix, key in _ARCH_KEYS.items()} if isinstance(arch, str) else {}
    mapped.update(_TOKEN_IDS)
    mapped.update(_BOOLS)
    # A value of another type than the key's (a per-layer head_count array) is kept under gguf.* instead.
    used: set[str] = set()

    def put(key: str, meta_key: str, value: object, note: str | None = None) -> None:
        vb.set(key, value, pointer=meta_key, note=note)
        used.add(meta_key)

    if isinstance(arch, str):
        put("model.type", "general.architecture", arch)
    for meta_key, key in mapped.items():
        value = meta.get(meta_key)
        if isinstance(value, bool) if key in _BOOLS.values() else _is_int(value):
            put(key, meta_key, value)
    eos = meta.get("tokenizer.ggml.eos_token_id")
    if _is_int(eos):
        put("generation.eos_token_id", "tokenizer.ggml.eos_token_id", [eos])
    tokens = meta.get(TOKENS)
    if isinstance(tokens, gguf_header.ArrayInfo):
        put("model.vocab_size", TOKENS, tokens.length, "length of tokenizer.ggml.tokens (the tokens are not read)")
    template = meta.get(CHAT_TEMPLATE)
    if isinstance(template, str):
        put("preprocessing.chat_template", CHAT_TEMPLATE, chat_template_digest(template),
            "sha256 of tokenizer.chat_template")
        vb.set("preprocessing.chat_template_text", template, pointer=CHAT_TEMPLATE)
    _precision(vb, header, used)
    for meta_key, value in meta.items():
        if meta_key not in used:
            kept = {"array": value.element, "length": value.length} \
                if isinstance(value, gguf_header.ArrayInfo) else value
            vb.set(f"gguf.{meta_key}", kept, pointer=meta_key)
    vb.set("gguf.version", header.version, pointer="version")
    if header.big_endian:
        vb.set("gguf.big_endian", True, pointer="version", note="byte-swapped version: a big-endian file")
    return vb.build()


def _precision(vb: ValueBuilder, header: gguf_header.Header, used: set[str]) -> None:
    """``precision.weights`` from the tensor types, ``precision.quantization`` from ``general.file_type``."""
    elements: Counter[str] = Counter()
    for _, ggml_type, count in header.tensors:
        elements[ggml_type] += count
    top = elements.most_common(1)[0][0] if elements else None
    if header.tensors:
        vb.set("model.weights.count", len(header.tensors), pointer="tensor_infos", note="tensors in the file")
        vb.set("model.weights.parameters", sum(elements.values()), pointer="tensor_infos",
               note="elements of every tensor in the file")
    if top is not None:
        vb.set("precision.weights", _dtype(top), pointer="tensor_infos",
               note=f"ggml type {top} holds {elements[top]} of {sum(elements.values())} elements")
    from driftguard.readers import gguf as gguf_header

    file_type = header.metadata.get("general.file_type")
    name = gguf_header.FILE_TYPES.get(file_type) if isinstance(file_type, int) else None
    if name is not None and name != "GUESSED":
        used.add("general.file_type")
        scheme = "none" if name in _FLOATS else name.lower()
        vb.set("precision.quantization", scheme, pointer="general.file_type",
               note=f"general.file_type {file_type}: llama.cpp {name}")
    elif top is not None:
        vb.derive("precision.quantization", "none" if top in _FLOATS else top.lower(), vb.values["precision.weights"],
                  "no general.file_type: the ggml type holding most elements", ("precision.weights",), explicit=True)


def _is_int(value: object) -> bool:
    """An integer metadata value (bools are their own type)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _dtype(ggml_type: str) -> str:
    """A ggml type as a canonical dtype where it is one (F16 -> float16), else its name in lower case (q4_k)."""
    return _FLOATS.get(ggml_type) or _INTS.get(ggml_type) or ggml_type.lower()
