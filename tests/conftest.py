"""Suite-wide: tests marked ``gpu`` are skipped where no CUDA device is visible (torch or ONNX Runtime); the run
has one "today" (``tests/dates.py``); and the CLI's output is plain (no terminal width, no colour, no GitHub job
summary) unless a test asks for one."""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from driftguard import clock

# Property tests give the same verdict on any machine, under any load, in any order: no per-example deadline
# and no "too slow" health check (both are wall-clock measures), examples derived from the test itself rather
# than a random seed, and no example database carried from one run to the next. A test may still ask for more
# (or fewer) examples with its own @settings.
settings.register_profile("driftguard", deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("driftguard")

pytest_plugins = ["tests.skip_policy"]


def pytest_configure(config: pytest.Config) -> None:
    """Pin the run's "today" before any test module is imported: ``$DRIFTGUARD_TODAY`` when set (a run moved to
    another day as a whole), else the system date once, so a run that crosses midnight does not change day half
    way. In this process through ``clock.pinned``; in the CLIs the tests start, through the variable, which the
    CLI reads as its default for ``--today``."""
    # Under GitHub Actions every CLI run would wrap its output in the runner's stop-commands guard (cli._stdout),
    # module fixtures' runs included: tests that want it set GITHUB_ACTIONS themselves.
    os.environ.pop("GITHUB_ACTIONS", None)
    text = os.environ.get("DRIFTGUARD_TODAY", "").strip()
    day = clock.parse(text) if text else date.today()
    os.environ["DRIFTGUARD_TODAY"] = day.isoformat()
    pin = clock.pinned(day)
    pin.__enter__()
    config.add_cleanup(lambda: pin.__exit__(None, None, None))


@functools.cache
def cuda_backends() -> frozenset[str]:
    """The backends that see a CUDA device here: ``torch`` and/or ``onnxruntime``."""
    found = set()
    try:
        import torch

        if torch.cuda.is_available():
            found.add("torch")
    except ImportError:
        pass
    try:
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            found.add("onnxruntime")
    except ImportError:
        pass
    return frozenset(found)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true",
                     help="also run the tests marked slow (a second or more each: model builds and parity runs, "
                          "Ray clusters, CLI children that load torch or onnx); .ci/run passes it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--slow"):
        # The developer's default run: the slow tests are deselected (the summary counts them), never skipped
        # silently; CI runs everything.
        slow = [item for item in items if item.get_closest_marker("slow") is not None]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if item.get_closest_marker("slow") is None]
    gpu = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu and not cuda_backends():
        skip = pytest.mark.skip(reason="needs CUDA (torch or onnxruntime sees no CUDA device)")
        for item in gpu:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI fits its text to ``COLUMNS`` and colours it on ``FORCE_COLOR`` (reporters.style); pytest exports
    ``COLUMNS`` to the processes tests start, so every test starts from plain output and asks for a width or
    colour explicitly."""
    for name in ("COLUMNS", "FORCE_COLOR", "NO_COLOR"):
        # Set, then delete: deleting calls unsetenv, which also clears a value set below os.environ (curses'
        # setupterm exports COLUMNS to the C environment, where child processes see it).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _no_github_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under GitHub Actions every ``driftguard check`` the tests run (subprocesses included) would append its
    markdown report to the job summary; tests that want one set the variable themselves."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    """A copy of ``examples/summarizer`` to change (a test module may define its own ``example`` instead)."""
    dst = tmp_path / "summarizer"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "summarizer", dst)
    return dst


# A plug-in kind that claims what built-in kinds claim (extractors.detect's ambiguity, init's report of it):
# the ``copycat`` fixture installs it as a real distribution on sys.path (``tmp_path/site``) and yields tmp_path.
_COPYCAT = '''\
"""A plug-in kind that claims what vLLM claims, by content, and generation_config.json by name when asked."""
import os
from pathlib import Path

from driftguard.extractors.base import KindInfo, ValueBuilder

INFO = KindInfo(kind="copycat", description="claims vLLM engine args",
                names=("generation_config.json",) if os.environ.get("COPYCAT_NAMES") else ())


def detect(path: Path, head: bytes) -> bool:
    return path.suffix == ".json" and (b"gpu_memory_utilization" in head or path.name == "generation_config.json")


def extract(path: Path, options: object) -> object:
    return ValueBuilder(INFO.kind, path).build()
'''


def _install_copycat(site: Path) -> None:
    (site / "dg_copycat.py").write_text(_COPYCAT)
    meta = site / "dg_copycat-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-copycat\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text("[driftguard.extractors]\ncopycat = dg_copycat\n")


def _forget_copycat() -> None:
    from driftguard import extractors, plugins

    plugins.clear_cache()
    extractors.clear()
    sys.modules.pop("dg_copycat", None)


@pytest.fixture
def copycat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    _install_copycat(site)
    monkeypatch.syspath_prepend(str(site))
    _forget_copycat()
    yield tmp_path
    monkeypatch.delenv("COPYCAT_NAMES", raising=False)
    _forget_copycat()
