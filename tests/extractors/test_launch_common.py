"""extractors.launch_common: commands matched to launchers (wrappers skipped), argv parsed with each launcher's
flag semantics, and resolved through the engine kind's own resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import launch_common
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, How
from driftguard.readers.commands import Command, Word
from driftguard.readers.shell import commands

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shell" / "good"


def cmd(text: str, env: dict[str, str] | None = None) -> Command:
    [c] = commands(text + "\n", "s.sh", env={k: Word(v, k) for k, v in (env or {}).items()})
    return c


def resolve(text: str, tmp_path: Path, env: dict[str, str] | None = None) -> EffectiveConfig:
    m = launch_common.match(cmd(text, env))
    assert m is not None
    return launch_common.resolve(m, tmp_path / "s.sh", ExtractOptions(root=tmp_path), "shell")


@pytest.mark.parametrize("text", [
    "vllm serve m", "exec vllm serve m", "/usr/local/bin/vllm serve m", "nohup vllm serve m",
    "time -p vllm serve m", "sudo -u svc -E vllm serve m", "env -u X A=1 vllm serve m",
    "uv run --with x vllm serve m", "nice -n 5 vllm serve m", "python -m vllm.entrypoints.openai.api_server --model m",
    "python3.11 -u -W ignore -m vllm.entrypoints.openai.api_server", "A=1 B=2 vllm serve m",
    "exec env CUDA_VISIBLE_DEVICES=0 vllm serve m",
])
def test_wrappers_are_skipped(text: str) -> None:
    m = launch_common.match(cmd(text))
    assert m is not None and m.launcher.name == "vllm-serve", text


@pytest.mark.parametrize("text", ["vllm bench m", "echo vllm serve", "python -m vllm.other", "python serve.py",
                                  "$VLLM serve m"])
def test_other_commands_start_no_launcher(text: str) -> None:
    assert launch_common.match(cmd(text)) is None


def test_env_wrapper_assignments_join_the_environment() -> None:
    m = launch_common.match(cmd("env MAX_INPUT_TOKENS=7 text-generation-launcher", {"DTYPE": "float16"}))
    assert m is not None and {k: v.text for k, v in m.env.items()} == {"DTYPE": "float16", "MAX_INPUT_TOKENS": "7"}


def test_argparse_semantics() -> None:
    m = launch_common.match(cmd(
        "vllm serve m --max-model-len=100 --max_model_len 200 -tp2 -O3 --enable-chunked-prefill --seed -1 "
        "--served-model-name a b --enforce-eager --no-enable-prefix-caching "
        "--override-generation-config '{\"top_k\": 5}'"))
    assert m is not None
    parsed = launch_common.parse(m, "s.sh")
    values = {d: a.value for d, a in parsed.args.items()}
    assert values == {"max_model_len": 200, "tensor_parallel_size": 2, "compilation_config": "3",
                      "enable_chunked_prefill": True, "seed": -1, "served_model_name": ["a", "b"],
                      "enforce_eager": True, "enable_prefix_caching": False,
                      "override_generation_config": {"top_k": 5}, "model": "m"}
    assert parsed.args["max_model_len"].spelled == "--max_model_len"  # the last occurrence wins
    m = launch_common.match(cmd("vllm serve m --no-enable-chunked-prefill --no-enforce-eager --hf-token "
                                "--reasoning-parser deepseek_r1 -dp 2 --speculative-config '{\"method\": \"ngram\"}'"))
    assert m is not None
    values = {d: a.value for d, a in launch_common.parse(m, "s.sh").args.items()}
    assert values == {"enable_chunked_prefill": False, "enforce_eager": False, "hf_token": "True",
                      "reasoning_parser": "deepseek_r1", "data_parallel_size": 2,
                      "speculative_config": {"method": "ngram"}, "model": "m"}


@pytest.mark.parametrize(("text", "message"), [
    ("vllm serve m --max-model-len", "--max-model-len expects a value"),
    ("vllm serve m --max-model-len 4k", "'4k' is not an int"),
    ("vllm serve m --dtype fp17", "'fp17' is not one of auto"),
    ("vllm serve m --enforce-eager=1", "takes no value"),
    ("vllm serve m --override-generation-config '{bad'", "not valid JSON"),
    ("text-generation-launcher --quantize gguf", "'gguf' is not one of awq"),
])
def test_what_the_launcher_rejects_is_an_input_error_at_its_line(text: str, message: str) -> None:
    m = launch_common.match(cmd(text))
    assert m is not None
    with pytest.raises(ExtractionError, match=message) as exc:
        launch_common.parse(m, "s.sh")
    assert exc.value.line == 1


def test_unknown_flags_are_kept_with_the_closest_spelling(tmp_path: Path) -> None:
    cfg = resolve("vllm serve m --max-modle-len 4096 --enforce-eagr extra", tmp_path)
    unknown = cfg["vllm.unknown_flags.max-modle-len"]
    assert unknown.value == "4096" and "did you mean --max-model-len?" in (unknown.note or "")
    assert "refuses to start" in (unknown.note or "") and cfg["vllm.unknown_flags.enforce-eagr"].value == "extra"
    assert "serving.max_model_len" not in cfg


def test_unresolved_values_keep_their_expression_and_are_not_compared(tmp_path: Path) -> None:
    cfg = resolve('vllm serve "$MODEL" --max-model-len "$LEN" --dtype ${DT:-float16} "$@"', tmp_path)
    v = cfg["serving.max_model_len"]
    assert (v.value, v.how, v.origin.line) == ('"$LEN"', How.UNRESOLVED, 1)
    assert cfg["vllm.model"].how == cfg["model.source"].how == How.UNRESOLVED  # both keys the kind sets
    assert cfg["precision.compute"].value == "float16"  # the script's own default
    assert cfg["vllm.unresolved_arguments"].value == '"$@"'


def test_equivalence_script_flags_and_vllm_serve_config_yaml(tmp_path: Path) -> None:
    script = (FIXTURES / "vllm_serve.sh").read_text()
    (tmp_path / "deploy.sh").write_text(script)
    (tmp_path / "serve.yaml").write_text("model: /models/summarizer\nmax-model-len: 4096\ndtype: float16\n"
                                         "tensor-parallel-size: 2\ngpu-memory-utilization: 0.85\nenforce-eager: true\n")
    a = extractors.extract(tmp_path / "deploy.sh", "shell", ExtractOptions(root=tmp_path))
    b = extractors.extract(tmp_path / "serve.yaml", "vllm", ExtractOptions(root=tmp_path))
    assert {k: (v.value, v.how) for k, v in a.values.items()} == {k: (v.value, v.how) for k, v in b.values.items()}
    assert a.serving == b.serving == "vllm-serve"
    assert a["serving.max_model_len"].origin.line == 10 and a["precision.compute"].origin.line == 11


def test_config_file_arguments_join_and_the_command_line_wins(tmp_path: Path) -> None:
    (tmp_path / "serve.yaml").write_text("max_model_len: 8192\ndtype: bfloat16\nenforce-eager: true\n")
    cfg = resolve("vllm serve m --config serve.yaml --max-model-len 4096", tmp_path)
    assert cfg["serving.max_model_len"].value == 4096 and cfg["serving.max_model_len"].origin.path.endswith("s.sh")
    dtype = cfg["precision.compute"]
    assert dtype.value == "bfloat16" and dtype.origin.path == str(tmp_path / "serve.yaml") and dtype.origin.line == 2
    assert cfg["vllm.enforce_eager"].value is True


def test_config_file_outside_the_tree_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="outside"):
        resolve("vllm serve m --config /etc/passwd", tmp_path)


def test_tgi_flags_and_environment_give_the_same_values(tmp_path: Path) -> None:
    flags = extractors.extract(FIXTURES / "tgi_flags.sh", "shell", ExtractOptions(root=FIXTURES))
    env = extractors.extract(FIXTURES / "tgi_env.sh", "shell", ExtractOptions(root=FIXTURES))
    assert {k: (v.value, v.how) for k, v in flags.values.items()} == \
        {k: (v.value, v.how) for k, v in env.values.items()}
    assert flags.serving == env.serving == "tgi"
    assert flags["precision.quantization"].value == "awq" and flags["tgi.launcher.max_input_tokens"].value == 1024
    assert env["precision.compute"].origin.line == 3 and env["precision.compute"].origin.source == "launcher args"


def test_a_flag_beats_the_environment_variable(tmp_path: Path) -> None:
    cfg = resolve("text-generation-launcher --dtype float16 --trust-remote-code", tmp_path,
                  {"DTYPE": "bfloat16", "JSON_OUTPUT": "false", "NGROK": "1"})
    assert cfg["precision.compute"].value == "float16"
    assert cfg["tgi.launcher.json_output"].value is False and cfg["tgi.launcher.ngrok"].value is True


def test_several_launches_must_agree(tmp_path: Path) -> None:
    same = commands("vllm serve m --dtype float16\nvllm serve m --dtype=float16\n", "s.sh")
    assert launch_common.resolve_all(same, tmp_path / "s.sh", ExtractOptions(root=tmp_path), "shell")
    differ = commands("vllm serve m --dtype float16\nif x; then\n  vllm serve m --dtype bfloat16\nfi\n", "s.sh")
    with pytest.raises(ExtractionError, match=r"disagree \(precision.compute: float16 vs bfloat16\): "
                                              r"vllm serve \(line 1\); vllm serve \(line 3\)"):
        launch_common.resolve_all(differ, tmp_path / "s.sh", ExtractOptions(root=tmp_path), "shell")
    with pytest.raises(ExtractionError, match=r"no known launcher is started in this script; known: vllm serve or "
                                              r"python -m vllm\.entrypoints\.openai\.api_server, "
                                              r"text-generation-launcher"):
        launch_common.resolve_all(commands("echo hi\n", "s.sh"), tmp_path / "s.sh", ExtractOptions(), "shell",
                                  "script")
