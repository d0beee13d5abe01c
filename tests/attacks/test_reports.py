"""``driftguard report`` reads files a pull request or another job may have written: they are read within the
reader limits (deep or huge JSON is exit 2 naming the limit, never a RecursionError), a failed run's report is
refused as that failure, and shards merge only as the complete set of one run, each holding its share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard.ci.shard import shard_of
from driftguard.readers.limits import DEFAULT
from tests.attacks.bounded import run_cli
from tests.dates import EXAMPLES_TODAY_ISO

MODELS = [f"m{i}" for i in range(6)]


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A tree of six models (no drift) and the JSON reports of its shards 1/2 and 2/2."""
    root = tmp_path_factory.mktemp("reports")
    lines = ["version: 1", "models:"]
    for name in MODELS:
        (root / f"{name}.json").write_text('{"do_sample": true, "temperature": 0.7, "top_p": 0.9}\n')
        entry = f"[{{path: {name}.json, kind: hf-generation}}]"
        lines += [f"  {name}:", f"    training: {entry}", f"    deployment: {entry}"]
    (root / "driftguard.yaml").write_text("\n".join(lines) + "\n")
    out = []
    for i in (1, 2):
        res = run_cli(["check", "--today", EXAMPLES_TODAY_ISO, "--shard", f"{i}/2", "--format",
                       f"json=shard-{i}.json"], cwd=root)
        assert res.rc == 0, res.stderr
        out.append(root / f"shard-{i}.json")
    return root, out


def _edited(path: Path, target: Path, edit: dict[str, object]) -> Path:
    data = json.loads(path.read_text())
    data.update(edit)
    target.write_text(json.dumps(data))
    return target


def test_the_complete_set_merges(shards: tuple[Path, list[Path]]) -> None:
    root, paths = shards
    res = run_cli(["report", *map(str, paths)], cwd=root)
    assert res.rc == 0 and "PASS: 6 models" in res.stdout, res.stderr


@pytest.mark.parametrize("depth", [DEFAULT.depth + 1, 100_000])
def test_deep_json_is_exit_2_naming_the_limit(tmp_path: Path, depth: int) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * depth + "]" * depth)
    run_cli(["report", str(deep)]).assert_limit("depth")


def test_a_huge_report_is_refused_by_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as fh:
        fh.truncate(DEFAULT.file_bytes + 1)
    res = run_cli(["report", str(huge)])
    res.assert_limit("file_bytes")
    res.assert_bounded(read_at_most=0)


def test_one_shard_alone_is_not_the_run(shards: tuple[Path, list[Path]]) -> None:
    root, paths = shards
    run_cli(["report", str(paths[0])], cwd=root).assert_input_error("shards missing: 2/2")


def test_a_shard_without_a_run_binding_is_refused(shards: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, paths = shards
    data = json.loads(paths[1].read_text())
    del data["run"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    run_cli(["report", str(paths[0]), str(tmp_path / "old.json")], cwd=root).assert_input_error("no run binding")


@pytest.mark.parametrize("field", ["commit", "manifest_sha256", "models"])
def test_shards_of_different_runs_are_refused(shards: tuple[Path, list[Path]], tmp_path: Path, field: str) -> None:
    root, paths = shards
    run = dict(json.loads(paths[1].read_text())["run"])
    run[field] = {"commit": "0" * 40, "manifest_sha256": "f" * 64, "models": [*MODELS, "extra"]}[field]
    other = _edited(paths[1], tmp_path / "other.json", {"run": run})
    run_cli(["report", str(paths[0]), str(other)], cwd=root).assert_input_error("not the same run")


def test_a_shard_that_drops_a_model_is_refused(shards: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, paths = shards
    data = json.loads(paths[1].read_text())
    dropped = data["models"].pop()["name"]
    assert shard_of(dropped, 2) == 2
    (tmp_path / "less.json").write_text(json.dumps(data))
    run_cli(["report", str(paths[0]), str(tmp_path / "less.json")], cwd=root).assert_input_error(
        "lacks models of its run", dropped)


def test_a_shard_that_claims_another_shards_model_is_refused(shards: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, paths = shards
    one, two = (json.loads(p.read_text()) for p in paths)
    two["models"].append(one["models"][0])
    (tmp_path / "more.json").write_text(json.dumps(two))
    run_cli(["report", str(paths[0]), str(tmp_path / "more.json")], cwd=root).assert_input_error(
        "holds models its run did not give it")


def test_commit_pins_the_run(shards: tuple[Path, list[Path]]) -> None:
    root, paths = shards
    run_cli(["report", *map(str, paths), "--commit", "1" * 40], cwd=root).assert_input_error(
        "not this run's report")


def test_a_failed_runs_report_is_that_failure(tmp_path: Path) -> None:
    failed = tmp_path / "shard-1.json"
    res = run_cli(["check", "--config", str(tmp_path / "missing.yaml"), "--format", f"json={failed}"])
    res.assert_input_error("missing.yaml")
    run_cli(["report", str(failed)]).assert_input_error("the run that wrote this report failed (exit 2)",
                                                        "missing.yaml")
