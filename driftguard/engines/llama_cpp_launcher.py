"""llama.cpp's ``llama-server`` as data: its command line, read from the table every llama.cpp tool parses.

Read from ``ggml-org/llama.cpp@0c1e57098bba common/arg.cpp common_params_parser_init`` (the options whose
``set_examples`` include ``LLAMA_EXAMPLE_SERVER`` or ``LLAMA_EXAMPLE_COMMON``, which the server inherits) and
``common_params_parse_ex`` (how a command line is read): every option is an exact spelling, short (``-c``,
``-np``, ``-ngl``) or long; a long option's underscores are read as dashes (``--ctx_size``); an option with a
value takes the next word whatever it is (``--seed -1``), and ``--flag=value`` is not a spelling llama.cpp
knows; an option given twice keeps its last value, except ``--lora``, whose handler appends (and splits its
value on commas). An option absent from the command line is read from its ``LLAMA_ARG_*`` environment variable
(``set_env``); the command line wins over it. Bare options (``--jinja``, ``--no-mmap``) take no value, and the
``--no-`` forms a ``common_arg`` declares beside them set the value false.

What the flags mean (``key``), and the defaults a request without the field gets: llama-server's request
parser starts every request from the server's own parameters (``tools/server/server-schema.cpp
eval_llama_cmpl_schema``: ``params.sampling = params_base.sampling; params.n_predict = params_base.n_predict``),
so the sampling flags are the defaults of every request, and an unset flag is ``common/common.h
common_params_sampling``'s default, unless the GGUF model's ``general.sampling.*`` metadata sets that field
(``common/common.cpp common_init_sampler_from_model`` applies it to every field the command line left unset).
The served context per request (``serving.max_model_len``) is derived from ``-c``, ``-np`` and ``-kvu`` as
``src/llama-context.cpp`` computes a slot's context (``derive``).
"""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.launcher import Action, ArgType, Derived, Flag, Invocation, Launcher
from driftguard.keys import Default
from driftguard.model import Json

_REPO = "ggml-org/llama.cpp@0c1e57098bba"
SOURCE = f"{_REPO} common/arg.cpp common_params_parser_init, common_params_parse_ex"
_H = f"{_REPO} common/common.h"
_SAMPLING = f"{_H} common_params_sampling"
_GGUF = " (unless the GGUF's general.sampling.* sets it: common/common.cpp common_init_sampler_from_model)"

#: Defaults of the flags a canonical key is read from: what llama-server applies when the flag is absent.
DEFAULTS: dict[str, Default] = {
    "generation.temperature": Default(0.8, f"{_SAMPLING} temp = 0.80f{_GGUF}"),
    "generation.top_k": Default(40, f"{_SAMPLING} top_k = 40{_GGUF}"),
    "generation.top_p": Default(0.95, f"{_SAMPLING} top_p = 0.95f{_GGUF}"),
    "generation.min_p": Default(0.05, f"{_SAMPLING} min_p = 0.05f{_GGUF}"),
    "generation.repetition_penalty": Default(1.0, f"{_SAMPLING} penalty_repeat = 1.00f{_GGUF}"),
    "generation.presence_penalty": Default(0.0, f"{_SAMPLING} penalty_present = 0.00f"),
    "generation.frequency_penalty": Default(0.0, f"{_SAMPLING} penalty_freq = 0.00f"),
    "generation.seed": Default(None, f"{_SAMPLING} seed = LLAMA_DEFAULT_SEED (0xFFFFFFFF: a random seed)"),
    "generation.max_new_tokens": Default(-1, f"{_H} common_params n_predict = -1 (-1: no limit)"),
    "serving.max_num_tokens": Default(2048, f"{_H} common_params n_batch = 2048"),
    "batching.max_batch_size": Default(4, f"{_REPO} tools/server/server.cpp main: n_parallel -1 (auto, "
                                          "common/arg.cpp LLAMA_EXAMPLE_SERVER) becomes 4 slots"),
}


def _f(dest: str, spellings: tuple[str, ...], *, action: Action = "store", type: ArgType = "str",
       env: str | None = None, delimiter: str | None = None, key: str | None = None, const: str | None = None,
       file: bool = False) -> Flag:
    """A llama-server option; ``key`` None keeps it as ``llama_cpp.<dest>``."""
    return Flag(dest, spellings, action, type, env=env, delimiter=delimiter, key=key,
                default=DEFAULTS.get(key) if key is not None else None, const=const, file=file)


