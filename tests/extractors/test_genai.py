"""ONNX Runtime GenAI genai_config.json (kind ``genai``): each mapping and GenAI default checked by hand against
onnxruntime-genai's reader (src/config.h, src/config.cpp @ a0c04eb1), the real files of
tests/corpus/runtime-configs, the CLI, and a check of an HF model folder against a genai_config.json."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect, genai
from driftguard.model import How

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "genai"
CORPUS = ROOT / "tests" / "corpus" / "runtime-configs"


def _write(tmp_path: Path, data: object, name: str = "genai_config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))
    return path


def _minimal(**search: object) -> dict[str, object]:
    return {"model": {"type": "llama", "context_length": 4096, "vocab_size": 32000, "pad_token_id": 0,
                      "decoder": {"filename": "model.onnx", "num_hidden_layers": 2}},
            "search": dict(search)}


def test_fixture_maps_model_search_and_provider() -> None:
    cfg = api.extract(FIXTURES / "good" / "genai_config.json")
    assert cfg.kind == "genai"
    v = {k: x.value for k, x in cfg.values.items()}
    assert v["serving.max_model_len"] == 4096  # model.context_length
    assert v["model.type"] == "phi3" and v["model.vocab_size"] == 32064
    assert (v["model.hidden_size"], v["model.num_attention_heads"], v["model.num_layers"]) == (3072, 32, 32)
    assert v["generation.bos_token_id"] == 1 and v["generation.pad_token_id"] == 32000
    assert v["generation.eos_token_id"] == [32000, 32001, 32007]  # a set: sorted
    assert (v["generation.do_sample"], v["generation.temperature"], v["generation.top_p"]) == (True, 0.6, 0.9)
    # max_length 0: GenAI uses context_length (Config::Config)
    assert v["generation.max_length"] == 4096 and cfg.values["generation.max_length"].how is How.DERIVED
    assert v["genai.model.decoder.filename"] == "model.onnx"
    assert v["genai.model.decoder.head_size"] == 96
    assert v["genai.providers"] == ["cuda"] and v["serving.device_kind"] == "gpu"
    assert cfg.values["serving.max_model_len"].origin.line == 4


def test_genai_defaults_differ_from_transformers() -> None:
    """Unset search fields take GenAI's Config::Search initializers, not GenerationConfig's."""
    cfg = api.extract(FIXTURES / "good" / "genai_config.json")
    d = {k: x for k, x in cfg.values.items() if x.how is How.DEFAULT}
    assert d["generation.top_k"].value == 50
    assert d["generation.early_stopping"].value is True  # transformers: False
    assert d["generation.num_beams"].value == 1 and d["generation.repetition_penalty"].value == 1.0
    assert d["generation.no_repeat_ngram_size"].value == 0 and d["generation.length_penalty"].value == 1.0
    assert d["generation.seed"].value is None  # random_seed -1: random device
    assert "ORTG src/config.h" in (d["generation.top_k"].note or "")
    assert d["generation.top_k"].origin.default_of == "onnxruntime-genai"


def test_unset_top_p_is_off(tmp_path: Path) -> None:
    """GenAI's top_p default is 0, applied only when 0 < top_p < 1: no nucleus cut, spelled 1.0."""
    cfg = api.extract(_write(tmp_path, _minimal(do_sample=True)))
    assert cfg.values["generation.top_p"].value == 1.0
    cfg = api.extract(_write(tmp_path, _minimal(do_sample=True, top_p=0.0)))
    top_p = cfg.values["generation.top_p"]
    assert top_p.value == 1.0 and top_p.explicit and "0 < top_p < 1" in (top_p.note or "")


def test_do_sample_with_top_k_1_is_greedy(tmp_path: Path) -> None:
    cfg = api.extract(_write(tmp_path, _minimal(do_sample=True, top_k=1)))
    ds = cfg.values["generation.do_sample"]
    assert ds.value is False and ds.how is How.DERIVED and "top_k is 1" in (ds.derivation or "")
    cfg = api.extract(_write(tmp_path, _minimal(do_sample=True, temperature=0)))
    assert cfg.values["generation.do_sample"].value is False


