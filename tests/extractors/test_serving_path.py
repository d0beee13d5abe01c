"""The serving path decides which layers a vLLM request resolves through (defaults.md §2.3, §11, TRI-VLLM):
Triton's vllm_backend takes raw SamplingParams defaults and reads no generation_config.json; ``vllm serve``
applies the model's generation_config.json (generation_config auto)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from driftguard import api, cli
from driftguard.manifest import Artifact
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[2]
SUMMARIZER = ROOT / "examples" / "summarizer"
TRAINING = SUMMARIZER / "training"


def _summarizer_without(tmp_path: Path, *fields: str) -> Path:
    copy = tmp_path / "summarizer"
    shutil.copytree(SUMMARIZER, copy)
    params = copy / "deployment" / "sampling-params.yaml"
    lines = params.read_text(encoding="utf-8").splitlines(keepends=True)
    params.write_text("".join(ln for ln in lines if ln.split(":")[0] not in fields), encoding="utf-8")
    return copy / "driftguard.yaml"


def test_triton_vllm_backend_omitted_fields_take_raw_sampling_params_defaults(tmp_path: Path) -> None:
    report = api.check(_summarizer_without(tmp_path, "temperature", "top_k"), today=EXAMPLES_TODAY)
    by_key = {f.key: f for f in report.findings}
    assert by_key["generation.temperature"].deployed.value == 1.0
    assert by_key["generation.top_k"].deployed.value == 0
    for key in ("generation.temperature", "generation.top_k"):
        assert by_key[key].status == "unapproved"
        assert by_key[key].deployed.origin.source == "triton vllm_backend default"
    assert not report.ok


def test_shipped_summarizer_is_unchanged() -> None:
    report = api.check(SUMMARIZER / "driftguard.yaml", today=EXAMPLES_TODAY)
    assert sorted(f.key for f in report.findings) == ["generation.top_p", "preprocessing.max_length"]


def test_vllm_serve_applies_the_model_generation_config(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text('{"prompt": "x", "max_tokens": 256, "min_tokens": 16, "top_p": 0.92}', encoding="utf-8")
    result = api.diff(TRAINING / "generation_config.json", f"vllm:{request}", context=[f"hf-model:{TRAINING}"])
    assert result.ok, [f.key for f in result.findings]
    assert result.deployed["generation.temperature"].origin.source == "generation_config.json"
    # without the model folder, vLLM's own defaults apply and the drift shows
    bare = api.diff(TRAINING / "generation_config.json", f"vllm:{request}")
    assert {"generation.temperature", "generation.top_k"} <= {f.key for f in bare.findings}


def test_vllm_serve_engine_args_with_the_model_folder(tmp_path: Path) -> None:
    """A `vllm serve --config` file naming the model folder, the folder as context, and a request that omits
    the sampling fields: the server fills them from generation_config.json, so nothing drifts."""
    shutil.copytree(TRAINING, tmp_path / "model")
    (tmp_path / "serve.yaml").write_text("model: model\ntensor-parallel-size: 1\n", encoding="utf-8")
    (tmp_path / "request.json").write_text('{"prompt": "x", "max_tokens": 256, "min_tokens": 16, "top_p": 0.92}',
                                           encoding="utf-8")
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: model/generation_config.json\n"
        "    deployment:\n      - {path: serve.yaml, kind: vllm}\n      - {path: request.json, kind: vllm}\n"
        "      - {path: model, kind: hf-model}\n", encoding="utf-8")
    report = api.check(tmp_path / "driftguard.yaml")
    assert not [f for f in report.findings if f.key.startswith("generation.")], report.findings


def test_a_model_json_in_context_selects_the_triton_path(tmp_path: Path) -> None:
    model_json = SUMMARIZER / "deployment" / "model_repository" / "summarizer" / "1" / "model.json"
    request = tmp_path / "params.json"
    request.write_text('{"top_p": 0.92}', encoding="utf-8")
    result = api.diff(TRAINING / "generation_config.json", f"vllm:{request}",
                      context=[f"hf-model:{TRAINING}", f"vllm:{model_json}"])
    assert result.deployed["generation.max_new_tokens"].value == 16
    assert result.deployed["generation.max_new_tokens"].origin.source == "triton vllm_backend default"


def test_cli_diff_context(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    request = tmp_path / "request.json"
    request.write_text('{"prompt": "x", "max_tokens": 256, "min_tokens": 16, "top_p": 0.92}', encoding="utf-8")
    gen = str(TRAINING / "generation_config.json")
    assert cli.run(["diff", gen, f"vllm:{request}", "--context", f"hf-model:{TRAINING}"]) == 0
    pbtxt = SUMMARIZER / "deployment" / "model_repository" / "summarizer" / "config.pbtxt"
    assert cli.run(["diff", gen, f"vllm:{request}", "--context", f"hf-model:{TRAINING}",
                    "--context", str(pbtxt)]) == 1
    assert "triton vllm_backend default" in capsys.readouterr().out



def _side(base: Path, *specs: tuple[str, str | None]) -> api.Side:
    return api.build_side("deployment", [Artifact(path=path, kind=kind) for path, kind in specs], base)


@pytest.mark.parametrize("model_json_first", [True, False])
def test_a_model_json_on_the_side_selects_the_triton_path(model_json_first: bool) -> None:
    """The summarizer's deployment without its config.pbtxt (the request listed before or after the
    model.json): the model.json alone says the side is Triton's vllm_backend, so `check` reads the request
    with raw SamplingParams defaults, not through vllm serve's generation_config.json layer."""
    engine = ("deployment/model_repository/summarizer/1/model.json", None)
    request = ("deployment/sampling-params.yaml", "vllm")
    specs = (engine, request) if model_json_first else (request, engine)
    side = _side(SUMMARIZER, *specs, ("training", "hf-model"))
    params = next(c for c in side.artifacts if c.path.endswith("sampling-params.yaml"))
    v = params["generation.repetition_penalty"]
    assert (v.value, v.origin.source) == (1.0, "triton vllm_backend default")  # not "vllm default"


def test_vllm_serve_engine_args_reach_the_request_too(tmp_path: Path) -> None:
    """A `vllm serve` config is context for the side's request as well: not a model.json, so the request
    still resolves through vllm serve's layers (generation_config.json from the model folder)."""
    shutil.copytree(TRAINING, tmp_path / "model")
    (tmp_path / "serve.yaml").write_text("model: model\ntensor-parallel-size: 1\n", encoding="utf-8")
    (tmp_path / "request.json").write_text('{"prompt": "x", "top_p": 0.92}', encoding="utf-8")
    side = _side(tmp_path, ("request.json", "vllm"), ("serve.yaml", "vllm"), ("model", "hf-model"))
    assert side.merged["generation.temperature"].origin.source == "generation_config.json"
