"""TensorRT-LLM engine ``config.json``: what ``trtllm-build`` wrote beside ``rank0.engine``, the limits and
precision the engine was compiled with (they cannot change without a rebuild).

Two layouts: since 0.8, ``{"version", "pretrained_config", "build_config"}`` (``EngineConfig.to_dict`` in
tensorrt_llm/builder.py: ``BuildConfig`` and ``PretrainedConfig.to_dict``); before, ``{"builder_config",
"plugin_config"}`` (``BuilderConfig.to_dict``). The build writes every field, so no defaults are filled.

Canonical keys:

- ``build_config.max_seq_len`` -> ``serving.max_model_len`` (engines of 0.9 and 0.10 wrote ``max_output_len``
  instead, and the runtime's longest sequence was ``max_input_len + max_output_len``: derived);
  ``max_input_len`` -> ``serving.max_input_length``; ``max_batch_size`` -> ``batching.max_batch_size``;
  ``max_num_tokens`` -> ``serving.max_num_tokens``;
- ``pretrained_config.dtype`` -> ``precision.compute``, and ``precision.weights`` too unless the weights are
  quantized: ``quantization.quant_algo`` -> ``precision.quantization`` with the ``tensorrt-llm`` kind's spellings
  (``W4A16_AWQ`` -> ``awq``, ``W4A16_GPTQ`` -> ``gptq``, ``FP8`` -> ``fp8``, null -> ``none``, others lower
  case), and the weights' element type its name states (``W4A16*``/``W4A8*`` int4, ``W8A16*``/``W8A8*`` int8,
  ``FP8*`` float8_e4m3fn, ``NVFP4``/``*MXFP4*`` float4_e2m1fn; ``MIXED_PRECISION``: per layer, not recorded);
- ``mapping.tp_size`` (else ``world_size``) -> ``serving.tensor_parallel_size``;
- ``architecture`` -> ``model.architecture``; ``vocab_size``, ``hidden_size``, ``num_hidden_layers``,
  ``num_attention_heads``, ``max_position_embeddings`` -> ``model.*``;
- Medusa heads (``pretrained_config.num_medusa_heads``) -> ``model.speculative.num_heads``.

Everything else (plugin settings, ``max_beam_width``, ``kv_cache_quant_algo``, the speculative mode and draft
length, LoRA and auto-parallel settings) is kept as ``tensorrt_llm.engine.<path>``. The old layout maps
``precision``, ``tensor_parallel``, ``max_input_len``/``max_output_len``, ``max_batch_size``,
``max_num_tokens``, ``num_layers``, ``num_heads``, ``hidden_size``, ``vocab_size``,
``max_position_embeddings`` the same way (``quant_mode`` 0 is ``none``; a non-zero bit mask is kept as written).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftguard.engines.tensorrt_llm import QUANT_SCHEMES
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.extractors.runtime_common import Document, keep_unread, load_document, require_mapping, sniff
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype

INFO = KindInfo(
    kind="tensorrt-llm-engine",
    description="TensorRT-LLM engine config.json written by trtllm-build (build limits, dtype, quantization, TP)",
    role="deployment",
    rank=55,
    namespaces=("model", "precision", "serving", "batching"),
    keeps=("tensorrt_llm",),
)

NAMESPACE = "tensorrt_llm.engine"
#: builder_config members that only a TensorRT-LLM engine's old layout has together with plugin_config.
_OLD_MARKERS = ("tensor_parallel", "precision", "max_input_len", "max_batch_size")

#: build_config member -> canonical key (new layout).
_BUILD = {"max_seq_len": "serving.max_model_len", "max_input_len": "serving.max_input_length",
          "max_batch_size": "batching.max_batch_size", "max_num_tokens": "serving.max_num_tokens"}
#: pretrained_config member -> canonical key (new layout).
_MODEL = {"vocab_size": "model.vocab_size", "hidden_size": "model.hidden_size",
          "num_hidden_layers": "model.num_layers", "num_attention_heads": "model.num_attention_heads",
          "max_position_embeddings": "model.max_position_embeddings", "num_medusa_heads": "model.speculative.num_heads"}
#: builder_config member -> canonical key (old layout).
_OLD = {"max_input_len": "serving.max_input_length", "max_batch_size": "batching.max_batch_size",
        "max_num_tokens": "serving.max_num_tokens", "tensor_parallel": "serving.tensor_parallel_size",
        "vocab_size": "model.vocab_size", "hidden_size": "model.hidden_size", "num_layers": "model.num_layers",
        "num_heads": "model.num_attention_heads", "max_position_embeddings": "model.max_position_embeddings"}
#: Weight element type by QuantAlgo name prefix (the W<bits>A<bits> naming of tensorrt_llm/quantization/mode.py).
_WEIGHT_PREFIXES = (("W4A", "int4"), ("W8A", "int8"), ("FP8", "float8_e4m3fn"), ("NVFP4", "float4_e2m1fn"))


def detect(path: Path, head: bytes) -> bool:
    """A JSON object with ``pretrained_config`` and ``build_config`` objects, or (before 0.8)
    ``builder_config`` and ``plugin_config`` objects whose ``builder_config`` holds a TensorRT-LLM build field."""
    return _layout(sniff(path, head, (".json",))) is not None


def _layout(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("pretrained_config"), dict) and isinstance(data.get("build_config"), dict):
        return "new"
    builder = data.get("builder_config")
    if isinstance(builder, dict) and isinstance(data.get("plugin_config"), dict) and \
            any(m in builder for m in _OLD_MARKERS):
        return "old"
    return None


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The build-time limits and precision of one TensorRT-LLM engine."""
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "a TensorRT-LLM engine config.json")
    layout = _layout(data)
    if layout is None:
        raise ExtractionError("not a TensorRT-LLM engine config: it needs 'pretrained_config' and 'build_config' "
                              "objects (or, before 0.8, 'builder_config' and 'plugin_config')", str(path),
                              doc.line("") or 1)
    r = _Reader(doc, ValueBuilder(INFO.kind, path))
    if layout == "new":
        r.new(data)
    else:
        r.old(data)
    r.keep(data, "")
    return r.b.build()


