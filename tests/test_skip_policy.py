"""``--allowed-skips-only`` (tests/skip_policy.py, passed by .ci/run): a skip for a reason it does not list fails
the run, naming the test; a listed reason, an xfail, and a run without the flag pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pytest(tmp_path: Path, body: str, *flags: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text("import pytest\n\n\n" + body)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.skip_policy",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_sample.py"), *flags],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


MISSING_IMPORT = 'def test_a() -> None:\n    pytest.importorskip("no_such_module_here")\n'


def test_a_skip_for_a_missing_import_fails_the_ci_run(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, MISSING_IMPORT, "--allowed-skips-only")
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED
    assert "skipped for a reason CI does not accept: test_sample.py::test_a: Skipped: could not import " \
           "'no_such_module_here'" in proc.stderr


def test_a_module_skipped_at_collection_fails_the_ci_run(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, 'pytest.importorskip("no_such_module_here")\n\n\ndef test_a() -> None:\n    pass\n',
                   "--allowed-skips-only")
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED
    assert "test_sample.py: Skipped: could not import 'no_such_module_here'" in proc.stderr


def test_allowed_reasons_xfail_and_runs_without_the_flag_pass(tmp_path: Path) -> None:
    allowed = ('def test_gpu() -> None:\n    pytest.skip("needs CUDA (no device)")\n\n\n'
               '@pytest.mark.xfail(reason="documented")\ndef test_x() -> None:\n    raise ValueError\n')
    assert _pytest(tmp_path, allowed, "--allowed-skips-only").returncode == pytest.ExitCode.OK
    assert _pytest(tmp_path, MISSING_IMPORT).returncode == pytest.ExitCode.OK
