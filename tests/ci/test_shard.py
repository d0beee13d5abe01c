"""``check --shard I/N``: a deterministic split by model name; the union of the shards' reports is the
unsharded report, and ``driftguard report`` merges the shards' JSON reports into it (only a complete set)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import driftguard
from driftguard.ci.shard import parse_shard, select, shard_of
from driftguard.errors import UsageError
from driftguard.report import Report
from tests.dates import EXAMPLES_TODAY, EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY_ISO  # the shipped approvals are judged on a fixed day so the test does not age
TOP_P = ["0.85", "0.9", "0.92", "0.8", "0.95", "0.7"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository of 14 models: the summarizer's files, each model served with its own top_p (some the
    training value: no drift), one approval used, one stale."""
    root = tmp_path_factory.mktemp("fleet")
    shutil.copytree(EXAMPLE / "training", root / "training")
    shutil.copytree(EXAMPLE / "deployment" / "model_repository", root / "model_repository")
    params = (EXAMPLE / "deployment" / "sampling-params.yaml").read_text(encoding="utf-8")
    models: dict[str, Any] = {}
    for i in range(14):
        name = f"model-{i:02d}"
        (root / "params").mkdir(exist_ok=True)
        (root / "params" / f"{name}.yaml").write_text(params.replace("top_p: 0.85", f"top_p: {TOP_P[i % 6]}"),
                                                    encoding="utf-8")
        models[name] = {
            "training": [{"path": f"training/{f}"} for f in ("config.json", "tokenizer_config.json",
                                                            "generation_config.json")],
            "deployment": [{"path": "model_repository/summarizer/config.pbtxt"},
                           {"path": "model_repository/summarizer/1/model.json"},
                           {"path": f"params/{name}.yaml", "kind": "vllm"}, {"path": "training", "kind": "hf-model"}],
        }
    (root / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": models}), encoding="utf-8")
    approvals = root / "approvals"
    approvals.mkdir()
    template = (EXAMPLE / "approvals" / "summarizer-top-p.yaml").read_text(encoding="utf-8")
    (approvals / "a.yaml").write_text(template.replace("id: summarizer-top-p", "id: m00-top-p")
                                      .replace("model: summarizer", "model: model-00"), encoding="utf-8")
    (approvals / "b.yaml").write_text(template.replace("id: summarizer-top-p", "id: m03-top-p")
                                      .replace("model: summarizer", "model: model-03"), encoding="utf-8")
    (approvals / "c.yaml").write_text(template.replace("id: summarizer-top-p", "id: ghost")
                                      .replace("model: summarizer", "model: model-99"), encoding="utf-8")
    return root


def facts(report: Report) -> set[tuple[Any, ...]]:
    return {(f.model, f.rule, f.key, f.status, f.approval, f.fingerprint) for f in report.findings}


def test_the_shards_partition_the_models_and_their_union_is_the_report(fleet: Path) -> None:
    whole = driftguard.check(fleet / "driftguard.yaml", today=EXAMPLES_TODAY)
    shards = [driftguard.check(fleet / "driftguard.yaml", today=EXAMPLES_TODAY, shard=(i, 3))
              for i in (1, 2, 3)]
    names = [m.name for s in shards for m in s.models]
    assert sorted(names) == sorted(m.name for m in whole.models) and len(names) == len(set(names)) == 14
    assert all(s.models for s in shards)  # 14 names do spread over 3 shards
    assert set().union(*(facts(s) for s in shards)) == facts(whole)
    assert sum(len(s.findings) for s in shards) == len(whole.findings)
    states = [(a.id, a.state) for s in shards for a in s.approvals]
    assert sorted(states) == sorted((a.id, a.state) for a in whole.approvals) == \
        [("ghost", "stale"), ("m00-top-p", "used"), ("m03-top-p", "stale")]  # each in one shard only
    # the approval naming a model the manifest lacks is reported by the shard that model's name falls in
    assert [s.shard for s in shards if any(a.id == "ghost" for a in s.approvals)] == [(shard_of("model-99", 3), 3)]
    assert not whole.ok and [s.ok for s in shards].count(False) >= 1


def test_the_split_is_by_name_alone() -> None:
    names = [f"m{i}" for i in range(200)]
    for count in (1, 3, 10):
        parts = [select(names, (i, count)) for i in range(1, count + 1)]
        assert sorted(n for p in parts for n in p) == sorted(names)
        # adding models moves no other model
        grown = [select([*names, "new-a", "new-b"], (i, count)) for i in range(1, count + 1)]
        assert [[n for n in g if not n.startswith("new-")] for g in grown] == parts
    assert shard_of("summarizer", 10) == shard_of("summarizer", 10)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.slow
def test_cli_shards_merge_into_the_unsharded_report(fleet: Path, tmp_path: Path) -> None:
    whole = run("check", "--today", TODAY, "--format", "json", cwd=fleet)
    assert whole.returncode == 1, whole.stderr
    paths = []
    for i in (1, 2, 3):
        path = tmp_path / f"shard-{i}.json"
        proc = run("check", "--today", TODAY, "--shard", f"{i}/3", "--format", f"json={path}", cwd=fleet)
        assert proc.returncode in (0, 1), proc.stderr
        paths.append(str(path))
    merged = run("report", *reversed(paths), "--format", "json", cwd=fleet)
    assert merged.returncode == 1, merged.stderr
    a, b = json.loads(whole.stdout), json.loads(merged.stdout)
    a["models"].sort(key=lambda m: m["name"])
    assert a == b
    text = run("report", *paths, cwd=fleet)
    assert text.returncode == 1 and text.stdout.rstrip().splitlines()[-1].startswith("FAIL: 14 models")
    sarif = run("report", *paths, "--format", "sarif", cwd=fleet)
    assert len(json.loads(sarif.stdout)["runs"][0]["results"]) == sum(len(m["findings"]) for m in a["models"])


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["4/3", "0/3", "1/0", "a/b", "1/3/4", "3", "-1/3", "1/10001"])
def test_a_bad_shard_spec_is_one_line_exit_2(spec: str) -> None:
    proc = run("check", f"--shard={spec}", cwd=EXAMPLE)
    assert proc.returncode == 2
    assert proc.stderr == (f"driftguard: error: --shard expects I/N with 1 <= I <= N <= 10000 (e.g. 2/5), "
                           f"got '{spec}'\n")
    with pytest.raises(UsageError):
        parse_shard(spec)


