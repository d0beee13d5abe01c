"""Triton Inference Server's ``tritonserver`` as data: its command line.

Read from ``triton-inference-server/server@e1db8a603d86 src/command_line_parser.cc`` (the ``Option`` tables of
``TritonParser::SetupOptions``, parsed with ``getopt_long``: every option is long, written ``--name value`` or
``--name=value``, or as a prefix of one option's name only; ``Option::ArgNone`` takes no value, every other kind
one; ``ArgBool`` is read by ``ParseOption<bool>``: true/on/1 or false/off/0, any case) and
``src/command_line_parser.h`` (``TritonServerParameters`` defaults). Options that fill a list or a map
(``--model-repository``, ``--load-model``, ``--backend-config``...) may be given several times and keep every value.

What decides a canonical key: whether Triton auto-completes a model's config. ``--strict-model-config`` (a
boolean, deprecated) sets ``strict_model_config_``; ``--disable-auto-complete-config`` (no value) sets it true,
overriding ``--strict-model-config=false`` (``TritonParser::Parse``, "Overriding deprecated
'--strict-model-config' from False to True"). Unset, it is false: Triton lets the backend fill in a config's
missing inputs, outputs, max_batch_size and dynamic batching (defaults.md §7 "Auto-complete"). Every other
option is kept under ``tritonserver.*``.
"""

from __future__ import annotations

from collections.abc import Mapping

from driftguard.engines.launcher import Action, ArgType, Derived, Flag, Invocation, Launcher
from driftguard.keys import Default
from driftguard.model import Json

_REPO = "triton-inference-server/server@e1db8a603d86"
SOURCE = f"{_REPO} src/command_line_parser.cc TritonParser::SetupOptions, TritonParser::Parse"

#: ``bool strict_model_config_{false}``: auto-complete is on unless a flag turns it off.
STRICT_DEFAULT = Default(False, f"{_REPO} src/command_line_parser.h TritonServerParameters strict_model_config_"
                                " (defaults.md §7 Auto-complete: enabled by default)")


def _f(*spellings: str, action: Action = "store", type: ArgType = "str", key: str | None = None,
       default: Default | None = None) -> Flag:
    """A tritonserver option; its dest is its (last, current) spelling with underscores."""
    return Flag(spellings[-1][2:].replace("-", "_"), spellings, action, type, key=key, default=default)


#: Every option, in the order SetupOptions declares them (``--help`` aside).
FLAGS: tuple[Flag, ...] = (
    _f("--id"),
    _f("--exit-timeout-secs", type="int"),
    _f("--model-store", "--model-repository", action="append"),
    _f("--exit-on-error", type="bool"),
    _f("--disable-auto-complete-config", action="store_true"),
    _f("--strict-readiness", type="bool"),
    _f("--model-control-mode"),
    _f("--repository-poll-secs", type="int"),
    _f("--load-model", action="append"),
    _f("--model-config-name"),
    _f("--model-load-thread-count", type="int"),
    _f("--model-load-retry-count", type="int"),
    _f("--model-namespacing", type="bool"),
    _f("--enable-peer-access", type="bool"),
    _f("--allow-http", type="bool"),
    _f("--http-address"),
    _f("--http-port", type="int"),
    _f("--reuse-http-port", type="bool"),
    _f("--http-header-forward-pattern"),
    _f("--http-thread-count", type="int"),
    _f("--http-max-input-size", type="int"),
    _f("--http-restricted-api", action="append"),
    _f("--allow-grpc", type="bool"),
    _f("--grpc-address"),
    _f("--grpc-port", type="int"),
    _f("--reuse-grpc-port", type="bool"),
    _f("--grpc-header-forward-pattern"),
    _f("--grpc-infer-thread-count", type="int"),
    _f("--grpc-infer-allocation-pool-size", type="int"),
    _f("--grpc-max-response-pool-size", type="int"),
    _f("--grpc-use-ssl", type="bool"),
    _f("--grpc-use-ssl-mutual", type="bool"),
    _f("--grpc-server-cert"),
    _f("--grpc-server-key"),
    _f("--grpc-root-cert"),
    _f("--grpc-infer-response-compression-level"),
    _f("--grpc-keepalive-time", type="int"),
    _f("--grpc-keepalive-timeout", type="int"),
    _f("--grpc-keepalive-permit-without-calls", type="bool"),
    _f("--grpc-http2-max-pings-without-data", type="int"),
    _f("--grpc-http2-min-recv-ping-interval-without-data", type="int"),
    _f("--grpc-http2-max-ping-strikes", type="int"),
    _f("--grpc-max-connection-age", type="int"),
    _f("--grpc-max-connection-age-grace", type="int"),
    _f("--grpc-restricted-protocol", action="append"),
    _f("--log-verbose", type="int"),
    _f("--log-info", type="bool"),
    _f("--log-warning", type="bool"),
    _f("--log-error", type="bool"),
    _f("--log-format"),
    _f("--log-file"),
    _f("--allow-sagemaker", type="bool"),
    _f("--sagemaker-port", type="int"),
    _f("--sagemaker-safe-port-range"),
    _f("--sagemaker-thread-count", type="int"),
    _f("--allow-vertex-ai", type="bool"),
    _f("--vertex-ai-port", type="int"),
    _f("--vertex-ai-thread-count", type="int"),
    _f("--vertex-ai-default-model"),
    _f("--allow-metrics", type="bool"),
    _f("--allow-gpu-metrics", type="bool"),
    _f("--allow-cpu-metrics", type="bool"),
    _f("--metrics-address"),
    _f("--metrics-port", type="int"),
    _f("--metrics-interval-ms", type="float"),
    _f("--metrics-config", action="append"),
    _f("--trace-config", action="append"),
    _f("--cache-config", action="append"),
    _f("--cache-directory"),
    _f("--rate-limit"),
    _f("--rate-limit-resource", action="append"),
    _f("--pinned-memory-pool-byte-size", type="int"),
    _f("--cuda-memory-pool-byte-size", action="append"),
    _f("--cuda-virtual-address-size", action="append"),
    _f("--min-supported-compute-capability", type="float"),
    _f("--buffer-manager-thread-count", type="int"),
    _f("--host-policy", action="append"),
    _f("--model-load-gpu-limit", action="append"),
    _f("--allow-client-shm", type="bool"),
    _f("--backend-directory"),
    _f("--backend-config", action="append"),
    _f("--repoagent-directory"),
    _f("--strict-model-config", type="bool", key="serving.strict_model_config", default=STRICT_DEFAULT),
    _f("--response-cache-byte-size", type="int"),
    _f("--trace-file"),
    _f("--trace-level"),
    _f("--trace-rate", type="int"),
    _f("--trace-count", type="int"),
    _f("--trace-log-frequency", type="int"),
)


def derive(args: Mapping[str, Json]) -> tuple[Derived, ...]:
    """``--disable-auto-complete-config`` makes the model config strict whatever ``--strict-model-config``
    says (``TritonParser::Parse``)."""
    if args.get("disable_auto_complete_config") is not True:
        return ()
    return (Derived("serving.strict_model_config", True, ("disable_auto_complete_config",),
                    f"--disable-auto-complete-config sets strict_model_config_ true ({_REPO} "
                    "src/command_line_parser.cc TritonParser::Parse)"),)


TRITONSERVER = Launcher(
    name="tritonserver",
    invocations=(Invocation(program="tritonserver"),),
    flags=FLAGS, source=SOURCE, namespace="tritonserver", derive=derive, abbreviations=True,
)

LAUNCHERS: tuple[Launcher, ...] = (TRITONSERVER,)
