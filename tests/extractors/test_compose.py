"""Compose files: interpolation as the Compose Specification defines it (values from the ``.env`` beside the
file, defaults, ``$$``; anything else unresolved), ``environment`` in both forms, ``env_file``, ``command`` and
``entrypoint`` against the image's (a known serving image's, or the Dockerfile ``build`` names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError
from driftguard.extractors import compose
from driftguard.readers.commands import Command


def _env(values: dict[str, str]) -> compose.Lookup:
    return values.get


@pytest.mark.parametrize(("raw", "expected"), [
    ("${A}", "a"), ("$A/x", "a/x"), ("$$A", "$A"), ("$${A}", "${A}"), ("cost $$5", "cost $5"),
    ("${E:-d}", "d"), ("${E-d}", ""), ("${U:-d}", "d"), ("${U-d}", "d"), ("${U:-${A}}", "a"),
    ("${A:?err}", "a"), ("${A:+alt}", "alt"), ("${E:+alt}", ""), ("${E+alt}", "alt"),
    ("${U}", None), ("$U", None), ("${U:?needed}", None), ("${U?needed}", None), ("${U:+alt}", None),
    ("${E:?err}", None), ("${A", None), ("$", "$"), ("a$-b", "a$-b"),
])
def test_interpolation(raw: str, expected: str | None) -> None:
    # A set to "a", E set empty, U not in the .env (the shell that runs compose decides: unresolved)
    assert compose.interpolate(raw, _env({"A": "a", "E": ""})) == expected


def _project(tmp_path: Path, text: str, dotenv: str | None = None) -> list[Command]:
    (tmp_path / "docker-compose.yml").write_text(text)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return compose.commands(tmp_path / "docker-compose.yml", tmp_path)


SERVICE = """services:
  llm:
    image: vllm/vllm-openai:${TAG:-v0.9.2}
    command: --model ${MODEL} --max-model-len ${MAX_LEN:-2048} --served-model-name "my model"
    environment:
      HF_HOME: /cache
      HF_TOKEN:
      PORT: 8000
  db:
    image: postgres:16
"""


def test_service_command_after_the_images_entrypoint_values_from_dotenv(tmp_path: Path) -> None:
    [llm] = _project(tmp_path, SERVICE, "# models\nMODEL=org/m\nMAX_LEN=4096\n")
    assert [w.text for w in llm.words] == ["vllm", "serve", "--model", "org/m", "--max-model-len", "4096",
                                           "--served-model-name", "my model"]
    assert llm.where == 'service "llm"' and llm.line == 3
    assert llm.words[0].line == 3 and llm.words[2].line == 4
    assert {k: w.text for k, w in llm.env.items()} == {"HF_HOME": "/cache", "HF_TOKEN": None, "PORT": "8000"}


def test_without_dotenv_a_default_applies_and_a_bare_reference_is_unresolved(tmp_path: Path) -> None:
    [llm] = _project(tmp_path, SERVICE)
    words = {w.source: w.text for w in llm.words}
    assert words["${MODEL}"] is None and words["${MAX_LEN:-2048}"] == "2048"


def test_list_forms_entrypoint_replaces_the_images(tmp_path: Path) -> None:
    [llm] = _project(tmp_path, """services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.4
    entrypoint: ["text-generation-launcher"]
    command:
      - --model-id
      - ${MODEL}
      - --max-input-length
      - 1024
    environment:
      - MAX_TOTAL_TOKENS=2048
      - HF_TOKEN
""", "MODEL=org/m\n")
    assert [w.text for w in llm.words] == ["text-generation-launcher", "--model-id", "org/m", "--max-input-length",
                                           "1024"]
    assert [w.line for w in llm.words] == [4, 6, 7, 8, 9]
    assert {k: w.text for k, w in llm.env.items()} == {"HF_HOME": "/data", "PORT": "80", "MAX_TOTAL_TOKENS": "2048",
                                                       "HF_TOKEN": None}


def test_an_unknown_image_without_entrypoint_runs_the_command_alone(tmp_path: Path) -> None:
    [svc] = _project(tmp_path, "services:\n  s:\n    image: me/server\n    command: [--model, m]\n")
    assert [w.text for w in svc.words] == ["--model", "m"]


def test_dotenv_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "x.env"
    path.write_text("export A=1\nB='lit ${A}'\nC=\"x ${A}\"\n\n# comment\nD=${A}${U}\nE\n")
    env = compose.dotenv(path, compose.DEFAULT)
    assert {k: w.text for k, w in env.items()} == {"A": "1", "B": "lit ${A}", "C": "x 1", "D": None, "E": None}
    assert env["D"].line == 6


def test_env_file_then_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "model.env").write_text("MAX_INPUT_LENGTH=512\nMAX_TOTAL_TOKENS=1024\n")
    [svc] = _project(tmp_path, """services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference
    env_file: model.env
    environment: {MAX_TOTAL_TOKENS: 2048}
""")
    assert {k: (w.text, w.line) for k, w in svc.env.items() if k.startswith("MAX")} == {
        "MAX_INPUT_LENGTH": ("512", 1), "MAX_TOTAL_TOKENS": ("2048", 5)}


def test_a_missing_env_file_is_refused_unless_not_required(tmp_path: Path) -> None:
    text = "services:\n  s:\n    image: vllm/vllm-openai\n    env_file: secrets.env\n"
    with pytest.raises(ExtractionError, match=r"secrets\.env") as err:
        _project(tmp_path, text)
    assert err.value.line == 4
    [svc] = _project(tmp_path, "services:\n  s:\n    image: vllm/vllm-openai\n"
                               "    env_file: [{path: secrets.env, required: false}]\n")
    assert [w.text for w in svc.words] == ["vllm", "serve"]


def test_an_env_file_outside_the_tree_is_refused(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tmp_path / "outside.env").write_text("A=1\n")
    (tree / "docker-compose.yml").write_text("services:\n  s:\n    image: x\n    env_file: ../outside.env\n")
    with pytest.raises(ExtractionError, match="outside"):
        compose.commands(tree / "docker-compose.yml", tree)


def test_build_reads_the_dockerfile_it_names(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "serve.Dockerfile").write_text(
        'FROM vllm/vllm-openai\nENV HF_HOME=/models\nCMD ["--model", "m"]\n')
    [svc] = _project(tmp_path, "services:\n  s:\n    build: {context: srv, dockerfile: serve.Dockerfile}\n")
    assert [w.text for w in svc.words] == ["vllm", "serve", "--model", "m"]
    assert svc.env["HF_HOME"].text == "/models"
    [svc] = _project(tmp_path, "services:\n  s:\n    build: {context: srv, dockerfile: serve.Dockerfile}\n"
                               "    command: [--model, other]\n")
    assert [w.text for w in svc.words] == ["vllm", "serve", "--model", "other"]


def test_not_a_compose_file(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="no services"):
        _project(tmp_path, "version: '3'\n")