class _Reader:
    def __init__(self, doc: Document, b: ValueBuilder) -> None:
        self.doc = doc
        self.b = b
        self.used: set[str] = set()

    def new(self, data: dict[str, Any]) -> None:
        build, pretrained = data["build_config"], data["pretrained_config"]
        self.ints(build, "/build_config", _BUILD)
        if "max_seq_len" not in build or build["max_seq_len"] is None:
            self.sequence(build, "/build_config")
        self.ints(pretrained, "/pretrained_config", _MODEL)
        if pretrained.get("architecture") is not None:
            self.put("model.architecture", self.text("/pretrained_config/architecture", pretrained["architecture"]),
                     "/pretrained_config/architecture")
        mapping = pretrained.get("mapping")
        if isinstance(mapping, dict):
            for name in ("tp_size", "world_size"):
                if mapping.get(name) is not None:
                    ptr = f"/pretrained_config/mapping/{name}"
                    self.put("serving.tensor_parallel_size", self.integer(ptr, mapping[name]), ptr,
                             None if name == "tp_size" else "mapping.world_size (no tp_size)")
                    break
        quant = pretrained.get("quantization")
        algo_ptr = "/pretrained_config/quantization/quant_algo"
        algo = quant.get("quant_algo") if isinstance(quant, dict) else None
        if quant is not None and not isinstance(quant, dict):
            raise self.error("/pretrained_config/quantization", "must be an object (QuantConfig)")
        self.precision(pretrained, "/pretrained_config/dtype", algo, algo_ptr if isinstance(quant, dict) and
                       "quant_algo" in quant else None)

    def old(self, data: dict[str, Any]) -> None:
        builder = data["builder_config"]
        self.ints(builder, "/builder_config", _OLD)
        self.sequence(builder, "/builder_config")
        if builder.get("precision") is not None:
            self.dtype("/builder_config/precision", builder["precision"], None)
        if builder.get("quant_mode") == 0:
            self.put("precision.quantization", "none", "/builder_config/quant_mode", "quant_mode 0: no quantization")

    def sequence(self, build: Mapping[str, Any], base: str) -> None:
        """0.9-0.10 engines: the longest sequence is max_input_len + max_output_len (no max_seq_len written)."""
        if build.get("max_output_len") is None or build.get("max_input_len") is None:
            return
        out = self.integer(f"{base}/max_output_len", build["max_output_len"])
        anchor = self.b.values.get("serving.max_input_length")
        self.b.derive("serving.max_model_len", anchor.value + out if anchor else out, anchor,
                      "max_input_len + max_output_len: the runtime's longest sequence for an engine without "
                      "max_seq_len", ("serving.max_input_length",), explicit=True)

    def precision(self, pretrained: Mapping[str, Any], ptr: str, algo: Any, algo_ptr: str | None) -> None:
        name = None
        if algo is not None:
            if not isinstance(algo, str) or not algo.strip():
                raise self.error(algo_ptr or ptr, f"quant_algo must be a QuantAlgo name, got {algo!r}")
            name = algo.strip().upper()
        if algo_ptr is not None:
            scheme = QUANT_SCHEMES.get(name or "NO_QUANT", (name or "").lower())
            self.put("precision.quantization", scheme, algo_ptr,
                     f"TensorRT-LLM quant_algo {name}" if name else "quant_algo null: no weight quantization")
        if pretrained.get("dtype") is not None:
            self.dtype(ptr, pretrained["dtype"], name)

    def dtype(self, ptr: str, raw: Any, algo: str | None) -> None:
        """The engine's dtype is what it computes in; the weights are in it too unless quant_algo says other."""
        dtype = normalize_dtype(raw) if isinstance(raw, str) else None
        if dtype is None:
            raise self.error(ptr, f"not a dtype: {raw!r}")
        self.put("precision.compute", dtype, ptr)
        if algo is None or algo == "NO_QUANT":
            self.put("precision.weights", dtype, ptr, "unquantized: the weights are in the engine's dtype")
            return
        weights = next((w for prefix, w in _WEIGHT_PREFIXES if algo.startswith(prefix)), None)
        if weights is None and "MXFP4" in algo:
            weights = "float4_e2m1fn"
        if weights is not None:
            self.b.derive("precision.weights", weights, self.b.values["precision.quantization"],
                          f"quant_algo {algo} stores the weights as {weights}", ("precision.quantization",),
                          explicit=True)

    def ints(self, data: Mapping[str, Any], base: str, table: Mapping[str, str]) -> None:
        for name, key in table.items():
            if data.get(name) is not None:
                ptr = f"{base}/{name}"
                self.put(key, self.integer(ptr, data[name]), ptr)

    def integer(self, ptr: str, raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise self.error(ptr, f"expected a non-negative integer, got {_shown(raw)}")
        return raw

    def text(self, ptr: str, raw: Any) -> str:
        if not isinstance(raw, str):
            raise self.error(ptr, f"expected a string, got {_shown(raw)}")
        return raw

    def error(self, ptr: str, message: str) -> ExtractionError:
        return ExtractionError(f"{ptr.lstrip('/').replace('/', '.')}: {message}", str(self.doc.path),
                               self.doc.line(ptr))

    def put(self, key: str, value: Any, ptr: str, note: str | None = None) -> None:
        self.b.set(key, value, self.doc.line(ptr), ptr, note=note)
        self.used.add(ptr)

    def keep(self, data: Mapping[str, Any], pointer: str) -> None:
        """Every member not read into a key, as ``tensorrt_llm.engine.<path>`` (arrays kept whole)."""
        keep_unread(self.b, self.doc, NAMESPACE, data, pointer, self.used)


def _shown(raw: Any) -> str:
    text = "null" if raw is None else repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."
