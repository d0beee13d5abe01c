"""The config-only path stays light: no torch, onnx, onnxruntime, numpy, transformers or git in sys.modules; and
every kind's extract path, run as a user runs it (``driftguard extract KIND:PATH`` in a fresh interpreter),
imports no heavy library the kind does not need (``KIND_NEEDS`` says which one a kind needs, and why)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from driftguard.extractors import available_kinds
from tests.dates import EXAMPLES_TODAY_ISO

HEAVY = ("torch", "onnx", "onnxruntime", "numpy", "transformers", "tokenizers", "git")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return list(json.loads(res.stdout.strip().splitlines()[-1]))


def test_import_driftguard_is_light() -> None:
    assert loaded_after("import driftguard") == []


def test_extract_triton_is_light() -> None:
    config = FIXTURES / "triton" / "good" / "simple_dyna_sequence.pbtxt"
    code = ("import sys\nfrom driftguard.cli import run\n"
            f"rc = run(['extract', {str(config)!r}, '--format', 'json'])\nassert rc == 0, rc")
    assert loaded_after(code) == []


def test_diff_hf_vs_triton_paths_are_light() -> None:
    config = FIXTURES / "triton" / "good" / "simple_dyna_sequence.pbtxt"
    code = ("from driftguard.cli import run\n"
            f"rc = run(['diff', {str(config)!r}, {str(config)!r}])\nassert rc == 0, rc")
    assert loaded_after(code) == []


ROOT = Path(__file__).resolve().parents[1]


def test_check_without_parity_is_light() -> None:
    code = ("from driftguard.cli import run\n"
            f"rc = run(['check', '--config', {str(ROOT / 'driftguard.yaml')!r}, '--format', 'json', '--today', "
            f"{EXAMPLES_TODAY_ISO!r}])\nassert rc == 1, rc")
    assert loaded_after(code) == []


def test_check_of_a_manifest_with_an_hf_parity_section_is_light() -> None:
    # examples/summarizer has a parity: section (runner: hf) whose artifacts are not built: check ignores it.
    manifest = ROOT / "examples" / "summarizer" / "driftguard.yaml"
    code = ("from driftguard.cli import run\n"
            f"rc = run(['check', '--config', {str(manifest)!r}, '--format', 'json', '--today', "
            f"{EXAMPLES_TODAY_ISO!r}])\nassert rc == 1, rc")
    assert loaded_after(code) == []


def test_explain_and_the_parity_package_are_light() -> None:
    code = ("import driftguard.parity, driftguard.parity.codes, driftguard.parity.request\n"
            "from driftguard.cli import run\nassert run(['explain', 'DG501']) == 0\nassert run(['explain']) == 0")
    assert loaded_after(code) == []


# -- every kind's extract path -------------------------------------------------------------------------------

#: Libraries no extract path may import unless its kind needs them: each costs from a tenth of a second
#: (numpy) to seconds (torch, transformers) of start-up, and the kinds read their formats without them;
#: pydantic builds the manifest's and the rules' models, which an extract never uses.
HEAVY_FOR_EXTRACT = ("torch", "onnx", "onnxruntime", "numpy", "transformers", "tokenizers", "safetensors",
                     "pandas", "scipy", "git", "pydantic")
#: kind -> {heavy module it may import: why}. Empty: every kind reads its format itself (torch archives and
#: pickles by the restricted unpickler, safetensors and GGUF headers, ONNX at the protobuf wire level).
KIND_NEEDS: dict[str, dict[str, str]] = {}

EXAMPLES = ROOT / "examples" / "summarizer"
CORPUS = ROOT / "tests" / "corpus"
#: A file each text kind reads (exit 0), from the examples, fixtures and the collected corpus.
TEXT_SAMPLES: dict[str, Path] = {
    "triton": EXAMPLES / "deployment" / "model_repository" / "summarizer",
    "hf-model": EXAMPLES / "training",
    "hf-config": EXAMPLES / "training" / "config.json",
    "hf-generation": EXAMPLES / "training" / "generation_config.json",
    "hf-tokenizer": EXAMPLES / "training" / "tokenizer_config.json",
    "vllm": EXAMPLES / "deployment" / "model_repository" / "summarizer" / "1" / "model.json",
    "genai": CORPUS / "runtime-configs" / "Oxsilaris06__Praxis__genai_config.json",
    "hf-preprocessor": CORPUS / "runtime-configs" / ("JalajBaghwala__Image-to-caption-genrator__"
                                                     "preprocessor_config.json"),
    "tensorrt-llm-engine": FIXTURES / "tensorrt-llm-engine" / "good" / "awq" / "config.json",
    "ollama": CORPUS / "local" / "0rfboy__ollama13b.Modelfile",
    "shell": CORPUS / "launchers" / "Lauler__ask-llm__scripts__convert_to_tensorrt.sh",
    "llamafactory": CORPUS / "finetune" / "OpenBMB__MiniCPM__finetune__llama_factory_example__minicpm_dpo.yaml",
    "axolotl": CORPUS / "finetune" / "axolotl-ai-cloud__axolotl__examples__archived__openllama-3b__lora.yml",
    "glm-finetune": CORPUS / "finetune" / "THUDM__ChatGLM3__finetune_demo__configs__lora.yaml",
    "dockerfile": CORPUS / "manifests" / "koyeb__example-vllm__Dockerfile",
    "compose": CORPUS / "manifests" / ("opea-project__GenAIComps__comps__third_parties__tgi__deployment__"
                                       "docker_compose__compose.yaml"),
    "kubernetes": CORPUS / "manifests" / ("GoogleCloudPlatform__kubernetes-engine-samples__ai-ml__"
                                          "gke-online-serving-single-gpu__src__gke-config__deployment-triton.yaml"),
    "tgi": CORPUS / "runtime" / ("aws__amazon-sagemaker-examples__archived__sagemaker-huggingface-tgi-hosting-"
                                 "examples__models.json"),
    "tensorrt-llm": CORPUS / "runtime" / ("triton-inference-server__fastertransformer_backend__tools__requests__"
                                          "sample_request.json"),
    "openai": FIXTURES / "context" / "request.json",
    "sglang": FIXTURES / "sglang" / "good" / "generate.json",
    "lmdeploy": CORPUS / "runtime" / "InternLM__lmdeploy__examples__cpp__llama__llama_config.ini",
    "snapshot": FIXTURES / "snapshot" / "triton.snapshot.json",
    "python": CORPUS / "python" / "henghayan__HappyChat__quantize__awa_run.py",
}


def _onnx_sample(tmp_path: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / "light_resnet50.onnx"


def _safetensors_sample(tmp_path: Path) -> Path:
    """The format by hand (an 8-byte header length, a JSON header, the data): a float32 tensor of 2."""
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    return path


def _gguf_sample(tmp_path: Path) -> Path:
    pytest.importorskip("gguf")
    from tests.extractors.test_gguf import _served, _write

    return _write(tmp_path / "model.gguf", _served)


def _torch_sample(tmp_path: Path) -> Path:
    torch = pytest.importorskip("torch")
    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.ones(2, 2, dtype=torch.float16)}, path)
    return path


def _lightning_sample(tmp_path: Path) -> Path:
    torch = pytest.importorskip("torch")
    from tests.extractors.test_lightning import _lightning_dict

    path = tmp_path / "last.ckpt"
    torch.save(_lightning_dict(), path)
    return path


def _training_args_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TrainingArguments pickled with torch.save, through stand-ins registered under transformers' names (the
    child never imports transformers: the restricted unpickler reads the pickle without it)."""
    torch = pytest.importorskip("torch")
    from tests.extractors.test_training_args import hf_classes

    classes: types.SimpleNamespace = next(hf_classes.__wrapped__(monkeypatch))  # type: ignore[attr-defined]  # pytest fixture
    path = tmp_path / "training_args.bin"
    torch.save(classes.TrainingArguments(learning_rate=3e-4), path)
    return path


