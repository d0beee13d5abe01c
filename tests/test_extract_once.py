"""A model file both sides (or several models, or a model folder and one of its files) name is extracted once
per run (issue 10: no artifact read twice). The counts are taken on the extractor modules themselves, below
the run's cache."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import driftguard
from driftguard import extractors
from driftguard.extractors.base import ExtractCache
from driftguard.gate.sides import build_side
from driftguard.manifest import load


def count_extractions(monkeypatch: pytest.MonkeyPatch, *kinds: str) -> Counter[tuple[str, str]]:
    calls: Counter[tuple[str, str]] = Counter()
    for kind in kinds:
        module = extractors.get(kind)
        real = module.extract

        def counting(path: Path, options: object, real: object = real, kind: str = kind) -> object:
            calls[(path.name, kind)] += 1
            return real(path, options)  # type: ignore[operator]

        monkeypatch.setattr(module, "extract", counting)
    return calls


def test_a_file_on_both_sides_is_extracted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "generation_config.json").write_text(json.dumps({"do_sample": False, "max_new_tokens": 64}))
    (tmp_path / "req.json").write_text(json.dumps({"prompt": "x", "temperature": 0, "max_tokens": 64}))
    models = "".join(f"  m{i}:\n    training: [{{path: model, kind: hf-model}}]\n"
                     f"    deployment: [{{path: model, kind: hf-model}}, {{path: req.json, kind: vllm}}]\n"
                     for i in range(3))
    (tmp_path / "driftguard.yaml").write_text("version: 1\nmodels:\n" + models)
    calls = count_extractions(monkeypatch, "hf-model", "vllm")
    report = driftguard.check(tmp_path / "driftguard.yaml")
    assert [m.name for m in report.models] == ["m0", "m1", "m2"]
    assert calls[("model", "hf-model")] == 1  # 6 sides name it
    assert calls[("req.json", "vllm")] == 3  # a serving engine's file reads its own side's context


def test_a_model_folder_reuses_the_files_the_other_side_named(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Training names config.json and generation_config.json, deployment the folder holding them: each file
    is read once, and both sides hold the very same values."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "llama", "max_position_embeddings": 4096}))
    (model / "generation_config.json").write_text(json.dumps({"do_sample": True, "top_p": 0.9}))
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: model/config.json\n"
        "      - path: model/generation_config.json\n    deployment:\n      - {path: model, kind: hf-model}\n")
    calls = count_extractions(monkeypatch, "hf-config", "hf-generation", "hf-model")
    report = driftguard.check(tmp_path / "driftguard.yaml")
    assert report.ok, report.failing
    assert calls == {("config.json", "hf-config"): 1, ("generation_config.json", "hf-generation"): 1,
                     ("model", "hf-model"): 1}
    m = load(tmp_path / "driftguard.yaml")
    cache: ExtractCache = {}
    training = build_side("training", m.models["m"].training, m.base, cache=cache)
    deployed = build_side("deployment", m.models["m"].deployment, m.base, cache=cache)
    for key in ("generation.top_p", "model.max_position_embeddings"):
        assert deployed.merged[key] is training.merged[key]
