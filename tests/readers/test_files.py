"""``readers.files``: the one way to open anything. Inside ``confined`` every file opened (or vetted for a
library that opens it itself) resolves inside the roots, whatever link or ``..`` leads to it; ``recording``
collects every path read or probed, links and targets; and no module outside ``readers/`` opens a file itself
(an AST scan of the package, with each exception's reason)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import files
from driftguard.readers.limits import Limits

PACKAGE = Path(__file__).resolve().parents[2] / "driftguard"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """``tree/`` holding a file, a link to it, a link out of the tree, and ``outside/secret``."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("token=hunter2\n", encoding="utf-8")
    root = tmp_path / "tree"
    (root / "model").mkdir(parents=True)
    (root / "model" / "config.json").write_text("{}", encoding="utf-8")
    (root / "model" / "inside.json").symlink_to("config.json")
    (root / "model" / "leak.json").symlink_to(tmp_path / "outside" / "secret")
    return root


def test_a_link_inside_the_tree_is_read(tree: Path) -> None:
    with files.confined(tree):
        assert files.read_bytes(tree / "model" / "inside.json") == b"{}"


@pytest.mark.parametrize("name", ["leak.json", "../../outside/secret"])
def test_a_link_or_dotdot_out_of_the_tree_is_refused_naming_the_file(tree: Path, name: str) -> None:
    path = tree / "model" / name
    with files.confined(tree), pytest.raises(ExtractionError) as caught:
        files.read_text(path)
    assert caught.value.path == str(path)
    assert "outside" in caught.value.message and "hunter2" not in str(caught.value)


def test_vetted_refuses_what_open_refuses_and_returns_the_target(tree: Path) -> None:
    with files.confined(tree):
        assert files.vetted(tree / "model" / "inside.json") == (tree / "model" / "config.json").resolve()
        with pytest.raises(ExtractionError, match="outside"):
            files.vetted(tree / "model" / "leak.json")


def test_outside_any_block_nothing_is_confined(tree: Path) -> None:
    assert files.confinement() == ()
    assert files.read_text(tree / "model" / "leak.json") == "token=hunter2\n"


def test_a_device_is_refused_as_one_inside_a_block_or_outside_any(tmp_path: Path) -> None:
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(ExtractionError, match="character device"):
        files.read_bytes(link)
    with files.confined(tmp_path, "/dev"), pytest.raises(ExtractionError, match="character device"):
        files.read_bytes(link)


def test_threads_get_the_block_through_a_copied_context(tree: Path) -> None:
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    with files.confined(tree), ThreadPoolExecutor(1) as pool:
        assert pool.submit(files.confinement).result() == ()  # a plain thread starts outside the block
        held = pool.submit(contextvars.copy_context().run, files.confinement).result()
    assert held == (tree.resolve(),)


def test_recording_collects_links_targets_and_probes(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "weights.bin").write_bytes(b"w")
    (tree / "linked").symlink_to(tmp_path / "elsewhere")
    with files.recording() as seen:
        files.read_bytes(tree / "model" / "inside.json")
        files.read_bytes(tree / "linked" / "weights.bin")
        files.exists(tree / "model" / "chat_template.jinja")  # a probe of a file that is not there
    assert {tree / "model" / "inside.json", tree / "model" / "config.json", tree / "linked",
            tmp_path / "elsewhere" / "weights.bin", tree / "model" / "chat_template.jinja"} <= seen


def test_a_link_loop_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(ExtractionError, match="symbolic links"):
        files.links(tmp_path / "a")
    with files.confined(tmp_path), pytest.raises(ExtractionError):
        files.read_bytes(tmp_path / "a")


def test_a_folder_walk_is_confined_and_bounded(tree: Path) -> None:
    with files.confined(tree):
        with pytest.raises(ExtractionError, match="outside"):
            files.folder_files(tree / "model")  # leak.json
        (tree / "model" / "leak.json").unlink()
        assert [p.name for p in files.folder_files(tree / "model")] == ["config.json", "inside.json"]
        with pytest.raises(LimitError, match="folder_files"):
            files.folder_files(tree / "model", Limits(folder_files=1))


# ---------------------------------------------------------------------------------------------------------
# No direct opens outside readers/
# ---------------------------------------------------------------------------------------------------------

#: Calls that open a file by name: a builtin, or the method/function of these names on any receiver.
_OPENERS = {"open", "fdopen", "read_text", "read_bytes", "write_text", "write_bytes", "InferenceSession",
            "safe_open", "ZipFile", "memmap", "fromfile", "loadtxt", "genfromtxt"}
