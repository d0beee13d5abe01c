"""preprocessing.chat_template: the digest of the template text a side applies (tokenizer_config.json's
chat_template, a chat_template.jinja beside it, vLLM's --chat-template or a request's chat_template); unset on the
serving side means the tokenizer's own, which is no finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import extract
from driftguard.extractors.base import ExtractOptions
from driftguard.keys import chat_template_digest
from driftguard.model import Finding

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}")
OTHER = "{% for message in messages %}{{ message['content'] }}\n{% endfor %}"


def _tokenizer(folder: Path, template: object = None, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"tokenizer_class": "LlamaTokenizerFast", "model_max_length": 4096, **extra}
    if template is not None:
        data["chat_template"] = template
    path = folder / "tokenizer_config.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def _check(tmp_path: Path, deployment: str) -> dict[str, Finding]:
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: model/tokenizer_config.json\n"
        f"    deployment:\n{deployment}", encoding="utf-8")
    report = api.check(tmp_path / "driftguard.yaml")
    return {f.key: f for f in report.findings}


def test_digest_of_the_config_template_and_the_text_kept_uncompared(tmp_path: Path) -> None:
    cfg = extract(_tokenizer(tmp_path / "model", CHATML))
    v = cfg["preprocessing.chat_template"]
    assert v.value == chat_template_digest(CHATML) and v.value.startswith("sha256:") and len(v.value) == 23
    assert v.explicit and v.origin.pointer == "/chat_template" and v.origin.line is not None
    assert cfg["hf.tokenizer.chat_template"].value == CHATML


def test_named_templates_use_the_default_one(tmp_path: Path) -> None:
    named = [{"name": "default", "template": CHATML}, {"name": "tool_use", "template": OTHER}]
    cfg = extract(_tokenizer(tmp_path / "a", named))
    assert cfg["preprocessing.chat_template"].value == chat_template_digest(CHATML)
    cfg = extract(_tokenizer(tmp_path / "b", [{"name": "tool_use", "template": OTHER}]))
    assert "preprocessing.chat_template" not in cfg  # apply_chat_template needs a name then


def test_chat_template_jinja_beside_the_config_wins(tmp_path: Path) -> None:
    path = _tokenizer(tmp_path / "model", OTHER)
    (tmp_path / "model" / "chat_template.jinja").write_text(CHATML, encoding="utf-8")
    for cfg in (extract(path), extract(tmp_path / "model", "hf-model")):
        v = cfg["preprocessing.chat_template"]
        assert v.value == chat_template_digest(CHATML)
        assert v.origin.path.endswith("chat_template.jinja")
        assert cfg["hf.tokenizer.chat_template"].value == CHATML


def test_serving_side_without_a_template_is_no_finding(tmp_path: Path) -> None:
    _tokenizer(tmp_path / "model", CHATML)
    (tmp_path / "request.json").write_text('{"messages": [], "temperature": 0.7}', encoding="utf-8")
    found = _check(tmp_path, "      - {path: request.json, kind: vllm}\n      - {path: model, kind: hf-model}\n")
    assert not any(k.endswith("chat_template") for k in found), found
    found = _check(tmp_path, "      - {path: request.json, kind: vllm}\n")  # no DG103 either
    assert not any(k.endswith("chat_template") for k in found), found


def test_request_chat_template_that_differs_is_dg101(tmp_path: Path) -> None:
    _tokenizer(tmp_path / "model", CHATML)
    (tmp_path / "request.json").write_text(json.dumps({"messages": [], "chat_template": OTHER}), encoding="utf-8")
    found = _check(tmp_path, "      - {path: request.json, kind: vllm}\n      - {path: model, kind: hf-model}\n")
    f = found["preprocessing.chat_template"]
    assert f.rule == "DG101" and f.deployed is not None
    assert f.deployed.value == chat_template_digest(OTHER)
    assert "hf.tokenizer.chat_template" not in found  # the text is not compared: one finding per template


def test_same_template_from_a_server_file_is_no_finding(tmp_path: Path) -> None:
    _tokenizer(tmp_path / "model", CHATML)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "chatml.jinja").write_text(CHATML, encoding="utf-8")
    (tmp_path / "serve.yaml").write_text("model: model\nchat-template: templates/chatml.jinja\n"
                                         "tensor-parallel-size: 1\n", encoding="utf-8")
    cfg = extract(tmp_path / "serve.yaml", "vllm")
    assert cfg["preprocessing.chat_template"].value == chat_template_digest(CHATML)
    assert cfg["preprocessing.chat_template"].origin.line == 2
    found = _check(tmp_path, "      - {path: serve.yaml, kind: vllm}\n")
    assert "preprocessing.chat_template" not in found


def test_inline_server_template_is_unescaped_as_vllm_does(tmp_path: Path) -> None:
    (tmp_path / "serve.json").write_text(json.dumps({"model": "m", "tensor_parallel_size": 1,
                                                     "chat_template": OTHER.replace("\n", "\\n")}),
                                         encoding="utf-8")
    cfg = extract(tmp_path / "serve.json", "vllm")
    assert cfg["preprocessing.chat_template"].value == chat_template_digest(OTHER)


def test_server_template_file_outside_the_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.jinja").write_text(CHATML, encoding="utf-8")
    (tmp_path / "deploy").mkdir()
    serve = tmp_path / "deploy" / "serve.yaml"
    serve.write_text("model: m\nchat_template: ../outside.jinja\ntensor_parallel_size: 1\n", encoding="utf-8")
    with pytest.raises(ExtractionError, match="outside"):
        extract(serve, "vllm", options=ExtractOptions(root=tmp_path / "deploy"))
    missing = tmp_path / "deploy" / "missing.yaml"
    missing.write_text("model: m\nchat_template: nowhere.jinja\ntensor_parallel_size: 1\n", encoding="utf-8")
    with pytest.raises(ExtractionError):
        extract(missing, "vllm")


def test_the_finding_names_the_first_line_where_the_templates_differ(tmp_path: Path) -> None:
    trained = "{% for m in messages %}\n<|user|>{{ m['content'] }}\n{% endfor %}\n<|assistant|>"
    served = "{% for m in messages %}\n[INST] {{ m['content'] }} [/INST]\n{% endfor %}\n<|assistant|>"
    _tokenizer(tmp_path / "model", trained)
    (tmp_path / "request.json").write_text(json.dumps({"messages": [], "chat_template": served}), encoding="utf-8")
    found = _check(tmp_path, "      - {path: request.json, kind: vllm}\n      - {path: model, kind: hf-model}\n")
    f = found["preprocessing.chat_template"]
    assert "first difference at template line 2" in f.message
    assert "<|user|>" in f.message and "[INST]" in f.message
    assert "preprocessing.chat_template_text" not in found  # read for the message, never compared (DG101, DG103)


def test_a_template_that_only_grows_says_where(tmp_path: Path) -> None:
    _tokenizer(tmp_path / "model", "line one\nline two")
    (tmp_path / "request.json").write_text(json.dumps({"messages": [], "chat_template": "line one\nline two\nthree"}),
                                           encoding="utf-8")
    found = _check(tmp_path, "      - {path: request.json, kind: vllm}\n      - {path: model, kind: hf-model}\n")
    assert "the deployed template goes on at line 3" in found["preprocessing.chat_template"].message
