"""A tiny real model for the capture tests: examples/capture/build.py's GPT-2 and tokenizer, built once per run
into a temporary folder (seconds, offline)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "capture"


def example_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capture_example_build", EXAMPLE / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's model folder (generation_config.json, tokenizer files, weights)."""
    folder: Path = example_build().build(tmp_path_factory.mktemp("capture") / "tiny-gpt2")
    return folder
