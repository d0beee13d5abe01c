"""Known serving images: matched by repository whatever the registry, tag or digest; each row cites the
Dockerfile it was read from."""

from __future__ import annotations

import dataclasses

import pytest

from driftguard.engines import images


@pytest.mark.parametrize(("reference", "repository"), [
    ("vllm/vllm-openai", "vllm/vllm-openai"),
    ("vllm/vllm-openai:v0.9.2", "vllm/vllm-openai"),
    ("docker.io/vllm/vllm-openai@sha256:0123", "vllm/vllm-openai"),
    ("ghcr.io/huggingface/text-generation-inference:3.0.1", "huggingface/text-generation-inference"),
    ("localhost:5000/vllm/vllm-openai:latest", "vllm/vllm-openai"),
    ("docker.io/library/ubuntu:22.04", "ubuntu"),
    ("Vllm/VLLM-openai", "vllm/vllm-openai"),
    # Docker's reference grammar (distribution/reference@aeed5e66379b normalize.go splitDockerDomain): the first
    # component is a registry host only when a component follows it and it holds a '.' or a ':' or is 'localhost'; a
    # name of one component is a Docker Hub repository (library/<name>) whatever it holds; a tag follows the last
    # ':' after the last '/'.
    ("ubuntu:22.04", "ubuntu"),
    ("localhost/vllm/vllm-openai", "vllm/vllm-openai"),
    ("registry.example.com/ubuntu:22.04", "ubuntu"),
    ("localhost:5000/ubuntu", "ubuntu"),
    ("my.app:1.0", "my.app"),
    ("localhost", "localhost"),
    ("library", "library"),
    ("library/ubuntu", "ubuntu"),
])
def test_repository_of_a_reference(reference: str, repository: str) -> None:
    assert images.repository(reference) == repository


def test_known_images_and_their_entrypoints() -> None:
    vllm = images.image("vllm/vllm-openai:v0.9.2")
    tgi = images.image("ghcr.io/huggingface/text-generation-inference:2.4")
    assert vllm is not None and vllm.entrypoint == ("vllm", "serve")
    assert tgi is not None and tgi.entrypoint == ("text-generation-launcher",) and tgi.env["PORT"] == "80"
    assert images.image("mirror.example.com/team/vllm/vllm-openai:1") is vllm


@pytest.mark.parametrize("reference", ["lmsysorg/sglang:latest", "openmmlab/lmdeploy",
                                       "nvcr.io/nvidia/tritonserver:24.05-py3", "postgres", "vllm/vllm-openai-rocm",
                                       "myorg/vllm-openai"])
def test_images_that_start_no_server_of_their_own_are_not_known(reference: str) -> None:
    assert images.image(reference) is None


def test_every_row_cites_repository_commit_and_file() -> None:
    for image in images.IMAGES:
        repo, _, rest = image.source.partition("@")
        commit, _, file = rest.partition(" ")
        assert "/" in repo and len(commit) == 12 and file


def test_google_clouds_tgi_containers_match_by_prefix() -> None:
    found = images.image("us-docker.pkg.dev/deeplearning-platform-release/gcr.io/"
                         "huggingface-text-generation-inference-cu124.2-3.ubuntu2204.py311")
    assert found is not None and found.entrypoint == ("text-generation-launcher",) and found.env["PORT"] == "8080"


def test_an_image_row_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        images.IMAGES[0].entrypoint = ("sh",)  # type: ignore[misc]  # the assignment under test
