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


def _mixed(root: Path) -> None:
    """A repository as found: artifacts beside code, docs, a virtualenv, VCS data, a link, the manifest."""
    (root / "training").mkdir()
    (root / "training" / "generation_config.json").write_text(json.dumps({"do_sample": False}))
    (root / "README.md").write_text("# model\n")
    (root / "train.py").write_text("print('train')\n")
    (root / "weights.bin").write_bytes(b"\x00" * 64)
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "package.json").write_text("{}")
    (root / "latest").symlink_to(root / "training")
    (root / "dangling.json").symlink_to(root / "nowhere.json")
    (root / "driftguard.yaml").write_text("version: 1\n")


def test_every_file_init_does_not_place_is_listed_with_why(tmp_path: Path) -> None:
    _mixed(tmp_path)
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert found["training/generation_config.json"].kind == "hf-generation"
    assert {p: f.skipped for p, f in found.items() if f.skipped} == {
        "README.md": "no extractor recognizes it",
        "train.py": "no extractor recognizes it",
        "weights.bin": "no extractor recognizes it",
        ".git/": "a hidden folder: nothing in it read",
        "node_modules/": "a folder init does not look into (dependencies, version control, caches, approvals): "
                         "nothing in it read",
        "latest/": "a link to a folder: not followed (name the folder itself)",
        "dangling.json": "not a regular file",
        "driftguard.yaml": "the manifest init writes",
    }
    assert list(found) == sorted(found)


def test_a_link_to_a_file_is_read_like_the_file(tmp_path: Path) -> None:
    """The Hugging Face cache's snapshot folders hold links to blobs: init places them as it places files."""
    blob = tmp_path / "blobs" / "abc123"
    blob.parent.mkdir()
    blob.write_text(json.dumps({"do_sample": False}))
    (tmp_path / "snapshot").mkdir()
    (tmp_path / "snapshot" / "generation_config.json").symlink_to(blob)
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert found["snapshot/generation_config.json"].kind == "hf-generation"
    assert found["blobs/abc123"].skipped == "no extractor recognizes it"


def test_an_ambiguous_file_is_skipped_with_its_candidates(copycat: Path) -> None:
    root = copycat / "repo"
    (root / "serving").mkdir(parents=True)
    (root / "serving" / "engine.json").write_text(json.dumps({"model": "m", "gpu_memory_utilization": 0.9}))
    [f] = [f for f in scaffold.scan(root) if f.path == "serving/engine.json"]
    assert f.kind is None and f.choices == ("vllm", "copycat")
    assert f.skipped == "ambiguous: vllm, copycat all claim it by content: name its kind"


def test_init_reports_every_skipped_file_as_a_subprocess(tmp_path: Path) -> None:
    import subprocess
    import sys

    _mixed(tmp_path)
    (tmp_path / "driftguard.yaml").unlink()
    proc = subprocess.run([sys.executable, "-m", "driftguard", "init", "--stdout", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("driftguard: init: skipped ")]
    assert [line.split(": ")[2].removeprefix("skipped ") for line in skipped] == [
        ".git/", "README.md", "dangling.json", "latest/", "node_modules/", "train.py", "weights.bin"]
    assert "driftguard: init: skipped README.md: no extractor recognizes it" in skipped
    # the manifest says the same, in its closing comment, and still reads back
    assert "#   node_modules/: a folder init does not look into" in proc.stdout
    assert yaml.safe_load(proc.stdout)["models"][tmp_path.name]["training"] == [
        {"path": "training/generation_config.json", "kind": "hf-generation"}]


def test_a_second_onnx_graph_on_a_side_is_marked() -> None:
    """Two graphs of one model on one side (an FP32 export beside the served INT8 graph) get a comment naming
    the first; one graph per side, or graphs of different models, do not."""
    found = [scaffold.Found("deploy/model_repository/m/1/model.onnx", "deployment", "m", "onnx"),
             scaffold.Found("deploy/model_repository/m/config.pbtxt", "deployment", "m", "triton"),
             scaffold.Found("deploy/onnx/model_fp32.onnx", "deployment", "m", "onnx"),
             scaffold.Found("export/model.onnx", "training", "m", "onnx"),
             scaffold.Found("deploy/model_repository/n/1/model.onnx", "deployment", "n", "onnx")]
    lines = scaffold.render(found).splitlines()
    marks = [i for i, line in enumerate(lines) if "another ONNX graph" in line]
    assert len(marks) == 1
    assert "beside deploy/model_repository/m/1/model.onnx" in lines[marks[0]] and "DG204" in lines[marks[0]]
    assert lines[marks[0] + 1].strip() == "- path: deploy/onnx/model_fp32.onnx"
