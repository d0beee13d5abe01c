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
    (root / "serving" / "engine.json").rename(root / "serving" / "a-engine.json")  # sorted before the next one
    (root / "serving" / "b-config.json").write_text(json.dumps({"model_type": "llama"}))
    placed = {f.path: f for f in scaffold.scan(root)}
    assert placed["serving/a-engine.json"].choices == ("vllm", "copycat")
    assert (placed["serving/b-config.json"].kind, placed["serving/b-config.json"].side) == ("hf-config",
                                                                                             "deployment")


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


# The manifest init writes, as text, from a hand-made list of what scan found: each expected line written out by
# hand from the README ("driftguard init": built as data and written with yaml.safe_dump, a kind that is a guess
# and a second ONNX graph commented, every file not placed listed at the end) and the module's docstrings.

LONG = "serve/ranker/model fp32 export kept beside the served int8 graph for comparison runs.onnx"  # past 80 columns


def test_the_manifest_text_line_by_line() -> None:
    # "ranker" sorts before "scorer", listed first: each model gets its own entries, in order
    ranker = "".join(["rank", "er"])  # equal to "ranker", not the same string object
    deployment = "".join(["deploy", "ment"])
    found = [
        scaffold.Found("training/bewerter-ü/config.json", "training", "scorer", "hf-config"),
        scaffold.Found("models/scorer/config.pbtxt", "deployment", "scorer", "triton"),
        scaffold.Found("serve/ranker/request.json", "deployment", "ranker", "openai", choices=("vllm", "tgi")),
        scaffold.Found("serve/ranker/model.onnx", deployment, ranker, "onnx"),
        scaffold.Found(LONG, "deployment", ranker, "onnx"),
        scaffold.Found("serve/x.json", kind="openai", skipped="belongs to none of the models it found"),
        scaffold.Found("notes.txt", skipped="no extractor\nrecognizes it"),
    ]
    text = scaffold.render(found)
    lines = text.splitlines()
    body = lines[lines.index("version: 1"):lines.index("  fail_on_stale: false") + 1]
    assert body == [
        "version: 1",
        "models:",
        "  scorer:",
        "    training:",
        "    - path: training/bewerter-ü/config.json",
        "      kind: hf-config",
        "    deployment:",
        "    - path: models/scorer/config.pbtxt",
        "      kind: triton",
        "  ranker:",
        "    training: []",
        "    # nothing found for the training side: add at least one artifact",
        "    deployment:",
        "    # openai: a guess. The engine that serves this file cannot be seen from it: one of vllm, tgi; set the one "
        "that reads it.",
        "    - path: serve/ranker/request.json",
        "      kind: openai",
        "    - path: serve/ranker/model.onnx",
        "      kind: onnx",
        "    # another ONNX graph on this side, beside serve/ranker/model.onnx: if they are variants of one model (an "
        "FP32 export, the served INT8 graph), keep the one the side runs (DG204 fails the check where they differ)",
        f"    - path: {LONG}",
        "      kind: onnx",
        "approvals: approvals",
        "approvers: []",
        "approval_policy:",
        "  max_horizon_days: 365",
        "  warn_expiring_days: 30",
        "  fail_on_stale: false",
    ]
    assert lines[-3:] == [
        "# Not added (say which model and side each belongs to, and its kind, if it is an artifact):",
        "#   serve/x.json: belongs to none of the models it found",
        "#   notes.txt: no extractor recognizes it",
    ]


