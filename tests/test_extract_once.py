"""A model file both sides (or several models) name is extracted once per run (issue 10: no artifact read twice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import driftguard
from driftguard import extractors


def test_a_file_on_both_sides_is_extracted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "generation_config.json").write_text(json.dumps({"do_sample": False, "max_new_tokens": 64}))
    (tmp_path / "req.json").write_text(json.dumps({"prompt": "x", "temperature": 0, "max_tokens": 64}))
    models = "".join(f"  m{i}:\n    training: [{{path: model, kind: hf-model}}]\n"
                     f"    deployment: [{{path: model, kind: hf-model}}, {{path: req.json, kind: vllm}}]\n"
                     for i in range(3))
    (tmp_path / "driftguard.yaml").write_text("version: 1\nmodels:\n" + models)
    calls: list[tuple[str, str | None]] = []
    real = extractors.extract

    def counting(path: object, kind: str | None = None, options: object = None) -> object:
        calls.append((Path(str(path)).name, kind))
        return real(path, kind, options)  # type: ignore[arg-type]

    monkeypatch.setattr(extractors, "extract", counting)
    report = driftguard.check(tmp_path / "driftguard.yaml")
    assert [m.name for m in report.models] == ["m0", "m1", "m2"]
    assert calls.count(("model", "hf-model")) == 1  # 6 sides name it
    assert calls.count(("req.json", "vllm")) == 3  # a serving engine's file reads its own side's context