#: Every option llama-server accepts, in arg.cpp order; ``--no-`` forms are flags of their own that store
#: false under the same dest.
FLAGS: tuple[Flag, ...] = (
    _f('usage', ('-h', '--help', '--usage'), action='store_true'),
    _f('version', ('--version',), action='store_true'),
    _f('cache_list', ('-cl', '--cache-list'), action='store_true'),
    _f('completion_bash', ('--completion-bash',), action='store_true'),
    _f('threads', ('-t', '--threads'), type='int', env='LLAMA_ARG_THREADS'),
    _f('threads_batch', ('-tb', '--threads-batch'), type='int'),
    _f('cpu_mask', ('-C', '--cpu-mask')),
    _f('cpu_range', ('-Cr', '--cpu-range')),
    _f('cpu_strict', ('--cpu-strict',)),
    _f('prio', ('--prio',), type='int'),
    _f('poll', ('--poll',)),
    _f('cpu_mask_batch', ('-Cb', '--cpu-mask-batch')),
    _f('cpu_range_batch', ('-Crb', '--cpu-range-batch')),
    _f('cpu_strict_batch', ('--cpu-strict-batch',), type='int'),
    _f('prio_batch', ('--prio-batch',), type='int'),
    _f('poll_batch', ('--poll-batch',), type='int'),
    _f('lookup_cache_static', ('-lcs', '--lookup-cache-static')),
    _f('lookup_cache_dynamic', ('-lcd', '--lookup-cache-dynamic')),
    _f('ctx_size', ('-c', '--ctx-size'), type='int', env='LLAMA_ARG_CTX_SIZE'),
    _f('kv_unified_per_slot', ('--kv-unified-per-slot',), type='int', env='LLAMA_ARG_KV_UNIFIED_PER_SLOT'),
    _f('n_predict', ('-n', '--predict', '--n-predict'), type='int', env='LLAMA_ARG_N_PREDICT',
        key='generation.max_new_tokens'),
    _f('batch_size', ('-b', '--batch-size'), type='int', env='LLAMA_ARG_BATCH', key='serving.max_num_tokens'),
    _f('ubatch_size', ('-ub', '--ubatch-size'), type='int', env='LLAMA_ARG_UBATCH'),
    _f('keep', ('--keep',), type='int'),
    _f('swa_full', ('--swa-full',), action='store_true', env='LLAMA_ARG_SWA_FULL'),
    _f('ctx_checkpoints', ('-ctxcp', '--ctx-checkpoints', '--swa-checkpoints'), env='LLAMA_ARG_CTX_CHECKPOINTS'),
    _f('checkpoint_min_step', ('-cms', '--checkpoint-min-step'), type='int', env='LLAMA_ARG_CHECKPOINT_MIN_SPACING_NT'),
    _f('cache_ram', ('-cram', '--cache-ram'), env='LLAMA_ARG_CACHE_RAM'),
    _f('kv_unified', ('-kvu', '--kv-unified'), action='store_true', env='LLAMA_ARG_KV_UNIFIED'),
    _f('kv_unified', ('-no-kvu', '--no-kv-unified'), action='store_false'),
    _f('cache_idle_slots', ('--cache-idle-slots',), action='store_true', env='LLAMA_ARG_CACHE_IDLE_SLOTS'),
    _f('cache_idle_slots', ('--no-cache-idle-slots',), action='store_false'),
    _f('context_shift', ('--context-shift',), action='store_true', env='LLAMA_ARG_CONTEXT_SHIFT'),
    _f('context_shift', ('--no-context-shift',), action='store_false'),
    # '-fa' took no value in older releases (now on|off|auto): scripts written for them say a bare '-fa', which
    # meant 'on', so the value is optional here.
    _f('flash_attn', ('-fa', '--flash-attn'), action='optional', const='on', env='LLAMA_ARG_FLASH_ATTN'),
    _f('perf', ('--perf',), action='store_true', env='LLAMA_ARG_PERF'),
    _f('perf', ('--no-perf',), action='store_false'),
    _f('escape', ('-e', '--escape'), action='store_true'),
    _f('escape', ('--no-escape',), action='store_false'),
    _f('reverse_prompt', ('-r', '--reverse-prompt')),
    _f('special', ('-sp', '--special'), action='store_true'),
    _f('warmup', ('--warmup',), action='store_true'),
    _f('warmup', ('--no-warmup',), action='store_false'),
    _f('spm_infill', ('--spm-infill',), action='store_true'),
    _f('samplers', ('--samplers',)),
    _f('seed', ('-s', '--seed'), type='int', key='generation.seed'),
    _f('sampling_seq', ('--sampler-seq', '--sampling-seq')),
    _f('ignore_eos', ('--ignore-eos',), action='store_true'),
    _f('temperature', ('--temp', '--temperature'), type='float', env='LLAMA_ARG_TEMPERATURE',
        key='generation.temperature'),
    _f('top_k', ('--top-k',), type='int', env='LLAMA_ARG_TOP_K', key='generation.top_k'),
    _f('top_p', ('--top-p',), type='float', env='LLAMA_ARG_TOP_P', key='generation.top_p'),
    _f('min_p', ('--min-p',), type='float', env='LLAMA_ARG_MIN_P', key='generation.min_p'),
    _f('top_n_sigma', ('--top-nsigma', '--top-n-sigma')),
    _f('xtc_probability', ('--xtc-probability',)),
    _f('xtc_threshold', ('--xtc-threshold',)),
    _f('typical_p', ('--typical', '--typical-p')),
    _f('repeat_last_n', ('--repeat-last-n',), type='int'),
    _f('repeat_penalty', ('--repeat-penalty',), type='float', env='LLAMA_ARG_REPEAT_PENALTY',
        key='generation.repetition_penalty'),
    _f('presence_penalty', ('--presence-penalty',), type='float', env='LLAMA_ARG_PRESENCE_PENALTY',
        key='generation.presence_penalty'),
    _f('frequency_penalty', ('--frequency-penalty',), type='float', env='LLAMA_ARG_FREQUENCY_PENALTY',
        key='generation.frequency_penalty'),
    _f('dry_multiplier', ('--dry-multiplier',)),
    _f('dry_base', ('--dry-base',)),
    _f('dry_allowed_length', ('--dry-allowed-length',), type='int'),
    _f('dry_penalty_last_n', ('--dry-penalty-last-n',), type='int'),
    _f('dry_sequence_breaker', ('--dry-sequence-breaker',)),
    _f('adaptive_target', ('--adaptive-target',), type='float'),
    _f('adaptive_decay', ('--adaptive-decay',)),
    _f('dynatemp_range', ('--dynatemp-range',)),
    _f('dynatemp_exp', ('--dynatemp-exp',)),
    _f('mirostat', ('--mirostat',), type='int'),
    _f('mirostat_lr', ('--mirostat-lr',)),
    _f('mirostat_ent', ('--mirostat-ent',)),
    _f('logit_bias', ('-l', '--logit-bias')),
    _f('grammar', ('--grammar',)),
    _f('grammar_file', ('--grammar-file',)),
    _f('json_schema', ('-j', '--json-schema')),
    _f('json_schema_file', ('-jf', '--json-schema-file')),
    _f('backend_sampling', ('-bs', '--backend-sampling'), action='store_true', env='LLAMA_ARG_BACKEND_SAMPLING'),
    _f('pooling', ('--pooling',), env='LLAMA_ARG_POOLING'),
    _f('rope_scaling', ('--rope-scaling',), env='LLAMA_ARG_ROPE_SCALING_TYPE'),
    _f('rope_scale', ('--rope-scale',), env='LLAMA_ARG_ROPE_SCALE'),
    _f('rope_freq_base', ('--rope-freq-base',), env='LLAMA_ARG_ROPE_FREQ_BASE'),
    _f('rope_freq_scale', ('--rope-freq-scale',), env='LLAMA_ARG_ROPE_FREQ_SCALE'),
    _f('yarn_orig_ctx', ('--yarn-orig-ctx',), type='int', env='LLAMA_ARG_YARN_ORIG_CTX'),
    _f('yarn_ext_factor', ('--yarn-ext-factor',), env='LLAMA_ARG_YARN_EXT_FACTOR'),
    _f('yarn_attn_factor', ('--yarn-attn-factor',), env='LLAMA_ARG_YARN_ATTN_FACTOR'),
    _f('yarn_beta_slow', ('--yarn-beta-slow',), env='LLAMA_ARG_YARN_BETA_SLOW'),
    _f('yarn_beta_fast', ('--yarn-beta-fast',), env='LLAMA_ARG_YARN_BETA_FAST'),
    _f('kv_offload', ('-kvo', '--kv-offload'), action='store_true', env='LLAMA_ARG_KV_OFFLOAD'),
    _f('kv_offload', ('-nkvo', '--no-kv-offload'), action='store_false'),
    _f('repack', ('--repack',), action='store_true', env='LLAMA_ARG_REPACK'),
    _f('repack', ('-nr', '--no-repack'), action='store_false'),
    _f('no_host', ('--no-host',), action='store_true', env='LLAMA_ARG_NO_HOST'),
    _f('cache_type_k', ('-ctk', '--cache-type-k'), env='LLAMA_ARG_CACHE_TYPE_K'),
    _f('cache_type_v', ('-ctv', '--cache-type-v'), env='LLAMA_ARG_CACHE_TYPE_V'),
    _f('defrag_thold', ('-dt', '--defrag-thold'), env='LLAMA_ARG_DEFRAG_THOLD'),
    _f('parallel', ('-np', '--parallel'), type='int', env='LLAMA_ARG_N_PARALLEL', key='batching.max_batch_size'),
    _f('cont_batching', ('-cb', '--cont-batching'), action='store_true', env='LLAMA_ARG_CONT_BATCHING'),
    _f('cont_batching', ('-nocb', '--no-cont-batching'), action='store_false'),
    _f('mmproj', ('-mm', '--mmproj'), env='LLAMA_ARG_MMPROJ'),
    _f('mmproj_url', ('-mmu', '--mmproj-url'), env='LLAMA_ARG_MMPROJ_URL'),
    _f('mmproj_auto', ('--mmproj-auto',), action='store_true', env='LLAMA_ARG_MMPROJ_AUTO'),
    _f('mmproj_auto', ('--no-mmproj', '--no-mmproj-auto'), action='store_false'),
    _f('mmproj_offload', ('--mmproj-offload',), action='store_true', env='LLAMA_ARG_MMPROJ_OFFLOAD'),
    _f('mmproj_offload', ('--no-mmproj-offload',), action='store_false'),
    _f('mmproj_device', ('-mmdev', '--mmproj-device'), env='MTMD_BACKEND_DEVICE'),
    _f('image_min_tokens', ('--image-min-tokens',), type='int', env='LLAMA_ARG_IMAGE_MIN_TOKENS'),
    _f('image_max_tokens', ('--image-max-tokens',), type='int', env='LLAMA_ARG_IMAGE_MAX_TOKENS'),
    _f('mtmd_batch_max_tokens', ('--mtmd-batch-max-tokens',), type='int', env='LLAMA_ARG_MTMD_BATCH_MAX_TOKENS'),
    _f('video_fps', ('--video-fps',), env='LLAMA_ARG_VIDEO_FPS'),
    _f('video_timestamp_interval', ('--video-timestamp-interval',), type='int',
        env='LLAMA_ARG_VIDEO_TIMESTAMP_INTERVAL'),
    _f('video_ffmpeg_dir', ('--video-ffmpeg-dir',), env='LLAMA_ARG_VIDEO_FFMPEG_DIR'),
    _f('rpc', ('--rpc',), env='LLAMA_ARG_RPC'),
    _f('load_mode', ('-lm', '--load-mode'), env='LLAMA_ARG_LOAD_MODE'),
    _f('lazy_mode', ('-lzm', '--lazy-mode'), env='LLAMA_ARG_LAZY_MODE'),
    _f('numa', ('--numa',), env='LLAMA_ARG_NUMA'),
    _f('device', ('-dev', '--device'), env='LLAMA_ARG_DEVICE'),
    _f('list_devices', ('--list-devices',), action='store_true'),
    _f('override_tensor', ('-ot', '--override-tensor'), env='LLAMA_ARG_OVERRIDE_TENSOR'),
    _f('cpu_moe', ('-cmoe', '--cpu-moe'), action='store_true', env='LLAMA_ARG_CPU_MOE'),
    _f('n_cpu_moe', ('-ncmoe', '--n-cpu-moe'), type='int', env='LLAMA_ARG_N_CPU_MOE'),
    _f('n_cpu_ffn', ('-ncffn', '--n-cpu-ffn'), type='int', env='LLAMA_ARG_N_CPU_FFN'),
    _f('n_gpu_layers', ('-ngl', '--gpu-layers', '--n-gpu-layers'), env='LLAMA_ARG_N_GPU_LAYERS'),
    _f('split_mode', ('-sm', '--split-mode'), env='LLAMA_ARG_SPLIT_MODE'),
    _f('tensor_split', ('-ts', '--tensor-split'), env='LLAMA_ARG_TENSOR_SPLIT'),
    _f('main_gpu', ('-mg', '--main-gpu'), type='int', env='LLAMA_ARG_MAIN_GPU'),
    _f('fit', ('-fit', '--fit'), env='LLAMA_ARG_FIT'),
    _f('fit_target', ('-fitt', '--fit-target'), env='LLAMA_ARG_FIT_TARGET'),
    _f('fit_ctx', ('-fitc', '--fit-ctx'), type='int', env='LLAMA_ARG_FIT_CTX'),
    _f('check_tensors', ('--check-tensors',), action='store_true'),
    _f('override_kv', ('--override-kv',)),
    _f('op_offload', ('--op-offload',), action='store_true'),
    _f('op_offload', ('--no-op-offload',), action='store_false'),
    _f('lora', ('--lora',), action='append', delimiter=',', key='model.adapters'),
    _f('lora_scaled', ('--lora-scaled',)),
    _f('control_vector', ('--control-vector',)),
    _f('control_vector_scaled', ('--control-vector-scaled',)),
    _f('control_vector_layer_range', ('--control-vector-layer-range',), action='nargs'),
    _f('alias', ('-a', '--alias'), env='LLAMA_ARG_ALIAS'),
    _f('tags', ('--tags',), env='LLAMA_ARG_TAGS'),
    _f('model', ('-m', '--model'), env='LLAMA_ARG_MODEL', key='model.source'),
    _f('model_url', ('-mu', '--model-url'), env='LLAMA_ARG_MODEL_URL'),
    _f('docker_repo', ('-dr', '--docker-repo'), env='LLAMA_ARG_DOCKER_REPO'),
    _f('hf_repo', ('-hf', '-hfr', '--hf-repo'), env='LLAMA_ARG_HF_REPO', key='model.source'),
    _f('hf_file', ('-hff', '--hf-file'), env='LLAMA_ARG_HF_FILE'),
    _f('hf_token', ('-hft', '--hf-token'), env='HF_TOKEN'),
    _f('embd_normalize', ('--embd-normalize',), type='int'),
    _f('host', ('--host',), env='LLAMA_ARG_HOST'),
    _f('port', ('--port',), type='int', env='LLAMA_ARG_PORT'),
    _f('reuse_port', ('--reuse-port',), action='store_true', env='LLAMA_ARG_REUSE_PORT'),
    _f('path', ('--path',), env='LLAMA_ARG_STATIC_PATH'),
    _f('cors_origins', ('--cors-origins',), env='LLAMA_ARG_CORS_ORIGINS'),
    _f('cors_methods', ('--cors-methods',), env='LLAMA_ARG_CORS_METHODS'),
    _f('cors_headers', ('--cors-headers',), env='LLAMA_ARG_CORS_HEADERS'),
    _f('cors_credentials', ('--cors-credentials',), action='store_true', env='LLAMA_ARG_CORS_CREDENTIALS'),
    _f('cors_credentials', ('--no-cors-credentials',), action='store_false'),
    _f('api_prefix', ('--api-prefix',), env='LLAMA_ARG_API_PREFIX'),
    _f('webui_config', ('--ui-config', '--webui-config'), env='LLAMA_ARG_UI_CONFIG'),
    _f('webui_config_file', ('--ui-config-file', '--webui-config-file'), env='LLAMA_ARG_UI_CONFIG_FILE'),
    _f('webui_mcp_proxy', ('--ui-mcp-proxy', '--webui-mcp-proxy'), action='store_true', env='LLAMA_ARG_UI_MCP_PROXY'),
    _f('webui_mcp_proxy', ('--no-ui-mcp-proxy', '--no-webui-mcp-proxy'), action='store_false'),
    _f('tools', ('--tools',), env='LLAMA_ARG_TOOLS'),
    _f('tools_runtime', ('--tools-runtime',), env='LLAMA_ARG_TOOLS_RUNTIME'),
    _f('mcp_servers_config', ('--mcp-servers-config',), env='LLAMA_ARG_MCP_SERVERS_CONFIG'),
    _f('mcp_servers_json', ('--mcp-servers-json',), env='LLAMA_ARG_MCP_SERVERS_JSON'),
    _f('agent', ('-ag', '--agent'), action='store_true', env='LLAMA_ARG_AGENT'),
    _f('agent', ('-no-ag', '--no-agent'), action='store_false'),
    _f('webui', ('--ui', '--webui'), action='store_true', env='LLAMA_ARG_UI'),
    _f('webui', ('--no-ui', '--no-webui'), action='store_false'),
    _f('embeddings', ('--embedding', '--embeddings'), action='store_true', env='LLAMA_ARG_EMBEDDINGS'),
    _f('reranking', ('--rerank', '--reranking'), action='store_true', env='LLAMA_ARG_RERANKING'),
    _f('api_key', ('--api-key',), env='LLAMA_API_KEY'),
    _f('api_key_file', ('--api-key-file',), env='LLAMA_ARG_API_KEY_FILE'),
    _f('ssl_key_file', ('--ssl-key-file',), env='LLAMA_ARG_SSL_KEY_FILE'),
    _f('ssl_cert_file', ('--ssl-cert-file',), env='LLAMA_ARG_SSL_CERT_FILE'),
    _f('chat_template_kwargs', ('--chat-template-kwargs',), env='LLAMA_ARG_CHAT_TEMPLATE_KWARGS'),
    _f('timeout', ('-to', '--timeout'), type='int', env='LLAMA_ARG_TIMEOUT'),
    _f('sse_ping_interval', ('--sse-ping-interval',), type='int', env='LLAMA_ARG_SSE_PING_INTERVAL'),
    _f('threads_http', ('--threads-http',), type='int', env='LLAMA_ARG_THREADS_HTTP'),
    _f('cache_prompt', ('--cache-prompt',), action='store_true', env='LLAMA_ARG_CACHE_PROMPT'),
    _f('cache_prompt', ('--no-cache-prompt',), action='store_false'),
    _f('cache_reuse', ('--cache-reuse',), env='LLAMA_ARG_CACHE_REUSE'),
    _f('metrics', ('--metrics',), action='store_true', env='LLAMA_ARG_ENDPOINT_METRICS'),
    _f('props', ('--props',), action='store_true', env='LLAMA_ARG_ENDPOINT_PROPS'),
    _f('slots', ('--slots',), action='store_true', env='LLAMA_ARG_ENDPOINT_SLOTS'),
    _f('slots', ('--no-slots',), action='store_false'),
    _f('slot_save_path', ('--slot-save-path',)),
    _f('media_path', ('--media-path',)),
    _f('models_dir', ('--models-dir',), env='LLAMA_ARG_MODELS_DIR'),
    _f('models_preset', ('--models-preset',), env='LLAMA_ARG_MODELS_PRESET'),
    _f('models_max', ('--models-max',), type='int', env='LLAMA_ARG_MODELS_MAX'),
    _f('models_autoload', ('--models-autoload',), action='store_true', env='LLAMA_ARG_MODELS_AUTOLOAD'),
    _f('models_autoload', ('--no-models-autoload',), action='store_false'),
    _f('jinja', ('--jinja',), action='store_true', env='LLAMA_ARG_JINJA'),
    _f('jinja', ('--no-jinja',), action='store_false'),
    _f('reasoning_format', ('--reasoning-format',), env='LLAMA_ARG_THINK'),
    _f('reasoning', ('-rea', '--reasoning'), env='LLAMA_ARG_REASONING'),
    _f('reasoning_effort', ('--reasoning-effort',), env='LLAMA_ARG_REASONING_EFFORT'),
    _f('reasoning_budget', ('--reasoning-budget',), type='int', env='LLAMA_ARG_THINK_BUDGET'),
    _f('reasoning_budget_message', ('--reasoning-budget-message',), env='LLAMA_ARG_THINK_BUDGET_MESSAGE'),
    _f('reasoning_preserve', ('--reasoning-preserve',), action='store_true', env='LLAMA_ARG_REASONING_PRESERVE'),
    _f('reasoning_preserve', ('--no-reasoning-preserve',), action='store_false'),
    _f('chat_template', ('--chat-template',), env='LLAMA_ARG_CHAT_TEMPLATE', key='preprocessing.chat_template'),
    _f('chat_template_file', ('--chat-template-file',), env='LLAMA_ARG_CHAT_TEMPLATE_FILE',
        key='preprocessing.chat_template', file=True),
    _f('skip_chat_parsing', ('--skip-chat-parsing',), action='store_true', env='LLAMA_ARG_SKIP_CHAT_PARSING'),
    _f('skip_chat_parsing', ('--no-skip-chat-parsing',), action='store_false'),
    _f('prefill_assistant', ('--prefill-assistant',), action='store_true', env='LLAMA_ARG_PREFILL_ASSISTANT'),
    _f('prefill_assistant', ('--no-prefill-assistant',), action='store_false'),
    _f('slot_prompt_similarity', ('-sps', '--slot-prompt-similarity')),
    _f('lora_init_without_apply', ('--lora-init-without-apply',), action='store_true'),
    _f('sleep_idle_seconds', ('--sleep-idle-seconds',), type='int'),
    _f('log_disable', ('--log-disable',), action='store_true'),
    _f('log_file', ('--log-file',), env='LLAMA_ARG_LOG_FILE'),
    _f('log_jsonl', ('--log-jsonl',), action='store_true', env='LLAMA_ARG_LOG_JSONL'),
    _f('log_jsonl', ('--no-log-jsonl',), action='store_false'),
    _f('log_prompts_dir', ('--log-prompts-dir',)),
    _f('log_colors', ('--log-colors',), env='LLAMA_ARG_LOG_COLORS'),
    _f('log_verbose', ('-v', '--verbose', '--log-verbose'), action='store_true'),
    _f('offline', ('--offline',), action='store_true', env='LLAMA_ARG_OFFLINE'),
    _f('log_verbosity', ('-lv', '--verbosity', '--log-verbosity'), type='int', env='LLAMA_ARG_LOG_VERBOSITY'),
    _f('log_prefix', ('--log-prefix',), action='store_true', env='LLAMA_ARG_LOG_PREFIX'),
    _f('log_prefix', ('--no-log-prefix',), action='store_false'),
    _f('log_timestamps', ('--log-timestamps',), action='store_true', env='LLAMA_ARG_LOG_TIMESTAMPS'),
    _f('log_timestamps', ('--no-log-timestamps',), action='store_false'),
    _f('spec_draft_hf', ('--spec-draft-hf', '-hfd', '-hfrd', '--hf-repo-draft'), env='LLAMA_ARG_SPEC_DRAFT_HF_REPO'),
    _f('spec_draft_threads', ('--spec-draft-threads', '-td', '--threads-draft'), type='int'),
    _f('spec_draft_threads_batch', ('--spec-draft-threads-batch', '-tbd', '--threads-batch-draft'), type='int'),
    _f('spec_draft_cpu_mask', ('--spec-draft-cpu-mask', '-Cd', '--cpu-mask-draft')),
    _f('spec_draft_cpu_range', ('--spec-draft-cpu-range', '-Crd', '--cpu-range-draft')),
    _f('spec_draft_cpu_strict', ('--spec-draft-cpu-strict', '--cpu-strict-draft'), type='int'),
    _f('spec_draft_prio', ('--spec-draft-prio', '--prio-draft'), type='int'),
    _f('spec_draft_poll', ('--spec-draft-poll', '--poll-draft'), type='int'),
    _f('spec_draft_cpu_mask_batch', ('--spec-draft-cpu-mask-batch', '-Cbd', '--cpu-mask-batch-draft')),
    _f('spec_draft_cpu_strict_batch', ('--spec-draft-cpu-strict-batch', '--cpu-strict-batch-draft'), type='int'),
    _f('spec_draft_prio_batch', ('--spec-draft-prio-batch', '--prio-batch-draft'), type='int'),
    _f('spec_draft_poll_batch', ('--spec-draft-poll-batch', '--poll-batch-draft'), type='int'),
    _f('cache_type_k_draft', ('--spec-draft-type-k', '-ctkd', '--cache-type-k-draft'),
        env='LLAMA_ARG_SPEC_DRAFT_CACHE_TYPE_K'),
    _f('cache_type_v_draft', ('--spec-draft-type-v', '-ctvd', '--cache-type-v-draft'),
        env='LLAMA_ARG_SPEC_DRAFT_CACHE_TYPE_V'),
    _f('spec_draft_override_tensor', ('--spec-draft-override-tensor', '-otd', '--override-tensor-draft')),
    _f('spec_draft_cpu_moe', ('--spec-draft-cpu-moe', '-cmoed', '--cpu-moe-draft'), action='store_true',
        env='LLAMA_ARG_SPEC_DRAFT_CPU_MOE'),
    _f('spec_draft_n_cpu_moe', ('--spec-draft-n-cpu-moe', '--spec-draft-ncmoe', '-ncmoed', '--n-cpu-moe-draft'),
        type='int', env='LLAMA_ARG_SPEC_DRAFT_N_CPU_MOE'),
    _f('spec_draft_n_max', ('--spec-draft-n-max',), type='int', env='LLAMA_ARG_SPEC_DRAFT_N_MAX'),
    _f('spec_draft_n_min', ('--spec-draft-n-min',), type='int', env='LLAMA_ARG_SPEC_DRAFT_N_MIN'),
    _f('spec_synth_len', ('--spec-synth-len',), env='LLAMA_ARG_SPEC_SYNTH_LEN'),
    _f('spec_synth_rates', ('--spec-synth-rates',), env='LLAMA_ARG_SPEC_SYNTH_RATES'),
    _f('spec_draft_p_split', ('--spec-draft-p-split', '--draft-p-split'), env='LLAMA_ARG_SPEC_DRAFT_P_SPLIT'),
    _f('spec_draft_p_min', ('--spec-draft-p-min', '--draft-p-min'), env='LLAMA_ARG_SPEC_DRAFT_P_MIN'),
    _f('spec_draft_backend_sampling', ('--spec-draft-backend-sampling',), action='store_true',
        env='LLAMA_ARG_SPEC_DRAFT_BACKEND_SAMPLING'),
    _f('spec_draft_backend_sampling', ('--no-spec-draft-backend-sampling',), action='store_false'),
    _f('spec_draft_device', ('--spec-draft-device', '-devd', '--device-draft')),
    _f('n_gpu_layers_draft', ('--spec-draft-ngl', '-ngld', '--gpu-layers-draft', '--n-gpu-layers-draft'),
        env='LLAMA_ARG_N_GPU_LAYERS_DRAFT'),
    _f('spec_draft_model', ('--spec-draft-model', '-md', '--model-draft'), env='LLAMA_ARG_SPEC_DRAFT_MODEL'),
    _f('spec_type', ('--spec-type',), env='LLAMA_ARG_SPEC_TYPE'),
    _f('spec_ngram_mod_n_min', ('--spec-ngram-mod-n-min',), type='int'),
    _f('spec_ngram_mod_n_max', ('--spec-ngram-mod-n-max',), type='int'),
    _f('spec_ngram_mod_n_match', ('--spec-ngram-mod-n-match',), type='int'),
    _f('spec_ngram_simple_size_n', ('--spec-ngram-simple-size-n',), type='int'),
    _f('spec_ngram_simple_size_m', ('--spec-ngram-simple-size-m',), type='int'),
    _f('spec_ngram_simple_min_hits', ('--spec-ngram-simple-min-hits',), type='int'),
    _f('spec_ngram_map_k_size_n', ('--spec-ngram-map-k-size-n',), type='int'),
    _f('spec_ngram_map_k_size_m', ('--spec-ngram-map-k-size-m',), type='int'),
    _f('spec_ngram_map_k_min_hits', ('--spec-ngram-map-k-min-hits',), type='int'),
    _f('spec_ngram_map_k4v_size_n', ('--spec-ngram-map-k4v-size-n',), type='int'),
    _f('spec_ngram_map_k4v_size_m', ('--spec-ngram-map-k4v-size-m',), type='int'),
    _f('spec_ngram_map_k4v_min_hits', ('--spec-ngram-map-k4v-min-hits',), type='int'),
    _f('draft_max', ('--draft', '--draft-n', '--draft-max'), type='int', env='LLAMA_ARG_DRAFT_MAX'),
    _f('draft_n_min', ('--draft-min', '--draft-n-min'), type='int', env='LLAMA_ARG_DRAFT_MIN'),
    _f('spec_ngram_size_n', ('--spec-ngram-size-n',), type='int'),
    _f('spec_ngram_size_m', ('--spec-ngram-size-m',), type='int'),
    _f('spec_ngram_min_hits', ('--spec-ngram-min-hits',), type='int'),
    _f('embd_gemma_default', ('--embd-gemma-default',), action='store_true'),
    _f('fim_qwen_1.5b_default', ('--fim-qwen-1.5b-default',), action='store_true'),
    _f('fim_qwen_3b_default', ('--fim-qwen-3b-default',), action='store_true'),
    _f('fim_qwen_7b_default', ('--fim-qwen-7b-default',), action='store_true'),
    _f('fim_qwen_7b_spec', ('--fim-qwen-7b-spec',), action='store_true'),
    _f('fim_qwen_14b_spec', ('--fim-qwen-14b-spec',), action='store_true'),
    _f('fim_qwen_30b_default', ('--fim-qwen-30b-default',), action='store_true'),
    _f('gpt_oss_20b_default', ('--gpt-oss-20b-default',), action='store_true'),
    _f('gpt_oss_120b_default', ('--gpt-oss-120b-default',), action='store_true'),
    _f('vision_gemma_4b_default', ('--vision-gemma-4b-default',), action='store_true'),
    _f('vision_gemma_12b_default', ('--vision-gemma-12b-default',), action='store_true'),
    _f('spec_default', ('--spec-default',), action='store_true'),
)


