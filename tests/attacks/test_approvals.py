"""Crafted approvals: a pull request may add approval files, so none of them may turn an honest failing check
into a pass, hang the gate or crash it. Each case is exit 2 with one line naming the file, line and field;
``driftguard approve`` refuses bad arguments the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from driftguard.readers.limits import names
from tests.dates import iso

from .bounded import Run, run_cli

MANIFEST = """version: 1
models:
  m:
    training:
      - path: generation_config.json
    deployment:
      - path: params.yaml
        kind: vllm
approval_policy: {max_horizon_days: 90}
"""
GOOD = {"id": "m-top-p", "model": "m", "key": "generation.top_p", "training": 0.92, "deployed": 0.85,
        "reason": "lowered for INC-1", "approved_by": "alice", "approved_on": iso(),
        "expires": iso(30)}


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "approvals").mkdir(parents=True)
    (root / "generation_config.json").write_text(json.dumps({"do_sample": True, "top_p": 0.92, "top_k": 0}))
    (root / "params.yaml").write_text("top_p: 0.85\n")
    (root / "driftguard.yaml").write_text(MANIFEST)
    return root


def _approval(fields: dict[str, object]) -> str:
    return "".join(f"{k}: {v if not isinstance(v, str) or k in ('expires', 'approved_on') else json.dumps(v)}\n"
                   for k, v in fields.items())


def _check(repo: Path) -> Run:
    return run_cli(["check", "--config", str(repo / "driftguard.yaml")])


def test_honest_drift_fails_and_the_genuine_approval_passes(repo: Path) -> None:
    res = _check(repo)
    assert res.rc == 1, res.stderr
    (repo / "approvals" / "m-top-p.yaml").write_text(_approval(GOOD))
    res = _check(repo)
    assert res.rc == 0, res.stdout + res.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("change", "needles"), [
    ({"approved_on": iso(10)}, ("m-top-p.yaml:8:", "approved_on", "future")),
    ({"approved_on": iso(300), "expires": iso(310)}, ("m-top-p.yaml:8:", "approved_on")),
    ({"approved_on": None, "expires": iso(200)}, ("m-top-p.yaml:8:", "days after today")),
    ({"expires": 1798761600}, ("m-top-p.yaml:9:", "expires", "YYYY-MM-DD")),
    ({"approved_on": "2026-01-01T00:00"}, ("m-top-p.yaml:8:", "approved_on", "YYYY-MM-DD")),
    ({"reason": "   "}, ("m-top-p.yaml:6:", "reason", "blank")),
    ({"id": "../x"}, ("m-top-p.yaml:1:", "id")),
    ({"deployed": "1" * 5000}, ("m-top-p.yaml:5:", "int_digits")),
    ({"deployed": "!!binary aGVsbG8="}, ("m-top-p.yaml:5:", "!!binary")),
    ({"deployed": "&a [*a]"}, ("m-top-p.yaml:5:", "recursive anchor")),
])
def test_crafted_approval_cannot_pass_an_honest_failure(repo: Path, change: dict[str, object],
                                                         needles: tuple[str, ...]) -> None:
    fields = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    text = _approval(fields)
    for k in ("deployed",):  # raw YAML, not a JSON string
        if isinstance(change.get(k), str):
            text = text.replace(json.dumps(change[k]), str(change[k]))
    (repo / "approvals" / "m-top-p.yaml").write_text(text)
    res = _check(repo)
    res.assert_input_error(*needles)
    for limit in set(needles) & set(names()):
        res.assert_limit(limit)
    res.assert_bounded()


def test_billion_laughs_approval(repo: Path) -> None:
    laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    (repo / "approvals" / "m-top-p.yaml").write_text(_approval(GOOD) + laughs)
    res = _check(repo)
    res.assert_input_error("m-top-p.yaml:", "objects")
    res.assert_limit("objects")
    res.assert_bounded()


def test_ids_differing_in_case_are_duplicates(repo: Path) -> None:
    (repo / "approvals" / "a.yaml").write_text(_approval({**GOOD, "id": "A-x"}))
    (repo / "approvals" / "b.yaml").write_text(_approval({**GOOD, "id": "a-x"}))
    res = _check(repo)
    res.assert_input_error("b.yaml:1:", "duplicate approval id 'a-x'", "A-x")


def test_approvals_folder_outside_the_manifest_folder(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "m-top-p.yaml").write_text(_approval(GOOD))
    (repo / "driftguard.yaml").write_text(MANIFEST + "approvals: ../elsewhere\n")
    res = _check(repo)
    res.assert_input_error("driftguard.yaml:10:", "outside")


def test_symlinked_approvals_folder_pointing_out(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "m-top-p.yaml").write_text(_approval(GOOD))
    (repo / "approvals").rmdir()
    (repo / "approvals").symlink_to(outside)
    res = _check(repo)
    res.assert_input_error("outside")


def test_symlinked_approval_file_pointing_out(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "m-top-p.yaml").write_text(_approval(GOOD))
    (repo / "approvals" / "m-top-p.yaml").symlink_to(tmp_path / "m-top-p.yaml")
    res = _check(repo)
    res.assert_input_error("m-top-p.yaml", "outside")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_approval_is_refused_not_waited_on(repo: Path) -> None:
    os.mkfifo(repo / "approvals" / "m-top-p.yaml")
    res = _check(repo)
    res.assert_input_error("m-top-p.yaml", "FIFO")
    res.assert_bounded()
    assert res.read_of(repo / "approvals" / "m-top-p.yaml").opens == ()


# --- driftguard approve ----------------------------------------------------------------------------------

def _approve(repo: Path, *extra: str, env: dict[str, str] | None = None) -> Run:
    return run_cli(["approve", "m", "generation.top_p", "--config", str(repo / "driftguard.yaml"), *extra],
                   env=env)


@pytest.mark.slow
@pytest.mark.parametrize(("args", "needle"), [
    (["--reason", "r", "--expires", iso(-1), "--by", "a"], "expires"),
    (["--reason", "   ", "--expires", iso(5), "--by", "a"], "reason"),
    (["--reason", "r", "--expires", iso(5), "--by", "a", "--id", "../x"], "id"),
    (["--reason", "r", "--expires", iso(500), "--by", "a"], "expires"),
])
def test_approve_refuses_bad_arguments_in_one_line(repo: Path, args: list[str], needle: str) -> None:
    res = _approve(repo, *args)
    res.assert_input_error(needle)
    assert list((repo / "approvals").iterdir()) == []


def test_approve_needs_an_approver(repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME")}
    res = run_cli(["approve", "m", "generation.top_p", "--config", str(repo / "driftguard.yaml"), "--reason", "r",
                   "--expires", iso(5)], env={**env, "USER": "", "LOGNAME": ""})
    res.assert_input_error("--by")
    assert list((repo / "approvals").iterdir()) == []


def test_approve_writes_and_check_passes(repo: Path) -> None:
    res = _approve(repo, "--reason", "lowered", "--expires", iso(5), "--by", "a")
    assert res.rc == 0, res.stderr
    assert _check(repo).rc == 0
