"""Run the CLI on a crafted input in a child process and record what it did: what it read, the memory it touched,
how it ended.

The hostile-input acceptance is per input: the verdict (exit 2, one ``driftguard: error:`` line naming the file),
nothing executed (a sentinel file), and the work bounded, proven by what the code did, not by how long it took,
so that a slow or loaded machine gives the same verdict as a fast idle one:

* **the named limit stopped it**: the error line says ``exceeds the NAME limit (N)``, raised by the reader's own
  count (values, opcodes, nodes, fields, bytes) when it passed the limit (:meth:`Run.assert_limit`);
* **bytes read**: the child counts the bytes handed to the readers by every file that
  :func:`driftguard.readers.files.open_regular` opened (every artifact, manifest and approval is read through
  it), per open, and the bytes inflated out of zip entries. Every file is read at most ``READ_PASSES`` times
  over, and inflation stops at ``pickle_bytes``; a test that knows more bounds more (a file refused by its size
  is not read, external data outside the model's folder is never opened);
* **operations**, where a test compares the work on inputs of two sizes: :func:`lines_executed` counts the
  lines of driftguard's own code a call runs, in-process (linear work doubles with the input, a rescan per item
  quadruples);
* **memory**: peak resident memory (``VmHWM`` of ``/proc/self/status``: the pages the child touched; unlike
  ``ru_maxrss``, which Linux keeps across ``exec``, it belongs to the child's own address space) at most
  ``RSS_LIMIT_MIB``. The child's address space is capped (``RLIMIT_AS``), so a blow-up ends in a
  ``MemoryError`` there instead of swapping the machine; BLAS/OpenMP pools are one thread, so neither figure
  grows with the machine's core count, and the hash seed is fixed, so a figure does not change between runs.

None of these depends on the machine's speed or load, nor on import caching (imports do not go through
``open_regular``). Time is never asserted: the 5 s / 500 MiB targets are figures that
``benchmarks/bench_attacks.py`` (these inputs) and ``benchmarks/fuzz.py`` (mutated ones) measure and report.
What stays is a hang guard an order of magnitude above the 5 s target: ``HANG_GUARD_CPU_S`` of CPU time (a
spinning reader, whatever the load) and ``HANG_GUARD_S`` of wall time (a child blocked on I/O spends no CPU);
a child stopped by either fails the test, saying so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import driftguard
from driftguard.readers.limits import DEFAULT

RSS_LIMIT_MIB = 500.0
#: The child's RLIMIT_AS: a safety net far above what it maps (about 650 MiB with torch, onnx and numpy loaded).
ADDRESS_SPACE_MIB = 4096
#: Each file is read at most this many times over: the stages that open one (kind detection, the extractor,
#: DG401's tensor reads) read it a few times in all (about 6 for DG401's small ONNX models, whose walk re-reads
#: the window it keeps); a re-read per item, or a read past a limit, shows as far more.
READ_PASSES = 8
#: Hang guards, not measurements (see the module docstring).
HANG_GUARD_CPU_S = 50
HANG_GUARD_S = 120.0

_TRAILER = "\n@@driftguard-bounded="
#: One BLAS/OpenMP thread, so that the address space and RSS do not grow with the core count; one hash seed, so
#: that the same input touches the same memory on every run (with random seeds, a config of 2 million
#: backslashes peaked at 164 or 209 MiB).
_CHILD_ENV = {**{name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
              "PYTHONHASHSEED": "0"}

# The child caps its CPU time and address space, counts what the readers read, runs the CLI in-process and
# reports on a last stderr line.
_CHILD = r"""
import json, os, resource, sys
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
cpu_s, as_bytes = json.loads(sys.argv[2])
_, hard = resource.getrlimit(resource.RLIMIT_CPU)
resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, hard))
_, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (as_bytes if hard == resource.RLIM_INFINITY else min(as_bytes, hard), hard))

import zipfile
from driftguard.readers import files

reads = {}  # real path -> {"size": bytes, "opens": [bytes handed to the readers, per open]}
inflated = [0]


class Counted:
    def __init__(self, fh, record):
        self._fh, self._record, self._at = fh, record, len(record["opens"])
        record["opens"].append(0)

    def _count(self, n):
        self._record["opens"][self._at] += n

    def read(self, *args):
        data = self._fh.read(*args)
        self._count(len(data))
        return data

    def read1(self, *args):
        data = self._fh.read1(*args)
        self._count(len(data))
        return data

    def readline(self, *args):
        data = self._fh.readline(*args)
        self._count(len(data))
        return data

    def readinto(self, buf):
        n = self._fh.readinto(buf)
        self._count(n or 0)
        return n

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


original = files.open_regular


def open_regular(path, what="file"):
    fh = original(path, what)
    record = reads.setdefault(os.path.realpath(path), {"size": 0, "opens": []})
    record["size"] = max(record["size"], os.fstat(fh.fileno()).st_size)
    return Counted(fh, record)


files.open_regular = open_regular  # before any reader imports it by name
zip_read = zipfile.ZipExtFile.read


def counted_zip_read(self, n=-1):
    data = zip_read(self, n)
    inflated[0] += len(data)
    return data


zipfile.ZipExtFile.read = counted_zip_read

from driftguard.cli import run

try:
    rc = run(json.loads(sys.argv[1]))
finally:
    sys.stdout.flush()
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))  # KiB
    sys.stderr.write("\n@@driftguard-bounded=" + json.dumps({"peak_rss_kib": peak, "reads": reads,
                                                              "inflated": inflated[0]}) + "\n")
    sys.stderr.flush()
