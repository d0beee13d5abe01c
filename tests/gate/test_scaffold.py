"""``driftguard init``: one model per Triton model folder, skipped files listed with the reason, a guessed
request-body engine marked as a guess, and a manifest written with yaml.safe_dump that always reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from driftguard import cli, manifest
from driftguard.gate import scaffold

PBTXT = 'name: "{name}"\nbackend: "onnxruntime"\nmax_batch_size: 8\n'


def _repo(root: Path) -> None:
    for name in ("classifier", "ranker"):
        folder = root / "deploy #2" / "model_repository" / name
        (folder / "1").mkdir(parents=True)
        (folder / "config.pbtxt").write_text(PBTXT.format(name=name))
        train = root / "training" / name
        train.mkdir(parents=True)
        (train / "config.json").write_text(json.dumps({"model_type": "bert", "max_position_embeddings": 512}))
    (root / "serving").mkdir()
    (root / "serving" / "request.json").write_text(json.dumps({"prompt": "x", "max_tokens": 8}))
    (root / "serving" / "sampling.yaml").write_text("temperature: 0.7\ntop_p: 0.9\n")
    (root / "notes.json").write_text(json.dumps({"hello": "world"}))


def test_one_model_per_triton_model_folder(tmp_path: Path) -> None:
    _repo(tmp_path)
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert (found["deploy #2/model_repository/ranker/config.pbtxt"].model,
            found["training/ranker/config.json"].model) == ("ranker", "ranker")
    assert found["training/classifier/config.json"].side == "training"
    assert found["deploy #2/model_repository/classifier/config.pbtxt"].side == "deployment"
    data = yaml.safe_load(scaffold.render(list(found.values())))
    assert list(data["models"]) == ["classifier", "ranker"]
    assert data["models"]["ranker"]["deployment"] == [
        {"path": "deploy #2/model_repository/ranker/config.pbtxt", "kind": "triton"}]


def test_skipped_files_are_listed_with_the_reason(tmp_path: Path) -> None:
    _repo(tmp_path)
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert found["notes.json"].skipped == "no extractor recognizes it"
    assert "looks like sampling parameters" in (found["serving/sampling.yaml"].skipped or "")
    # a request body with no model folder in its path cannot be given to one of two models
    assert "belongs to none of the models it found (classifier, ranker)" in (found["serving/request.json"].skipped
                                                                            or "")
    text = scaffold.render(list(found.values()))
    assert "#   notes.json: no extractor recognizes it" in text


def test_a_request_body_engine_is_marked_as_a_guess(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    (tmp_path / "serving").mkdir()
    (tmp_path / "serving" / "request.json").write_text(json.dumps({"prompt": "x", "max_tokens": 8}))
    assert cli.run(["init", str(tmp_path)]) == 0
    text = (tmp_path / "driftguard.yaml").read_text()
    from driftguard.gate.scaffold import request_kinds

    assert "# openai: a guess. The engine that serves this file cannot be seen from it: one of " \
           + ", ".join(request_kinds()) in text
    assert request_kinds()[:4] == ("vllm", "tgi", "tensorrt-llm", "lmdeploy")
    assert "kind openai is a guess" in capsys.readouterr().err
    m = manifest.load(tmp_path / "driftguard.yaml")
    assert [a.kind for a in m.models[tmp_path.name].deployment] == ["openai"]


@pytest.mark.parametrize("name", ["a: b", "#x", "- y", "yes", "1.0", "'q'"])
def test_any_model_name_or_path_reads_back(tmp_path: Path, name: str) -> None:
    (tmp_path / "deploy #2: x").mkdir()
    (tmp_path / "deploy #2: x" / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "generation_config.json").write_text(json.dumps({"do_sample": True}))
    text = scaffold.init_manifest(tmp_path, name)
    data = yaml.safe_load(text)
    assert list(data["models"]) == [name]
    assert data["models"][name]["deployment"] == [{"path": "deploy #2: x/generation_config.json",
                                                   "kind": "hf-generation"}]
