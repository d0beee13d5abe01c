"""The TensorRT-LLM tables: trtllm-build, trtllm-serve and the Llama convert_checkpoint.py, checked by hand
against the sources the module names."""

from __future__ import annotations

import pytest

from driftguard.engines.launcher import Flag, Launcher
from driftguard.engines.tensorrt_llm_launcher import (
    BUILD_DEFAULTS,
    CONVERT_CHECKPOINT,
    SERVE_DEFAULTS,
    TRTLLM_BUILD,
    TRTLLM_SERVE,
    derive_convert,
)
from driftguard.model import Json


def _f(launcher: Launcher, spelling: str) -> Flag:
    flag = launcher.flag(spelling)
    assert flag is not None, spelling
    return flag


def test_build_options() -> None:
    b = TRTLLM_BUILD
    assert b.serving is None and b.builds == "output_dir"  # a build tool: its limits are the engine's
    assert b.flag("--max_seq_len") is b.flag("--max_decoder_seq_len")
    assert _f(b, "--max_seq_len").key == "serving.max_model_len" and _f(b, "--max_seq_len").default is None
    assert _f(b, "--max_input_len").key == "serving.max_input_length"
    assert _f(b, "--max_batch_size").key == "batching.max_batch_size"
    assert _f(b, "--max_num_tokens").key == "serving.max_num_tokens"
    assert {k: d.value for k, d in BUILD_DEFAULTS.items()} == {
        "batching.max_batch_size": 2048, "serving.max_input_length": 1024, "serving.max_num_tokens": 8192}
    assert b.flag("--max-seq-len") is None and not b.underscores  # argparse, underscore spellings only
    assert _f(b, "--gemm_plugin").takes_value and _f(b, "--tokens_per_block").type == "int"
    assert _f(b, "--lora_dir").action == "nargs" and _f(b, "--lora_dir").key == "model.adapters"
    assert _f(b, "--max_draft_len").key is None  # draft tokens, not Medusa heads
    assert _f(b, "--max_multimodal_len").dest == "max_prompt_embedding_table_size"
    assert b.flag("--dtype") is None and b.flag("--tp_size") is None  # both are convert_checkpoint.py's


def test_serve_options() -> None:
    s = TRTLLM_SERVE
    assert s.serving == "trtllm-serve"
    assert [(i.program or i.module, i.subcommand) for i in s.invocations] == [
        ("trtllm-serve", ("serve",)), ("trtllm-serve", ()), ("tensorrt_llm.commands.serve", ("serve",)),
        ("tensorrt_llm.commands.serve", ())]
    assert s.by_dest()["model"].key == "model.source"
    assert _f(s, "--tp_size").key == "serving.tensor_parallel_size"
    assert _f(s, "--tp_size").default == SERVE_DEFAULTS["serving.tensor_parallel_size"]
    assert _f(s, "--max_batch_size").default == SERVE_DEFAULTS["batching.max_batch_size"]
    assert {k: d.value for k, d in SERVE_DEFAULTS.items()} == {
        "batching.max_batch_size": 2048, "serving.max_num_tokens": 8192, "serving.tensor_parallel_size": 1}
    assert _f(s, "--trust_remote_code").action == "store_true"
    assert _f(s, "--kv_cache_free_gpu_memory_fraction").type == "float"


def test_convert_options_and_quantization() -> None:
    c = CONVERT_CHECKPOINT
    (inv,) = c.invocations
    assert inv.script == "convert_checkpoint.py" and c.serving is None
    assert _f(c, "--model_dir").key == "model.source" and _f(c, "--dtype").key == "precision.compute"
    assert _f(c, "--dtype").choices == ("auto", "float16", "bfloat16", "float32")
    assert c.flag("-sq") is c.flag("--smoothquant")
    assert _f(c, "--weight_only_precision").action == "optional" and _f(c, "--weight_only_precision").const == "int8"

    def scheme(**args: Json) -> Json:
        found = derive_convert(args)
        return found[0].value if found else None

    assert scheme(use_weight_only=True, weight_only_precision="int4") == "w4a16"
    assert scheme(use_weight_only=True) == "w8a16"  # the default precision, int8
    assert scheme(use_weight_only=True, weight_only_precision="int4_awq") == "awq"
    assert scheme(use_weight_only=True, weight_only_precision="int4_gptq") == "gptq"
    assert scheme(use_fp8=True) == "fp8" and scheme(use_nvfp4=True) == "nvfp4"
    assert scheme(smoothquant=0.5) == "w8a8_sq_per_tensor_plugin"
    assert scheme(smoothquant=0.5, per_channel=True, per_token=True) == "w8a8_sq_per_channel_per_token_plugin"
    # args_to_quant_config: per channel alone is QuantAlgo.W8A8_SQ_PER_CHANNEL_PER_TENSOR_PLUGIN, per token alone
    # W8A8_SQ_PER_TENSOR_PER_TOKEN_PLUGIN (NVIDIA/TensorRT-LLM@368f8f2ade00
    # examples/models/core/llama/convert_checkpoint.py)
    assert scheme(smoothquant=0.5, per_channel=True) == "w8a8_sq_per_channel_per_tensor_plugin"
    assert scheme(smoothquant=0.5, per_token=True) == "w8a8_sq_per_tensor_per_token_plugin"
    assert scheme(use_weight_only=True, use_fp8=True, weight_only_precision="int4") == "w4a16"  # checked first
    assert scheme(dtype="float16") is None  # no option quantizes: the HF config may, so nothing is claimed


