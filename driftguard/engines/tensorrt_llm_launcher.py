"""TensorRT-LLM's command lines as data: ``trtllm-build``, ``trtllm-serve`` and the examples'
``convert_checkpoint.py``.

A TensorRT-LLM deployment is often a chain in one script: ``convert_checkpoint.py`` turns a Hugging Face model
into a TensorRT-LLM checkpoint (its dtype, tensor parallelism and quantization), ``trtllm-build`` compiles that
into an engine (its limits: batch size, input and sequence lengths, tokens per step, LoRA, speculative
decoding), and ``trtllm-serve`` (or Triton's tensorrtllm_backend) serves it. The first two are build tools
(``serving`` None): what they fix is part of the deployment's effective config as much as the server's flags.

Read from:

- ``NVIDIA/TensorRT-LLM@65f1d1536e18 tensorrt_llm/commands/build.py parse_arguments`` (argparse; options are spelled
  with underscores only, or as a unique prefix) and ``NVIDIA/TensorRT-LLM@c20322ffd3dc tensorrt_llm/plugin/plugin.py
  add_plugin_argument`` (the ``cli_plugin_args`` options: each takes a value, a dtype, ``enable``/``disable`` or a
  number). The limits' defaults are ``BuildConfig``'s (``tensorrt_llm/builder.py@008b2b8d23af``); ``max_seq_len``
  has none: it is deduced from the model's config (``_init_max_seq_len``).
- ``NVIDIA/TensorRT-LLM@4c05a74891e4 tensorrt_llm/commands/serve.py serve`` (click: ``trtllm-serve MODEL`` or
  ``trtllm-serve serve MODEL``, the group's default command; options with underscores; flags without a value).
  Both programs are also run as ``python -m tensorrt_llm.commands.build`` / ``.serve``.
- ``NVIDIA/TensorRT-LLM@fd96a08bdc48 examples/models/core/llama/convert_checkpoint.py parse_arguments``,
  ``args_to_quant_config`` (each model family's script has its own options; the Llama one, which most
  families' scripts copy, is the table here, with the Medusa script's own options added,
  ``@b93e14ca093e examples/medusa/convert_checkpoint.py``: another family's own option is reported as unknown).

What ``trtllm-build --max_draft_len`` means: the most draft tokens the engine verifies per step (for Medusa,
the size of the draft-token tree, ``max_medusa_token_len``, not the number of Medusa heads), so it is kept as
``tensorrt_llm.build.max_draft_len`` and sets no ``model.speculative.num_heads``. The heads are the Medusa
conversion's ``--num_medusa_heads`` (written to the checkpoint's ``num_medusa_heads``; 4 when unset).

Each tool keeps the options without a canonical key under its own namespace (``tensorrt_llm.convert_checkpoint``,
``tensorrt_llm.build``, ``tensorrt_llm.serve``): ``--output_dir`` of the conversion and of the build are
different directories, not one setting stated twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.launcher import Action, ArgType, Derived, Flag, Invocation, Launcher
from driftguard.engines.tensorrt_llm import QUANT_SCHEMES
from driftguard.keys import Default
from driftguard.model import Json

_BUILD = "NVIDIA/TensorRT-LLM@65f1d1536e18 tensorrt_llm/commands/build.py"
_PLUGINS = "NVIDIA/TensorRT-LLM@c20322ffd3dc tensorrt_llm/plugin/plugin.py"
_BUILDER = "NVIDIA/TensorRT-LLM@008b2b8d23af tensorrt_llm/builder.py BuildConfig"
_SERVE = "NVIDIA/TensorRT-LLM@4c05a74891e4 tensorrt_llm/commands/serve.py"
_CONVERT = "NVIDIA/TensorRT-LLM@fd96a08bdc48 examples/models/core/llama/convert_checkpoint.py"

#: ``BuildConfig``'s limits, the defaults of ``trtllm-build`` and of ``trtllm-serve``'s same-named options.
BUILD_DEFAULTS: dict[str, Default] = {
    "batching.max_batch_size": Default(2048, f"{_BUILDER} max_batch_size = 2048"),
    "serving.max_input_length": Default(1024, f"{_BUILDER} max_input_len = 1024"),
    "serving.max_num_tokens": Default(8192, f"{_BUILDER} max_num_tokens = 8192"),
}
SERVE_DEFAULTS: dict[str, Default] = {
    "batching.max_batch_size": Default(2048, f"{_SERVE} --max_batch_size default=BuildConfig.max_batch_size "
                                             f"({_BUILDER} max_batch_size = 2048)"),
    "serving.max_num_tokens": Default(8192, f"{_SERVE} --max_num_tokens default=BuildConfig.max_num_tokens "
                                            f"({_BUILDER} max_num_tokens = 8192)"),
    "serving.tensor_parallel_size": Default(1, f"{_SERVE} --tp_size default=1"),
}
CONVERT_DEFAULTS: dict[str, Default] = {
    "serving.tensor_parallel_size": Default(1, f"{_CONVERT} --tp_size default=1"),
}

_T: Action = "store_true"
_N: Action = "nargs"


def _flag(dest: str, *extra: str, action: Action = "store", type: ArgType = "str", key: str | None = None,
          defaults: Mapping[str, Default] | None = None) -> Flag:
    """An option spelled ``--<dest>`` (TensorRT-LLM keeps the underscores) plus ``extra`` spellings."""
    default = defaults.get(key) if defaults is not None and key is not None else None
    return Flag(dest, (f"--{dest}", *extra), action, type, key=key, default=default)


def _build(dest: str, *extra: str, action: Action = "store", type: ArgType = "str", key: str | None = None) -> Flag:
    return _flag(dest, *extra, action=action, type=type, key=key, defaults=BUILD_DEFAULTS)


#: ``plugin.py cli_plugin_args``: each one ``--<name> VALUE`` (``tokens_per_block`` an int).
_PLUGIN = ("bert_attention_plugin", "gpt_attention_plugin", "gemm_plugin", "gemm_swiglu_plugin",
           "fp8_rowwise_gemm_plugin", "lora_plugin", "dora_plugin", "moe_plugin", "mamba_conv1d_plugin",
           "nccl_plugin", "low_latency_gemm_plugin", "low_latency_gemm_swiglu_plugin", "gemm_allreduce_plugin",
           "context_fmha", "bert_context_fmha_fp32_acc", "remove_input_padding", "tokens_per_block",
           "use_paged_context_fmha", "use_fp8_context_fmha", "fuse_fp4_quant", "multiple_profiles", "paged_state",
           "streamingllm", "norm_quant_fusion", "reduce_fusion", "user_buffer", "use_fused_mlp",
           "pp_reduce_scatter")

#: ``trtllm-build``: build.py parse_arguments, in source order, then the plugin options.
BUILD_FLAGS: tuple[Flag, ...] = (
    _build("checkpoint_dir"), _build("model_config"), _build("build_config"), _build("model_cls_file"),
    _build("model_cls_name"), _build("output_dir"),
    _build("max_batch_size", type="int", key="batching.max_batch_size"),
    _build("max_input_len", type="int", key="serving.max_input_length"),
    _build("max_seq_len", "--max_decoder_seq_len", type="int", key="serving.max_model_len"),
    _build("max_beam_width", type="int"), _build("max_num_tokens", type="int", key="serving.max_num_tokens"),
    _build("opt_num_tokens", type="int"), _build("max_encoder_input_len", type="int"),
    _build("max_prompt_embedding_table_size", "--max_multimodal_len", type="int"), _build("kv_cache_type"),
    _build("paged_kv_cache"), _build("input_timing_cache"), _build("output_timing_cache"),
    _build("profiling_verbosity"), _build("strip_plan", action=_T), _build("weight_sparsity", action=_T),
    _build("weight_streaming", action=_T), _build("fast_build", action=_T), _build("workers", type="int"),
    _build("log_level"), _build("enable_debug_output", action=_T), _build("visualize_network"),
    _build("dry_run", action=_T), _build("monitor_memory", action=_T), _build("logits_dtype"),
    _build("gather_context_logits", action=_T), _build("gather_generation_logits", action=_T),
    _build("gather_all_token_logits", action=_T), _build("lora_dir", action=_N, key="model.adapters"),
    _build("lora_ckpt_source"), _build("lora_target_modules", action=_N), _build("max_lora_rank", type="int"),
    _build("speculative_decoding_mode"), _build("max_draft_len", type="int"),
    *(_build(p, type="int" if p == "tokens_per_block" else "str") for p in _PLUGIN),
)


def _serve(dest: str, action: Action = "store", type: ArgType = "str", key: str | None = None) -> Flag:
    return _flag(dest, action=action, type=type, key=key, defaults=SERVE_DEFAULTS)


#: ``trtllm-serve``: serve.py ``serve``'s click options, in source order; ``model`` is its argument.
SERVE_FLAGS: tuple[Flag, ...] = (
    Flag("model", (), key="model.source"),
    _serve("tokenizer"), _serve("host"), _serve("port", type="int"), _serve("backend"), _serve("log_level"),
    _serve("max_beam_width", type="int"), _serve("max_batch_size", type="int", key="batching.max_batch_size"),
    _serve("max_num_tokens", type="int", key="serving.max_num_tokens"),
    _serve("max_seq_len", type="int", key="serving.max_model_len"),
    _serve("tp_size", type="int", key="serving.tensor_parallel_size"), _serve("pp_size", type="int"),
    _serve("ep_size", type="int"), _serve("cluster_size", type="int"), _serve("gpus_per_node", type="int"),
    _serve("kv_cache_free_gpu_memory_fraction", type="float"), _serve("num_postprocess_workers", type="int"),
    _serve("trust_remote_code", action=_T), _serve("extra_llm_api_options"), _serve("reasoning_parser"),
    _serve("metadata_server_config_file"), _serve("server_role"),
    _serve("fail_fast_on_attention_window_too_large", action=_T), _serve("disagg_cluster_uri"),
    _serve("enable_chunked_prefill", action=_T), _serve("media_io_kwargs"),
)


def _convert(dest: str, *extra: str, action: Action = "store", type: ArgType = "str", key: str | None = None,
             const: str | None = None) -> Flag:
    default = CONVERT_DEFAULTS.get(key) if key is not None else None
    return Flag(dest, (f"--{dest}", *extra), action, type, key=key, default=default, const=const)


#: ``convert_checkpoint.py`` (Llama): parse_arguments, in source order.
CONVERT_FLAGS: tuple[Flag, ...] = (
    _convert("model_dir", key="model.source"), _convert("meta_ckpt_dir"),
    _convert("tp_size", type="int", key="serving.tensor_parallel_size"), _convert("pp_size", type="int"),
    _convert("moe_tp_size", type="int"), _convert("cp_size", type="int"), _convert("moe_ep_size", type="int"),
    Flag("dtype", ("--dtype",), choices=("auto", "float16", "bfloat16", "float32"), key="precision.compute"),
    _convert("vocab_size", type="int"), _convert("n_positions", type="int"), _convert("n_layer", type="int"),
    _convert("n_head", type="int"), _convert("n_kv_head", type="int"), _convert("n_embd", type="int"),
    _convert("inter_size", type="int"), _convert("multiple_of", type="int"),
    _convert("ffn_dim_multiplier", type="float"), _convert("rms_norm_eps", type="float"),
    _convert("use_weight_only", action=_T), _convert("disable_weight_only_quant_plugin", action=_T),
    _convert("weight_only_precision", action="optional", const="int8"), _convert("calib_dataset"),
    _convert("calib_size", type="int"), _convert("calib_max_seq_length", type="int"),
    _convert("smoothquant", "-sq", type="float"), _convert("use_qserve", action=_T),
    _convert("per_channel", action=_T), _convert("per_token", action=_T), _convert("int8_kv_cache", action=_T),
    _convert("fp8_kv_cache", action=_T), _convert("quant_ckpt_path"), _convert("use_fp8", action=_T),
    _convert("use_nvfp4", action=_T), _convert("use_fp8_rowwise", action=_T),
    _convert("use_meta_fp8_rowwise_recipe", action=_T), _convert("per_group", action=_T),
    _convert("load_by_shard", action=_T), _convert("hidden_act"), _convert("rotary_base", type="float"),
    _convert("group_size", type="int"), _convert("load_model_on_cpu", action=_T),
    _convert("use_parallel_embedding", action=_T), _convert("embedding_sharding_dim", type="int"),
    _convert("output_dir"), _convert("workers", type="int"), _convert("moe_num_experts", type="int"),
    _convert("moe_top_k", type="int"), _convert("moe_renorm_mode", type="int"),
    _convert("save_config_only", action=_T), _convert("remove_duplicated_kv_heads", action=_T),
    _convert("log_level"),
    # examples/medusa/convert_checkpoint.py (@b93e14ca093e) adds these to the Llama script's options:
    _convert("num_medusa_heads", type="int", key="model.speculative.num_heads"),
    _convert("num_medusa_layers", type="int"), _convert("max_medusa_token_len", type="int"),
    _convert("medusa_hidden_act"), _convert("medusa_model_dir"), _convert("model_type"),
    _convert("rotary_scaling", action=_N), _convert("storage_type", "--storage-type", "-t"),
    _convert("dataset_cache_dir", "--dataset-cache-dir"), Flag("load_model_on_cpu", ("--load-model-on-cpu",),
                                                              "store_true"),
    _convert("convert_model_on_cpu", "--convert-model-on-cpu", action=_T),
)
#: The Medusa script's options: any of them given means that script, whose --num_medusa_heads defaults to 4.
_MEDUSA = ("medusa_model_dir", "num_medusa_layers", "max_medusa_token_len", "medusa_hidden_act")
_MEDUSA_SOURCE = "NVIDIA/TensorRT-LLM@b93e14ca093e examples/medusa/convert_checkpoint.py"

#: ``precision_to_config``: ``--weight_only_precision`` -> QuantAlgo.
_WEIGHT_ONLY = {"int8": "W8A16", "int4": "W4A16", "int8_gptq": "W8A16_GPTQ", "int4_gptq": "W4A16_GPTQ",
                "int4_awq": "W4A16_AWQ"}

#: ``args_to_quant_config``'s SmoothQuant QuantAlgo by (``--per_channel``, ``--per_token``): per channel alone is
#: ``..._PER_CHANNEL_PER_TENSOR_PLUGIN``, not a plain ``..._PER_CHANNEL_PLUGIN``.
_SMOOTHQUANT = {(True, True): "W8A8_SQ_PER_CHANNEL_PER_TOKEN_PLUGIN",
                (True, False): "W8A8_SQ_PER_CHANNEL_PER_TENSOR_PLUGIN",
                (False, True): "W8A8_SQ_PER_TENSOR_PER_TOKEN_PLUGIN",
                (False, False): "W8A8_SQ_PER_TENSOR_PLUGIN"}


def _quant_algo(args: Mapping[str, Json]) -> tuple[str, tuple[str, ...]] | None:
    """``args_to_quant_config``'s QuantAlgo and the options that chose it, in its order of precedence; None
    when no option quantizes (the Hugging Face model's own ``quantization_config`` may still)."""
    if args.get("use_weight_only") is True:
        precision = args.get("weight_only_precision", "int8")
        algo = _WEIGHT_ONLY.get(precision) if isinstance(precision, str) else None
        return (algo, ("use_weight_only", "weight_only_precision")) if algo else None
    if args.get("use_fp8") is True:
        return "FP8", ("use_fp8",)
    if args.get("use_nvfp4") is True:
        return "NVFP4", ("use_nvfp4",)
    if args.get("smoothquant") not in (None, 0, 0.0):
        algo = _SMOOTHQUANT[(args.get("per_channel") is True, args.get("per_token") is True)]
        return algo, ("smoothquant", "per_channel", "per_token")
    if args.get("use_fp8_rowwise") is True:
        return "FP8_PER_CHANNEL_PER_TOKEN", ("use_fp8_rowwise",)
    if args.get("use_qserve") is True:
        return ("W4A8_QSERVE_PER_GROUP" if args.get("per_group") is True else "W4A8_QSERVE_PER_CHANNEL",
                ("use_qserve", "per_group"))
    return None


def derive_convert(args: Mapping[str, Json]) -> tuple[Derived, ...]:
    """The checkpoint's quantization (``precision.quantization``, the scheme as the tensorrt-llm kind names a
    QuantAlgo: ``W4A16_AWQ`` awq, ``W4A16_GPTQ`` gptq, ``FP8`` fp8, any other lower-cased), and for the Medusa
    script the number of Medusa heads it writes into the checkpoint when ``--num_medusa_heads`` is unset (4)."""
    out: list[Derived] = []
    found = _quant_algo(args)
    if found is not None:
        algo, sources = found
        out.append(Derived("precision.quantization", QUANT_SCHEMES.get(algo, algo.lower()), sources,
                           f"convert_checkpoint.py quantizes with QuantAlgo.{algo} ({_CONVERT} args_to_quant_config)"))
    medusa = tuple(d for d in _MEDUSA if d in args)
    if medusa and "num_medusa_heads" not in args:
        out.append(Derived("model.speculative.num_heads", 4, medusa,
                           f"the Medusa checkpoint's num_medusa_heads: --num_medusa_heads default=4 "
                           f"({_MEDUSA_SOURCE})"))
    return tuple(out)


CONVERT_CHECKPOINT = Launcher(
    name="convert_checkpoint.py",
    invocations=(Invocation(script="convert_checkpoint.py"),),
    flags=CONVERT_FLAGS, source=f"{_CONVERT} parse_arguments, args_to_quant_config",
    namespace="tensorrt_llm.convert_checkpoint",
    engine="tensorrt-llm", derive=derive_convert, builds="output_dir", abbreviations=True,
)
TRTLLM_BUILD = Launcher(
    name="trtllm-build",
    invocations=(Invocation(program="trtllm-build"), Invocation(module="tensorrt_llm.commands.build")),
    flags=BUILD_FLAGS, source=f"{_BUILD} parse_arguments; {_PLUGINS} cli_plugin_args; {_BUILDER}",
    namespace="tensorrt_llm.build", engine="tensorrt-llm", builds="output_dir", abbreviations=True,
)
TRTLLM_SERVE = Launcher(
    name="trtllm-serve",
    invocations=(Invocation(program="trtllm-serve", subcommand=("serve",), positionals=("model",)),
                 Invocation(program="trtllm-serve", positionals=("model",)),
                 Invocation(module="tensorrt_llm.commands.serve", subcommand=("serve",), positionals=("model",)),
                 Invocation(module="tensorrt_llm.commands.serve", positionals=("model",))),
    flags=SERVE_FLAGS, source=f"{_SERVE} serve, DefaultGroup", namespace="tensorrt_llm.serve",
    engine="tensorrt-llm", serving="trtllm-serve",
)

LAUNCHERS: tuple[Launcher, ...] = (CONVERT_CHECKPOINT, TRTLLM_BUILD, TRTLLM_SERVE)
