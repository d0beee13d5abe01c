"""lmdeploy's OpenAI server as data: ``lmdeploy serve api_server MODEL``.

Read from ``InternLM/lmdeploy@1263d5cd889b lmdeploy/cli/serve.py SubCliServe.add_parser_api_server`` (its own
options and the ``ArgumentHelper`` ones it adds, ``lmdeploy/cli/utils.py``) and ``lmdeploy/cli/cli.py``: the
``lmdeploy`` program parses with ``FlexibleArgumentParser`` (``utils.py``), which reads a long option's underscores
as dashes (``--session_len``) and, being argparse, a unique prefix of a long option (``--session``); options with
``nargs`` take one or more values up to the next option. The first positional is the model (a local folder, or a hub
id that ``entrypoint.py`` downloads).

What the flags mean (``key``): the model and its revision, ``--tp`` (default 1), ``--dtype`` (``auto`` is
resolved by rule DG105 from the model's weights, as ``TurbomindEngineConfig`` does), ``--session-len`` (the
longest sequence: prompt and output), ``--max-batch-size`` (unset: chosen from the GPU by
``lmdeploy/utils.py get_max_batch_size``, so no default is filled), ``--adapters`` (LoRA adapters, as written),
``--model-format`` (the weights' quantization, ``derive``) and ``--chat-template`` (a built-in template's name;
a ``.json`` file is a ``ChatTemplateConfig``, kept as written: it is not a Jinja template to digest). Every
other option is kept under ``lmdeploy.*``. The server's request defaults are the ``lmdeploy-server`` serving
path's (``engines/lmdeploy.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.launcher import Action, ArgType, Derived, Flag, Invocation, Launcher
from driftguard.keys import Default
from driftguard.model import Json

_REPO = "InternLM/lmdeploy@1263d5cd889b"
SOURCE = f"{_REPO} lmdeploy/cli/serve.py SubCliServe.add_parser_api_server; lmdeploy/cli/utils.py ArgumentHelper"
TP_DEFAULT = Default(1, f"{_REPO} lmdeploy/cli/utils.py ArgumentHelper.tp default=1")


def _f(dest: str, spellings: tuple[str, ...], *, action: Action = "store", type: ArgType = "str",
       choices: tuple[str, ...] = (), key: str | None = None, default: Default | None = None) -> Flag:
    """An api_server option; ``key`` None keeps it as ``lmdeploy.<dest>``."""
    return Flag(dest, spellings, action, type, choices, key=key, default=default)


#: Every option of ``lmdeploy serve api_server``, in the order the parser adds them.
FLAGS: tuple[Flag, ...] = (
    _f("server_name", ("--server-name",)),
    _f("server_port", ("--server-port",), type="int"),
    _f("allow_origins", ("--allow-origins",), action="nargs"),
    _f("allow_credentials", ("--allow-credentials",), action="store_true"),
    _f("allow_methods", ("--allow-methods",), action="nargs"),
    _f("allow_headers", ("--allow-headers",), action="nargs"),
    _f("proxy_url", ("--proxy-url",)),
    _f("max_concurrent_requests", ("--max-concurrent-requests",), type="int"),
    _f("allowed_media_domains", ("--allowed-media-domains",), action="nargs"),
    _f("backend", ("--backend",), choices=("pytorch", "turbomind")),
    _f("log_level", ("--log-level",)),
    _f("api_keys", ("--api-keys",), action="nargs"),
    _f("ssl", ("--ssl",), action="store_true"),
    _f("model_name", ("--model-name",)),
    _f("max_log_len", ("--max-log-len",), type="int"),
    _f("disable_fastapi_docs", ("--disable-fastapi-docs",), action="store_true"),
    _f("allow_terminate_by_client", ("--allow-terminate-by-client",), action="store_true"),
    _f("enable_abort_handling", ("--enable-abort-handling",), action="store_true"),
    _f("trust_remote_code", ("--trust-remote-code",), action="store_true"),
    _f("chat_template", ("--chat-template",)),
    _f("tool_call_parser", ("--tool-call-parser",)),
    _f("reasoning_parser", ("--reasoning-parser",)),
    _f("revision", ("--revision",), key="model.revision"),
    _f("download_dir", ("--download-dir",)),
    _f("generation_config", ("--generation-config",)),
    _f("adapters", ("--adapters",), action="nargs", key="model.adapters"),
    _f("device", ("--device",)),
    _f("eager_mode", ("--eager-mode",), action="store_true"),
    _f("logprobs_mode", ("--logprobs-mode",)),
    _f("dllm_block_length", ("--dllm-block-length",), type="int"),
    _f("dllm_unmasking_strategy", ("--dllm-unmasking-strategy",)),
    _f("dllm_denoising_steps", ("--dllm-denoising-steps",), type="int"),
    _f("dllm_confidence_threshold", ("--dllm-confidence-threshold",), type="float"),
    _f("enable_return_routed_experts", ("--enable-return-routed-experts",), action="store_true"),
    _f("distributed_executor_backend", ("--distributed-executor-backend",)),
    _f("kernel_block_size", ("--kernel-block-size",), type="int"),
    _f("prefix_cache_state_budget", ("--prefix-cache-state-budget",), type="int"),
    _f("prefix_cache_decode_state_interval", ("--prefix-cache-decode-state-interval",), type="int"),
    _f("language_model_only", ("--language-model-only",), action="store_true"),
    _f("dtype", ("--dtype",), choices=("auto", "float16", "bfloat16"), key="precision.compute"),
    _f("tp", ("--tp",), type="int", key="serving.tensor_parallel_size", default=TP_DEFAULT),
    _f("session_len", ("--session-len",), type="int", key="serving.max_model_len"),
    _f("max_batch_size", ("--max-batch-size",), type="int", key="batching.max_batch_size"),
    _f("cache_max_entry_count", ("--cache-max-entry-count",), type="float"),
    _f("cache_block_seq_len", ("--cache-block-seq-len",), type="int"),
    _f("enable_prefix_caching", ("--enable-prefix-caching",), action="store_true"),
    _f("max_prefill_token_num", ("--max-prefill-token-num",), type="int"),
    _f("quant_policy", ("--quant-policy",)),
    _f("model_format", ("--model-format",), choices=("hf", "awq", "gptq", "compressed-tensors", "fp8", "mxfp4")),
    _f("hf_overrides", ("--hf-overrides",), type="json"),
    _f("disable_metrics", ("--disable-metrics",), action="store_true"),
    _f("dp", ("--dp",), type="int"),
    _f("ep", ("--ep",), type="int"),
    _f("enable_microbatch", ("--enable-microbatch",), action="store_true"),
    _f("enable_eplb", ("--enable-eplb",), action="store_true"),
    _f("role", ("--role",)),
    _f("migration_backend", ("--migration-backend",)),
    _f("cudagraph_capture_batch_sizes", ("--cudagraph-capture-batch-sizes",), action="nargs", type="int"),
    _f("node_rank", ("--node-rank",), type="int"),
    _f("nnodes", ("--nnodes",), type="int"),
    _f("cp", ("--cp",), type="int"),
    _f("rope_scaling_factor", ("--rope-scaling-factor",), type="float"),
    _f("num_tokens_per_iter", ("--num-tokens-per-iter",), type="int"),
    _f("max_prefill_iters", ("--max-prefill-iters",), type="int"),
    _f("async_", ("--async",), type="int"),
    _f("communicator", ("--communicator",)),
    _f("dist_init_addr", ("--dist-init-addr",)),
    _f("vision_max_batch_size", ("--vision-max-batch-size",), type="int"),
    _f("speculative_algorithm", ("--speculative-algorithm",)),
    _f("speculative_draft_model", ("--speculative-draft-model",)),
    _f("speculative_num_draft_tokens", ("--speculative-num-draft-tokens",), type="int"),
    _f("model_path", (), key="model.source"),  # the positional MODEL: no option spells it
)

#: ``--model-format`` -> the weights' quantization scheme (``hf``: the Hugging Face weights as they are).
_FORMATS = {"hf": "none", "awq": "awq", "gptq": "gptq", "fp8": "fp8", "mxfp4": "mxfp4",
            "compressed-tensors": "compressed-tensors"}


def derive(args: Mapping[str, Json]) -> tuple[Derived, ...]:
    """``--model-format`` as ``precision.quantization``, and a ``--chat-template`` that names no ``.json`` file
    as ``preprocessing.chat_template_name`` (``lmdeploy/cli/utils.py get_chat_template``: a file is a
    ``ChatTemplateConfig``, anything else a registered template's name)."""
    out: list[Derived] = []
    fmt = args.get("model_format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        out.append(Derived("precision.quantization", _FORMATS[fmt], ("model_format",),
                           f"lmdeploy --model-format {fmt} ({_REPO} lmdeploy/cli/utils.py "
                           "ArgumentHelper.model_format)"))
    template = args.get("chat_template")
    if isinstance(template, str) and template and not template.endswith(".json") and "/" not in template:
        out.append(Derived("preprocessing.chat_template_name", template, ("chat_template",),
                           f"lmdeploy --chat-template names a built-in template ({_REPO} lmdeploy/cli/utils.py "
                           "get_chat_template)"))
    return tuple(out)


API_SERVER = Launcher(
    name="lmdeploy-api-server",
    invocations=(Invocation(program="lmdeploy", subcommand=("serve", "api_server"), positionals=("model_path",)),),
    flags=FLAGS, source=SOURCE, namespace="lmdeploy", engine="lmdeploy", serving="lmdeploy-server",
    underscores=True, derive=derive, abbreviations=True,
)

LAUNCHERS: tuple[Launcher, ...] = (API_SERVER,)
