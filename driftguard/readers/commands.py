"""Commands as the files that start a server write them: the neutral shape every launch reader produces.

A shell script, a Dockerfile ``CMD``/``ENTRYPOINT``, a compose service's ``command:``/``environment:``, a
Kubernetes container's ``command``/``args``/``env`` and a KServe predictor all come down to the same thing: the
words of one process's command line and the environment it starts with, each word where it was written. The
readers of those formats produce ``Command`` records; ``extractors.launch_common`` matches them against the
launchers ``engines`` declares and reads their flags. Nothing here reads a file.

A word whose value is not known from the file itself (``$MODEL`` with no assignment in the file, a Kubernetes
``valueFrom``) keeps its expression and has ``text`` None: it is shown as unresolved, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One word of a command line or one environment value.

    ``text``: the value after quoting and expansion as the shell (or the container runtime) would see it; None
    when it depends on something the file does not say (an unset variable, a command substitution, a secret).
    ``source``: the word as written (``"${MAX_LEN:-4096}"``), for messages and for unresolved values.
    ``line``: 1-based line of the file where the word is written (None when the format gives none).
    """

    text: str | None
    source: str
    line: int | None = None

    @property
    def resolved(self) -> bool:
        return self.text is not None


@dataclass(frozen=True)
class Command:
    """One process a file starts: its argv (program first) and the environment it is given.

    ``words``: argv, already split (a shell-form string such as ``sh -c "vllm serve ..."`` is split by
    ``readers.shell``); wrappers (``exec``, ``env A=1``, ``nohup``) are kept: the launcher matcher skips them.
    ``env``: variables the process starts with, as this file sets them (compose ``environment:``, Kubernetes
    ``env``, a script's ``export``, a Dockerfile's ``ENV``), name -> value.
    ``line``: where the command starts. ``where``: how to name it in a message (``service "llm"``,
    ``Deployment/vllm container "server"``, ``CMD``), empty for a plain script line.
    """

    words: tuple[Word, ...]
    env: Mapping[str, Word] = field(default_factory=dict)
    line: int | None = None
    where: str = ""
