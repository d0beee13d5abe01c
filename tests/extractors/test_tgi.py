"""TGI extractors: a request to the router (``parameters``, warpers that turn sampling on), what the router
rejects, and the launcher's args (``dtype``, ``quantize``) and what the launcher rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors import detect, extract

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def test_tgi_request_detected_and_warper_turns_sampling_on() -> None:
    f = FIX / "tgi" / "good" / "generate.json"
    assert detect(f) == "tgi"
    cfg = extract(f)
    assert cfg["generation.temperature"].value == 0.7 and cfg["generation.temperature"].origin.line == 4
    assert cfg["generation.do_sample"].value is True  # temperature 0.7 is a warper, despite do_sample false
    assert cfg["preprocessing.max_length"].value == 1000
    assert cfg["generation.top_k"].value == 0 and cfg["generation.top_k"].origin.source == "tgi default"
    assert cfg["tgi.parameters.watermark"].value is False


def test_tgi_missing_parameters_samples_and_plain_request_is_greedy() -> None:
    assert extract(FIX / "tgi" / "good" / "no-parameters.json", "tgi")["generation.do_sample"].value is True
    assert extract(FIX / "tgi" / "good" / "greedy.json", "tgi")["generation.do_sample"].value is False


@pytest.mark.parametrize(("name", "line"), [("top_p.json", 4), ("temperature.json", 1), ("parameters.json", 1)])
def test_tgi_rejects_what_the_router_rejects(name: str, line: int) -> None:
    with pytest.raises(ExtractionError) as err:
        extract(FIX / "tgi" / "bad" / name, "tgi")
    assert err.value.line == line


def test_tgi_launcher_args_dtype_and_quantize(tmp_path: Path) -> None:
    f = tmp_path / "launcher.yaml"
    f.write_text("MODEL_ID: /data/m\n--dtype: bfloat16\nmax-total-tokens: 2048\nquantize: AWQ\n")
    assert detect(f) == "tgi"
    cfg = extract(f)
    assert (cfg["precision.compute"].value, cfg["precision.compute"].origin.line) == ("bfloat16", 2)
    assert (cfg["precision.quantization"].value, cfg["precision.quantization"].origin.line) == ("awq", 4)
    assert cfg["precision.compute"].origin.source == "launcher args"
    assert cfg["tgi.launcher.model_id"].value == "/data/m" and cfg["tgi.launcher.max_total_tokens"].value == 2048
    assert "tgi.launcher.dtype" not in cfg.values and "generation.temperature" not in cfg.values


@pytest.mark.parametrize(("body", "line"), [('{"model_id": "m",\n "dtype": "float32"}', 2),
                                           ('{"model_id": "m",\n "quantize": "int3"}', 2)])
def test_tgi_launcher_rejects_what_the_launcher_rejects(tmp_path: Path, body: str, line: int) -> None:
    f = tmp_path / "launcher.json"
    f.write_text(body)
    with pytest.raises(ExtractionError) as err:
        extract(f, "tgi")
    assert err.value.line == line


def test_tgi_fields_the_router_drops_are_reported(tmp_path: Path) -> None:
    """TGI's GenerateParameters has max_new_tokens; serde drops an OpenAI-style max_tokens without a word."""
    p = tmp_path / "req.json"
    p.write_text('{"inputs": "hi",\n "parameters": {"max_tokens": 64, "details": true},\n "strem": true}\n')
    cfg = extract(p, "tgi")
    assert cfg["tgi.unknown_fields.max_tokens"].value == 64 and cfg["tgi.unknown_fields.max_tokens"].origin.line == 2
    assert cfg["tgi.unknown_fields.max_tokens"].note.endswith("did you mean max_new_tokens?")
    assert cfg["tgi.unknown_fields.strem"].note.endswith("did you mean stream?")
    assert cfg["tgi.parameters.details"].value is True  # a GenerateParameters field: known, kept
    assert "generation.max_new_tokens" not in cfg.values


