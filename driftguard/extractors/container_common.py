"""What Dockerfiles, compose files and Kubernetes manifests share: the image a container starts from, the rule
that turns an image and a container's overrides into the command it runs, and the shell that runs a
``sh -c SCRIPT`` container (its script read with ``readers.shell``, the container's environment given to it).

An image carries an ENTRYPOINT, a CMD and an ENV (``ImageConfig``): a known serving image's from
``engines.images``, a Dockerfile's from its final stage. A compose service (``entrypoint``/``command``) and a
Kubernetes container (``command``/``args``) override them the same way: a given entrypoint replaces the image's
ENTRYPOINT and drops its CMD; given arguments replace the CMD; the argv is the entrypoint followed by the
arguments (compose specification, "entrypoint"; Kubernetes, "Define a command and arguments for a container":
the table of ``command``/``args`` against the image's ``Entrypoint``/``Cmd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from driftguard.engines import images
from driftguard.errors import LimitError
from driftguard.readers import shell
from driftguard.readers.commands import Command, Word
from driftguard.readers.limits import Limits


@dataclass(frozen=True)
class ImageConfig:
    """An image's ENTRYPOINT and CMD (None: not set) and the ENV it sets; ``name`` says where it comes from
    (``image vllm/vllm-openai``, ``Dockerfile``)."""

    name: str
    entrypoint: tuple[Word, ...] | None = None
    cmd: tuple[Word, ...] | None = None
    env: Mapping[str, Word] = field(default_factory=dict)


def known_image(reference: str, line: int | None) -> ImageConfig | None:
    """The config of a known serving image (``engines.images``), its words placed on ``line`` (where the image
    is named), or None for any other image."""
    known = images.image(reference)
    if known is None:
        return None
    return ImageConfig(f"image {reference}", tuple(Word(w, w, line) for w in known.entrypoint), None,
                       {k: Word(v, f"{reference} ENV {k}={v}", line) for k, v in known.env.items()})


def argv(image: ImageConfig | None, entrypoint: tuple[Word, ...] | None,
         args: tuple[Word, ...] | None) -> tuple[Word, ...]:
    """The argv a container runs: ``entrypoint`` (given) or the image's, then ``args`` (given) or, only when the
    entrypoint is the image's own, the image's CMD."""
    if entrypoint is not None:
        return (*entrypoint, *(args or ()))
    own = image.entrypoint if image is not None and image.entrypoint is not None else ()
    rest = args if args is not None else image.cmd if image is not None and image.cmd is not None else ()
    return (*own, *rest)


#: Shells whose ``-c`` runs a script given as one word (``sh -c "vllm serve ..."``).
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def script_index(words: tuple[Word, ...]) -> int | None:
    """Where the script of ``sh -c SCRIPT`` (``bash -lc``, ``/bin/sh -ec``...) sits in an argv, or None."""
    if len(words) < 3 or words[0].text is None or words[1].text is None:
        return None
    shell, option = words[0].text.rsplit("/", 1)[-1], words[1].text
    if shell in SHELLS and option.startswith("-") and not option.startswith("--") and "c" in option:
        return 2
    return None


def scripts(command: Command, path: Path, limits: Limits, hidden: Mapping[str, Word] | None = None) -> list[Command]:
    """``command`` itself, or, when it is ``sh -c SCRIPT`` with the script known, the commands the script runs
    (``readers.shell``, given the container's environment; ``hidden``: variables the shell must take as unknown
    whatever the environment says), each named as the container is."""
    at = script_index(command.words)
    if at is None or command.words[at].text is None:
        return [command]
    script = command.words[at]
    env = {**command.env, **(hidden or {})}
    found = shell.commands(script.text or "", str(path), limits, env, script.line or command.line or 1)
    return [Command(c.words, c.env, c.line, command.where) for c in found]


def block_line(lines: list[str], line: int | None) -> int | None:
    """The line a YAML scalar's text starts on: the next line for a literal block (``- |``, ``key: |-``), whose
    indicator line holds no text."""
    if line is None or not 0 < line <= len(lines):
        return line
    tail = lines[line - 1].split(" #", 1)[0].rstrip()
    return line + 1 if tail.endswith(("|", "|-", "|+", ">", ">-", ">+")) else line


class Grown(Exception):
    """A value grew past ``Limits.file_bytes`` while variables were substituted into it (``$A$A`` chains double
    at each step); callers raise ``too_long`` with the file and the line (``line`` when the raiser knew it)."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__(line)
        self.line = line


def check_size(size: int, limits: Limits) -> None:
    """``Grown`` once a value being built passes ``limits.file_bytes``."""
    if size > limits.file_bytes:
        raise Grown


def too_long(limits: Limits, path: str, line: int | None) -> LimitError:
    return LimitError("file_bytes", limits.file_bytes, "a value grows past the file_bytes limit as variables are "
                      "substituted into it", path, line)
