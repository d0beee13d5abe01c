"""Hostile outputs: a pull request may commit a file, a symlink or a folder where a run writes its output.
Every output is created fresh (``readers.files.create_output``): a stale file is replaced, a symlink is
removed and never followed, a symlinked folder inside the working tree is refused, and a path the run chose
itself stays inside the tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from driftguard.errors import UsageError
from driftguard.readers import files
from tests.attacks.bounded import run_cli
from tests.dates import EXAMPLES_TODAY_ISO


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "victim.txt").write_text("precious\n")
    (tmp_path / "outside").mkdir()
    return repo


def test_a_new_file_is_written(tree: Path) -> None:
    out = files.write_output(tree / "report.json", "{}\n", tree=tree)
    assert out.read_text() == "{}\n"


def test_a_stale_file_is_replaced_not_appended_to(tree: Path) -> None:
    (tree / "report.json").write_text("forged report, much longer than the real one\n")
    files.write_output(tree / "report.json", "{}\n", tree=tree)
    assert (tree / "report.json").read_text() == "{}\n"


def test_a_symlink_named_like_the_output_is_removed_not_followed(tree: Path) -> None:
    victim = tree.parent / "victim.txt"
    (tree / "driftguard.sarif").symlink_to(victim)
    files.write_output(tree / "driftguard.sarif", "sarif\n", tree=tree)
    assert victim.read_text() == "precious\n"
    assert not (tree / "driftguard.sarif").is_symlink()
    assert (tree / "driftguard.sarif").read_text() == "sarif\n"


def test_a_dangling_symlink_does_not_create_its_target(tree: Path) -> None:
    (tree / "out.json").symlink_to(tree.parent / "outside" / "created.json")
    files.write_output(tree / "out.json", "x", tree=tree)
    assert not (tree.parent / "outside" / "created.json").exists()


def test_a_symlinked_folder_inside_the_tree_is_refused(tree: Path) -> None:
    (tree / "reports").symlink_to(tree.parent / "outside", target_is_directory=True)
    with pytest.raises(UsageError, match="reports is a symlink"):
        files.write_output(tree / "reports" / "r.json", "x", tree=tree)
    assert list((tree.parent / "outside").iterdir()) == []


def test_a_symlinked_folder_deeper_in_the_tree_is_refused(tree: Path) -> None:
    (tree / "a").mkdir()
    (tree / "a" / "b").symlink_to(tree.parent / "outside", target_is_directory=True)
    with pytest.raises(UsageError, match="symlink"):
        files.write_output(tree / "a" / "b" / "r.json", "x", tree=tree)


def test_dotdot_through_a_symlinked_folder_is_read_by_name(tree: Path) -> None:
    # link/../r.json is r.json in the tree: the link is never walked through to its target's parent
    (tree / "link").symlink_to(tree.parent / "outside", target_is_directory=True)
    files.write_output(os.path.join(tree, "link", "..", "r.json"), "x", tree=tree)
    assert (tree / "r.json").read_text() == "x"
    assert not (tree.parent / "r.json").exists()


def test_a_relative_path_is_walked_from_the_working_folder(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    (tree / "out").symlink_to(tree.parent / "outside", target_is_directory=True)
    with pytest.raises(UsageError, match="symlink"):
        files.write_output("out/r.json", "x")


def test_an_outside_path_named_on_the_command_line_is_written(tree: Path) -> None:
    # the user named it: folders outside the tree are theirs, symlinks included
    (tree.parent / "alias").symlink_to(tree.parent / "outside", target_is_directory=True)
    files.write_output(tree.parent / "alias" / "r.json", "x", tree=tree, named=True)
    assert (tree.parent / "outside" / "r.json").read_text() == "x"


def test_an_outside_path_the_run_chose_is_refused(tree: Path) -> None:
    with pytest.raises(UsageError, match="outside"):
        files.write_output(tree / ".." / "outside" / "r.json", "x", tree=tree, named=False)
    assert not (tree.parent / "outside" / "r.json").exists()


def test_the_final_symlink_is_not_followed_outside_the_tree_either(tree: Path) -> None:
    victim = tree.parent / "victim.txt"
    (tree.parent / "outside" / "r.json").symlink_to(victim)
    files.write_output(tree.parent / "outside" / "r.json", "x", tree=tree)
    assert victim.read_text() == "precious\n"


def test_a_folder_named_like_the_output_is_an_error(tree: Path) -> None:
    (tree / "report.json").mkdir()
    with pytest.raises(UsageError, match="a folder is there"):
        files.write_output(tree / "report.json", "x", tree=tree)


def test_a_path_ending_in_a_slash_is_an_error(tree: Path) -> None:
    with pytest.raises(UsageError, match="names a folder"):
        files.write_output(f"{tree}/", "x", tree=tree)


def test_a_missing_folder_is_one_clear_error(tree: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        files.write_output(tree / "missing" / "r.json", "x", tree=tree)


def test_a_nul_byte_is_refused(tree: Path) -> None:
    with pytest.raises(UsageError, match="NUL"):
        files.write_output(f"{tree}/r\0.json", "x", tree=tree)


def test_remove_output_removes_a_stale_file_and_a_symlink_only(tree: Path) -> None:
    victim = tree.parent / "victim.txt"
    (tree / "a.json").write_text("stale")
    (tree / "b.json").symlink_to(victim)
    files.remove_output(tree / "a.json", tree=tree)
    files.remove_output(tree / "b.json", tree=tree)
    files.remove_output(tree / "c.json", tree=tree)  # nothing there: fine
    assert not (tree / "a.json").exists() and not (tree / "b.json").is_symlink()
    assert victim.read_text() == "precious\n"


def test_create_output_gives_a_binary_file(tree: Path) -> None:
    with files.create_output(tree / "r.bin", tree=tree) as fh:
        fh.write(b"\x00\x01")
    assert (tree / "r.bin").read_bytes() == b"\x00\x01"


def test_a_device_named_on_the_command_line_is_written_to_never_replaced(tree: Path) -> None:
    """``--format text=/dev/null`` removed /dev/null to create a fresh file: run as root, the machine's
    /dev/null became a regular file (and git, told GIT_CONFIG_GLOBAL=/dev/null, read whatever was written)."""
    import stat
    import threading

    fifo = tree / "stream"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    files.write_output(fifo, "report\n", tree=tree)
    reader.join(timeout=30)
    assert got == [b"report\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    files.remove_output(fifo, tree=tree)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # a stream is not a stale output
    with pytest.raises(UsageError, match="not a regular file"):
        files.write_output(fifo, "x", tree=tree, named=False)
    files.write_output(os.devnull, "discarded\n")
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


# ---------------------------------------------------------------------------------------------------------
# Every writer of the CLI, with a committed symlink named like its output (run in the checked-out tree).
# ---------------------------------------------------------------------------------------------------------

GEN = '{"do_sample": true, "temperature": 0.7, "top_p": 0.9}\n'


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A pull request's tree: a model whose sides agree, plus a victim file outside the tree."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "generation_config.json").write_text(GEN)
    (repo / "request.json").write_text('{"prompt": "x", "temperature": 0.7, "top_p": 0.9}\n')
    (repo / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
        "    deployment: [{path: request.json, kind: vllm}]\n")
    (tmp_path / "victim.txt").write_text("precious\n")
    return repo


WRITERS = {
    "check --format NAME=PATH": ["check", "--today", EXAMPLES_TODAY_ISO, "--format", "sarif=OUT"],
    "check -o": ["check", "--today", EXAMPLES_TODAY_ISO, "--format", "json", "-o", "OUT"],
    "extract -o": ["extract", "generation_config.json", "--format", "yaml", "-o", "OUT"],
    "diff -o": ["diff", "generation_config.json", "vllm:request.json", "-o", "OUT"],
    "init": ["init", ".", "--force"],
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_no_writer_follows_a_committed_symlink(checkout: Path, writer: str) -> None:
    argv = WRITERS[writer]
    out = checkout / ("driftguard.yaml" if writer == "init" else "report.out")
    if writer == "init":
        (checkout / "driftguard.yaml").unlink()
    out.symlink_to(checkout.parent / "victim.txt")
    res = run_cli([a.replace("OUT", out.name) for a in argv], cwd=checkout)
    assert res.rc in (0, 1), res.stderr
    assert (checkout.parent / "victim.txt").read_text() == "precious\n"
    assert not out.is_symlink() and out.stat().st_size > 0


@pytest.mark.parametrize("writer", sorted(set(WRITERS) - {"init"}))
def test_no_writer_walks_a_committed_symlinked_folder(checkout: Path, writer: str) -> None:
    (checkout.parent / "elsewhere").mkdir()
    (checkout / "reports").symlink_to(checkout.parent / "elsewhere", target_is_directory=True)
    res = run_cli([a.replace("OUT", "reports/r.out") for a in WRITERS[writer]], cwd=checkout)
    res.assert_input_error("reports is a symlink")
    assert list((checkout.parent / "elsewhere").iterdir()) == []


def test_extract_writes_an_outside_path_named_on_the_command_line(checkout: Path) -> None:
    target = checkout.parent / "out" / "r.json"
    target.parent.mkdir()
    res = run_cli(["extract", "generation_config.json", "--format", "json", "-o", str(target)], cwd=checkout)
    assert res.rc == 0, res.stderr
    assert json.loads(target.read_text())["kind"] == "hf-generation"


def test_init_through_a_symlinked_folder_inside_the_tree_is_refused(checkout: Path) -> None:
    (checkout.parent / "elsewhere").mkdir()
    (checkout / "models").symlink_to(checkout.parent / "elsewhere", target_is_directory=True)
    res = run_cli(["init", "models"], cwd=checkout)
    res.assert_input_error("models is a symlink")
    assert list((checkout.parent / "elsewhere").iterdir()) == []


def test_a_snapshot_replaces_a_symlink_named_like_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.gate import snapshot

    monkeypatch.chdir(tmp_path)
    (tmp_path / "victim.txt").write_text("precious\n")
    (tmp_path / "s.snapshot.json").symlink_to(tmp_path / "victim.txt")
    snapshot.write({"format": "x"}, "s.snapshot.json")
    assert (tmp_path / "victim.txt").read_text() == "precious\n"
    assert json.loads((tmp_path / "s.snapshot.json").read_text()) == {"format": "x"}


def test_a_golden_recording_replaces_a_symlink_named_like_it(tmp_path: Path) -> None:
    import numpy as np

    from driftguard.parity import golden

    (tmp_path / "victim.txt").write_text("precious\n")
    inputs = tmp_path / "g.npz"
    np.savez(inputs, x=np.zeros((2, 3), dtype=np.float32))
    loaded = golden.load(inputs)[0]
    loaded.recording("m").symlink_to(tmp_path / "victim.txt")
    written = golden.record(loaded, {"y": np.ones((2, 1))}, golden.Provenance("a", "b", "c", "d"), model="m")
    assert (tmp_path / "victim.txt").read_text() == "precious\n"
    assert not written.is_symlink() and np.load(written)["y"].shape == (2, 1)


# ---------------------------------------------------------------------------------------------------------
# A failed run leaves its failure at every output, never a file from before.
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "github", "markdown", "text"])
def test_a_failed_check_replaces_a_forged_report_with_its_failure(checkout: Path, fmt: str) -> None:
    forged = checkout / f"report.{fmt}"
    forged.write_text('{"version": 1, "ok": true, "forged": true}\n')
    (checkout / "request.json").write_text('{"prompt": "x", "top_p": ')  # the PR breaks one input: exit 2
    res = run_cli(["check", "--today", EXAMPLES_TODAY_ISO, "--format", f"{fmt}={forged.name}"], cwd=checkout)
    res.assert_input_error("request.json")
    text = forged.read_text()
    assert "forged" not in text and "driftguard" in text
    assert any(said in text for said in ("exit 2", '"exit_code": 2', '"exitCode": 2')), text


def test_a_run_that_fails_on_its_options_still_replaces_its_outputs(checkout: Path) -> None:
    (checkout / "r.json").write_text('{"forged": true}')
    res = run_cli(["check", "--format", "json=r.json", "--format", "nosuchformat"], cwd=checkout)
    res.assert_input_error("unknown format")
    assert json.loads((checkout / "r.json").read_text())["driftguard_error"]["exit_code"] == 2