def test_tgi_corpus_payload_num_beams_is_reported() -> None:
    """A real SageMaker payload sends num_beams, which TGI's GenerateParameters does not have (checked against
    the router's OpenAPI schema in the corpus): reported, the rest read."""
    path = FIX.parent / "corpus/runtime" / ("aws__amazon-sagemaker-examples__archived__workshops__chatbot-apps__"
                                            "test_file__payload.json")
    cfg = extract(path, "tgi")
    assert cfg["tgi.unknown_fields.num_beams"].value == 1 and cfg["tgi.unknown_fields.num_beams"].origin.line == 7
    assert cfg["generation.max_new_tokens"].value == 200 and cfg["generation.temperature"].value == 0.1
    assert cfg["tgi.parameters.return_full_text"].value is False


def test_tgi_known_fields_are_the_openapi_schema() -> None:
    import json

    from driftguard.engines import tgi as tgi_engine

    doc = json.loads((FIX.parent / "corpus/runtime/huggingface__text-generation-inference__docs__openapi.json")
                     .read_text())
    schemas = doc["components"]["schemas"]
    assert tgi_engine.ROUTER.known == set(schemas["GenerateParameters"]["properties"])
    assert set(schemas["CompatGenerateRequest"]["properties"]) == tgi_engine.REQUEST_FIELDS


def test_tgi_launcher_args_name_what_is_served_canonically(tmp_path: Path) -> None:
    f = tmp_path / "launcher.yaml"
    f.write_text("model_id: mistralai/Mistral-7B-Instruct-v0.2\nREVISION: main\nmax-input-tokens: 3000\n"
                 "max_total_tokens: '4096'\nmax_batch_size: 8\nNUM_SHARD: 2\nlora_adapters: a, b=/x\n")
    cfg = extract(f, "tgi")
    expected = {"model.source": ("mistralai/Mistral-7B-Instruct-v0.2", 1), "model.revision": ("main", 2),
                "serving.max_input_length": (3000, 3), "serving.max_model_len": (4096, 4),
                "batching.max_batch_size": (8, 5), "serving.tensor_parallel_size": (2, 6),
                "model.adapters": (["a", "b=/x"], 7)}
    assert {k: (cfg[k].value, cfg[k].origin.line) for k in expected} == expected
    assert cfg["tgi.launcher.max_input_tokens"].value == 3000  # kept as written too


def test_tgi_launcher_arg_that_is_not_a_number_is_an_input_error(tmp_path: Path) -> None:
    f = tmp_path / "launcher.yaml"
    f.write_text("model_id: m\nmax_total_tokens: lots\n")
    with pytest.raises(ExtractionError, match="max_total_tokens must be an integer") as info:
        extract(f, "tgi")
    assert info.value.line == 2
@pytest.mark.parametrize("text", ["model_id: org/m\nport: 8080\n", "model_id: org/m\ndtype: bfloat16\n",
                                  "model_id: org/m\nrevision: main\ntrust_remote_code: true\n"])
def test_a_model_id_beside_a_common_server_setting_is_not_claimed(tmp_path: Path, text: str) -> None:
    """Many servers' configs name a model_id with a port or a dtype: only TGI's own flags claim a file."""
    f = tmp_path / "server.yaml"
    f.write_text(text)
    with pytest.raises(UsageError, match="cannot tell what kind"):
        detect(f)
    assert extract(f, "tgi")["tgi.launcher.model_id"].value == "org/m"  # named, it reads as launcher args


def test_a_tgi_request_with_an_openai_field_is_a_dg304_warning_in_a_check(tmp_path: Path) -> None:
    """`driftguard check` on a manifest naming a TGI request with max_tokens: the warning, with the real name."""
    import json
    import subprocess
    import sys

    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "generation_config.json").write_text(json.dumps({"max_new_tokens": 64}))
    (tmp_path / "serve.json").write_text('{"inputs": "hi",\n "parameters": {"max_tokens": 64}}\n')
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training: [{path: train/generation_config.json}]\n"
        "    deployment: [{path: serve.json, kind: tgi}]\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)["models"][0]["findings"]
    [ignored] = [f for f in findings if f["rule"] == "DG304"]
    assert ignored["key"] == "tgi.unknown_fields.max_tokens"
    assert "did you mean max_new_tokens?" in ignored["message"] and ignored["severity"] == "warning"
