"""Hugging Face TGI's router (``/generate``): request ``parameters`` validated as the router does (TGI-VAL),
defaults from the router (defaults.md §3; it reads no sampling defaults from generation_config.json), and the
launcher's ``--dtype`` / ``--quantize`` values."""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.spec import Decision, Endpoint, EngineSpec, Field, Layer, between, gt
from driftguard.keys import Default
from driftguard.model import EffectiveConfig, How, Json, Value

#: GenerateParameters' defaults: the bottom layer ("tgi default" in Origin.source).
_TGI = "defaults.md §3 TGI GenerateParameters (TGI-LIB, TGI-VAL)"
TGI_DEFAULTS: dict[str, Default] = {
    "generation.temperature": Default(1.0, _TGI + " temperature"),
    "generation.top_k": Default(0, _TGI + " top_k"),
    "generation.top_p": Default(1.0, _TGI + " top_p"),
    "generation.typical_p": Default(1.0, _TGI + " typical_p"),
    "generation.repetition_penalty": Default(1.0, _TGI + " repetition_penalty"),
    "generation.frequency_penalty": Default(0.0, _TGI + " frequency_penalty"),
    "generation.num_return_sequences": Default(1, _TGI + " best_of"),
    "generation.seed": Default(None, _TGI + " seed (None: random)"),
    "generation.stop": Default([], _TGI + " stop"),
}


#: ``parameters`` field -> Field, ranges from the router's ``validate`` (TGI-VAL).
FIELDS: dict[str, Field] = {
    "temperature": Field("generation.temperature", range=gt(0.0)),
    "top_k": Field("generation.top_k", "int", gt(0.0)),
    "top_p": Field("generation.top_p", range=between(0.0, 1.0, low_open=True, high_open=True)),
    "typical_p": Field("generation.typical_p", range=between(0.0, 1.0, low_open=True, high_open=True)),
    "repetition_penalty": Field("generation.repetition_penalty", range=gt(0.0)),
    "frequency_penalty": Field("generation.frequency_penalty", range=between(-2.0, 2.0)),
    "do_sample": Field("generation.do_sample", "bool"),
    "max_new_tokens": Field("generation.max_new_tokens", "int", gt(0.0)),
    "seed": Field("generation.seed", "int"),
    "best_of": Field("generation.num_return_sequences", "int", gt(0.0)),
    "stop": Field("generation.stop", "strs"),
    "truncate": Field("preprocessing.max_length", "int"),
}

#: The launcher's ``--dtype`` values (``Dtype`` value enum of text-generation-launcher).
LAUNCHER_DTYPES = ("float16", "bfloat16")
#: The launcher's ``--quantize`` values (``Quantization`` value enum of text-generation-launcher).
LAUNCHER_QUANTIZE = ("awq", "compressed-tensors", "eetq", "exl2", "gptq", "marlin", "bitsandbytes",
                     "bitsandbytes-nf4", "bitsandbytes-fp4", "fp8")
#: Launcher arguments that also state a canonical key of what is served (arg -> (key, type)), each kept under
#: ``tgi.launcher.<name>`` as well (huggingface/text-generation-inference launcher/src/main.rs ``Args``):
#: ``model_id`` and ``revision``; ``max_input_tokens`` (``max_input_length`` is its older name) the longest prompt;
#: ``max_total_tokens`` prompt plus generation, the served context; ``max_batch_size``; ``num_shard`` the GPUs one
#: model is sharded over; ``lora_adapters`` (comma-separated ``id`` or ``id=path``).
LAUNCHER_ALSO: dict[str, tuple[str, str]] = {
    "model_id": ("model.source", "str"),
    "revision": ("model.revision", "str"),
    "max_input_tokens": ("serving.max_input_length", "int"),
    "max_input_length": ("serving.max_input_length", "int"),
    "max_total_tokens": ("serving.max_model_len", "int"),
    "max_batch_size": ("batching.max_batch_size", "int"),
    "num_shard": ("serving.tensor_parallel_size", "int"),
    "lora_adapters": ("model.adapters", "list"),
}


def _warper_on(name: str, x: float) -> bool:
    """TGI-TOK NextTokenChooser ``has_warpers``: temperature != 1, top_k != 0, top_p < 1, typical_p < 1."""
    if name == "temperature":
        return x != 1.0
    if name == "top_k":
        return x != 0
    return x < 1.0


_WARPERS = ("temperature", "top_k", "top_p", "typical_p")