@pytest.mark.slow
def test_merging_refuses_an_incomplete_or_mixed_set(fleet: Path, tmp_path: Path) -> None:
    for i in (1, 2):
        run("check", "--today", TODAY, "--shard", f"{i}/3", "--format", f"json={tmp_path / f'{i}.json'}", cwd=fleet)
    run("check", "--today", TODAY, "--format", f"json={tmp_path / 'all.json'}", cwd=fleet)
    (tmp_path / "bad.json").write_text('{"version": 1}', encoding="utf-8")
    one, two, every = str(tmp_path / "1.json"), str(tmp_path / "2.json"), str(tmp_path / "all.json")
    cases = {
        (one, two): "driftguard: error: shards missing: 3/3; a merged report needs every shard of the run",
        (one, one): f"driftguard: error: {one}: shard 1/3 given twice (also {one})",
        (one, every): f"driftguard: error: {every}: only the reports of check --shard I/N can be merged",
        (str(tmp_path / "bad.json"),): f"driftguard: error: {tmp_path / 'bad.json'}: not a driftguard check report",
    }
    for args, message in cases.items():
        proc = run("report", *args, cwd=fleet)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith(message) and len(proc.stderr.splitlines()) == 1, proc.stderr
    single = run("report", every, cwd=fleet)  # one whole report renders as it is
    assert single.returncode == 1 and "FAIL: 14 models" in single.stdout
