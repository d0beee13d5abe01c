"""Hugging Face TGI's launcher as data: ``text-generation-launcher`` (the entrypoint of the TGI image).

Read from ``huggingface/text-generation-inference@db931fcf42da launcher/src/main.rs`` ``struct Args`` (clap
derive): every field is a ``--dashed`` long flag that, with ``env``, also reads the environment variable of
the field's name in capitals (``MAX_INPUT_TOKENS``) when the flag is absent; ``bool`` fields are flags without
a value (from the environment: false for ``0``, ``false``, ``no``, ``off``, ``n``, ``f``; clap's falsey
parser), ``Option<bool>`` takes a value; ``short`` gives ``-p`` (``--port``; ``--prometheus-port`` declares the
same letter, which clap resolves to ``--port``, the first), ``-e`` and ``-g``. Clap rejects any other flag.
The parsed arguments are launcher args, resolved by the ``tgi`` kind (``--dtype`` -> ``precision.compute``,
``--quantize`` -> ``precision.quantization``, every argument also ``tgi.launcher.<name>``).
"""

from __future__ import annotations

from driftguard.engines.launcher import Action, ArgType, Flag, Invocation, Launcher
from driftguard.engines.tgi import LAUNCHER_ALSO, LAUNCHER_DTYPES, LAUNCHER_QUANTIZE

SOURCE = "huggingface/text-generation-inference@db931fcf42da launcher/src/main.rs struct Args"

#: Launcher args the tgi kind maps to a canonical key only (extractors/tgi.py ``_launcher``); those of
#: ``engines.tgi.LAUNCHER_ALSO`` it keeps as ``tgi.launcher.<name>`` too.
_KEYS = {"dtype": "precision.compute", "quantize": "precision.quantization"}


def _f(dest: str, *short: str, action: Action = "store", type: ArgType = "str", choices: tuple[str, ...] = (),
       env: bool = True, delimiter: str | None = None) -> Flag:
    also = LAUNCHER_ALSO.get(dest)
    key = _KEYS.get(dest) or (also[0] if also else f"tgi.launcher.{dest}")
    return Flag(dest, (f"--{dest.replace('_', '-')}", *short), action, type, choices,
                env=dest.upper() if env else None, delimiter=delimiter, key=key, also=also is not None)


_T: Action = "store_true"
_A: Action = "append"

#: struct Args, in source order.
FLAGS: tuple[Flag, ...] = (
    _f("model_id"), _f("revision"), _f("validation_workers", type="int"), _f("sharded", type="bool"),
    _f("num_shard", type="int"), _f("quantize", choices=LAUNCHER_QUANTIZE), _f("speculate", type="int"),
    _f("dtype", choices=LAUNCHER_DTYPES), _f("kv_cache_dtype", choices=("fp8_e4m3fn", "fp8_e5m2")),
    _f("trust_remote_code", action=_T), _f("max_concurrent_requests", type="int"), _f("max_best_of", type="int"),
    _f("max_stop_sequences", type="int"), _f("max_top_n_tokens", type="int"), _f("max_input_tokens", type="int"),
    _f("max_input_length", type="int"), _f("max_total_tokens", type="int"),
    _f("waiting_served_ratio", type="float"), _f("max_batch_prefill_tokens", type="int"),
    _f("max_batch_total_tokens", type="int"), _f("max_waiting_tokens", type="int"),
    _f("max_batch_size", type="int"), _f("cuda_graphs", action=_A, type="int", delimiter=","), _f("hostname"),
    _f("port", "-p", type="int"), _f("prometheus_port", type="int"), _f("shard_uds_path"), _f("master_addr"),
    _f("master_port", type="int"), _f("huggingface_hub_cache"), _f("weights_cache_override"),
    _f("disable_custom_kernels", action=_T), _f("cuda_memory_fraction", type="float"),
    _f("rope_scaling", choices=("linear", "dynamic")), _f("rope_factor", type="float"),
    _f("json_output", action=_T), _f("otlp_endpoint"), _f("otlp_service_name"),
    _f("cors_allow_origin", action=_A), _f("api_key"), _f("watermark_gamma", type="float"),
    _f("watermark_delta", type="float"), _f("ngrok", action=_T), _f("ngrok_authtoken"), _f("ngrok_edge"),
    _f("tokenizer_config_path"), _f("disable_grammar_support", action=_T), _f("env", "-e", action=_T, env=False),
    _f("max_client_batch_size", type="int"), _f("lora_adapters"),
    _f("usage_stats", choices=("on", "off", "no-stack")), _f("payload_limit", type="int"),
    _f("enable_prefill_logprobs", action=_T), _f("graceful_termination_timeout", "-g", type="int"),
)

LAUNCHER = Launcher(
    name="text-generation-launcher",
    invocations=(Invocation(program="text-generation-launcher"),),
    flags=FLAGS, source=SOURCE, namespace="tgi.launcher", engine="tgi", serving="tgi", kind="tgi", parser="clap",
)

LAUNCHERS: tuple[Launcher, ...] = (LAUNCHER,)
