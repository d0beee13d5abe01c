"""The parity stage's inputs are the pull request's files too: golden inputs, runner artifacts and recordings
are read through ``readers`` (confined to the checked tree, bounded by the limits), and a recording whose outputs
were edited after ``golden record`` is refused. Each attack ends in exit 2 with one line, bounded by what the
code read (``tests/attacks/bounded.py``), never by a time."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.attacks.bounded import Run, run_cli

FNS = Path(__file__).resolve().parents[1] / "parity" / "userfns" / "fns.py"


def _repo(tmp_path: Path, parity: str, limits: str = "") -> Path:
    """A repository with one model whose parity section is ``parity`` (YAML, indented 4), and golden inputs."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.json").write_text(json.dumps({"temperature": 1.0}))
    (repo / "serve.json").write_text(json.dumps({"temperature": 1.0}))
    np.savez(repo / "golden.npz", x=np.arange(32, dtype=np.float32).reshape(8, 4))
    (repo / "driftguard.yaml").write_text(
        "version: 1\n" + limits + "models:\n  m:\n    training:\n      - {path: train.json, kind: hf-generation}\n"
        "    deployment:\n      - {path: serve.json, kind: hf-generation}\n    parity:\n" + parity)
    return repo


CALLABLE = (f"      golden: GOLDEN\n      reference: {{runner: callable, function: {FNS}:double}}\n"
            f"      candidate: {{runner: callable, function: {FNS}:double}}\n")


def _parity(repo: Path, *extra: str) -> Run:
    return run_cli(["parity", "--config", str(repo / "driftguard.yaml"), "--no-attribution", *extra], cwd=repo)


