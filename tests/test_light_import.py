"""The config-only path stays light: no torch, onnx, onnxruntime, numpy, transformers or git in sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.dates import EXAMPLES_TODAY_ISO

HEAVY = ("torch", "onnx", "onnxruntime", "numpy", "transformers", "tokenizers", "git")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return list(json.loads(res.stdout.strip().splitlines()[-1]))


def test_import_driftguard_is_light() -> None:
    assert loaded_after("import driftguard") == []


def test_extract_triton_is_light() -> None:
    config = FIXTURES / "triton" / "good" / "simple_dyna_sequence.pbtxt"
    code = ("import sys\nfrom driftguard.cli import run\n"
            f"rc = run(['extract', {str(config)!r}, '--format', 'json'])\nassert rc == 0, rc")
    assert loaded_after(code) == []


def test_diff_hf_vs_triton_paths_are_light() -> None:
    config = FIXTURES / "triton" / "good" / "simple_dyna_sequence.pbtxt"
    code = ("from driftguard.cli import run\n"
            f"rc = run(['diff', {str(config)!r}, {str(config)!r}])\nassert rc == 0, rc")
    assert loaded_after(code) == []


ROOT = Path(__file__).resolve().parents[1]


def test_check_without_parity_is_light() -> None:
    code = ("from driftguard.cli import run\n"
            f"rc = run(['check', '--config', {str(ROOT / 'driftguard.yaml')!r}, '--format', 'json', '--today', "
            f"{EXAMPLES_TODAY_ISO!r}])\nassert rc == 1, rc")
    assert loaded_after(code) == []


def test_check_of_a_manifest_with_an_hf_parity_section_is_light() -> None:
    # examples/summarizer has a parity: section (runner: hf) whose artifacts are not built: check ignores it.
    manifest = ROOT / "examples" / "summarizer" / "driftguard.yaml"
    code = ("from driftguard.cli import run\n"
            f"rc = run(['check', '--config', {str(manifest)!r}, '--format', 'json', '--today', "
            f"{EXAMPLES_TODAY_ISO!r}])\nassert rc == 1, rc")
    assert loaded_after(code) == []


def test_explain_and_the_parity_package_are_light() -> None:
    code = ("import driftguard.parity, driftguard.parity.codes, driftguard.parity.request\n"
            "from driftguard.cli import run\nassert run(['explain', 'DG501']) == 0\nassert run(['explain']) == 0")
    assert loaded_after(code) == []