#: ``src/llama-context.cpp``: the context is padded to a multiple of 256 (GGML_PAD), and so is each slot's share.
_PAD = 256


def _pad(n: int) -> int:
    return -(-n // _PAD) * _PAD


def derive(args: Mapping[str, Json]) -> tuple[Derived, ...]:
    """``serving.max_model_len``, the longest context one request gets, from ``-c``, ``-np`` and ``-kvu``:
    ``llama_context`` pads ``n_ctx`` to a multiple of 256, and without a unified KV cache each of the
    ``n_parallel`` slots gets ``n_ctx / n_parallel``, padded again (``src/llama-context.cpp``). With ``-np``
    unset the server picks 4 slots with a unified cache (``tools/server/server.cpp``), so a request may use the
    whole context. ``-c 0`` (the default) is the model's trained context: not known from the command line."""
    ctx, parallel, unified = args.get("ctx_size"), args.get("parallel"), args.get("kv_unified")
    if not isinstance(ctx, int) or isinstance(ctx, bool) or ctx <= 0:
        return ()
    n_ctx = _pad(ctx)
    split = isinstance(parallel, int) and not isinstance(parallel, bool) and parallel > 1 and unified is not True
    if not split:
        why = ("llama-server: one slot, or a unified KV cache, gets the whole context, padded to a multiple of "
               f"256 ({_REPO} src/llama-context.cpp)")
        return (Derived("serving.max_model_len", n_ctx, ("ctx_size", "parallel", "kv_unified"), why),)
    assert isinstance(parallel, int)
    per_slot = _pad(n_ctx // parallel)
    why = (f"llama-server: each of the {parallel} slots gets n_ctx / n_parallel = {n_ctx} / {parallel}, padded to "
           f"a multiple of 256, without --kv-unified ({_REPO} src/llama-context.cpp n_ctx_seq)")
    return (Derived("serving.max_model_len", per_slot, ("ctx_size", "parallel", "kv_unified"), why),)


LLAMA_SERVER = Launcher(
    name="llama-server",
    invocations=(Invocation(program="llama-server"),),
    flags=FLAGS, source=SOURCE, namespace="llama_cpp", underscores=True, derive=derive,
)

LAUNCHERS: tuple[Launcher, ...] = (LLAMA_SERVER,)
