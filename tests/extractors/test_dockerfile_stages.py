"""The Dockerfile rules as the Dockerfile reference states them: ENTRYPOINT and CMD combined (exec and shell
forms, SHELL), stages (inheritance, resets), a known serving image's ENTRYPOINT and ENV, ENV/ARG substitution;
each word at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError
from driftguard.extractors import dockerfile_stages as stages
from driftguard.readers.commands import Command


def _one(tmp_path: Path, text: str) -> Command:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    [command] = stages.commands(path)
    return command


def _argv(command: Command) -> list[str | None]:
    return [w.text for w in command.words]


def test_exec_entrypoint_then_exec_cmd_each_word_at_its_line(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM python:3.11\nENTRYPOINT ["vllm", "serve"]\n'
                       'CMD ["org/m", \\\n     "--max-model-len", "4096"]\n')
    assert _argv(c) == ["vllm", "serve", "org/m", "--max-model-len", "4096"]
    assert [w.line for w in c.words] == [2, 2, 3, 4, 4]
    assert c.where == "ENTRYPOINT + CMD" and c.line == 2


def test_shell_form_cmd_runs_through_sh_c_and_shell_changes_the_shell(tmp_path: Path) -> None:
    c = _one(tmp_path, "FROM x\nCMD vllm serve m \\\n    --dtype half\n")
    assert _argv(c) == ["/bin/sh", "-c", "vllm serve m \\\n    --dtype half"]
    c = _one(tmp_path, 'FROM x\nSHELL ["/bin/bash", "-lc"]\nCMD vllm serve m\n')
    assert _argv(c) == ["/bin/bash", "-lc", "vllm serve m"]


def test_shell_form_entrypoint_ignores_cmd(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM x\nENTRYPOINT vllm serve m\nCMD ["--dtype", "half"]\n')
    assert _argv(c) == ["/bin/sh", "-c", "vllm serve m"] and c.where == "ENTRYPOINT"


def test_exec_entrypoint_with_shell_form_cmd(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM x\nENTRYPOINT ["/usr/bin/env"]\nCMD vllm serve m\n')
    assert _argv(c) == ["/usr/bin/env", "/bin/sh", "-c", "vllm serve m"]


def test_the_last_cmd_of_the_stage_wins(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM x\nCMD ["a"]\nCMD ["vllm", "serve", "m"]\n')
    assert _argv(c) == ["vllm", "serve", "m"] and c.line == 3


def test_a_later_stage_starts_afresh_unless_built_from_an_earlier_one(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text('FROM x AS build\nCMD ["vllm", "serve", "m"]\nFROM ubuntu:22.04\nRUN true\n')
    assert stages.commands(path) == []
    c = _one(tmp_path, 'FROM x AS base\nENV A=1\nCMD ["vllm", "serve", "m"]\nFROM base\nENV B=2\n')
    assert _argv(c) == ["vllm", "serve", "m"] and sorted(c.env) == ["A", "B"]


def test_entrypoint_resets_an_inherited_cmd_but_not_one_of_its_own_stage(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM x AS base\nCMD ["--model", "m"]\nFROM base\nENTRYPOINT ["vllm", "serve"]\n')
    assert _argv(c) == ["vllm", "serve"]
    c = _one(tmp_path, 'FROM x\nCMD ["--model", "m"]\nENTRYPOINT ["vllm", "serve"]\n')
    assert _argv(c) == ["vllm", "serve", "--model", "m"]


@pytest.mark.parametrize("image", ["vllm/vllm-openai:v0.9.2", "docker.io/vllm/vllm-openai@sha256:0123abcd",
                                   "registry.example.com:5000/vllm/vllm-openai:latest"])
def test_from_a_known_serving_image_inherits_its_entrypoint(tmp_path: Path, image: str) -> None:
    c = _one(tmp_path, f'FROM {image}\nCMD ["--model", "m"]\n')
    assert _argv(c) == ["vllm", "serve", "--model", "m"]
    assert [w.line for w in c.words] == [1, 1, 2, 2]


def test_tgi_image_gives_its_launcher_and_env_and_an_arg_may_name_the_image(tmp_path: Path) -> None:
    c = _one(tmp_path, "ARG TAG=2.4\nFROM ghcr.io/huggingface/text-generation-inference:${TAG}\n"
                       'ENV MAX_INPUT_LENGTH=2048\nCMD ["--model-id", "m"]\n')
    assert _argv(c) == ["text-generation-launcher", "--model-id", "m"]
    assert {k: w.text for k, w in c.env.items()} == {"HF_HOME": "/data", "PORT": "80", "MAX_INPUT_LENGTH": "2048"}


def test_env_and_arg_substitution_as_the_reference_says(tmp_path: Path) -> None:
    c = _one(tmp_path, "\n".join([
        "ARG GLOBAL=g",
        "FROM x",
        "ARG GLOBAL",            # re-declared: takes the global default
        "ARG LEN=4096",
        "ARG TOKEN",             # no default: from --build-arg, which the file does not say
        "ENV A=$LEN B=${LEN:+set} C=${NOPE:-fallback} D='$LEN' E=\\$LEN F=${NOPE} G=$GLOBAL",
        "ENV H=$TOKEN",
        "ENV LEN=1",             # ENV wins over the ARG of the same name
        "ENV I=${LEN}x",
        "ENV J some words here",  # the legacy form: the rest of the line
        'CMD ["vllm", "serve", "$LEN"]',  # exec form: no substitution
    ]) + "\n")
    env = {k: w.text for k, w in c.env.items()}
    assert env == {"A": "4096", "B": "set", "C": "fallback", "D": "$LEN", "E": "$LEN", "F": "", "G": "g",
                   "H": None, "LEN": "1", "I": "1x", "J": "some words here"}
    assert c.env["H"].source == "H=$TOKEN" and c.env["H"].line == 7
    assert _argv(c)[-1] == "$LEN"


def test_arguments_are_not_the_containers_environment(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM x\nARG MODEL=m\nCMD ["vllm", "serve"]\n')
    assert "MODEL" not in c.env


def test_each_pair_of_a_continued_env_keeps_its_line(tmp_path: Path) -> None:
    c = _one(tmp_path, 'FROM x\nENV A=1 \\\n    B=2\nCMD ["vllm", "serve"]\n')
    assert (c.env["A"].line, c.env["B"].line) == (2, 3)


def test_a_file_without_from_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("# just a comment\nRUN true\n")
    with pytest.raises(ExtractionError, match="no FROM"):
        stages.commands(path)


def test_image_config_keeps_entrypoint_and_cmd_apart(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text('FROM vllm/vllm-openai\nENV HF_HOME=/models\nCMD ["--model", "m"]\n')
    config = stages.image_config(path)
    assert [w.text for w in config.entrypoint or ()] == ["vllm", "serve"]
    assert [w.text for w in config.cmd or ()] == ["--model", "m"]
    assert config.env["HF_HOME"].text == "/models"
