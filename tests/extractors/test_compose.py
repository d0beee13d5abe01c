"""Compose files: interpolation as the Compose Specification defines it (values from the ``.env`` beside the
file, defaults, ``$$``; anything else unresolved), ``environment`` in both forms, ``env_file``, ``command`` and
``entrypoint`` against the image's (a known serving image's, or the Dockerfile ``build`` names)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import compose
from driftguard.extractors.base import ExtractOptions
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


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("docker-compose.yml", "x: 1\n", True), ("docker-compose.prod.yaml", "", True), ("compose.yaml", "", True),
    ("stack.yml", "services:\n  llm:\n    image: vllm/vllm-openai\n", True),
    ("stack.yml", "# a comment\nservices:\n\n  llm:\n    command: [a]\n", True),
    ("stack.yml", "services:\n  - name: a\n", False), ("stack.yml", "services: [a, b]\n", False),
    ("stack.yml", "kind: Deployment\nservices:\n  x: 1\n", False), ("params.yaml", "max-model-len: 4096\n", False),
    ("docker-compose.txt", "services:\n  a:\n    image: x\n", False),
])
def test_detect(name: str, text: str, expected: bool) -> None:
    assert compose.detect(Path(name), text.encode()) is expected


def _extract(tmp_path: Path, text: str, dotenv: str | None = None) -> object:
    (tmp_path / "docker-compose.yml").write_text(text)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return extractors.extract(tmp_path / "docker-compose.yml", "compose", ExtractOptions(root=tmp_path))


def test_extract_tgi_from_environment_and_its_dotenv(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, """services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.4.1
    environment:
      MODEL_ID: ${MODEL}
      MAX_INPUT_TOKENS: ${MAX_IN:-1024}
  web:
    image: nginx
""", "MODEL=org/m\n")
    assert cfg.serving == "tgi"  # type: ignore[attr-defined]
    values = cfg.values  # type: ignore[attr-defined]
    assert (values["tgi.launcher.model_id"].value, values["tgi.launcher.model_id"].origin.line) == ("org/m", 5)
    assert values["tgi.launcher.max_input_tokens"].value == 1024


def test_a_shell_script_keeps_what_compose_can_resolve(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, """services:
  llm:
    image: vllm/vllm-openai
    entrypoint: /bin/bash -c "export X=1 && vllm serve ${MODEL} --max-model-len ${LEN:-2048} --port $$PORT"
    environment: {PORT: 9000}
""")
    values = cfg.values  # type: ignore[attr-defined]
    # ${MODEL}: the shell that runs compose decides
    assert (values["vllm.model"].value, values["vllm.model"].how.value) == ("${MODEL}", "unresolved")
    assert values["serving.max_model_len"].value == 2048
    assert values["vllm.port"].value == 9000  # $$PORT: the container's shell reads its own environment


def test_services_that_disagree_are_an_error_naming_them(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match=r"disagree.*service \"a\".*service \"b\""):
        _extract(tmp_path, """services:
  a:
    image: vllm/vllm-openai
    command: [--model, m, --max-model-len, "2048"]
  b:
    image: vllm/vllm-openai
    command: [--model, m, --max-model-len, "4096"]
""")


def test_no_service_starts_a_known_launcher(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="no known launcher is started in this compose file"):
        _extract(tmp_path, "services:\n  db:\n    image: postgres\n")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


COMPOSE = """services:
  llm:
    image: vllm/vllm-openai:v0.9.2
    command: --model org/summarizer --max-model-len ${MAX_LEN:-4096} --generation-config vllm
"""


def test_cli_extract(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    (tmp_path / ".env").write_text("MAX_LEN=2048\n")
    proc = _cli("extract", "compose:docker-compose.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "compose; serving path vllm-serve" in proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("serving.max_model_len"))
    assert "2048" in line and "docker-compose.yml:4" in line


def test_cli_check_with_a_compose_deployment(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7}')
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    (tmp_path / "driftguard.yaml").write_text("""version: 1
models:
  summarizer:
    training:
      - path: training/generation_config.json
    deployment:
      - path: docker-compose.yml
""")
    proc = _cli("check", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("generation.temperature"))
    assert "0.7" in row and "1.0" in row and "docker-compose.yml (vllm default)" in row
