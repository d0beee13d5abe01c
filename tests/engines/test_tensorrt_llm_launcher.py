"""The TensorRT-LLM tables: trtllm-build, trtllm-serve and the Llama convert_checkpoint.py, checked by hand
against the sources the module names."""

from __future__ import annotations

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