BINARY_SAMPLES: dict[str, Callable[[Path], Path]] = {
    "onnx": _onnx_sample, "safetensors": _safetensors_sample, "gguf": _gguf_sample, "torch": _torch_sample,
    "lightning": _lightning_sample,
}


def _sample(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if kind == "training-args":
        return _training_args_sample(tmp_path, monkeypatch)
    if kind in BINARY_SAMPLES:
        return BINARY_SAMPLES[kind](tmp_path)
    return TEXT_SAMPLES[kind]


def extract_loads(kind: str, path: Path) -> tuple[int, list[str]]:
    """``driftguard extract KIND:PATH`` as a user runs it (``python -m driftguard``, a fresh interpreter): its
    exit code and the heavy modules it left in sys.modules."""
    probe = ("import json, runpy, sys\n"
             f"sys.argv = ['driftguard', 'extract', {f'{kind}:{path}'!r}, '--format', 'json']\n"
             "try:\n    runpy.run_module('driftguard', run_name='__main__')\n    rc = 0\n"
             "except SystemExit as exc:\n    rc = exc.code or 0\n"
             f"print(json.dumps([rc, sorted(m for m in {HEAVY_FOR_EXTRACT!r} if m in sys.modules)]), "
             "file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    rc, loaded = json.loads(res.stderr.strip().splitlines()[-1])
    return int(rc), list(loaded)


def test_every_kind_has_a_sample() -> None:
    assert set(available_kinds()) == set(TEXT_SAMPLES) | set(BINARY_SAMPLES) | {"training-args"}
    assert set(KIND_NEEDS) <= set(available_kinds())


@pytest.mark.parametrize("kind", available_kinds())
def test_extract_imports_nothing_heavy_the_kind_does_not_need(kind: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    rc, loaded = extract_loads(kind, _sample(kind, tmp_path, monkeypatch))
    assert rc == 0
    assert sorted(set(loaded) - set(KIND_NEEDS.get(kind, {}))) == []


# -- what a config-only check leaves out (issue 24 point 3) --------------------------------------------------

#: Readers and helpers of kinds the summarizer's check does not read (Python files, launch commands, container
#: files, checkpoints, Modelfiles, GGUF, safetensors and ONNX files, TurboMind INI files): detection imports
#: every kind's module to ask it about each file, so each of these must be imported by its kind's ``extract``
#: (or ``detect`` after a cheap test of the name or first bytes), never at the top of the kind's module; the
#: launcher tables only where a launch command is read (``engines.Launcher`` and friends are re-exported on
#: first use), difflib only for a "did you mean", the library version floors only where a runner loads its
#: library (the hf runner's settings validate the summarizer's parity section). Each costs milliseconds of
#: start-up that a check of JSON and Triton files pays.
NOT_FOR_A_CONFIG_CHECK = ("driftguard.extractors.python_calls", "driftguard.readers.python_ast",
                          "driftguard.extractors.launch_common", "driftguard.extractors.checkpoint_common",
                          "driftguard.readers.pickle", "driftguard.readers.torch_archive",
                          "driftguard.readers.modelfile", "driftguard.readers.gguf", "driftguard.readers.safetensors",
                          "driftguard.readers.onnx_wire", "driftguard.readers.protowire", "driftguard.engines.launcher",
                          "driftguard.readers.floors", "configparser", "difflib")


def test_check_of_the_summarizer_imports_no_reader_of_a_kind_it_does_not_read() -> None:
    """Run as a user runs it (``python -m driftguard check`` in a fresh interpreter, from the example's
    folder, every artifact but two detected): none of the modules above is loaded."""
    probe = ("import json, runpy, sys\n"
             f"sys.argv = ['driftguard', 'check', '--format', 'json', '--today', {EXAMPLES_TODAY_ISO!r}]\n"
             "try:\n    runpy.run_module('driftguard', run_name='__main__')\n    rc = 0\n"
             "except SystemExit as exc:\n    rc = exc.code or 0\n"
             f"print(json.dumps([rc, sorted(m for m in {NOT_FOR_A_CONFIG_CHECK!r} if m in sys.modules)]), "
             "file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=EXAMPLES)
    rc, loaded = json.loads(res.stderr.strip().splitlines()[-1])
    assert rc == 1  # the example's truncation drift is unapproved on purpose
    assert loaded == []