#: ``X.load(...)`` opens a file when X is one of these libraries.
_LOADERS = {"np", "numpy", "torch", "pickle", "onnx", "joblib", "yaml"}
#: The module ``driftguard.readers.files`` as the package imports it: its own functions are the way in.
_OURS = {"files", "documents", "yaml_doc"}

#: (module, call as written) -> why it may open the file itself. Outputs are created through
#: readers.files.create_output; each entry here is checked to still exist.
ALLOWED: dict[tuple[str, str], str] = {
    ("cli.py", "open"): "append: the runner's job summary file (GITHUB_STEP_SUMMARY, the runner's, not the tree's)",
    ("cli.py", "path.write_text"): "write: the crash report of an internal error (exit 3)",
    ("approvals/write.py", "os.open"): "write: a new approval file, O_EXCL | O_NOFOLLOW",
    ("approvals/write.py", "os.fdopen"): "write: the descriptor just created",
    ("ci/gitref.py", "open"): "write: the base revision's blobs into a fresh temporary folder",
    ("ci/repo.py", "path.read_text"): "the clone's own .git files (HEAD, refs): git never checks out a path "
        "named .git, and a worktree's git folder lies outside the tree by design",
    ("ci/merge.py", "files('driftguard').joinpath('schemas', 'report.json').read_text"):
        "package data (the report schema), not an input",
    ("api.py", "files('driftguard').joinpath('schemas', f'{name}.json').read_text"):
        "package data (a published schema), not an input",
    ("parity/runners/onnxruntime.py", "ort.InferenceSession"):
        "the path from RunnerConfig.vetted_file, after the metadata reader's limits",
    ("parity/runners/torch.py", "torch.load"):
        "the path from RunnerConfig.vetted_file, after torch_archive.check_archive",
}


def _opens(path: Path) -> list[tuple[str, int]]:
    """``(call as written, line)`` of each call in ``path`` that opens a file by itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in _OPENERS:
            opens = func.id == "open"  # a name imported from readers (read_text) is the readers' own
        elif isinstance(func, ast.Attribute):
            receiver = func.value
            root = receiver
            while isinstance(root, ast.Attribute):
                root = root.value
            ours = isinstance(receiver, ast.Name) and receiver.id in _OURS
            opens = (func.attr in _OPENERS and not ours) or \
                (func.attr == "load" and isinstance(root, ast.Name) and root.id in _LOADERS)
        else:
            opens = False
        if opens:
            found.append((ast.unparse(func), node.lineno))
    return found


def _package_opens() -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("readers/"):
            continue
        for call, line in _opens(path):
            out.setdefault((rel, call), []).append(line)
    return out


def test_nothing_outside_readers_opens_a_file_itself() -> None:
    found = _package_opens()
    direct = [f"driftguard/{rel}:{lines[0]}: {call}(...)" for (rel, call), lines in found.items()
              if (rel, call) not in ALLOWED]
    assert not direct, ("open files through driftguard.readers.files (open_regular, read_bytes, vetted...), "
                        "or state why not in ALLOWED:\n" + "\n".join(direct))
    assert not [k for k in ALLOWED if k not in found], "ALLOWED names a call that is gone: drop it"


def test_the_scan_sees_each_way_of_opening(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy as np\nfrom pathlib import Path\nopen('a')\nPath('a').read_text()\n"
                      "np.load('a')\nfiles.read_text('a')\nread_text('a')\nREGISTRY.load('x')\n", encoding="utf-8")
    assert [c for c, _ in _opens(sample)] == ["open", "Path('a').read_text", "np.load"]


def test_links_walks_relative_and_absolute_targets(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"")
    (tmp_path / "rel").symlink_to("d")
    (tmp_path / "abs").symlink_to(tmp_path / "rel")
    assert files.links(tmp_path / "abs" / "f") == [tmp_path / "abs", tmp_path / "rel"]
    assert files.links(os.path.relpath(tmp_path / "d" / "f")) == []


def test_is_within_takes_a_confined_root_as_it_resolved_when_the_block_began(tmp_path: Path) -> None:
    # as the block's own open checks do: a root re-pointed during the run does not move what it confines
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    root = tmp_path / "root"
    root.symlink_to(first)
    with files.confined(root):
        root.unlink()
        root.symlink_to(second)
        assert files.is_within(first / "a.json", root) and not files.is_within(second / "a.json", root)
        assert files.is_within(second / "a.json", str(second))  # another root: resolved now
    assert files.is_within(second / "a.json", root) and not files.is_within(first / "a.json", root)