def test_eos_defaults_to_pad_and_seed_minus_one_is_random(tmp_path: Path) -> None:
    cfg = api.extract(_write(tmp_path, _minimal(random_seed=-1)))
    eos = cfg.values["generation.eos_token_id"]
    assert eos.value == [0] and eos.how is How.DERIVED
    assert cfg.values["generation.seed"].value is None and cfg.values["generation.seed"].explicit
    cfg = api.extract(_write(tmp_path, _minimal(random_seed=42)))
    assert cfg.values["generation.seed"].value == 42


def test_no_provider_is_cpu_and_an_unclear_one_states_no_device(tmp_path: Path) -> None:
    cfg = api.extract(_write(tmp_path, _minimal()))
    assert cfg.values["serving.device_kind"].value == "cpu"
    data = _minimal()
    data["model"]["decoder"]["session_options"] = {"provider_options": [{"qnn": {}}]}  # type: ignore[index]
    cfg = api.extract(_write(tmp_path, data))
    assert cfg.values["genai.providers"].value == ["qnn"] and "serving.device_kind" not in cfg.values


@pytest.mark.parametrize(("data", "where", "line"), [
    ({"model": {"context_length": 8, "decoder": {}, "temprature": 0.5}}, "model.temprature", 1),
    ({"model": {"context_length": 8, "decoder": {"filenam": "m.onnx"}}}, "model.decoder.filenam", 1),
    ({"model": {"context_length": 8}, "search": {"top-p": 0.9}}, "search.top-p", 1),
    ({"model": {"context_length": 8}, "sampling": {}}, "sampling", 1),
])
def test_unknown_field_is_an_input_error_as_genai_refuses_it(tmp_path: Path, data: object, where: str,
                                                             line: int) -> None:
    path = tmp_path / "genai_config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ExtractionError) as info:
        api.extract(path)
    assert str(info.value.message).startswith(where) and "Unknown value" in info.value.message
    assert info.value.line == line


def test_unknown_field_error_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _minimal(top_k=5, topp=0.9))
    with pytest.raises(ExtractionError) as info:
        api.extract(path)
    lines = path.read_text().splitlines()
    assert info.value.line == next(i for i, text in enumerate(lines, 1) if '"topp"' in text)


@pytest.mark.parametrize(("search", "text"), [
    ({"do_sample": "false"}, "expected true or false"),
    ({"top_k": None}, "expected a number, got null"),
    ({"max_length": 10.5}, "32-bit integer"),
    ({"temperature": float("inf")}, "finite"),
])
def test_wrong_type_is_an_input_error(tmp_path: Path, search: dict[str, object], text: str) -> None:
    with pytest.raises(ExtractionError, match=text):
        api.extract(_write(tmp_path, _minimal(**search)))


def test_top_level_scalar_is_ignored_by_genai_and_flagged(tmp_path: Path) -> None:
    data = _minimal()
    data["temperature"] = 0.2
    cfg = api.extract(_write(tmp_path, data))
    flagged = cfg.values["genai.unknown_fields.temperature"]
    assert flagged.value == 0.2 and "ignored by GenAI" in (flagged.note or "")


def test_missing_context_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="context_length: not set"):
        api.extract(_write(tmp_path, {"model": {"type": "llama", "decoder": {}}}))
    cfg = api.extract(_write(tmp_path, {"model": {"type": "nemotron_speech", "decoder": {}}}))  # RNN-T: allowed
    assert "serving.max_model_len" not in cfg.values


def test_detection_by_name_and_by_content(tmp_path: Path) -> None:
    assert detect(FIXTURES / "good" / "genai_config.json") == "genai"
    other = _write(tmp_path, _minimal(), "served.json")
    assert detect(other) == "genai"
    no_search = {"model": {"decoder": {}, "context_length": 8}}
    assert not genai.detect(tmp_path / "x.json", json.dumps(no_search).encode())