def test_a_file_naming_two_model_folders_belongs_to_neither(tmp_path: Path) -> None:
    """Models: one per Triton model folder; a file whose path names a model's folder goes to that model, and
    one whose path names two of them to neither (listed as not added)."""
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.pbtxt").write_text(f'name: "{name}"\nbackend: "python"\n')
    (tmp_path / "training" / "alpha" / "beta").mkdir(parents=True)
    (tmp_path / "training" / "alpha" / "beta" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (tmp_path / "training" / "beta").mkdir()
    (tmp_path / "training" / "beta" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert (found["alpha/config.pbtxt"].model, found["beta/config.pbtxt"].model) == ("alpha", "beta")
    assert (found["training/beta/config.json"].model, found["training/beta/config.json"].side) == ("beta", "training")
    assert "belongs to none of the models it found (alpha, beta)" in (
        found["training/alpha/beta/config.json"].skipped or "")
    # discover: the placed files by side, every model together; the file of neither model left out
    assert scaffold.discover(tmp_path) == {
        "training": [("hf-config", "training/beta/config.json")],
        "deployment": [("triton", "alpha/config.pbtxt"), ("triton", "beta/config.pbtxt")]}


def test_a_deployment_kind_goes_to_the_deployment_side_in_any_folder(tmp_path: Path) -> None:
    """Sides follow each kind's role: a Triton config deploys whatever its folder is named (no deploy/serv
    hint here); a kind that may be either goes to training outside such a folder."""
    (tmp_path / "models" / "m").mkdir(parents=True)
    (tmp_path / "models" / "m" / "config.pbtxt").write_text('name: "m"\nbackend: "python"\n')
    (tmp_path / "models" / "m" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert (found["models/m/config.pbtxt"].side, found["models/m/config.json"].side) == ("deployment", "training")


def test_the_request_kinds_engines_first_then_the_openai_shape_once() -> None:
    kinds = scaffold.request_kinds()
    assert kinds[-1] == "openai" and kinds.count("openai") == 1 and len(set(kinds)) == len(kinds)


def test_only_a_file_that_looks_like_sampling_parameters_offers_the_request_kinds(tmp_path: Path) -> None:
    (tmp_path / "a-params.yaml").write_text("temperature: 0.7\ntop_p: 0.9\n")
    (tmp_path / "b-notes.yaml").write_text("owner: team\n")
    (tmp_path / "c-broken.yaml").write_text("top_p: [0.9\n")
    found = {f.path: f for f in scaffold.scan(tmp_path, model="m")}
    assert found["a-params.yaml"].choices == scaffold.request_kinds()
    assert "looks like sampling parameters" in (found["a-params.yaml"].skipped or "")
    assert (found["b-notes.yaml"].choices, found["b-notes.yaml"].skipped) == ((), "no extractor recognizes it")
    assert found["c-broken.yaml"].choices == () and "sampling" not in (found["c-broken.yaml"].skipped or "")


def test_a_nested_model_folder_is_its_own_model(tmp_path: Path) -> None:
    """A Triton model folder b/a is model a even where another model (b, in c/b) is named on its path; a file
    under aa/b names model b's folder name only."""
    for folder in ("b/a", "c/b"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "config.pbtxt").write_text(f'name: "{folder[-1]}"\nbackend: "python"\n')
    (tmp_path / "aa" / "b").mkdir(parents=True)
    (tmp_path / "aa" / "b" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    found = {f.path: f for f in scaffold.scan(tmp_path)}
    assert [(p, f.model) for p, f in sorted(found.items())] == [
        ("aa/b/config.json", "b"), ("b/a/config.pbtxt", "a"), ("c/b/config.pbtxt", "b")]


def test_sides_by_role_a_training_kind_stays_in_training_under_serve(tmp_path: Path) -> None:
    """Checkpoints train, serving-engine files deploy, whatever the folder; only a kind that may be either
    follows a deploy/serv folder. A launch file (Dockerfile) shows its engine: no kinds to choose from."""
    import zipfile

    (tmp_path / "serve").mkdir()
    with zipfile.ZipFile(tmp_path / "serve" / "model.pt", "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    (tmp_path / "Dockerfile").write_text('FROM vllm/vllm-openai:v0.6.3\nCMD ["--model", "m"]\n')
    found = {f.path: f for f in scaffold.scan(tmp_path, model="m")}
    assert (found["serve/model.pt"].kind, found["serve/model.pt"].side) == ("torch", "training")
    assert (found["Dockerfile"].kind, found["Dockerfile"].side, found["Dockerfile"].choices) == (
        "dockerfile", "deployment", ())


def test_each_model_gets_its_own_comments_when_a_later_model_sorts_before_it() -> None:
    """zeta listed before alpha: the guess comment stays on zeta's request body."""
    found = [
        scaffold.Found("zeta/config.json", "training", "zeta", "hf-config"),
        scaffold.Found("zeta/request.json", "deployment", "zeta", "openai", choices=("vllm", "tgi")),
        scaffold.Found("alpha/config.json", "training", "alpha", "hf-config"),
        scaffold.Found("alpha/config.pbtxt", "deployment", "alpha", "triton"),
    ]
    lines = scaffold.render(found).splitlines()
    guesses = [i for i, line in enumerate(lines) if line.startswith("    # openai: a guess.")]
    assert len(guesses) == 1 and lines[guesses[0] + 1] == "    - path: zeta/request.json"


def test_what_scan_found_is_frozen() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        scaffold.Found("a.json").skipped = "x"  # type: ignore[misc]
