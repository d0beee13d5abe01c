"""vLLM's launchers as data: ``vllm serve [MODEL]`` and ``python -m vllm.entrypoints.openai.api_server``.

Both parse one argument list (``make_arg_parser``: the OpenAI frontend's flags plus ``AsyncEngineArgs``) with
vLLM's ``FlexibleArgumentParser``, which also accepts each long flag with underscores (``--max_model_len``) and
reads ``--config FILE`` (a YAML of the same arguments; the command line wins over the file). The parsed
arguments are engine args, resolved by the ``vllm`` kind as a ``vllm serve --config`` file is (its
generation_config.json layer, ``dtype: auto``...): the flags here carry no meaning of their own beyond the
canonical key that resolution gives them (``key``, for an argument whose value the file leaves unresolved).

Read from (the flags of every release these span; a flag of a newer release is still known, so a typo is
reported, not a new flag):

- ``vllm-project/vllm@001999d2f360 vllm/engine/arg_utils.py EngineArgs.add_cli_args``,
  ``AsyncEngineArgs.add_cli_args`` (explicit ``add_argument`` calls: types, actions, short options);
- ``vllm-project/vllm@99d7eb5d6a51 vllm/engine/arg_utils.py EngineArgs.add_cli_args`` (flags built from the
  config dataclasses: ``get_kwargs`` makes a ``bool`` field ``BooleanOptionalAction``, so the flags the older
  release declared ``store_true`` take ``--no-<name>`` too; dict fields take JSON, list fields one or more
  values). That copy also declares ``--external_parameters``, which no other version read declares: left out;
- ``vllm-project/vllm@005223338608 vllm/entrypoints/openai/cli_args.py BaseFrontendArgs``, ``FrontendArgs``,
  ``make_arg_parser`` (``model_tag``, ``--config``, ``--headless``, ``-asc``; dataclass fields become
  ``--dashed`` flags, booleans ``BooleanOptionalAction``);
- ``vllm-project/vllm@00a5fdd20935 vllm/entrypoints/cli/serve.py ServeSubcommand`` (a positional
  ``model_tag`` takes precedence over ``--model``).
"""

from __future__ import annotations

from driftguard.engines.launcher import Action, ArgType, Flag, Invocation, Launcher
from driftguard.engines.vllm import ENGINE_ALSO, ENGINE_FIELDS

SOURCE = ("vllm-project/vllm@001999d2f360 vllm/engine/arg_utils.py EngineArgs.add_cli_args; "
          "vllm-project/vllm@99d7eb5d6a51 vllm/engine/arg_utils.py EngineArgs.add_cli_args; "
          "vllm-project/vllm@005223338608 vllm/entrypoints/openai/cli_args.py FrontendArgs, make_arg_parser; "
          "vllm-project/vllm@00a5fdd20935 vllm/entrypoints/cli/serve.py ServeSubcommand")


def _f(dest: str, *short: str, action: Action = "store", type: ArgType = "str",
       choices: tuple[str, ...] = (), const: str | None = None) -> Flag:
    """A vLLM flag: ``--<dest with dashes>`` plus its short options; its key is the one the vllm kind gives
    the engine arg (``engines.vllm.ENGINE_FIELDS``, ``ENGINE_ALSO``: kept as ``vllm.<dest>`` too), else
    ``vllm.<dest>``."""
    also = ENGINE_ALSO.get(dest)
    key = ENGINE_FIELDS.get(dest) or (also[0] if also else f"vllm.{dest}")
    return Flag(dest, (f"--{dest.replace('_', '-')}", *short), action, type, choices, key=key, const=const,
                also=also is not None)


_T: Action = "store_true"
_O: Action = "optional"
_B: Action = "bool_optional"
_A: Action = "append"
_N: Action = "nargs"

