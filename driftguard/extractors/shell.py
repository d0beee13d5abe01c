"""Shell scripts that start a server (``deploy.sh``, ``serve.sh``): the serving configuration their launch
command states, read with the launcher's own flag semantics.

``readers.shell`` parses the script (tree-sitter's bash grammar: never executed) into commands with their
words, lines and environment; ``launch_common`` finds the one that starts a known launcher (``vllm serve``,
``python -m vllm.entrypoints.openai.api_server``, ``text-generation-launcher``, and every launcher
``engines.LAUNCHERS`` registers), parses its flags and resolves them through the engine's own kind, so
``vllm serve MODEL --max-model-len 4096`` gives what the same args in a ``vllm serve --config`` YAML give, at
the script's lines. A script that starts no known launcher is an input error naming the known ones; several
launches that disagree are one too (they agree, or there is one: fine).

Detected for ``*.sh``/``*.bash`` files and for files starting with an ``sh``/``bash`` shebang.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from driftguard.extractors.base import ExtractOptions, KindInfo
from driftguard.model import EffectiveConfig
from driftguard.readers.files import read_text

INFO = KindInfo(
    kind="shell",
    description="shell script starting a server (vllm serve, text-generation-launcher, ...): its flags and env",
    role="deployment",
    rank=70,
    namespaces=("generation", "serving", "precision", "model", "batching", "preprocessing"),
    names=("*.sh", "*.bash"),
    launches=True,
)

_SUFFIXES = (".sh", ".bash")
_SHELLS = frozenset(("sh", "bash", "dash", "ash"))


def detect(path: Path, head: bytes) -> bool:
    """A ``*.sh``/``*.bash`` file, or one whose first line is an sh/bash shebang (``#!/bin/bash``,
    ``#!/usr/bin/env bash``)."""
    if path.suffix.lower() in _SUFFIXES:
        return True
    if not head.startswith(b"#!"):
        return False
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return False
    prog = PurePosixPath(words[0]).name
    if prog == "env" and len(words) > 1:
        prog = next((w for w in words[1:] if not w.startswith("-")), "")
    return prog in _SHELLS


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import launch_common
    from driftguard.readers import shell

    text = read_text(path, options.limits, "shell script")
    found = shell.commands(text, str(path), options.limits)
    return launch_common.resolve_all(found, path, options, INFO.kind, "script")
