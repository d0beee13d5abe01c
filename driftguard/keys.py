"""The canonical vocabulary: every key driftguard compares, its type, unit, meaning and defaults.

Keys are dotted and lower-case. A key pattern may hold ``{name}`` for a tensor or parameter name
(``io.inputs.{name}.dtype``); names may themselves contain dots, so patterns are matched as regexes.
Keys that a format has and this vocabulary lacks live under the format's namespace (``triton.*``, ``hf.*``,
``onnx.*``, ``vllm.*``...: each kind declares its own, ``extractors.KindInfo.keeps``), which needs no entry
here, unless it must not be compared (``compared=False``: the chat template's text, whose digest
``preprocessing.chat_template`` is compared instead).

Documented defaults (the value a format or engine applies to an unset key, as a ``Default`` citing its row of
docs/defaults.md) live with what documents them: an engine's in its ``engines`` module, a file format's in its
extractor, each kind's declared as ``KindInfo.defaults``. This module imports nothing from driftguard.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class KeySpec:
    """One key of the vocabulary.

    ``type``: ``float``, ``int``, ``bool``, ``str``, ``dtype``, ``shape``, ``list``, ``json``.
    ``unordered``: the value is a list whose order carries no meaning (compare as a multiset).
    """

    pattern: str
    type: str
    meaning: str
    unit: str | None = None
    unordered: bool = False
    #: False for bookkeeping keys that differ between formats by construction (an ONNX export adds scale and
    #: zero-point initializers, a checkpoint counts buffers): shown by extract, not compared by drift rules.
    compared: bool = True


@dataclass(frozen=True)
class Default:
    """A documented default: the value and the reference row it was read from."""

    value: Any
    source: str


_SPECS: tuple[KeySpec, ...] = (
    # model.*
    KeySpec("model.architecture", "str", "model class (HF `architectures[0]`, Lightning module class)"),
    KeySpec("model.type", "str", "model family (HF `model_type`)"),
    KeySpec("model.num_labels", "int", "number of output classes"),
    KeySpec("model.vocab_size", "int", "vocabulary size of the embedding"),
    KeySpec("model.hidden_size", "int", "width of the hidden layers"),
    KeySpec("model.num_layers", "int", "number of transformer layers / blocks"),
    KeySpec("model.num_attention_heads", "int", "attention heads per layer"),
    KeySpec("model.max_position_embeddings", "int", "longest sequence the position embeddings cover",
            unit="tokens"),
    KeySpec("model.weights.fingerprint", "str", "fingerprint of the float weights"),
    # What a server loads and what was trained on (launch commands, manifests, framework configs).
    KeySpec("model.source", "str", "the model a server loads or a run fine-tunes: a local path or a hub id, as"
            " written (a hub id is not a local folder); compared only as identity, not as a value", compared=False),
    KeySpec("model.revision", "str", "hub revision (branch, tag or commit) of model.source"),
    KeySpec("model.adapters", "list", "adapters applied on the base model (LoRA names or paths), as written",
            unordered=True),
    KeySpec("model.adapter_type", "str", "kind of adapter trained or served: lora, qlora, none, ..."),
    KeySpec("model.speculative.num_heads", "int", "speculative decoding heads (Medusa heads, draft tokens)"),
    KeySpec("model.speculative.model", "str", "the draft model or speculative heads a server loads (vLLM"
            " speculative_config model), a local path or a hub id as written; identity, not compared as a value",
            compared=False),
    KeySpec("model.base", "str", "the base checkpoint an adapter or speculative heads were trained on (PEFT"
            " base_model_name_or_path, Medusa's), as written; related to the served model.source by DG107",
            compared=False),
    KeySpec("model.weights.count", "int", "number of weight tensors", compared=False),
    KeySpec("model.weights.parameters", "int", "number of scalar parameters", compared=False),
    # precision.*
    KeySpec("precision.weights", "dtype", "element type most weights are stored in"),
    KeySpec("precision.compute", "dtype", "element type the engine computes in (TensorRT precision_mode,"
            " vLLM dtype, Lightning precision)"),
    KeySpec("precision.quantization", "str", "quantization scheme: none, dynamic, qdq, qlinear, gptq, awq, ..."),
    # io.*
    KeySpec("io.inputs.{name}.dtype", "dtype", "element type of an input tensor"),
    KeySpec("io.inputs.{name}.shape", "shape", "full shape of an input, batch dimension included, -1 dynamic"),
    KeySpec("io.outputs.{name}.dtype", "dtype", "element type of an output tensor"),
    KeySpec("io.outputs.{name}.shape", "shape", "full shape of an output, batch dimension included, -1 dynamic"),
    KeySpec("io.inputs", "list", "names of the model's inputs", unordered=True),
    KeySpec("io.outputs", "list", "names of the model's outputs", unordered=True),
    # batching.*
    KeySpec("batching.max_batch_size", "int", "largest batch the server forms (0: no batching dimension)"),
    KeySpec("batching.dynamic", "bool", "dynamic batching enabled"),
    KeySpec("batching.max_queue_delay_us", "int", "longest a request waits to be batched", unit="us"),
    KeySpec("batching.preferred_batch_sizes", "list", "batch sizes the batcher aims for", unordered=True),
    KeySpec("batching.preserve_ordering", "bool", "responses returned in request order"),
    KeySpec("batching.sequence", "bool", "sequence (stateful) batching enabled"),
    KeySpec("batching.max_sequence_idle_us", "int", "idle time before a sequence is released", unit="us"),
    # serving.*
    KeySpec("serving.backend", "str", "serving backend (onnxruntime, tensorrt, pytorch, python, vllm, ...)"),
    KeySpec("serving.instance_count", "int", "model instances per device group, summed"),
    KeySpec("serving.device_kind", "str", "where instances run: gpu, cpu, model, auto"),
    KeySpec("serving.gpus", "list", "GPU ids instances are placed on", unordered=True),
    KeySpec("serving.accelerators", "list", "execution accelerators (tensorrt, openvino, ...)", unordered=True),
    KeySpec("serving.decoupled", "bool", "decoupled (streaming) transaction policy"),
    KeySpec("serving.max_model_len", "int", "longest context the engine accepts", unit="tokens"),
    KeySpec("serving.max_input_length", "int", "longest prompt the server accepts (TGI max_input_tokens, TensorRT-LLM"
            " max_input_len)", unit="tokens"),
    KeySpec("serving.max_num_tokens", "int", "most tokens the engine batches in one step (vLLM"
            " max_num_batched_tokens, TensorRT-LLM max_num_tokens)", unit="tokens"),
    KeySpec("serving.tensor_parallel_size", "int", "GPUs one model instance is split over (tensor parallelism)"),
    KeySpec("serving.strict_model_config", "bool", "Triton refuses to auto-complete a model config"
            " (--strict-model-config / --disable-auto-complete-config)"),
    # preprocessing.*
    KeySpec("preprocessing.max_length", "int", "length inputs are truncated to", unit="tokens"),
    KeySpec("preprocessing.truncation_side", "str", "which side truncation cuts: right or left"),
    KeySpec("preprocessing.padding_side", "str", "which side padding goes: right or left"),
    KeySpec("preprocessing.do_lower_case", "bool", "inputs lower-cased before tokenization"),
    KeySpec("preprocessing.tokenizer_class", "str", "tokenizer class"),
    KeySpec("preprocessing.add_bos_token", "bool", "tokenizer prepends BOS"),
    KeySpec("preprocessing.add_eos_token", "bool", "tokenizer appends EOS"),
    KeySpec("preprocessing.model_input_names", "list", "tensors the tokenizer produces", unordered=True),
    KeySpec("preprocessing.chat_template_applied", "bool", "the model's input is built by a chat template (messages"
            " sent to a chat endpoint, a fine-tune's chat-formatted data) rather than taken as raw text (a"
            " completions or /generate endpoint)"),
    KeySpec("preprocessing.chat_template_name", "str", "a framework's named prompt template (LLaMA-Factory"
            " `template`, axolotl `chat_template`), when no template text is at hand"),
    # Image preprocessing (Hugging Face preprocessor_config.json, framework configs).
    KeySpec("preprocessing.image.do_resize", "bool", "images resized before the model"),
    KeySpec("preprocessing.image.size", "json", "target size of the resize (HF `size`: shortest_edge, or"
            " height and width)"),
    KeySpec("preprocessing.image.resample", "str", "resampling filter of the resize (bilinear, bicubic, ...)"),
    KeySpec("preprocessing.image.do_center_crop", "bool", "images center-cropped"),
    KeySpec("preprocessing.image.crop_size", "json", "size of the center crop"),
    KeySpec("preprocessing.image.do_rescale", "bool", "pixel values rescaled"),
    KeySpec("preprocessing.image.rescale_factor", "float", "factor pixel values are multiplied by"),
    KeySpec("preprocessing.image.do_normalize", "bool", "pixel values normalized by mean and std"),
    KeySpec("preprocessing.image.mean", "list", "per-channel mean subtracted"),
    KeySpec("preprocessing.image.std", "list", "per-channel standard deviation divided by"),
    KeySpec("preprocessing.image.do_convert_rgb", "bool", "images converted to RGB"),
    KeySpec("preprocessing.chat_template", "str", "the chat template that turns messages into the prompt, as"
            " 'sha256:' + the first 16 hex digits of the SHA-256 of its exact text (unset: the tokenizer's own)"),
    # The template's text itself, kept for reading (extract, diff) beside the digest above, which carries the
    # comparison: one finding per changed template, not a second one quoting both texts.
    KeySpec("hf.tokenizer.chat_template", "json", "the tokenizer's chat template text (or named templates)",
            compared=False),
    # The text of the template a side applies, wherever its digest came from (tokenizer or engine): DG101 reads
    # it to show the first line where two templates differ.
    KeySpec("preprocessing.chat_template_text", "str", "the applied chat template's text (read beside the "
            "digest; not compared)", compared=False),
    # generation.*
    KeySpec("generation.do_sample", "bool", "sample (true) or decode greedily / by beam search (false)"),
    KeySpec("generation.decoding", "str", "decoding mode derived per side from do_sample and num_beams, each"
            " engine's rule applied: greedy, sample or beam"),
    KeySpec("generation.temperature", "float", "softmax temperature"),
    KeySpec("generation.top_p", "float", "nucleus sampling mass (1.0: off)"),
    KeySpec("generation.top_k", "int", "top-k sampling (0: off; -1 in older vLLM is normalized to 0)"),
    KeySpec("generation.min_p", "float", "min-p sampling threshold (0: off)"),
    KeySpec("generation.typical_p", "float", "typical sampling mass (1.0: off)"),
    KeySpec("generation.max_new_tokens", "int", "most tokens generated", unit="tokens"),
    KeySpec("generation.max_length", "int", "most tokens in prompt plus generation", unit="tokens"),
    KeySpec("generation.min_length", "int", "fewest tokens in prompt plus generation", unit="tokens"),
    KeySpec("generation.min_new_tokens", "int", "fewest tokens generated", unit="tokens"),
    KeySpec("generation.num_beams", "int", "beam width (1: no beam search)"),
    KeySpec("generation.repetition_penalty", "float", "multiplicative repetition penalty (1.0: off)"),
    KeySpec("generation.presence_penalty", "float", "additive presence penalty (0: off)"),
    KeySpec("generation.frequency_penalty", "float", "additive frequency penalty (0: off)"),
    KeySpec("generation.length_penalty", "float", "beam-search length penalty"),
    KeySpec("generation.no_repeat_ngram_size", "int", "n-gram size that may not repeat (0: off)"),
    KeySpec("generation.early_stopping", "json", "beam-search stopping rule (true, false, 'never')"),
    KeySpec("generation.num_return_sequences", "int", "sequences returned per prompt"),
    KeySpec("generation.seed", "int", "random seed (null: random)"),
    KeySpec("generation.eos_token_id", "list", "token ids that end generation", unordered=True),
    KeySpec("generation.bos_token_id", "int", "beginning-of-sequence token id"),
    KeySpec("generation.pad_token_id", "int", "padding token id"),
    KeySpec("generation.decoder_start_token_id", "int", "first decoder token (encoder-decoder models)"),
    KeySpec("generation.stop", "list", "stop strings", unordered=True),
    KeySpec("generation.use_cache", "bool", "KV cache used during generation"),
)


def chat_template_digest(text: str) -> str:
    """The value of ``preprocessing.chat_template``: ``sha256:`` and the first 16 hex digits of the SHA-256 of
    the template's exact UTF-8 text (one changed character is a different prompt; a lone surrogate, which JSON
    escapes can spell, is hashed as its code point)."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(pattern).replace(re.escape("{name}"), "(?P<name>.+)") + "$")


_EXACT: dict[str, KeySpec] = {s.pattern: s for s in _SPECS if "{name}" not in s.pattern}
_PATTERNS: tuple[tuple[re.Pattern[str], KeySpec], ...] = tuple(
    (_compile(s.pattern), s) for s in _SPECS if "{name}" in s.pattern
)

@lru_cache(maxsize=65536)
def spec_for(key: str) -> KeySpec | None:
    """The spec of a canonical key (patterns resolved), or None for namespaced and unknown keys."""
    spec = _EXACT.get(key)
    if spec is not None:
        return spec
    for rx, s in _PATTERNS:
        if rx.match(key):
            return s
    return None


def patterns() -> list[str]:
    """Every key of the vocabulary as written in its spec (``io.inputs.{name}.shape``), for messages and for
    checking that a user's glob can name a key."""
    return [s.pattern for s in _SPECS]


def is_canonical(key: str) -> bool:
    """True for keys of the vocabulary, False for format-namespaced ones."""
    return spec_for(key) is not None