def _rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["kind"] == "genai"]


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["saved_name"])
def test_corpus_file_extracts_with_lines_or_is_refused(row: dict[str, str]) -> None:
    path = CORPUS / row["saved_name"]
    if "input error" in row["notes"]:
        with pytest.raises(ExtractionError, match="no 'model' section"):
            api.extract(path, kind="genai")
        return
    cfg = api.extract(path, kind="genai")
    explicit = [v for v in cfg.values.values() if v.explicit]
    assert explicit and all(v.origin.line is not None for v in explicit)


def _values(name: str) -> dict[str, object]:
    return {k: v.value for k, v in api.extract(CORPUS / name, kind="genai").values.items()}


def test_corpus_values_checked_by_hand() -> None:
    qwen = _values("eiszazel__Qwen-2.5-1.5B-Instruct-onnx-ryzenai-npu__genai_config.json")
    assert (qwen["serving.max_model_len"], qwen["generation.max_length"]) == (32768, 32768)
    assert (qwen["generation.do_sample"], qwen["generation.temperature"], qwen["generation.top_k"],
            qwen["generation.top_p"]) == (True, 0.7, 20, 0.8)
    assert qwen["generation.eos_token_id"] == [151643, 151645] and qwen["model.type"] == "qwen2"
    assert qwen["model.num_layers"] == 28 and qwen["genai.model.decoder.filename"] == "fusion.onnx"
    assert qwen["genai.model.decoder.session_options.config_entries.hybrid_opt_token_backend"] == "npu"
    marian = _values("microsoft__onnxruntime-genai__test__models__marian-batch-beams__genai_config.json")
    assert (marian["generation.num_beams"], marian["generation.max_length"], marian["serving.max_model_len"]) == \
        (2, 448, 768)
    assert marian["generation.eos_token_id"] == [0] and marian["model.type"] == "marian-ssru"
    gpt2 = _values("microsoft__onnxruntime-genai__test__models__hf-internal-testing__tiny-random-gpt2-fp32-cuda__"
                   "genai_config.json")
    assert gpt2["serving.device_kind"] == "gpu" and gpt2["generation.max_length"] == 512  # no search: context
    assert gpt2["generation.top_k"] == 50 and gpt2["generation.early_stopping"] is True  # GenAI defaults
    phi3 = _values("vadymchyrka1003__OnnxPhi3Model-Swift__genai_config.json")
    assert phi3["generation.eos_token_id"] == [32000, 32001, 32007] and phi3["serving.max_model_len"] == 131072
    assert phi3["generation.top_k"] == 1 and phi3["generation.do_sample"] is False
    web = _values("Oxsilaris06__Praxis__genai_config.json")
    assert web["genai.providers"] == ["web"] and "serving.device_kind" not in web


def test_cli_extract_shows_file_and_line() -> None:
    path = FIXTURES / "good" / "genai_config.json"
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", "--format", "json", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"kind": "genai"' in proc.stdout and "serving.max_model_len" in proc.stdout


def test_cli_check_hf_folder_against_genai_config() -> None:
    """Training: an HF model folder; deployment: a genai_config.json. The real differences, with file:line."""
    manifest = FIXTURES / "pair" / "driftguard.yaml"
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--config", str(manifest),
                           "--today", "2026-12-01", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    findings = {(f["key"], f["rule"]): f for m in report["models"] for f in m["findings"]}
    eos = findings[("generation.eos_token_id", "DG101")]
    assert (eos["training"], eos["deployed"]) == ([32000, 32001, 32007], [32000])
    origin = eos["deployed_origin"]
    assert origin["path"].endswith("pair/deployment/genai_config.json")
    assert (origin["line"], origin["pointer"]) == (17, "/model/eos_token_id")
    assert (findings[("generation.decoding", "DG104")]["training"],
            findings[("generation.decoding", "DG104")]["deployed"]) == ("sample", "greedy")
    max_length = findings[("generation.max_length", "DG101")]
    assert (max_length["training"], max_length["deployed"], max_length["deployed_origin"]["line"]) == (20, 2048, 24)
