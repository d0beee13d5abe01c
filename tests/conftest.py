"""Suite-wide: tests marked ``gpu`` are skipped where no CUDA device is visible (torch or ONNX Runtime)."""

from __future__ import annotations

import functools

import pytest


@functools.cache
def cuda_backends() -> frozenset[str]:
    """The backends that see a CUDA device here: ``torch`` and/or ``onnxruntime``."""
    found = set()
    try:
        import torch

        if torch.cuda.is_available():
            found.add("torch")
    except ImportError:
        pass
    try:
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            found.add("onnxruntime")
    except ImportError:
        pass
    return frozenset(found)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu and not cuda_backends():
        skip = pytest.mark.skip(reason="needs CUDA (torch or onnxruntime sees no CUDA device)")
        for item in gpu:
            item.add_marker(skip)