#: EngineArgs.add_cli_args + AsyncEngineArgs (arg_utils.py @001999d2f360), in source order.
ENGINE_FLAGS: tuple[Flag, ...] = (
    _f("model"), _f("task"), _f("tokenizer"), _f("skip_tokenizer_init", action=_B), _f("revision"),
    _f("code_revision"), _f("tokenizer_revision"), _f("tokenizer_mode"),
    _f("intial_incremental_detokenization_offset", type="int"), _f("trust_remote_code", action=_B),
    _f("allowed_local_media_path"), _f("download_dir"), _f("load_format"), _f("config_format"),
    _f("dtype", choices=("auto", "half", "float16", "bfloat16", "float", "float32")), _f("kv_cache_dtype"),
    _f("max_model_len", type="int"), _f("guided_decoding_backend"), _f("logits_processor_pattern"),
    _f("model_impl"), _f("distributed_executor_backend"), _f("pipeline_parallel_size", "-pp", type="int"),
    _f("tensor_parallel_size", "-tp", type="int"), _f("max_parallel_loading_workers", type="int"),
    _f("ray_workers_use_nsight", action=_B), _f("block_size", type="int"),
    _f("enable_prefix_caching", action=_B), _f("disable_sliding_window", action=_B),
    _f("use_v2_block_manager", action=_T), _f("num_lookahead_slots", type="int"), _f("seed", type="int"),
    _f("swap_space", type="float"), _f("cpu_offload_gb", type="float"),
    _f("gpu_memory_utilization", type="float"), _f("num_gpu_blocks_override", type="int"),
    _f("max_num_batched_tokens", type="int"), _f("max_num_seqs", type="int"), _f("max_logprobs", type="int"),
    _f("disable_log_stats", action=_T), _f("quantization", "-q"), _f("rope_scaling", type="json"),
    _f("rope_theta", type="float"), _f("hf_overrides", type="json"), _f("enforce_eager", action=_B),
    _f("max_seq_len_to_capture", type="int"), _f("disable_custom_all_reduce", action=_B),
    _f("tokenizer_pool_size", type="int"), _f("tokenizer_pool_type"), _f("tokenizer_pool_extra_config"),
    _f("limit_mm_per_prompt"), _f("mm_processor_kwargs", type="json"),
    _f("disable_mm_preprocessor_cache", action=_T), _f("enable_lora", action=_B),
    _f("enable_lora_bias", action=_T), _f("max_loras", type="int"), _f("max_lora_rank", type="int"),
    _f("lora_extra_vocab_size", type="int"), _f("lora_dtype"), _f("long_lora_scaling_factors"),
    _f("max_cpu_loras", type="int"), _f("fully_sharded_loras", action=_B), _f("enable_prompt_adapter", action=_T),
    _f("max_prompt_adapters", type="int"), _f("max_prompt_adapter_token", type="int"), _f("device"),
    _f("num_scheduler_steps", type="int"),
    _f("multi_step_stream_outputs", action=_O, type="bool", const="True"),
    _f("scheduler_delay_factor", type="float"), _f("enable_chunked_prefill", action=_O, type="bool", const="True"),
    _f("speculative_model"), _f("speculative_model_quantization"), _f("num_speculative_tokens", type="int"),
    _f("speculative_disable_mqa_scorer", action=_T),
    _f("speculative_draft_tensor_parallel_size", "-spec-draft-tp", type="int"),
    _f("speculative_max_model_len", type="int"), _f("speculative_disable_by_batch_size", type="int"),
    _f("ngram_prompt_lookup_max", type="int"), _f("ngram_prompt_lookup_min", type="int"),
    _f("spec_decoding_acceptance_method"), _f("typical_acceptance_sampler_posterior_threshold", type="float"),
    _f("typical_acceptance_sampler_posterior_alpha", type="float"),
    _f("disable_logprobs_during_spec_decoding", action=_O, type="bool", const="True"),
    _f("model_loader_extra_config"), _f("ignore_patterns", action=_A), _f("preemption_mode"),
    _f("served_model_name", action=_N), _f("qlora_adapter_name_or_path"), _f("otlp_traces_endpoint"),
    _f("collect_detailed_traces"), _f("disable_async_output_proc", action=_T), _f("scheduling_policy"),
    _f("override_neuron_config", type="json"), _f("override_pooler_config", type="json"),
    _f("compilation_config", "-O"), _f("kv_transfer_config", type="json"), _f("worker_cls"),
    _f("generation_config"), _f("override_generation_config", type="json"), _f("enable_sleep_mode", action=_B),
    _f("calculate_kv_scales", action=_B), _f("disable_log_requests", action=_T),
)

