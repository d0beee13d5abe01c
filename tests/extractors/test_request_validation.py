"""Request fields an engine ignores are findings (DG304), a file with no field the kind knows is an input
error, and dashed engine args keep their own lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import api, cli
from driftguard.errors import ExtractionError

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_dashed_and_misspelled_request_fields_are_not_read(tmp_path: Path) -> None:
    req = _write(tmp_path, "request.json", '{\n "prompt": "x",\n "top-p": 0.95,\n "temprature": 0.3\n}\n')
    cfg = api.extract(f"vllm:{req}")
    assert cfg["generation.top_p"].value == 1.0 and not cfg["generation.top_p"].explicit
    assert cfg["generation.temperature"].value == 1.0
    top_p = cfg["vllm.unknown_fields.top-p"]
    assert top_p.value == 0.95 and top_p.origin.line == 3 and "did you mean top_p?" in (top_p.note or "")
    assert "did you mean temperature?" in (cfg["vllm.unknown_fields.temprature"].note or "")
    assert "vllm.temprature" not in cfg.values


def test_ignored_fields_are_dg304_warnings(tmp_path: Path) -> None:
    train = _write(tmp_path, "generation_config.json", '{"temperature": 1.0}')
    req = _write(tmp_path, "request.json", '{"prompt": "x", "temprature": 0.3}')
    findings = api.diff(train, f"vllm:{req}").findings
    hit = [f for f in findings if f.rule == "DG304"]
    assert len(hit) == 1 and hit[0].severity == "warning"
    assert "'temprature'" in hit[0].message and "did you mean temperature?" in hit[0].message


def test_nested_sampling_parameters_are_validated(tmp_path: Path) -> None:
    req = _write(tmp_path, "triton.json", '{"text_input": "x", "sampling_parameters": "{\\"top-k\\": 5}"}')
    cfg = api.extract(f"vllm:{req}")
    assert "vllm.unknown_fields.top-k" in cfg.values and cfg["generation.top_k"].value == 0


@pytest.mark.parametrize("kind", ["vllm", "tensorrt-llm", "lmdeploy"])
def test_another_products_file_is_an_input_error(kind: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    foreign = _write(tmp_path, "tgi.yaml", "model_id: bigscience/bloom\nsharded: true\nnum_shard: 2\n")
    with pytest.raises(ExtractionError, match=f"not a {kind} file"):
        api.extract(f"{kind}:{foreign}")
    assert cli.run(["extract", f"{kind}:{foreign}"]) == 2
    assert f"not a {kind} file" in capsys.readouterr().err


def test_hf_config_given_as_vllm_is_an_input_error() -> None:
    with pytest.raises(ExtractionError, match="not a vllm file"):
        api.extract(f"vllm:{ROOT / 'examples' / 'summarizer' / 'training' / 'config.json'}")


def test_empty_sampling_dict_is_an_input_error(tmp_path: Path) -> None:
    """A file with no field recognises nothing of the format: an input error, not a page of defaults."""
    with pytest.raises(ExtractionError, match=r"not a vllm file: none of its fields \(none\)"):
        api.extract(f"vllm:{_write(tmp_path, 'p.json', '{}')}")


def test_dashed_engine_args_keep_their_lines(tmp_path: Path) -> None:
    serve = _write(tmp_path, "serve.yaml", "model: m\ndtype: bfloat16\n\ntensor-parallel-size: 2\n"
                                           "gpu-memory-utilization: 0.9\nmax-model-len: 4096\n")
    cfg = api.extract(f"vllm:{serve}")
    assert cfg["vllm.tensor_parallel_size"].origin.line == 4
    assert cfg["vllm.gpu_memory_utilization"].origin.line == 5
    assert cfg["serving.max_model_len"].value == 4096 and cfg["serving.max_model_len"].origin.line == 6
    assert not [k for k in cfg.values if ".unknown_fields." in k]


def test_openai_unknown_fields(tmp_path: Path) -> None:
    req = _write(tmp_path, "r.json", '{"messages": [], "max_tokens": 5, "top_k": 40, "stream": true}')
    cfg = api.extract(f"openai:{req}")
    assert "openai.unknown_fields.top_k" in cfg.values and cfg["openai.stream"].value is True


def test_tensorrt_llm_and_lmdeploy_unknown_fields(tmp_path: Path) -> None:
    sp = _write(tmp_path, "sp.yaml", "temperature: 0.8\ntop-p: 0.9\n")
    trt = api.extract(f"tensorrt-llm:{sp}")
    assert "did you mean top_p?" in (trt["tensorrt_llm.unknown_fields.top-p"].note or "")
    lmd = api.extract(f"lmdeploy:{sp}")
    assert "did you mean top_p?" in (lmd["lmdeploy.unknown_fields.top-p"].note or "")
    # engine configs are not validated field by field
    model_yaml = _write(tmp_path, "model.yaml", "model: x\nbackend: pytorch\nsomething_new: 1\n")
    assert api.extract(f"tensorrt-llm:{model_yaml}")["tensorrt_llm.something_new"].value == 1
