"""Dockerfiles that start a server: the serving configuration of the command the image runs.

``dockerfile_stages`` reads the final stage as Docker builds it (ENTRYPOINT and CMD combined, SHELL, stages,
ENV and ARG substitution, a known serving image's ENTRYPOINT and ENV through ``FROM``); a shell form's script is
read with ``readers.shell`` given the image's ENV (its ``${MODEL:-default}`` resolves as the container's shell
would); ``launch_common`` matches the command to a launcher and reads its flags. An image that starts no known
launcher is an input error naming the known ones.

Detected by name: ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``, ``*.dockerfile``.
"""

from __future__ import annotations

from pathlib import Path

from driftguard.extractors.base import ExtractOptions, KindInfo
from driftguard.model import EffectiveConfig

INFO = KindInfo(
    kind="dockerfile",
    description="Dockerfile whose ENTRYPOINT/CMD starts a server (vllm serve, text-generation-launcher, ...)",
    role="deployment",
    rank=70,
    namespaces=("generation", "serving", "precision", "model", "batching", "preprocessing"),
    names=("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile"),
    launches=True,
)


def detect(path: Path, head: bytes) -> bool:
    """``Dockerfile``, ``Dockerfile.<name>``, ``<name>.Dockerfile`` (any case of the suffix)."""
    name = path.name
    return name == "Dockerfile" or name.startswith("Dockerfile.") or name.lower().endswith(".dockerfile")


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import launch_common
    from driftguard.extractors.container_common import scripts
    from driftguard.extractors.dockerfile_stages import commands

    found = [c for command in commands(path, options.limits) for c in scripts(command, path, options.limits)]
    return launch_common.resolve_all(found, path, options, INFO.kind, "Dockerfile")