#: Engine args later releases added (arg_utils.py @99d7eb5d6a51), in source order.
NEWER_ENGINE_FLAGS: tuple[Flag, ...] = (
    _f("runner"), _f("convert"), _f("hf_config_path"), _f("allowed_media_domains", action=_N),
    _f("logprobs_mode"), _f("disable_cascade_attn", action=_B), _f("enable_prompt_embeds", action=_B),
    _f("hf_token", action=_O, const="True"), _f("pooler_config", type="json"), _f("override_attention_dtype"),
    _f("logits_processors", action=_N), _f("io_processor_plugin"), _f("safetensors_load_strategy"),
    _f("use_tqdm_on_load", action=_B), _f("pt_load_map_location"), _f("reasoning_parser"),
    _f("guided_decoding_disable_fallback", type="bool"), _f("guided_decoding_disable_any_whitespace", type="bool"),
    _f("guided_decoding_disable_additional_properties", type="bool"),
    _f("decode_context_parallel_size", "-dcp", type="int"), _f("data_parallel_size", "-dp", type="int"),
    _f("data_parallel_rank", "-dpn", type="int"), _f("data_parallel_start_rank", "-dpr", type="int"),
    _f("data_parallel_size_local", "-dpl", type="int"), _f("data_parallel_address", "-dpa"),
    _f("data_parallel_rpc_port", "-dpp", type="int"), _f("data_parallel_backend", "-dpb"),
    _f("data_parallel_hybrid_lb", action=_B), _f("enable_expert_parallel", action=_B), _f("all2all_backend"),
    _f("enable_dbo", action=_B), _f("dbo_decode_token_threshold", type="int"),
    _f("dbo_prefill_token_threshold", type="int"), _f("disable_nccl_for_dp_synchronization", action=_B),
    _f("enable_eplb", action=_B), _f("eplb_config", type="json"), _f("expert_placement_strategy"),
    _f("num_redundant_experts", type="int"), _f("eplb_window_size", type="int"), _f("eplb_step_interval", type="int"),
    _f("eplb_log_balancedness", action=_B), _f("worker_extension_cls"),
    _f("enable_multimodal_encoder_data_parallel", action=_T), _f("kv_cache_memory_bytes", type="int"),
    _f("prefix_caching_hash_algo"), _f("kv_sharing_fast_prefill", action=_B), _f("mamba_cache_dtype"),
    _f("mamba_ssm_cache_dtype"), _f("mamba_block_size", type="int"), _f("enable_mm_embeds", action=_B),
    _f("media_io_kwargs", type="json"), _f("mm_processor_cache_gb", type="float"), _f("mm_processor_cache_type"),
    _f("mm_shm_cache_max_object_size_mb", type="int"), _f("mm_encoder_tp_mode"), _f("mm_encoder_attn_backend"),
    _f("interleave_mm_strings", action=_B), _f("skip_mm_profiling", action=_B),
    _f("video_pruning_rate", type="float"), _f("default_mm_loras", type="json"),
    _f("show_hidden_metrics_for_version"), _f("max_num_partial_prefills", type="int"),
    _f("max_long_partial_prefills", type="int"), _f("long_prefill_token_threshold", type="int"),
    _f("disable_chunked_mm_input", action=_B), _f("scheduler_cls"), _f("disable_hybrid_kv_cache_manager", action=_B),
    _f("async_scheduling", action=_B), _f("cudagraph_capture_sizes", action=_N, type="int"),
    _f("cuda_graph_sizes", action=_N, type="int"), _f("max_cudagraph_capture_size", type="int"),
    _f("speculative_config", type="json"), _f("kv_events_config", type="json"), _f("additional_config", type="json"),
    _f("structured_outputs_config", type="json"), _f("aggregate_engine_logging", action=_T),
    # validate_parsed_serve_args (cli_args.py @005223338608) reads it: AsyncEngineArgs' successor of
    # --disable-log-requests
    _f("enable_log_requests", action=_B),
)

