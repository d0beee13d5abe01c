"""The fail-closed contract: every kind of bad input is exit 2 with one line naming the file, a crashing rule is
exit 3 (never a pass), and two runs on the same inputs print byte-identical JSON.

``CASES`` holds one CLI invocation per ``DriftguardError`` subclass (and per reader family); a new subclass
without a case fails ``test_every_error_class_has_a_case``.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from driftguard import errors
from driftguard.cli import run
from driftguard.parity.errors import ParityError
from tests.dates import EXAMPLES_TODAY_ISO

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def _all_subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


def _manifest(tmp: Path, body: str) -> Path:
    path = tmp / "driftguard.yaml"
    path.write_text(body)
    return path


_GOOD_GEN = FIXTURES / "acceptance" / "generation_config.json"
_OK_MANIFEST = f"""version: 1
models:
  m:
    training: [{{path: {_GOOD_GEN}}}]
    deployment: [{{path: {_GOOD_GEN}}}]
"""


def _case_extraction(tmp: Path) -> list[str]:
    bad = tmp / "generation_config.json"
    bad.write_text('{"top_p": 0.9,\n  "temperature": }')
    return ["extract", str(bad)]


def _case_template(tmp: Path) -> list[str]:
    cfg = tmp / "config.pbtxt"
    cfg.write_text('name: "m"\nbackend: "python"\nmax_batch_size: ${mbs}\n')
    return ["extract", str(cfg)]


def _case_refused(tmp: Path) -> list[str]:
    import pickle
    import zipfile

    path = tmp / "evil.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/data.pkl", pickle.dumps(print, protocol=2))
        zf.writestr("a/version", "3\n")
    return ["extract", f"torch:{path}"]


def _case_limit(tmp: Path) -> list[str]:
    path = tmp / "generation_config.json"
    path.write_text("[" * 200 + "]" * 200)
    return ["extract", "--limit", "file_bytes=100", str(path)]


def _case_missing_extra(tmp: Path) -> list[str]:
    # The test hides the onnx package: reading an ONNX graph's metadata needs no extra, its weights (DG401) do.
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (tmp / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1, 2))
    (tmp / "model.onnx").write_bytes(b"\x08\x08\x3a\x03\x12\x01g")  # ir_version 8, graph named "g"
    body = ("version: 1\nmodels:\n  m:\n    training: [{path: model.safetensors}]\n"
            "    deployment: [{path: model.onnx}]\nrules: {enable: [DG401]}\n")
    return ["check", "--config", str(_manifest(tmp, body))]


def _case_dependency(tmp: Path) -> list[str]:
    # DG401 reads both checkpoints with torch.load: the test stands an old torch in (OLD_TORCH), refused first.
    import torch

    for name in ("trained.pt", "served.pt"):
        torch.save({"w": torch.ones(2)}, tmp / name)
    body = ("version: 1\nmodels:\n  m:\n    training: [{path: trained.pt}]\n"
            "    deployment: [{path: served.pt}]\nrules: {enable: [DG401]}\n")
    return ["check", "--config", str(_manifest(tmp, body))]


def _old_torch() -> types.ModuleType:
    """What ``import torch`` finds for the DependencyError case: a torch release before the 2.6 floor."""
    old = types.ModuleType("torch")
    old.__version__ = "2.5.1"  # type: ignore[attr-defined]
    return old


def _case_usage(tmp: Path) -> list[str]:
    return ["extract", f"no-such-kind:{_GOOD_GEN}"]


def _case_manifest(tmp: Path) -> list[str]:
    return ["check", "--config", str(_manifest(tmp, _OK_MANIFEST.replace("training:", "trainig:")))]


def _case_approval(tmp: Path) -> list[str]:
    (tmp / "approvals").mkdir()
    (tmp / "approvals" / "a.yaml").write_text("id: a\nmodel: m\nkey: generation.top_p\n")
    return ["check", "--config", str(_manifest(tmp, _OK_MANIFEST))]


def _case_parity(tmp: Path) -> list[str]:
    fns = ROOT / "tests" / "parity" / "userfns" / "fns.py"
    (tmp / "generation_config.json").write_text(_GOOD_GEN.read_text())  # inside the manifest's folder
    body = _OK_MANIFEST.replace(str(_GOOD_GEN), "generation_config.json") + (
        f"    parity:\n      golden: missing.npz\n"
                           f"      reference: {{runner: callable, function: {fns}:double}}\n"
                           f"      candidate: {{runner: callable, function: {fns}:double}}\n")
    return ["parity", "--config", str(_manifest(tmp, body))]


CASES: dict[type, Callable[[Path], list[str]]] = {
    errors.ExtractionError: _case_extraction,
    errors.TemplateError: _case_template,
    errors.RefusedError: _case_refused,
    errors.LimitError: _case_limit,
    errors.MissingExtraError: _case_missing_extra,
    errors.DependencyError: _case_dependency,
    errors.UsageError: _case_usage,
    errors.ManifestError: _case_manifest,
    errors.ApprovalError: _case_approval,
    ParityError: _case_parity,
}


def test_every_error_class_has_a_case() -> None:
    assert _all_subclasses(errors.DriftguardError) <= set(CASES), "add a CASES entry for the new error class"


@pytest.mark.parametrize("cls", sorted(CASES, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_each_error_class_is_exit_2_on_one_line(cls: type, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    argv = CASES[cls](tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)  # for MissingExtraError: the extra is not installed
    if cls is errors.DependencyError:
        monkeypatch.setitem(sys.modules, "torch", _old_torch())
    rc = run(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("driftguard: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("cls", sorted(CASES, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_the_library_raises_the_class_the_case_names(cls: type, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard import api
    from driftguard.readers.limits import Limits

    monkeypatch.setitem(sys.modules, "onnx", None)
    argv = CASES[cls](tmp_path)
    if cls is errors.DependencyError:
        monkeypatch.setitem(sys.modules, "torch", _old_torch())
    with pytest.raises(errors.DriftguardError) as exc:
        if argv[0] == "check":
            api.check(argv[-1])
        elif argv[0] == "parity":
            api.check_parity(argv[-1])
        elif "--limit" in argv:
            api.extract(argv[-1], limits=Limits(file_bytes=100))
        else:
            api.extract(argv[-1])
    assert type(exc.value) is cls, (type(exc.value), exc.value)


def test_a_crashing_rule_is_exit_3_never_a_pass(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from driftguard.rules.drift import ValueDrift

    def boom(self: object, ctx: object) -> object:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(ValueDrift, "check", boom)
    rc = run(["check", "--config", str(ROOT / "driftguard.yaml"), "--today", EXAMPLES_TODAY_ISO])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "internal error" in err and "DG101" in err


def _json_twice(argv: list[str]) -> tuple[bytes, bytes]:
    outs = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-m", "driftguard", *argv], capture_output=True, cwd=ROOT,
                             timeout=120)
        assert res.returncode in (0, 1), res.stderr
        outs.append(res.stdout)
    return outs[0], outs[1]


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["check", "--format", "json", "--today", EXAMPLES_TODAY_ISO],
    ["extract", "--format", "json", "examples/summarizer/training",
     "examples/summarizer/deployment/model_repository/summarizer/config.pbtxt"],
    ["diff", "--format", "json", "tests/fixtures/acceptance/generation_config.json",
     "vllm:tests/fixtures/acceptance/runtime-params.yaml"],
], ids=["check", "extract", "diff"])
def test_two_runs_print_byte_identical_json(argv: list[str]) -> None:
    first, second = _json_twice(argv)
    assert first == second
    json.loads(first)


@pytest.mark.parametrize(("pre_commit", "fix"), [(None, "pip install 'driftguard-ml[onnx]'"),
                                                 ("1", 'additional_dependencies: ["driftguard-ml[onnx]"]')])
def test_a_missing_extra_under_pre_commit_names_the_hooks_dependencies(
        pre_commit: str | None, fix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """pre-commit sets PRE_COMMIT=1 for its hooks, whose environment it builds from additional_dependencies: a
    `pip install` there does not last, so the one line names the setting instead."""
    argv = _case_missing_extra(tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)  # the hook's environment: driftguard without extras
    if pre_commit is None:
        monkeypatch.delenv("PRE_COMMIT", raising=False)
    else:
        monkeypatch.setenv("PRE_COMMIT", pre_commit)
    assert run(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("driftguard: error: ") and "needs the 'onnx' extra" in line and fix in line, line
