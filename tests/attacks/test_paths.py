"""Hostile paths: a manifest or an artifact may not point the gate at files outside the tree it checks, and
nothing that is not a regular file is read (a FIFO would block forever, /dev/zero never ends)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.attacks.bounded import run_cli

GEN = {"do_sample": True, "temperature": 0.7, "top_p": 0.92}


def _manifest(root: Path, training: list[str], deployment: list[str], extra: str = "") -> Path:
    lines = ["version: 1", "models:", "  m:", "    training:"]
    lines += [f"      - path: {p}" for p in training]
    lines.append("    deployment:")
    lines += [f"      - {p}" if p.startswith("{") else f"      - path: {p}" for p in deployment]
    path = root / "driftguard.yaml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "generation_config.json").write_text(json.dumps(GEN))
    (tmp_path / "secret.json").write_text(json.dumps({"top_p": 0.5, "api_key": "hunter2"}))
    return repo


def test_manifest_artifact_outside_the_tree_is_refused(tree: Path) -> None:
    m = _manifest(tree, ["generation_config.json"], ["{path: ../secret.json, kind: vllm}"])
    res = run_cli(["check", "--config", str(m)])
    res.assert_input_error("outside", "secret.json")
    assert "hunter2" not in res.stdout + res.stderr


def test_symlink_out_of_the_tree_is_refused(tree: Path) -> None:
    (tree / "request.json").symlink_to(tree.parent / "secret.json")
    m = _manifest(tree, ["generation_config.json"], ["{path: request.json, kind: vllm}"])
    run_cli(["check", "--config", str(m)]).assert_input_error("outside", "symlinks resolved")


def test_root_option_widens_the_tree(tree: Path) -> None:
    m = _manifest(tree, ["generation_config.json"], ["{path: ../secret.json, kind: vllm}"])
    res = run_cli(["check", "--config", str(m), "--root", str(tree.parent)])
    assert res.rc == 1, res.stderr  # read now, and its top_p drifts
    assert "generation.top_p" in res.stdout


def test_engine_args_may_not_name_a_folder_outside_the_tree(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "generation_config.json").write_text(json.dumps({"top_p": 0.5}))
    (tree / "engine.json").write_text(json.dumps({"model": str(outside), "max_model_len": 2048,
                                                  "gpu_memory_utilization": 0.9}))
    m = _manifest(tree, ["generation_config.json"], ["{path: engine.json, kind: vllm}"])
    res = run_cli(["check", "--config", str(m)])
    res.assert_input_error("outside", "engine.json:1")
    # A folder inside the tree is read (vLLM's generation-config 'auto' applies it).
    inside = tree / "weights"
    inside.mkdir()
    (inside / "generation_config.json").write_text(json.dumps({"top_p": 0.5}))
    (tree / "engine.json").write_text(json.dumps({"model": "weights", "max_model_len": 2048,
                                                  "gpu_memory_utilization": 0.9}))
    res = run_cli(["check", "--config", str(m)])
    assert res.rc == 1 and "generation.top_p" in res.stdout, res.stdout + res.stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hf-generation", "vllm", "triton", "onnx", "torch", "safetensors", "lmdeploy"])
def test_fifo_and_devices_are_refused_not_read(tmp_path: Path, kind: str) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    res = run_cli(["extract", f"{kind}:{fifo}"])
    res.assert_input_error("FIFO")
    res.assert_bounded(read_at_most=0)
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    res = run_cli(["extract", f"{kind}:{link}"])
    # extract confines to the artifact's folder, so the link is refused for where it leads before the device is
    # opened (a device inside the roots is refused as one: tests/readers/test_files.py)
    res.assert_input_error("zero.json", "'/dev/zero', outside")
    res.assert_bounded(read_at_most=0)


def test_detection_does_not_block_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "config.pbtxt"
    os.mkfifo(fifo)
    res = run_cli(["extract", str(fifo)])
    res.assert_input_error("FIFO")
    res.assert_bounded(read_at_most=0)


@pytest.mark.slow
def test_oversized_text_artifact_is_a_named_limit(tmp_path: Path) -> None:
    big = tmp_path / "generation_config.json"
    big.write_text('{"top_p": 0.9, "pad": "' + "x" * (17 * 1024 * 1024) + '"}')
    res = run_cli(["extract", str(big)])
    res.assert_limit("file_bytes")
    res.assert_bounded(read_at_most=4096)  # refused from its size: only the kind detection's head is read
    assert run_cli(["extract", str(big), "--limit", "file_bytes=32M"]).rc == 0


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_a_file_longer_than_its_size_is_read_whole_and_still_bounded() -> None:
    """A regular file may hold more than ``stat`` says (procfs files say 0, a file may grow while read): the
    read asks for the stated size first, then goes on up to the limit, and refuses past it."""
    from driftguard.errors import LimitError
    from driftguard.readers import files
    from driftguard.readers.limits import DEFAULT

    proc = Path("/proc/self/status")
    assert proc.stat().st_size == 0
    data = files.read_bytes(proc)
    assert data.startswith(b"Name:") and b"\nVmRSS:" in data  # the whole file, though its size says 0
    with pytest.raises(LimitError, match="file_bytes"):
        files.read_bytes(proc, DEFAULT.with_overrides({"file_bytes": "64"}))


def test_is_within_is_by_whole_components_after_symlinks(tmp_path: Path) -> None:
    from driftguard.readers.files import is_within

    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "tree-sibling").mkdir()  # shares the root's name as a prefix, lies outside
    (root / "out").symlink_to(tmp_path / "tree-sibling")
    (root / "in").symlink_to(root / "sub")
    assert is_within(root, root) and is_within(root / "sub" / "x.json", root) and is_within(root / "in", root)
    assert not is_within(tmp_path / "tree-sibling", root) and not is_within(root / "out" / "x.json", root)
    assert not is_within(root / ".." / "tree-sibling", root) and not is_within(tmp_path, root)