def test_medusa_heads() -> None:
    c = CONVERT_CHECKPOINT
    assert _f(c, "--num_medusa_heads").key == "model.speculative.num_heads"
    assert _f(c, "--load-model-on-cpu").dest == _f(c, "--load_model_on_cpu").dest  # the two scripts' spellings
    heads = {d.key: d.value for d in derive_convert({"medusa_model_dir": "./medusa", "max_medusa_token_len": 63})}
    assert heads == {"model.speculative.num_heads": 4}  # the Medusa script's default
    assert derive_convert({"medusa_model_dir": "./medusa", "num_medusa_heads": 5}) == ()  # the flag says it
    assert derive_convert({"model_dir": "./llama"}) == ()  # not a Medusa conversion: no heads


#: tensorrt_llm/plugin/plugin.py ``cli_plugin_args`` (NVIDIA/TensorRT-LLM@c20322ffd3dc): add_plugin_argument makes
#: each a ``--<name>`` option taking one value: a dtype or ``enable``/``disable`` (``type=str``), save
#: tokens_per_block, whose field is an int.
CLI_PLUGIN_ARGS = ("bert_attention_plugin", "gpt_attention_plugin", "gemm_plugin", "gemm_swiglu_plugin",
                   "fp8_rowwise_gemm_plugin", "lora_plugin", "dora_plugin", "moe_plugin", "mamba_conv1d_plugin",
                   "nccl_plugin", "low_latency_gemm_plugin", "low_latency_gemm_swiglu_plugin",
                   "gemm_allreduce_plugin", "context_fmha", "bert_context_fmha_fp32_acc", "remove_input_padding",
                   "tokens_per_block", "use_paged_context_fmha", "use_fp8_context_fmha", "fuse_fp4_quant",
                   "multiple_profiles", "paged_state", "streamingllm", "norm_quant_fusion", "reduce_fusion",
                   "user_buffer", "use_fused_mlp", "pp_reduce_scatter")


@pytest.mark.parametrize("name", CLI_PLUGIN_ARGS)
def test_each_plugin_option_takes_one_value_of_its_fields_type(name: str) -> None:
    flag = _f(TRTLLM_BUILD, f"--{name}")
    assert (flag.action, flag.type) == ("store", "int" if name == "tokens_per_block" else "str")


def test_argparse_takes_a_unique_prefix_of_an_option() -> None:
    """build.py and convert_checkpoint.py build a plain argparse.ArgumentParser (allow_abbrev True)."""
    assert _f(CONVERT_CHECKPOINT, "--use_weight_o").dest == "use_weight_only"
    assert _f(CONVERT_CHECKPOINT, "--model_d").dest == "model_dir"
    assert _f(TRTLLM_BUILD, "--max_input").dest == "max_input_len"


@pytest.mark.parametrize(("args", "scheme"), [
    # args_to_quant_config (examples/models/core/llama/convert_checkpoint.py): `elif args.smoothquant:` is a
    # truth test of the float alpha, so 0.0 smoothquants nothing and any other value does.
    ({"smoothquant": 0.0}, None), ({"smoothquant": 1.0}, "w8a8_sq_per_tensor_plugin"),
    ({"smoothquant": -1.0}, "w8a8_sq_per_tensor_plugin"),
    ({"smoothquant": 0.5, "per_token": True}, "w8a8_sq_per_tensor_per_token_plugin"),
    ({"smoothquant": 0.5, "per_channel": True}, "w8a8_sq_per_channel_per_tensor_plugin"),
    # `elif args.use_fp8_rowwise: QuantAlgo.FP8_PER_CHANNEL_PER_TOKEN`
    ({"use_fp8_rowwise": True}, "fp8_per_channel_per_token"), ({"use_fp8_rowwise": False}, None),
    # `elif args.use_qserve: W4A8_QSERVE_PER_GROUP if args.per_group else W4A8_QSERVE_PER_CHANNEL`
    ({"use_qserve": True}, "w4a8_qserve_per_channel"),
    ({"use_qserve": True, "per_group": True}, "w4a8_qserve_per_group"),
    ({"use_qserve": True, "per_group": False}, "w4a8_qserve_per_channel"),
    ({"use_qserve": False, "per_group": True}, None),
])
def test_the_checkpoints_quantization_as_args_to_quant_config_decides(args: dict[str, Json],
                                                                      scheme: str | None) -> None:
    found = {d.key: d.value for d in derive_convert(args)}
    assert found.get("precision.quantization") == scheme
