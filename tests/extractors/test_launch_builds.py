"""What launch_common does for the launchers beyond vLLM and TGI: build steps joining the server's config,
launcher rules combining flags (``Launcher.derive``), chat template flags, dtype spellings, commands run in a
container (``docker run IMAGE CMD``), through the CLI too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions
from driftguard.keys import chat_template_digest
from driftguard.model import EffectiveConfig, How

BUILD_AND_SERVE = """\
#!/bin/bash
set -e
python3 examples/llama/convert_checkpoint.py --model_dir ./Llama-3-8B-Instruct \\
    --output_dir ./ckpt --dtype bfloat16 --tp_size 2 \\
    --use_weight_only --weight_only_precision int4
trtllm-build --checkpoint_dir ./ckpt --output_dir ./engine \\
    --max_batch_size 64 --max_input_len 3072 --max_seq_len 4096 --gemm_plugin auto
trtllm-serve ./engine --tokenizer ./Llama-3-8B-Instruct --tp_size 2 --port 8000
"""


def _script(tmp_path: Path, text: str, name: str = "deploy.sh") -> Path:
    script = tmp_path / name
    script.write_text(text)
    return script


def _read(script: Path) -> EffectiveConfig:
    return extractors.extract(script, "shell", ExtractOptions(root=script.parent))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_build_steps_join_the_server(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, BUILD_AND_SERVE))
    assert cfg.serving == "trtllm-serve"
    got = {k: (cfg[k].value, cfg[k].origin.line, cfg[k].how) for k in (
        "model.source", "precision.compute", "precision.quantization", "serving.tensor_parallel_size",
        "batching.max_batch_size", "serving.max_input_length", "serving.max_model_len", "serving.max_num_tokens")}
    assert got == {
        # trtllm-serve loads ./engine, which trtllm-build wrote from ./ckpt, which came from this model
        "model.source": ("./Llama-3-8B-Instruct", 3, How.EXPLICIT),
        "precision.compute": ("bfloat16", 4, How.EXPLICIT),
        "precision.quantization": ("w4a16", 5, How.DERIVED),  # --use_weight_only --weight_only_precision int4
        "serving.tensor_parallel_size": (2, 8, How.EXPLICIT),  # both say 2: no conflict
        "batching.max_batch_size": (64, 7, How.EXPLICIT),  # the build's limit beats trtllm-serve's default
        "serving.max_input_length": (3072, 7, How.EXPLICIT),
        "serving.max_model_len": (4096, 7, How.EXPLICIT),
        "serving.max_num_tokens": (8192, None, How.DEFAULT),
    }
    assert cfg["tensorrt_llm.build.output_dir"].value == "./engine"
    assert cfg["tensorrt_llm.convert_checkpoint.output_dir"].value == "./ckpt"  # its own namespace: no clash
    assert cfg["precision.quantization"].derived_from == (
        "tensorrt_llm.convert_checkpoint.use_weight_only", "tensorrt_llm.convert_checkpoint.weight_only_precision")


def test_build_and_serve_stating_different_values_is_an_input_error(tmp_path: Path) -> None:
    text = BUILD_AND_SERVE.replace("--tp_size 2 --port", "--tp_size 4 --port")
    with pytest.raises(ExtractionError, match=r"serving\.tensor_parallel_size") as info:
        _read(_script(tmp_path, text))
    assert info.value.line == 3  # the conversion that says 2


def test_a_server_loading_another_model_than_the_build_chain_is_an_input_error(tmp_path: Path) -> None:
    text = BUILD_AND_SERVE.replace("trtllm-serve ./engine", "trtllm-serve meta-llama/Llama-3.1-8B")
    with pytest.raises(ExtractionError, match=r"model\.source"):
        _read(_script(tmp_path, text))


def test_derived_values_replace_what_the_flags_say_alone(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, "tritonserver --model-repository=/models --strict-model-config=false \\\n"
                                  "  --disable-auto-complete-config\n"))
    v = cfg["serving.strict_model_config"]
    assert (v.value, v.how, v.origin.line) == (True, How.DERIVED, 2)
    assert v.explicit  # it follows from what the script wrote
    assert _read(_script(tmp_path, "tritonserver --model-repository /m\n"))["serving.strict_model_config"].how \
        == How.DEFAULT


def test_llama_server_environment_variables(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, "export LLAMA_ARG_CTX_SIZE=16384\nexport LLAMA_ARG_N_PARALLEL=2\n"
                                  "llama-server -m /models/m.gguf --temp 0.2\n"))
    assert cfg["serving.max_model_len"].value == 8192  # 16384 / 2 slots
    assert cfg["batching.max_batch_size"].value == 2 and cfg["batching.max_batch_size"].origin.line == 2
    assert cfg["generation.temperature"].value == 0.2


@pytest.mark.parametrize(("flag", "key", "value"), [
    ("--chat-template chatml", "preprocessing.chat_template_name", "chatml"),
    ("--chat-template-file templates/chat.jinja", "preprocessing.chat_template",
     chat_template_digest("{{ messages }}\n")),
])
def test_llama_server_chat_template(tmp_path: Path, flag: str, key: str, value: str) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "chat.jinja").write_text("{{ messages }}\n")
    cfg = _read(_script(tmp_path, f"llama-server -m m.gguf {flag}\n"))
    assert cfg[key].value == value and cfg[key].origin.line == 1


def test_a_chat_template_file_outside_the_tree_is_refused(tmp_path: Path) -> None:
    inner = tmp_path / "repo"
    inner.mkdir()
    (tmp_path / "t.jinja").write_text("x")
    with pytest.raises(ExtractionError, match="chat template"):
        _read(_script(inner, "llama-server -m m.gguf --chat-template-file ../t.jinja\n"))


def test_sglang_dtype_spelling_and_human_readable_context(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, "python -m sglang.launch_server --model-path Qwen/Qwen2.5-7B-Instruct \\\n"
                                  "  --dtype half --context-length 32k --chat-template chatml\n"))
    assert cfg["precision.compute"].value == "float16"  # SGLang's 'half'
    assert cfg["serving.max_model_len"].value == 32000 and cfg["serving.max_model_len"].how == How.DERIVED
    assert cfg["preprocessing.chat_template_name"].value == "chatml"


def test_lmdeploy_model_format(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, "lmdeploy serve api_server Qwen/Qwen2-7B-Instruct-AWQ --model-format awq "
                                  "--session_len 8192 --chat-template qwen\n"))
    assert cfg["precision.quantization"].value == "awq" and cfg["serving.max_model_len"].value == 8192
    assert cfg["preprocessing.chat_template_name"].value == "qwen"


def test_docker_run_starts_the_command_after_the_image(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, "docker run --gpus all -it --rm -p8000:8000 -v $(pwd)/models:/models \\\n"
                                  "  -e LLAMA_ARG_TEMPERATURE=0.3 ghcr.io/ggml-org/llama.cpp:server \\\n"
                                  "  llama-server -m /models/m.gguf -c 4096\n"))
    assert cfg["serving.max_model_len"].value == 4096
    assert cfg["generation.temperature"].value == 0.3 and cfg["generation.temperature"].origin.line == 2
    with pytest.raises(ExtractionError, match="no known launcher"):  # the image's own entrypoint: not said
        _read(_script(tmp_path, "docker run -d --rm ghcr.io/huggingface/text-generation-inference:2.0 "
                                "--model-id m\n"))


def test_cli_extract_build_and_serve(tmp_path: Path) -> None:
    script = _script(tmp_path, BUILD_AND_SERVE, "build_and_serve.sh")
    proc = run("extract", f"shell:{script}", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)["values"]
    assert values["serving.max_input_length"]["value"] == 3072
    assert values["serving.max_input_length"]["origin"]["line"] == 7
    assert values["precision.quantization"]["value"] == "w4a16"


def test_cli_extract_llama_server(tmp_path: Path) -> None:
    script = _script(tmp_path, "#!/bin/bash\nllama-server -m /models/m.gguf -c 8192 -np 4 --top-k 20\n", "serve.sh")
    proc = run("extract", f"shell:{script}", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)["values"]
    assert values["serving.max_model_len"]["value"] == 2048 and values["serving.max_model_len"]["how"] == "derived"
    assert values["generation.top_k"]["value"] == 20 and values["generation.top_p"]["value"] == 0.95
    bad = _script(tmp_path, "llama-server -m m.gguf --top-k\n", "bad.sh")
    proc = run("extract", f"shell:{bad}")
    assert proc.returncode == 2 and "bad.sh:1" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_check_llama_server_against_the_training_generation_config(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "generation_config.json").write_text(
        '{"do_sample": true, "temperature": 0.7, "top_p": 0.9, "top_k": 40}\n')
    (tmp_path / "serve.sh").write_text("#!/bin/bash\nllama-server -m /models/m.gguf -c 4096 \\\n"
                                       "  --temp 0.7 --top-p 0.95\n")
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: training/generation_config.json\n"
        "    deployment:\n      - path: serve.sh\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    findings = {f["key"]: f for m in json.loads(proc.stdout)["models"] for f in m["findings"]}
    top_p = findings["generation.top_p"]  # the script's --top-p 0.95, at its line, against the training 0.9
    assert (top_p["rule"], top_p["training"], top_p["deployed"]) == ("DG101", 0.9, 0.95)
    assert (top_p["deployed_origin"]["path"], top_p["deployed_origin"]["line"]) == ("serve.sh", 3)
    assert "generation.temperature" not in findings and "generation.top_k" not in findings  # equal: no finding


def test_medusa_heads_come_from_the_medusa_conversion_not_max_draft_len(tmp_path: Path) -> None:
    cfg = _read(_script(tmp_path, "python examples/medusa/convert_checkpoint.py --model_dir ./vicuna-7b \\\n"
                                  "    --medusa_model_dir ./medusa-vicuna-7b --output_dir ./ckpt --dtype float16\n"
                                  "trtllm-build --checkpoint_dir ./ckpt --output_dir ./engine \\\n"
                                  "    --speculative_decoding_mode medusa --max_draft_len 63\n"))
    heads = cfg["model.speculative.num_heads"]
    assert (heads.value, heads.how, heads.origin.line) == (4, How.DERIVED, 2)  # --num_medusa_heads default
    assert cfg["tensorrt_llm.build.max_draft_len"].value == 63  # draft tokens per step, kept apart