@pytest.mark.parametrize("how", ["file link", "folder member link"])
def test_golden_inputs_may_not_lead_out_of_the_tree(tmp_path: Path, how: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    np.savez(outside / "secret.npz", x=np.zeros((2, 4), dtype=np.float32))
    if how == "file link":
        repo = _repo(tmp_path, CALLABLE.replace("GOLDEN", "inputs.npz"))
        (repo / "inputs.npz").symlink_to(outside / "secret.npz")
    else:
        repo = _repo(tmp_path, CALLABLE.replace("GOLDEN", "golden"))
        (repo / "golden").mkdir()
        (repo / "golden" / "set.npz").symlink_to(outside / "secret.npz")
    res = _parity(repo)
    res.assert_input_error("outside")
    assert not res.opened_outside(repo)


def test_a_reference_artifact_outside_the_tree_is_never_hashed(tmp_path: Path) -> None:
    parity = ("      golden: golden.npz\n      reference: {runner: onnxruntime, artifact: /usr}\n"
              f"      candidate: {{runner: callable, function: {FNS}:double}}\n")
    res = _parity(_repo(tmp_path, parity))
    res.assert_input_error("outside")
    assert not res.reads or all(not r.path.startswith("/usr/") for r in res.reads)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_a_golden_npz_declaring_gigabytes_is_refused_before_it_inflates(tmp_path: Path) -> None:
    repo = _repo(tmp_path, CALLABLE.replace("GOLDEN", "golden.npz"))
    with zipfile.ZipFile(repo / "golden.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.npy", _npy_header((6 << 30 >> 3, 1)) + b"\0" * 4096)  # 6 GiB declared, 4 KiB held
    res = _parity(repo)
    res.assert_input_error("declares 6442450944 bytes of data")
    res.assert_bounded()


def test_golden_arrays_past_golden_bytes_stop_at_the_limit(tmp_path: Path) -> None:
    repo = _repo(tmp_path, CALLABLE.replace("GOLDEN", "golden.npz"), limits="limits: {golden_bytes: 64K}\n")
    np.savez_compressed(repo / "golden.npz", x=np.zeros((4096, 4)))  # 128 KiB of arrays in a small file
    res = _parity(repo)
    res.assert_limit("golden_bytes", 64 * 1024)
    assert res.inflated < 64 * 1024


def test_deep_json_records_are_a_limit_not_a_crash(tmp_path: Path) -> None:
    repo = _repo(tmp_path, CALLABLE.replace("GOLDEN", "golden.jsonl"))
    (repo / "golden.jsonl").write_text('{"text": "a"}\n' + '{"x": ' + "[" * 200_000 + "]" * 200_000 + "}\n")
    res = _parity(repo)
    res.assert_limit("depth")
    assert "golden.jsonl:2" in res.stderr


def test_the_torch_runners_checkpoint_is_vetted_before_torch_load(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    bomb = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "bomb.pt"
    parity = ("      golden: golden.npz\n"
              "      reference: {runner: torch, artifact: bomb.pt, builder: 'build.py:linear'}\n"
              f"      candidate: {{runner: callable, function: {FNS}:double}}\n")
    repo = _repo(tmp_path, parity)
    (repo / "build.py").write_text("import torch\n\n\ndef linear(config):\n    return torch.nn.Linear(4, 4)\n")
    (repo / "bomb.pt").write_bytes(bomb.read_bytes())
    res = _parity(repo)
    res.assert_limit("pickle_bytes")
    res.assert_bounded()


def test_an_edited_recording_is_refused_not_a_pass(tmp_path: Path) -> None:
    """The reference doubles, the candidate does not: parity fails. Overwriting the recording with the
    candidate's outputs (its metadata copied) would make it pass; the outputs' digest refuses it."""
    parity = (f"      golden: golden.npz\n      reference: {{runner: callable, function: {FNS}:double}}\n"
              f"      candidate: {{runner: callable, function: {FNS}:scaled}}\n")
    repo = _repo(tmp_path, parity)
    (repo / "serve.json").write_text(json.dumps({"temperature": 0.25}))
    assert run_cli(["golden", "record", "--config", str(repo / "driftguard.yaml")], cwd=repo).rc == 0
    assert _parity(repo).rc == 1
    recording = repo / "golden.m.reference.npz"
    with np.load(recording, allow_pickle=False) as z:
        meta, y = z["__driftguard__"], z["y"]
    np.savez(recording, __driftguard__=meta, y=y * 2.0)  # the candidate's outputs: x / 0.25 = 4x
    res = _parity(repo)
    res.assert_input_error("not the ones recorded")


def test_a_recording_linked_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, CALLABLE.replace("GOLDEN", "golden.npz"))
    outside = tmp_path / "outside.reference.npz"
    np.savez(outside, y=np.zeros((8, 4)))
    (repo / "golden.m.reference.npz").symlink_to(outside)
    res = _parity(repo)
    res.assert_input_error("outside")
    assert not res.opened_outside(repo)


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, (args, proc.stderr)


def test_with_base_a_recording_the_change_rewrote_is_not_used(tmp_path: Path) -> None:
    """The digest lives in the file, so whoever rewrites the file can rewrite it: a forged recording with its
    metadata recomputed passes on its own. Judged against the base revision (``--base``), a recording the
    change added or edited is not evidence: the reference runs, and the failing parity fails."""
    from driftguard.parity import golden

    parity = (f"      golden: golden.npz\n      reference: {{runner: callable, function: {FNS}:double}}\n"
              f"      candidate: {{runner: callable, function: {FNS}:scaled}}\n")
    repo = _repo(tmp_path, parity)
    (repo / "serve.json").write_text(json.dumps({"temperature": 0.25}))
    assert run_cli(["golden", "record", "--config", str(repo / "driftguard.yaml")], cwd=repo).rc == 0
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    assert _parity(repo, "--base", "HEAD").rc == 1  # the committed recording is used: the parity fails
    recording = repo / "golden.m.reference.npz"
    with np.load(recording, allow_pickle=False) as z:
        meta = json.loads(str(z["__driftguard__"]))
        forged = {"y": z["y"] * 2.0}  # the candidate's outputs
    np.savez(recording, __driftguard__=np.array(json.dumps({**meta, "outputs": golden.outputs_digest(forged)})),
             **forged)
    assert _parity(repo).rc == 0  # the forgery holds on its own
    res = _parity(repo, "--base", "HEAD")
    assert res.rc == 1, res.stderr  # not against the base: the reference ran
