"""Serving images as data: what a known image runs when its container is given no entrypoint of its own.

A compose service with ``image: vllm/vllm-openai`` and only ``command: [--model, m]``, a Kubernetes container with
only ``args``, or a Dockerfile ``FROM`` such an image with only ``CMD`` starts the image's own ``ENTRYPOINT``
with those words after it. Each row below is read from the image's Dockerfile in the engine's repository (cited:
repository, commit, file), with the environment that Dockerfile sets where the launcher reads it (TGI's
``PORT``). Images whose Dockerfile sets no ``ENTRYPOINT``/``CMD`` that starts a server (SGLang's
``lmsysorg/sglang``, lmdeploy's ``openmmlab/lmdeploy``, NVIDIA's ``nvcr.io/nvidia/tritonserver``, whose
``nvidia_entrypoint.sh`` only runs the command it is given) are not listed: their containers must name the
launcher themselves, and a container that does not is reported as starting no known launcher.

Images are matched by repository name (or, for images published under one repository per version, its
prefix): any registry prefix (``docker.io/``, a mirror's host), tag and digest
are ignored, so ``registry.example.com/vllm/vllm-openai:v0.9.2@sha256:...`` is ``vllm/vllm-openai``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Image:
    """A serving image: its repository names, the ENTRYPOINT it runs, the ENV it sets that the launcher reads,
    and where that was read (``repo@commit12 path``)."""

    names: tuple[str, ...]
    entrypoint: tuple[str, ...]
    source: str
    env: Mapping[str, str] = field(default_factory=dict)
    #: Repository prefixes of images published under one name per version (Google's TGI containers).
    prefixes: tuple[str, ...] = ()


IMAGES: tuple[Image, ...] = (
    # docker/Dockerfile, last stage `vllm-openai`: ENTRYPOINT ["vllm", "serve"] (images before mid-2025 ran
    # ["python3", "-m", "vllm.entrypoints.openai.api_server"], which takes the same engine arguments).
    Image(("vllm/vllm-openai",), ("vllm", "serve"),
          "vllm-project/vllm@dead20baf70d docker/Dockerfile ENTRYPOINT (stage vllm-openai)"),
    # Dockerfile, final stage: ENTRYPOINT ["/tgi-entrypoint.sh"], whose last line is
    # `exec text-generation-launcher $@`; stage `base` sets ENV HF_HOME=/data, PORT=80 (the launcher's --port
    # reads PORT).
    Image(("huggingface/text-generation-inference",), ("text-generation-launcher",),
          "huggingface/text-generation-inference@db931fcf42da Dockerfile ENTRYPOINT /tgi-entrypoint.sh "
          "(exec text-generation-launcher $@)",
          {"HF_HOME": "/data", "PORT": "80"}),
    # Google Cloud's TGI containers (us-docker.pkg.dev/deeplearning-platform-release/gcr.io/
    # huggingface-text-generation-inference-cu124.2-3.ubuntu2204.py311, one repository per version): ENTRYPOINT
    # ["./entrypoint.sh"], which ends `exec text-generation-launcher $@`; stage `base` sets PORT=8080 in every
    # version (its cache variable changed: HUGGINGFACE_HUB_CACHE=/tmp up to 2.2.0, HF_HOME=/tmp since).
    Image((), ("text-generation-launcher",),
          "huggingface/Google-Cloud-Containers@977c4b515c33 containers/tgi/gpu/3.0.1/Dockerfile ENTRYPOINT "
          "./entrypoint.sh (exec text-generation-launcher $@)",
          {"PORT": "8080"}, ("deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-",)),
)


def repository(image: str) -> str:
    """The repository part of an image reference: ``ghcr.io/huggingface/text-generation-inference:3.0`` ->
    ``huggingface/text-generation-inference``; a reference with no registry host keeps its path
    (``docker.io/library/x`` -> ``x``)."""
    name = image.strip().split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:  # a tag (a registry port sits before a slash, never in the last part)
        name = name[: len(name) - len(last[-1]) + last[-1].index(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # a registry host
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts).lower()


def image(reference: str) -> Image | None:
    """The known serving image a reference names (its repository, or a mirror's path ending in it), or None."""
    repo = repository(reference)
    for known in IMAGES:
        if any(repo == name or repo.endswith("/" + name) for name in known.names) or \
                any(repo.startswith(prefix) for prefix in known.prefixes):
            return known
    return None