#: make_arg_parser, BaseFrontendArgs and FrontendArgs (cli_args.py @005223338608), in source order.
FRONTEND_FLAGS: tuple[Flag, ...] = (
    _f("headless", action=_T), _f("api_server_count", "-asc", type="int"), _f("config"), _f("grpc", action=_T),
    _f("lora_modules", action=_N), _f("chat_template"), _f("chat_template_content_format"),
    _f("trust_request_chat_template", action=_B), _f("default_chat_template_kwargs", type="json"),
    _f("response_role"), _f("return_tokens_as_token_ids", action=_B), _f("enable_auto_tool_choice", action=_B),
    _f("exclude_tools_when_tool_choice_none", action=_B), _f("tool_call_parser"), _f("tool_parser_plugin"),
    _f("tool_server"), _f("log_config_file"), _f("max_log_len", type="int"),
    _f("enable_prompt_tokens_details", action=_B), _f("enable_per_request_metrics", action=_B),
    _f("enable_server_load_tracking", action=_B), _f("enable_force_include_usage", action=_B),
    _f("enable_tokenizer_info_endpoint", action=_B), _f("enable_log_outputs", action=_B),
    _f("enable_log_deltas", action=_B), _f("cohere_is_reasoning_model", action=_B), _f("cohere_format"),
    _f("log_error_stack", action=_B), _f("tokens_only", action=_B), _f("fingerprint_mode"), _f("fingerprint_value"),
    _f("host"), _f("port", type="int"), _f("data_parallel_supervisor_port", type="int"),
    _f("dp_supervisor_probe_interval_s", type="float"), _f("dp_supervisor_probe_timeout_s", type="float"),
    _f("dp_supervisor_probe_failure_threshold", type="int"), _f("uds"), _f("uvicorn_log_level"),
    _f("disable_uvicorn_access_log", action=_B), _f("disable_access_log_for_endpoints"),
    _f("allow_credentials", action=_B), _f("allowed_origins", type="json"), _f("allowed_methods", type="json"),
    _f("allowed_headers", type="json"), _f("api_key", action=_N), _f("ssl_keyfile"), _f("ssl_certfile"),
    _f("ssl_ca_certs"), _f("enable_ssl_refresh", action=_B), _f("ssl_cert_reqs", type="int"), _f("ssl_ciphers"),
    _f("root_path"), _f("middleware", action=_A), _f("enable_request_id_headers", action=_B),
    _f("disable_fastapi_docs", action=_B), _f("h11_max_incomplete_event_size", type="int"),
    _f("h11_max_header_count", type="int"), _f("enable_offline_docs", action=_B),
    _f("enable_flash_late_interaction", action=_B),
)

SERVE = Launcher(
    name="vllm-serve",
    invocations=(Invocation(program="vllm", subcommand=("serve",), positionals=("model",)),
                 Invocation(module="vllm.entrypoints.openai.api_server")),
    flags=FRONTEND_FLAGS + ENGINE_FLAGS + NEWER_ENGINE_FLAGS,
    source=SOURCE, namespace="vllm", engine="vllm", serving="vllm-serve", kind="vllm", parser="argparse",
    underscores=True, config_flag="config",
)

LAUNCHERS: tuple[Launcher, ...] = (SERVE,)