def decoding(values: Mapping[str, Value]) -> Decision | None:
    """``sampling = do_sample or has_warpers`` (TGI-TOK NextTokenChooser)."""
    ds = values.get("generation.do_sample")
    on = [name for name in _WARPERS
          if (v := values.get(f"generation.{name}")) is not None and isinstance(v.value, (int, float))
          and _warper_on(name, v.value)]
    if ds is not None and ds.value is True:
        return None  # the request (or the missing ``parameters``) says so itself
    if on:
        return Decision(True, f"generation.{on[0]}",
                        f"TGI samples when a warper is set ({', '.join(on)}), even with do_sample false "
                        "(defaults.md §3)", tuple(f"generation.{w}" for w in on))
    if ds is None:
        return Decision(False, "generation.temperature",
                        "TGI do_sample defaults to false and no warper is set (defaults.md §3)",
                        ("generation.temperature",))
    return None


#: TGI ``get_model``: these quantizers force float16 when ``--dtype`` is unset; fp8 (fbgemm) picks bfloat16.
FP16_QUANT = ("awq", "exl2", "gptq", "marlin")


def dtype_unset(artifact: EffectiveConfig) -> tuple[bool, Value | None]:
    """Launcher args without ``--dtype`` compute in float16 (the server's default for its flash models, and
    what awq/gptq/exl2/marlin force); fp8 and the bitsandbytes family pick their own (unknown here). Applies
    to launcher args only (a request body says nothing about the dtype)."""
    anchor = artifact.get("tgi.launcher.model_id")
    if anchor is None:
        return False, None
    quant = artifact.get("precision.quantization")
    if quant is not None and quant.value not in FP16_QUANT:
        return True, None
    return True, Value("float16", anchor.origin, How.DERIVED,
                       "TGI without --dtype: float16 (server get_model/FlashCausalLM default_dtype on CUDA; "
                       "awq/gptq/exl2/marlin force float16)", None, ("precision.quantization",), How.DEFAULT)


#: GenerateParameters fields without a canonical key (kept under ``tgi.parameters.*``): with ``FIELDS``, every
#: property of the ``GenerateParameters`` schema of TGI's OpenAPI document
#: (huggingface/text-generation-inference@db931fcf42da docs/openapi.json, a copy in tests/corpus/runtime/).
#: The router derives ``Deserialize`` without ``deny_unknown_fields`` (router/src/lib.rs), so serde drops any
#: other member: a ``max_tokens`` there (OpenAI's spelling of ``max_new_tokens``) is silently ignored.
PARAMETER_FIELDS = frozenset(("adapter_id", "decoder_input_details", "details", "grammar", "return_full_text",
                              "top_n_tokens", "watermark"))
#: The members of a ``/generate`` body (``GenerateRequest``; ``stream`` from ``CompatGenerateRequest``).
REQUEST_FIELDS = frozenset(("inputs", "parameters", "stream"))

#: ``parameters`` members without a canonical key that change the output, with the value that changes nothing
#: (None: unset, null or empty), kept as ``tgi.parameters.<name>``: a grammar the reply must follow, a watermark
#: biasing the tokens, a LoRA adapter loaded for the request, the prompt returned with the text
#: (huggingface/text-generation-inference@db931fcf42da router/src/lib.rs GenerateParameters). DG108 judges them.
OUTPUT_FIELDS: dict[str, Json] = {
    "parameters.grammar": None, "parameters.watermark": False, "parameters.adapter_id": None,
    "parameters.return_full_text": False,
}

ROUTER = EngineSpec(
    name="tgi", engine="tgi", label="TGI", namespace="tgi", fields=FIELDS,
    other_fields=PARAMETER_FIELDS, ignored_why="not a TGI parameter (TGI's router drops it)",
    rejects="TGI rejects it", layers=(Layer("tgi", TGI_DEFAULTS),), decoding=decoding,
    dtypes=LAUNCHER_DTYPES, dtype_unset=dtype_unset, quantizations=LAUNCHER_QUANTIZE, truncation_side="left",
    endpoints=(Endpoint("/generate", "inputs", False,
                        "TGI's /generate tokenizes inputs as given; only /v1/chat/completions applies the chat "
                        "template (huggingface/text-generation-inference@db931fcf42da router/src/server.rs "
                        "generate vs chat_completions, router/src/lib.rs apply_chat_template)"),),
    output_fields=OUTPUT_FIELDS,
    generation_config_eos="TGI's server makes a list eos_token_id of generation_config.json the tokenizer's eos ids "
                          "(huggingface/text-generation-inference@db931fcf42da server/text_generation_server/models/"
                          "flash_causal_lm.py FlashCausalLM.__init__: tokenizer._eos_token_ids)",
    truncation_why="TGI truncate keeps the last n input tokens: left truncation (defaults.md §3 truncate; TGI "
                   "router validation truncates with TruncationDirection::Left)",
)

#: The engine as ``engines.ENGINES`` loads it: its serving paths, and the extractor of its request kind (a module
#: path: engines never import extractors).
SPECS: tuple[EngineSpec, ...] = (ROUTER,)
EXTRACTOR: str | None = "driftguard.extractors.tgi"
