"""The python kind: detection by import, values with the call's lines, run-time values unresolved, several call
sites (agreeing, disagreeing, picked), bad files as input errors, and the CLI (extract, check) as a subprocess.
Every expected value is worked out by hand from the fixture's text and the engine's semantics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import driftguard
from driftguard import extractors
from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors.base import ExtractOptions
from driftguard.model import How
from driftguard.readers.files import head

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "python"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_detects_a_py_file_that_imports_an_engine_and_no_other(tmp_path: Path) -> None:
    for name in ("offline_vllm.py", "hf_generate.py", "openai_client.py"):
        assert extractors.detect(FIXTURES / "good" / name) == "python"
    plain = tmp_path / "util.py"
    plain.write_text("import os\n\nprint(os.getcwd())\n")
    assert not extractors.get("python").detect(plain, head(plain))
    not_py = tmp_path / "notes.txt"
    not_py.write_text("from vllm import SamplingParams\n")
    assert not extractors.get("python").detect(not_py, head(not_py))


def test_offline_vllm_engine_and_sampling_values() -> None:
    cfg = extractors.extract(FIXTURES / "good" / "offline_vllm.py", "python")
    got = {k: (v.value, v.origin.line) for k, v in cfg.values.items() if v.how == How.EXPLICIT}
    assert got == {
        "model.source": ("Qwen/Qwen2.5-7B-Instruct", 12), "vllm.model": ("Qwen/Qwen2.5-7B-Instruct", 12),
        "serving.max_model_len": (4096, 12), "precision.compute": ("bfloat16", 12),
        "serving.tensor_parallel_size": (2, 12), "vllm.tensor_parallel_size": (2, 12),
        "generation.temperature": (0.7, 13), "generation.max_new_tokens": (512, 13),
        "generation.top_p": (0.8, 8), "generation.repetition_penalty": (1.05, 8),
        "preprocessing.chat_template_applied": (False, 14),  # llm.generate(["Hello"]): a literal, no template
    }
    assert cfg.serving == "vllm-sampling-params"
    # unset fields: the raw SamplingParams defaults (max_tokens would be 16), not the model's generation_config
    assert cfg.values["generation.top_k"].value == 0 and cfg.values["generation.top_k"].how == How.DEFAULT
    seed = cfg.values["generation.seed"]
    assert seed.how == How.UNRESOLVED and seed.value == 'int(os.environ["SEED"])' and seed.origin.line == 13
    assert cfg.values["generation.max_new_tokens"].note == "MAX_TOKENS = 512 (line 7)"


def test_hf_generate_tokenizer_and_model_load() -> None:
    cfg = extractors.extract(FIXTURES / "good" / "hf_generate.py", "python")
    v = cfg.values
    assert (v["generation.temperature"].value, v["generation.top_p"].value, v["generation.do_sample"].value) == \
        (0.6, 0.9, True)
    assert v["generation.max_new_tokens"].how == How.UNRESOLVED and v["generation.max_new_tokens"].value == "budget"
    assert v["generation.top_k"].value == 50 and v["generation.top_k"].how == How.DEFAULT  # transformers' default
    assert (v["preprocessing.max_length"].value, v["preprocessing.max_length"].origin.line) == (1024, 10)
    assert (v["preprocessing.padding_side"].value, v["preprocessing.padding_side"].origin.line) == ("left", 5)
    assert (v["model.source"].value, v["precision.compute"].value) == ("gpt2", "float16")
    assert "hf.generation.unresolved_arguments" not in v  # **inputs is the tokenizer's output: model inputs


def test_openai_client_call() -> None:
    cfg = extractors.extract(FIXTURES / "good" / "openai_client.py", "python")
    v = cfg.values
    assert (v["generation.temperature"].value, v["generation.max_new_tokens"].value) == (0, 512)
    assert v["generation.temperature"].origin.line == 10 and v["openai.model"].value == "served-model"
    assert v["generation.do_sample"].value is False and cfg.serving == "openai"


def test_disagreeing_call_sites_are_an_input_error_listing_them() -> None:
    path = FIXTURES / "good" / "two_calls.py"
    with pytest.raises(ExtractionError) as err:
        extractors.extract(path, "python")
    assert "generation.temperature differently: 0 (SamplingParams, line 3) vs 0.9 (SamplingParams, line 4)" \
        in err.value.message
    assert f"call sites: {path}:3 SamplingParams, {path}:4 SamplingParams" in err.value.message


def test_a_pick_by_line_or_call_settles_it() -> None:
    path = FIXTURES / "good" / "two_calls.py"
    cfg = extractors.extract(path, "python", ExtractOptions(line=4))
    assert cfg.values["generation.temperature"].value == 0.9 and cfg.values["generation.top_p"].value == 0.95
    cfg = extractors.extract(path, "python", ExtractOptions(line=3))
    assert cfg.values["generation.temperature"].value == 0 and cfg.values["generation.do_sample"].value is False
    with pytest.raises(ExtractionError, match="no known call matches line 9; call sites: "):
        extractors.extract(path, "python", ExtractOptions(line=9))
    with pytest.raises(ExtractionError, match="differently"):  # both are SamplingParams: still ambiguous
        extractors.extract(path, "python", ExtractOptions(call="SamplingParams"))


def test_extract_picks_a_call_site_as_the_manifest_does() -> None:
    """``driftguard extract --call/--line`` and ``driftguard.extract(call=, line=)``: the same pick as a
    manifest entry's ``call:``/``line:``."""
    path = FIXTURES / "good" / "two_calls.py"
    assert driftguard.extract(path, line=4).values["generation.temperature"].value == 0.9
    assert driftguard.extract(f"python:{path}", line=3).values["generation.temperature"].value == 0
    with pytest.raises(ExtractionError, match="differently"):  # both are SamplingParams: still ambiguous
        driftguard.extract(path, call="SamplingParams")
    shown = run("extract", str(path), "--line", "4", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    picked = json.loads(shown.stdout)["values"]["generation.temperature"]
    assert (picked["value"], picked["origin"]["line"]) == (0.9, 4)
    both = run("extract", str(path), "--call", "vllm.SamplingParams", "--line", "3", "--format", "json")
    assert json.loads(both.stdout)["values"]["generation.temperature"]["value"] == 0
    missed = run("extract", str(path), "--line", "9")
    assert missed.returncode == 2 and "no known call matches line 9; call sites: " in missed.stderr


def test_a_pick_on_a_file_not_read_as_python_is_a_usage_error() -> None:
    config = FIXTURES.parent / "snapshot" / "tgi.snapshot.json"
    with pytest.raises(UsageError, match=r"'call' picks a call site of a Python file; .* is read as snapshot"):
        driftguard.extract(config, call="generate")
    with pytest.raises(UsageError, match="line 0: lines count from 1"):
        driftguard.extract(FIXTURES / "good" / "two_calls.py", line=0)
    res = run("extract", str(config), "--line", "3")
    assert res.returncode == 2
    assert res.stderr.strip().endswith(f"'line' picks a call site of a Python file; '{config}' is read as snapshot")


def test_agreeing_call_sites_are_one_config(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("from vllm import SamplingParams\na = SamplingParams(temperature=0.2)\n"
                   "b = SamplingParams(temperature=0.2, max_tokens=64)\n")
    cfg = extractors.extract(app, "python")
    assert cfg.values["generation.temperature"].value == 0.2 and cfg.values["generation.max_new_tokens"].value == 64


def test_bad_files_are_input_errors_with_a_line() -> None:
    with pytest.raises(ExtractionError, match="not valid Python") as err:
        extractors.extract(FIXTURES / "bad" / "syntax.py", "python")
    assert err.value.line == 3
    with pytest.raises(ExtractionError, match="no known call in this Python file"):
        extractors.extract(FIXTURES / "bad" / "no_known_call.py", "python")


def test_an_engine_value_out_of_range_is_the_engines_error_at_the_line(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("from vllm import SamplingParams\n\np = SamplingParams(\n    top_p=1.5,\n)\n")
    with pytest.raises(ExtractionError) as err:
        extractors.extract(app, "python")
    assert err.value.line == 4


def test_cli_extract_shows_lines_and_unresolved_values() -> None:
    proc = run("extract", str(FIXTURES / "good" / "offline_vllm.py"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)["values"]
    assert values["serving.max_model_len"]["value"] == 4096 and values["serving.max_model_len"]["origin"]["line"] == 12
    assert values["generation.seed"]["how"] == "unresolved"


def test_cli_hostile_python_is_exit_2_in_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.py"
    deep.write_text("from vllm import SamplingParams\nx = " + "+".join(["a"] * 400) + "\n")
    big = tmp_path / "big.py"
    big.write_text("from vllm import SamplingParams\n" + "x = [" + "1," * 600_000 + "]\n")
    many = tmp_path / "many.py"
    many.write_text("from vllm import SamplingParams\n" + "x = 1\n" * 60_000)
    for path, limit in ((deep, "python_depth"), (big, "python_bytes"), (many, "python_nodes")):
        proc = run("extract", str(path))
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and limit in proc.stderr and "Traceback" not in proc.stderr


def _check(tmp_path: Path, entry: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "training").mkdir(exist_ok=True)
    (tmp_path / "training" / "generation_config.json").write_text(
        '{"do_sample": true, "temperature": 0.9, "top_p": 0.95, "top_k": 0, "max_new_tokens": 128}\n')
    (tmp_path / "two_calls.py").write_text((FIXTURES / "good" / "two_calls.py").read_text())
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: training/generation_config.json\n"
        f"    deployment:\n      - path: two_calls.py\n{entry}")
    return run("check", "--format", "json", cwd=tmp_path)


def test_cli_check_with_a_python_side_and_a_pick(tmp_path: Path) -> None:
    proc = _check(tmp_path, "        line: 3\n")
    assert proc.returncode == 1, proc.stderr
    findings = [f for m in json.loads(proc.stdout)["models"] for f in m["findings"]]
    # temperature 0 at line 3 is greedy decoding; the model was tuned to sample
    [finding] = findings
    assert (finding["rule"], finding["key"], finding["deployed"]) == ("DG104", "generation.decoding", "greedy")
    assert finding["deployed_origin"]["path"] == "two_calls.py" and finding["deployed_origin"]["line"] == 3
    proc = _check(tmp_path, "        line: 4\n")  # 0.9, 0.95, top_k off, 128 tokens: what the model was tuned with
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_check_without_a_pick_is_exit_2_listing_the_call_sites(tmp_path: Path) -> None:
    proc = _check(tmp_path, "")
    assert proc.returncode == 2 and "two_calls.py:3 SamplingParams" in proc.stderr
    assert "two_calls.py:4 SamplingParams" in proc.stderr


def test_cli_a_pick_on_another_kind_is_a_manifest_error(tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text('{"temperature": 0.5, "_from_model_config": true}\n')
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: g.json\n        call: SamplingParams\n"
        "    deployment:\n      - path: g.json\n")
    proc = run("check", cwd=tmp_path)
    assert proc.returncode == 2 and "'call' picks a call site of a Python file" in proc.stderr


# What an offline engine call does with its prompts (preprocessing.chat_template_applied, issue 20 point 6):
# vllm-project/vllm@0012cf691b7e vllm/entrypoints/llm.py: LLM.generate takes the prompts as given, LLM.chat renders
# the messages with apply_hf_chat_template; InternLM/lmdeploy@1263d5cd889b lmdeploy/pipeline.py: the pipeline's
# __call__/infer/stream_infer have do_preprocess=True (the chat template); sgl-project/sglang@001067fffe33
# python/sglang/srt/entrypoints/engine.py: Engine.generate takes GenerateReqInput's arguments (the /generate body:
# the prompt as given, sampling_params a SamplingParams dict).
_PROMPT_CASES = [
    ("from vllm import LLM\nllm = LLM(model='m')\nllm.generate(['Hello'])\n", False, 3, "explicit"),
    ("from vllm import LLM\nllm = LLM(model='m')\nllm.generate(prompts=PROMPTS)\nPROMPTS = ['a']\n", False, 3,
     "explicit"),  # a module constant, wherever it is written
    ("from vllm import LLM\nllm = LLM(model='m')\nllm.generate(prompts=open('p.txt').read().split())\n", None, 3,
     "unresolved"),
    ("from vllm import LLM\nllm = LLM(model='m')\n\ndef run(rows):\n    return llm.generate([r['q'] for r in rows])\n",
     None, 5, "unresolved"),
    ("from vllm import LLM\nllm = LLM(model='m')\nllm.chat([{'role': 'user', 'content': 'hi'}])\n", True, 3,
     "explicit"),
    ("from lmdeploy import pipeline\npipe = pipeline('m')\npipe(['hi'])\n", True, 3, "explicit"),
    ("from lmdeploy import pipeline\npipe = pipeline('m')\npipe.infer(['hi'],\n    do_preprocess=False)\n", False, 4,
     "explicit"),
    ("from lmdeploy import pipeline\nimport os\npipe = pipeline('m')\npipe.stream_infer(['hi'], "
     "do_preprocess=os.environ['P'] == '1')\n", None, 4, "unresolved"),
    ("import sglang as sgl\ne = sgl.Engine(model_path='m')\ne.generate('hi', {'temperature': 0.2})\n", False, 3,
     "explicit"),
]


@pytest.mark.parametrize(("code", "applied", "line", "how"), _PROMPT_CASES)
def test_an_engine_call_given_prompts_says_whether_the_chat_template_builds_the_input(
        tmp_path: Path, code: str, applied: bool | None, line: int, how: str) -> None:
    path = tmp_path / "app.py"
    path.write_text(code)
    v = extractors.extract(path, "python").values["preprocessing.chat_template_applied"]
    assert (v.how, v.origin.line) == (how, line)
    if applied is not None:
        assert v.value is applied
    else:  # prompts built at run time: the program may have rendered them itself
        assert "built at run time" in (v.note or "") or "computed at run time" in (v.note or "")


def test_sglang_engine_generate_reads_its_sampling_params(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("import sglang as sgl\n\nllm = sgl.Engine(model_path='m')\nllm.generate(\n    ['hi'],\n"
                    "    {'temperature': 0.2,\n     'max_new_tokens': 64},\n)\n")
    cfg = extractors.extract(path, "python")
    v = cfg.values
    assert (v["generation.temperature"].value, v["generation.temperature"].origin.line) == (0.2, 6)
    assert (v["generation.max_new_tokens"].value, v["generation.max_new_tokens"].origin.line) == (64, 7)
    assert cfg.serving == "sglang-generate"


def test_generate_and_chat_in_one_file_need_a_pick(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("from vllm import LLM\nllm = LLM(model='m')\nllm.generate(['a'])\n"
                    "llm.chat([{'role': 'user', 'content': 'a'}])\n")
    with pytest.raises(ExtractionError) as err:
        extractors.extract(path, "python")
    assert "chat_template_applied" in str(err.value) and err.value.line == 4
    picked = extractors.extract(path, "python", ExtractOptions(call="LLM.chat"))
    assert picked.values["preprocessing.chat_template_applied"].value is True
