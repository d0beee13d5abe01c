"""Malicious checkpoints: a pickle whose ``__reduce__`` would run a command is refused, naming the global,
with exit 2, and a sentinel file proves nothing ran. Built with torch.save inside a plain .pt, a Lightning
.ckpt and a training_args.bin."""

from __future__ import annotations

import builtins
import os
import pickletools
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")


class Payload:
    """Unpickling this calls ``func(*args)``: the classic pickle code-execution gadget."""

    def __init__(self, func: Any, args: tuple[Any, ...]) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def _payloads(sentinel: Path) -> dict[str, tuple[Payload, tuple[str, ...]]]:
    """name -> (payload, spellings of the global the refusal may name)."""
    touch = f"open({str(sentinel)!r}, 'w').close()"
    return {
        "os.system": (Payload(os.system, (f"touch {sentinel}",)), ("posix.system", "os.system")),
        "subprocess.call": (Payload(subprocess.call, (["touch", str(sentinel)],)), ("subprocess.call",)),
        "builtins.eval": (Payload(builtins.eval, (touch,)), ("builtins.eval",)),
        "builtins.exec": (Payload(builtins.exec, (touch,)), ("builtins.exec",)),
    }


def _plain_pt(path: Path, payload: Payload) -> Path:
    torch.save({"state_dict": {"w": torch.zeros(2), "evil": payload}, "config": {"lr": 0.1}}, path)
    return path


def _lightning_ckpt(path: Path, payload: Payload) -> Path:
    torch.save({"state_dict": {"w": torch.zeros(2)}, "pytorch-lightning_version": "2.4.0", "epoch": 1,
                "global_step": 10, "hyper_parameters": {"lr": 0.1, "hook": payload}}, path)
    return path


def _training_args(path: Path, payload: Payload) -> Path:
    torch.save(payload, path)
    return path


BUILDERS = {"model.pt": _plain_pt, "last.ckpt": _lightning_ckpt, "training_args.bin": _training_args}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("attack", ["os.system", "subprocess.call", "builtins.eval", "builtins.exec"])
def test_malicious_checkpoint_is_refused_and_nothing_runs(tmp_path: Path, name: str, attack: str) -> None:
    sentinel = tmp_path / "SENTINEL"
    payload, spellings = _payloads(sentinel)[attack]
    path = BUILDERS[name](tmp_path / name, payload)
    # the fixture really carries the gadget: its pickle names the dangerous global
    with zipfile.ZipFile(path) as zf:
        data = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))
    globals_named = {str(arg).replace(" ", ".") for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}
    # protocol 2 writes Python 2 names (__builtin__.eval, commands.call); the refusal maps them back
    assert globals_named & {*spellings, "__builtin__.eval", "__builtin__.exec", "commands.call"}, globals_named

    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path)], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "refused" in lines[0]
    assert any(s in lines[0] for s in spellings), lines[0]
    assert proc.stdout == ""
    assert not sentinel.exists()


def test_refusal_names_the_global_in_the_library_error(tmp_path: Path) -> None:
    from driftguard import api
    from driftguard.errors import RefusedError

    sentinel = tmp_path / "SENTINEL"
    path = _plain_pt(tmp_path / "model.pt", _payloads(sentinel)["os.system"][0])
    with pytest.raises(RefusedError) as info:
        api.extract(f"torch:{path}")
    assert info.value.refused in ("posix.system", "os.system")
    assert info.value.path == str(path)
    assert not sentinel.exists()


def test_rebuild_from_type_cannot_smuggle_a_callable(tmp_path: Path) -> None:
    """``_rebuild_from_type_v2(func, ...)`` is allowlisted; its ``func`` must be one of our rebuild stand-ins."""
    from driftguard.errors import ExtractionError
    from driftguard.extractors.checkpoint_common import loads

    # GLOBAL _rebuild_from_type_v2, then (torch.device, torch.Tensor, ('cpu',), {}) REDUCE
    data = (b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n(ctorch\ndevice\nctorch\nTensor\nX\x03\x00\x00\x00cpu"
            b"\x85}tR.")
    with pytest.raises(ExtractionError, match="not a tensor rebuild"):
        loads(data, "inline.pkl")
