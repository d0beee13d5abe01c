"""Real launch scripts (tests/corpus/scripts: 12 files from 8 public repositories), each read by the shell kind
and compared with what the script says, read by hand against the launcher's semantics: the flag's value, the
line it is written on, and what the files leave unresolved ($1, the container's environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, How

SCRIPTS = Path(__file__).resolve().parents[1] / "corpus" / "scripts"

#: file -> serving path, {key: (value, line)}; a value None is unresolved (its expression in UNRESOLVED).
EXPECTED: dict[str, tuple[str, dict[str, tuple[object, int]]]] = {
    "WohimLee__vLLM-Tutorial__6.openai_server__src__launch_vllm.sh": ("vllm-serve", {
        "vllm.host": ("0.0.0.0", 12), "vllm.port": (6666, 13), "vllm.model": ("models/Qwen3-8B", 14),
        "serving.max_model_len": (8192, 15), "vllm.gpu_memory_utilization": (0.85, 16),
        "vllm.max_num_seqs": (64, 17), "vllm.tensor_parallel_size": (1, 18)}),
    "WohimLee__vLLM-Tutorial__old__src__lauch_openai.sh": ("vllm-serve", {
        "vllm.model": ("/home/azen/model/qwen2.5-7B-instruct", 1), "serving.max_model_len": (8192, 2),
        "vllm.gpu_memory_utilization": (0.95, 3), "precision.compute": ("float16", 4)}),
    "Mikeriess__Synth_data__services__run_vllm.sh": ("vllm-serve", {
        "vllm.model": ("google/gemma-2-27b-it", 2), "model.source": ("google/gemma-2-27b-it", 2),
        "vllm.gpu_memory_utilization": (0.95, 3), "serving.tensor_parallel_size": (4, 4),
        "vllm.tensor_parallel_size": (4, 4), "vllm.port": (8000, 6)}),
    "Mikeriess__Synth_data__services__run_vllm_small.sh": ("vllm-serve", {
        "vllm.gpu_memory_utilization": (1.0, 3), "vllm.tensor_parallel_size": (4, 4)}),
    "jby20180901__BuildingAgent__model_api__qwen3_next.sh": ("vllm-serve", {
        "vllm.tensor_parallel_size": (2, 5), "precision.compute": ("bfloat16", 6), "vllm.trust_remote_code": (True, 7),
        "vllm.port": (8011, 10), "serving.max_model_len": (262144, 11)}),
    "jby20180901__BuildingAgent__model_api__qwen3_vl.sh": ("vllm-serve", {
        "serving.max_model_len": (131072, 11), "vllm.limit_mm_per_prompt": ('{"image": 24, "video": 1}', 12)}),
    "mathllm__Step-Controlled_DPO__alignment-handbook__scripts_sh__deploy.sh": ("tgi", {
        "tgi.launcher.port": (8001, 9), "tgi.launcher.max_batch_prefill_tokens": (3072, 10),
        "tgi.launcher.max_input_length": (3072, 11), "tgi.launcher.max_total_tokens": (4096, 12),
        "tgi.launcher.model_id": (None, 13), "model.source": (None, 13), "serving.max_model_len": (4096, 12)}),
    "mathllm__MathCoder2__data_processing__basic_data__open_web_math__deploy.sh": ("tgi", {
        "tgi.launcher.max_input_length": (3072, 11), "tgi.launcher.max_total_tokens": (6144, 12),
        "tgi.launcher.model_id": ("mistralai/Mixtral-8x7B-Instruct-v0.1", 13), "serving.max_model_len": (6144, 12),
        "serving.max_input_length": (3072, 11), "model.source": ("mistralai/Mixtral-8x7B-Instruct-v0.1", 13)}),
    "michelgirault__ai-server__vllm-opt__starter.sh": ("vllm-serve", {
        "vllm.model": (None, 4), "precision.compute": (None, 4), "vllm.host": ("0.0.0.0", 5), "vllm.port": (4000, 6),
        "precision.quantization": (None, 8), "serving.max_model_len": (None, 10)}),
    "zaidalyafeai__OpenTutorGym__scripts__start_server.sh": ("vllm-serve", {
        "vllm.model": (None, 3), "vllm.port": (None, 5), "vllm.tensor_parallel_size": (2, 7),
        "serving.max_model_len": (4096, 9), "vllm.max_num_seqs": (50, 10), "precision.compute": ("bfloat16", 11)}),
    "zaidalyafeai__OpenTutorGym__scripts__start_tutor_server.sh": ("vllm-serve", {
        "vllm.model": (None, 3), "model.source": (None, 3), "serving.max_model_len": (4096, 8),
        "precision.compute": ("bfloat16", 10),
        "precision.quantization": ("bitsandbytes", 12), "vllm.load_format": ("bitsandbytes", 13),
        "vllm.enable_lora": (True, 14)}),
}

UNRESOLVED = {
    ("mathllm__Step-Controlled_DPO__alignment-handbook__scripts_sh__deploy.sh", "tgi.launcher.model_id"):
        "${model_path}",
    ("michelgirault__ai-server__vllm-opt__starter.sh", "serving.max_model_len"): "$MODEL_LEN",
    ("zaidalyafeai__OpenTutorGym__scripts__start_tutor_server.sh", "vllm.model"): "/ibex/ai/home/alyafez/models/$1",
    ("zaidalyafeai__OpenTutorGym__scripts__start_tutor_server.sh", "model.source"): "/ibex/ai/home/alyafez/models/$1",
}


def extract(name: str) -> EffectiveConfig:
    return extractors.extract(SCRIPTS / name, "shell", ExtractOptions(root=SCRIPTS))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_script_values_checked_by_hand(name: str) -> None:
    serving, expected = EXPECTED[name]
    cfg = extract(name)
    assert cfg.serving == serving
    for key, (value, line) in expected.items():
        v = cfg[key]
        assert v.origin.line == line, (key, v.origin)
        if value is None:
            assert v.how == How.UNRESOLVED, key
            if (name, key) in UNRESOLVED:
                assert v.value == UNRESOLVED[name, key]
        else:
            assert (v.value, v.how) == (value, How.EXPLICIT), key
    assert not [k for k in cfg.values if ".unknown_flags." in k]


def test_every_real_script_is_detected_as_shell() -> None:
    assert {extractors.detect(p) for p in SCRIPTS.iterdir() if p.name != "MANIFEST.tsv"} == {"shell"}


def test_commented_out_flags_after_a_continued_line_are_not_read() -> None:
    cfg = extract("jby20180901__BuildingAgent__model_api__qwen3_next.sh")
    assert "vllm.reasoning_parser" not in cfg and "vllm.speculative_config" not in cfg


def test_a_template_value_the_launcher_refuses_is_an_input_error_at_its_line() -> None:
    with pytest.raises(ExtractionError, match="--tensor-parallel-size: 'Your_GPU_number' is not an int") as exc:
        extract("FreedomIntelligence__Smurfs__script__vllm_server.sh")
    assert exc.value.line == 7
