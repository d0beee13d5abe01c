"""Real launch scripts (tests/corpus/launchers: TensorRT-LLM, llama-server, SGLang, lmdeploy, tritonserver, from
public repositories, byte-exact) read by the shell kind; every value asserted here was read off the script by
hand and checked against the launcher's semantics (the sources its table cites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, How, Json

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "launchers"


def _read(name: str) -> EffectiveConfig:
    return extractors.extract(CORPUS / name, "shell", ExtractOptions(root=CORPUS))


def _values(cfg: EffectiveConfig, *keys: str) -> dict[str, tuple[Json, int | None, How]]:
    return {k: (cfg[k].value, cfg[k].origin.line, cfg[k].how) for k in keys}


E, D, V = How.EXPLICIT, How.DEFAULT, How.DERIVED


def test_convert_then_build_is_one_engine() -> None:
    # convert_checkpoint.py --model_dir ... --dtype float16, then trtllm-build --max_input_len 32768
    cfg = _read("Lauler__ask-llm__scripts__convert_to_tensorrt.sh")
    assert cfg.serving is None  # it builds an engine, it serves nothing
    assert _values(cfg, "model.source", "precision.compute", "serving.max_input_length",
                   "tensorrt_llm.build.gemm_plugin", "batching.max_batch_size",
                   "serving.tensor_parallel_size") == {
        "model.source": ("models/mistral-7b/models--mistralai--Mistral-7B-Instruct-v0.2", 4, E),
        "precision.compute": ("float16", 6, E),
        "serving.max_input_length": (32768, 11, E),
        "tensorrt_llm.build.gemm_plugin": ("float16", 10, E),
        "batching.max_batch_size": (2048, None, D),  # BuildConfig.max_batch_size
        "serving.tensor_parallel_size": (1, None, D),  # convert_checkpoint.py --tp_size default
    }
    assert "serving.max_model_len" not in cfg  # --max_seq_len unset: deduced from the model's config
    assert "precision.quantization" not in cfg  # no quantization option: the HF config decides


def test_trtllm_serve_scripts() -> None:
    cfg = _read("banjuede__deepseek-test__trt-llm__serve.sh")
    assert cfg.serving == "trtllm-serve"
    assert _values(cfg, "model.source", "serving.tensor_parallel_size", "batching.max_batch_size",
                   "serving.max_num_tokens", "tensorrt_llm.serve.ep_size", "tensorrt_llm.serve.trust_remote_code") == {
        "model.source": ("/userdata/llms/DeepSeek-R1-FP4", 1, E), "serving.tensor_parallel_size": (8, 3, E),
        "batching.max_batch_size": (161, 6, E), "serving.max_num_tokens": (1160, 7, E),
        "tensorrt_llm.serve.ep_size": (4, 5, E), "tensorrt_llm.serve.trust_remote_code": (True, 9, E)}

    cfg = _read("phatvo9__benchmark_gpu__tuning__tensorrt_llm__deepseek-r1__mtp__start_config1.sh")
    assert _values(cfg, "model.source", "serving.tensor_parallel_size", "batching.max_batch_size") == {
        "model.source": ("nvidia/DeepSeek-R1-FP4", 4, E), "serving.tensor_parallel_size": (8, 6, E),
        "batching.max_batch_size": (2048, None, D)}
    extra = cfg["tensorrt_llm.serve.extra_llm_api_options"]
    assert extra.value == "./tuning/tensorrt_llm/deepseek-r1/mtp/trt_bench_mtp.yaml"

    # `trtllm-serve serve $MODEL_PATH` with MODEL_PATH=${1:-YOUR_MODEL_PATH} and the limits in variables
    cfg = _read("taco-project__FlexKV__examples__trtllm_adaption__launch.sh")
    assert _values(cfg, "serving.max_model_len", "serving.max_num_tokens", "batching.max_batch_size",
                   "serving.tensor_parallel_size", "tensorrt_llm.serve.ep_size") == {
        "serving.max_model_len": (155648, 18, E), "serving.max_num_tokens": (16384, 19, E),
        "batching.max_batch_size": (4, 20, E), "serving.tensor_parallel_size": (8, 16, E),
        "tensorrt_llm.serve.ep_size": (8, 17, E)}
    assert cfg["model.source"].value == "YOUR_MODEL_PATH"  # the script's own default for $1


def test_llama_server_per_slot_context_and_sampling() -> None:
    # -c 8192 --parallel 4 without --kv-unified: each slot (one request) gets 8192 / 4 tokens
    cfg = _read("peekaboolabs-dev__doctor-note__scripts__run_llama_server_clean.sh")
    assert _values(cfg, "serving.max_model_len", "batching.max_batch_size", "generation.max_new_tokens",
                   "serving.max_num_tokens", "generation.temperature", "generation.top_p", "generation.top_k",
                   "generation.repetition_penalty", "generation.min_p", "llama_cpp.n_gpu_layers") == {
        "serving.max_model_len": (2048, 13, V), "batching.max_batch_size": (4, 20, E),
        "generation.max_new_tokens": (2048, 17, E), "serving.max_num_tokens": (512, 19, E),
        "generation.temperature": (1.0, 26, E), "generation.top_p": (0.95, 27, E), "generation.top_k": (40, 28, E),
        "generation.repetition_penalty": (1.1, 29, E),
        "generation.min_p": (0.05, None, D),  # common_params_sampling min_p
        "llama_cpp.n_gpu_layers": ("-1", 16, E)}
    assert cfg["llama_cpp.ctx_size"].value == 8192


def test_llama_server_underscored_flags_and_defaults() -> None:
    cfg = _read("XavierSpycy__hands-on-lora__examples__llama_chinese__deploy_cli.sh")
    assert _values(cfg, "model.source", "serving.max_model_len", "serving.max_num_tokens",
                   "generation.max_new_tokens", "generation.repetition_penalty", "generation.top_k",
                   "generation.top_p", "generation.temperature", "batching.max_batch_size") == {
        "model.source": ("./Meta-Llama-3-8B-Instruct-zh-10k/meta-llama-3-8b-instruct-zh-10k.Q8_0.gguf", 3, E),
        "serving.max_model_len": (512, 4, V), "serving.max_num_tokens": (64, 5, E),
        "generation.max_new_tokens": (256, 6, E),
        "generation.repetition_penalty": (1.2, 8, E),  # --repeat_penalty: llama.cpp reads '_' as '-'
        "generation.top_k": (20, 9, E), "generation.top_p": (0.5, 10, E),
        "generation.temperature": (0.8, None, D),  # unset: common_params_sampling temp
        "batching.max_batch_size": (4, None, D),  # -np unset: 4 slots (server.cpp)
    }


def test_llama_server_from_the_hub_with_an_older_bare_flash_attn() -> None:
    cfg = _read("lum7671__Scripts__run_llvm_coder.zsh")
    assert _values(cfg, "model.source", "serving.max_num_tokens", "llama_cpp.flash_attn",
                   "llama_cpp.n_gpu_layers", "llama_cpp.ctx_size") == {
        "model.source": ("ggml-org/Qwen2.5-Coder-3B-Q8_0-GGUF", 4, E), "serving.max_num_tokens": (1024, 5, E),
        "llama_cpp.flash_attn": ("on", 5, E), "llama_cpp.n_gpu_layers": ("99", 5, E),
        "llama_cpp.ctx_size": (0, 6, E)}
    assert "serving.max_model_len" not in cfg  # -c 0: the model's trained context, not known from the script


def test_three_different_llama_servers_in_one_script_are_an_input_error() -> None:
    with pytest.raises(ExtractionError, match="several servers that disagree"):
        _read("haskoe__beancount-ledger__start-llm.sh")


def test_sglang_scripts() -> None:
    cfg = _read("WittenYeh__LSMCache__server.sh")
    assert _values(cfg, "model.source", "serving.tensor_parallel_size", "sglang.mem_fraction_static",
                   "sglang.attention_backend") == {
        "model.source": ("/root/Qwen-7B/", 6, E), "serving.tensor_parallel_size": (1, 13, E),  # --tp: argparse prefix
        "sglang.mem_fraction_static": (0.8, 9, E), "sglang.attention_backend": ("torch_native", 11, E)}
    assert cfg["sglang.unknown_flags.enable-kvstore"].origin.line == 14  # the fork's own flag: SGLang rejects it

    cfg = _read("YangZhou08__LongBench__launchserver.sh")  # the first launch is commented out
    assert _values(cfg, "model.source", "sglang.dp_size", "serving.tensor_parallel_size") == {
        "model.source": ("YangZhoumill/climb_234567_8k", 7, E), "sglang.dp_size": (4, 9, E),
        "serving.tensor_parallel_size": (1, None, D)}


@pytest.mark.parametrize(("name", "tp", "batch"), [
    ("gmftbyGMFTBY__DIDD__eval__CriticEval__inference__utils__deploy__deploy_high_quality_qwen_1.5_7b.sh", 1, 4),
    ("gmftbyGMFTBY__DIDD__eval__CriticEval__inference__utils__deploy__deploy_high_quality_llama3_70b.sh", 4, 1),
])
def test_lmdeploy_scripts(name: str, tp: int, batch: int) -> None:
    cfg = _read(name)
    assert cfg.serving == "lmdeploy-server"
    assert _values(cfg, "serving.tensor_parallel_size", "batching.max_batch_size", "lmdeploy.server_port") == {
        "serving.tensor_parallel_size": (tp, 7, E), "batching.max_batch_size": (batch, 7, E),
        "lmdeploy.server_port": (2333, 7, E)}
    assert str(cfg["model.source"].value).startswith("/cpfs01/shared/public/public_hdd/llmeval/model_weights/")


def test_tritonserver_scripts() -> None:
    cfg = _read("karmueo__triton_client__start_triton_server.sh")
    assert _values(cfg, "serving.strict_model_config", "tritonserver.model_repository") == {
        "serving.strict_model_config": (True, 5, V),  # --disable-auto-complete-config
        "tritonserver.model_repository": (["./triton_model"], 4, E)}

    # docker run ... nvcr.io/nvidia/tritonserver:21.09-py3 tritonserver --strict-model-config=false
    cfg = _read("tienluongngoc__yolov5_triton_inference_server__scripts__yolov5__run_triton.sh")
    assert _values(cfg, "serving.strict_model_config", "tritonserver.model_repository",
                   "tritonserver.log_verbose") == {
        "serving.strict_model_config": (False, 10, E), "tritonserver.model_repository": (["/models"], 9, E),
        "tritonserver.log_verbose": (1, 11, E)}
