"""The vLLM launcher table: read from vLLM's argument definitions, it knows every engine arg the vllm kind
maps or recognises, so a flag is read as the same arg of a ``vllm serve --config`` file."""

from __future__ import annotations

from driftguard.engines import vllm as vllm_engine
from driftguard.engines.vllm_launcher import SERVE
from driftguard.extractors import vllm as vllm_kind


def test_invocations_and_the_config_flag() -> None:
    assert [i.shown() for i in SERVE.invocations] == ["vllm serve", "python -m vllm.entrypoints.openai.api_server"]
    assert SERVE.invocations[0].positionals == ("model",) and SERVE.config_flag == "config"
    assert SERVE.kind == "vllm" and SERVE.serving == "vllm-serve" and SERVE.underscores


def test_every_engine_arg_the_vllm_kind_reads_is_a_flag_with_its_key() -> None:
    dests = SERVE.by_dest()
    for name in (*vllm_engine.ENGINE_FIELDS, *vllm_kind._ENGINE_ARGS, *vllm_kind._ENGINE_MARKERS,
                 "override_generation_config", "chat_template"):
        assert name in dests, name
    for name, key in vllm_engine.ENGINE_FIELDS.items():
        assert dests[name].key == key
    assert dests["gpu_memory_utilization"].key == "vllm.gpu_memory_utilization"
    for name, (key, _) in vllm_engine.ENGINE_ALSO.items():
        if name in dests:
            assert (dests[name].key, dests[name].also) == (key, True), name
    assert not dests["dtype"].also


def test_flag_semantics_as_arg_utils_declares_them() -> None:
    assert SERVE.flag("-tp") is SERVE.flag("--tensor-parallel-size") is SERVE.flag("--tensor_parallel_size")
    assert SERVE.flag("-q").dest == "quantization" and SERVE.flag("-O").dest == "compilation_config"
    assert SERVE.flag("--enforce-eager").action == "bool_optional"  # store_true in 0.7, BooleanOptionalAction later
    assert SERVE.flag("--disable-log-stats").action == "store_true"
    assert SERVE.flag("--no-enable-prefix-caching").dest == "enable_prefix_caching"
    assert SERVE.flag("--enable-chunked-prefill").action == "optional"
    assert SERVE.flag("--served-model-name").action == "nargs"
    assert SERVE.flag("--max-model-len").type == "int" and SERVE.flag("--swap-space").type == "float"
    assert SERVE.flag("--override-generation-config").type == "json"
    assert "float16" in SERVE.flag("--dtype").choices
    assert SERVE.flag("--max-modle-len") is None
    assert SERVE.flag("--no-enable-chunked-prefill").dest == "enable_chunked_prefill"  # 0.7 optional, later negatable
    assert SERVE.flag("--no-trust-remote-code").dest == "trust_remote_code"
    assert SERVE.flag("-dp").dest == "data_parallel_size" and SERVE.flag("--reasoning-parser") is not None
    assert SERVE.flag("--external_parameters") is None