sys.exit(rc)
"""


@dataclass(frozen=True)
class FileRead:
    """A file the child opened through ``open_regular`` (its real path: symlinks resolved): its size and the
    bytes the readers took, per open."""

    path: str
    size: int
    opens: tuple[int, ...]

    @property
    def read(self) -> int:
        return sum(self.opens)


@dataclass(frozen=True)
class Run:
    rc: int
    stdout: str
    stderr: str
    #: What the child reported; None when it reported nothing (it died before its last line).
    peak_rss_mib: float | None
    reads: tuple[FileRead, ...]
    inflated: int

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def bytes_read(self) -> int:
        return sum(r.read for r in self.reads)

    def read_of(self, path: str | Path) -> FileRead:
        """What the child read of ``path`` (symlinks resolved): no opens when it never opened it."""
        real = os.path.realpath(path)
        return next((r for r in self.reads if r.path == real), FileRead(real, 0, ()))

    def opened_outside(self, folder: str | Path) -> list[str]:
        """The files the child opened outside ``folder`` (symlinks resolved)."""
        inside = Path(os.path.realpath(folder))
        return [r.path for r in self.reads if not Path(r.path).is_relative_to(inside)]

    def assert_input_error(self, *needles: str) -> None:
        """Exit 2 with exactly one ``driftguard: error:`` line (no traceback) containing every needle."""
        assert self.rc == 2, f"rc {self.rc}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"
        assert len(self.error_lines) == 1, self.stderr[-3000:]
        line = self.error_lines[0]
        assert line.startswith("driftguard: error: "), line
        assert "Traceback" not in self.stderr
        for needle in needles:
            assert needle in line, f"{needle!r} not in {line!r}"

    def assert_limit(self, name: str, allowed: int | None = None) -> None:
        """The one error line says the limit ``name`` (at its default unless ``allowed``) stopped the read."""
        value = getattr(DEFAULT, name) if allowed is None else allowed
        self.assert_input_error(f"exceeds the {name} limit ({value})", f"--limit {name}=N")

    def assert_bounded(self, read_at_most: int | None = None, inflated_at_most: int = DEFAULT.pickle_bytes + 1,
                       ) -> None:
        """The work stayed within bounds (see the module docstring): peak memory, every file read at most
        ``READ_PASSES`` times over, nothing inflated past ``pickle_bytes``; ``read_at_most`` bounds the bytes
        read from all files together and ``inflated_at_most`` the bytes inflated, where a test knows more."""
        assert self.peak_rss_mib is not None, f"the child reported nothing (rc {self.rc}): {self.stderr[-2000:]}"
        assert self.peak_rss_mib <= RSS_LIMIT_MIB, f"peak RSS {self.peak_rss_mib:.0f} MiB (limit {RSS_LIMIT_MIB})"
        for r in self.reads:
            assert r.read <= READ_PASSES * r.size, f"read {r.read} bytes of {r.path} ({r.size} bytes): {r.opens}"
        if read_at_most is not None:
            assert self.bytes_read <= read_at_most, f"read {self.bytes_read} bytes (at most {read_at_most}): " \
                                                    f"{self.reads}"
        assert self.inflated <= inflated_at_most, f"inflated {self.inflated} bytes (at most {inflated_at_most})"


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def run_cli(argv: Sequence[str], cwd: str | Path | None = None, env: dict[str, str] | None = None) -> Run:
    """``driftguard ARGV`` in a child process (see the module docstring); a child that a hang guard stops fails
    the test."""
    caps = json.dumps([HANG_GUARD_CPU_S, ADDRESS_SPACE_MIB * 1024 * 1024])
    command = " ".join(argv)
    try:
        res = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(list(argv)), caps], capture_output=True,
                             text=True, timeout=HANG_GUARD_S, cwd=cwd,
                             env={**os.environ, **_CHILD_ENV, **(env or {})}, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"hang guard: `driftguard {command}` was still running after {HANG_GUARD_S:.0f} s of wall time "
                    f"and was killed\nstderr: {_text(exc.stderr)[-2000:]}")
    if res.returncode == -signal.SIGXCPU:
        pytest.fail(f"hang guard: `driftguard {command}` used {HANG_GUARD_CPU_S} s of CPU time and was killed\n"
                    f"stderr: {res.stderr[-2000:]}")
    stderr, found, tail = res.stderr.rpartition(_TRAILER)
    if not found:
        return Run(res.returncode, res.stdout, res.stderr, None, (), 0)
    report = json.loads(tail)
    reads = tuple(FileRead(path, r["size"], tuple(r["opens"])) for path, r in sorted(report["reads"].items()))
    return Run(res.returncode, res.stdout, stderr, report["peak_rss_kib"] / 1024, reads, report["inflated"])


_PACKAGE = str(Path(driftguard.__file__).parent) + os.sep


def lines_executed(call: Callable[[], object]) -> int:
    """The lines of driftguard's own code that ``call()`` runs (traced with ``sys.settrace``): a count of
    operations that depends on the input and the code, not on the machine's speed or load."""
    count = 0

    def line(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return line

    def scope(frame: FrameType, event: str, arg: Any) -> Any:
        return line if frame.f_code.co_filename.startswith(_PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(scope)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def sentinel_absent(path: Path) -> None:
    """The no-execution proof: a crafted file's payload would have created ``path``."""
    assert not path.exists(), f"{path} exists: the artifact's code ran"
