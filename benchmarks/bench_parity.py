"""Benchmark: whole-process ``driftguard parity`` (FP32 vs INT8 ONNX, 64 golden inputs) against Polygraphy's
two-run flow on the same models and data, interleaved in the same run.

    .venv/bin/python benchmarks/bench_parity.py [--runs 11]

The models and inputs are the text-classifier example's (``examples/text-classifier/build.py --out``, into a
temporary folder): ``model.onnx`` (FP32), ``model-int8.onnx`` (``quantize_dynamic``) and ``golden.npz`` (64
inputs, ``input_ids`` and ``attention_mask``, 128 wide). ``--device cuda`` puts both tools on ONNX Runtime's
CUDA execution provider (``--device cuda``, ``--providers cuda``); the default is the CPU. Every timed command
is a fresh process (``sys.executable``), start-up and imports included, run the way a user would:

* **fresh**: ``driftguard parity --no-attribution`` (reference and candidate both run, onnxruntime) vs
  ``polygraphy run model.onnx --onnxrt --save-outputs ref.json`` then ``polygraphy run model-int8.onnx --onnxrt
  --load-outputs ref.json`` (two processes, summed), with a ``--data-loader-script`` that reads the same
  ``golden.npz`` in driftguard's batches of 32;
* **recorded**: after ``driftguard golden record`` (once, not timed), ``driftguard parity`` reuses the recording
  and runs only the candidate, vs Polygraphy's second run alone (``--load-outputs`` of the saved reference).

``--no-attribution``: Polygraphy only compares, so neither side reruns anything to explain a failure (the INT8
build's one flipped argmax fails the int8 profile's agreement bound; attribution would add 2 runs). Exit 1 (a
failed comparison) is expected from both tools; any other non-zero exit is an error. Target (issue 9): the
median driftguard time ≤ 0.5× the median Polygraphy time, in both cases. Prints medians and the ratios.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLYGRAPHY = [str(Path(sys.executable).with_name("polygraphy"))]  # its console script (no __main__)
DRIFTGUARD = [sys.executable, "-m", "driftguard"]

LOADER = '''\
"""Polygraphy data loader: the golden inputs driftguard reads, in its batches of 32."""
from pathlib import Path

import numpy as np


def load_data():
    with np.load(Path(__file__).with_name("golden.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    count = len(next(iter(arrays.values())))
    for start in range(0, count, 32):
        yield {k: v[start:start + 32] for k, v in arrays.items()}
'''

MANIFEST = """\
version: 1
models:
  text-classifier:
    training:
      - path: model.onnx
    deployment:
      - path: model-int8.onnx
    parity:
      golden: golden.npz
      reference: {runner: onnxruntime, artifact: model.onnx}
      candidate: {runner: onnxruntime, artifact: model-int8.onnx}
"""


def timed(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-2000:]}")
    return elapsed


def prepare(work: Path, device: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "examples" / "text-classifier" / "build.py"), "--out", str(work)],
                   check=True, capture_output=True)
    (work / "loader.py").write_text(LOADER, encoding="utf-8")
    (work / "driftguard.yaml").write_text(MANIFEST, encoding="utf-8")
    # The recorded case reads a copy of the golden set, so its recording never shadows the fresh case.
    shutil.copy(work / "golden.npz", work / "golden-recorded.npz")
    timed([*DRIFTGUARD, "golden", "record", "--golden", "golden-recorded.npz", "--device", device], work, (0,))


def commands(device: str) -> dict[str, list[list[str]]]:
    """The four flows; ``device`` ``cpu`` or ``cuda`` puts both tools on the same execution provider."""
    poly = [*POLYGRAPHY, "run", "--onnxrt", "--providers", device, "--data-loader-script", "loader.py"]
    ours = ["--device", device]
    return {
        "driftguard parity (fresh)": [[*DRIFTGUARD, "parity", "--no-attribution", *ours]],
        "polygraphy save + compare": [[*poly[:3], "model.onnx", *poly[3:], "--save-outputs", "ref.json"],
                                      [*poly[:3], "model-int8.onnx", *poly[3:], "--load-outputs", "ref.json"]],
        "driftguard parity (recorded)": [[*DRIFTGUARD, "parity", "--no-attribution", *ours,
                                          "--golden", "golden-recorded.npz"]],
        "polygraphy compare (saved)": [[*poly[:3], "model-int8.onnx", *poly[3:], "--load-outputs", "ref.json"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="execution provider for both tools (benchmarks/gpu_check.sh passes cuda)")
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "driftguard"), quiet=1)  # an installed package has its .pyc files
    work = Path(tempfile.mkdtemp(prefix="bench-parity-"))
    try:
        prepare(work, args.device)
        flows = commands(args.device)
        for steps in flows.values():  # warm the OS file cache and .pyc files for every tool
            for cmd in steps:
                timed(cmd, work)
        times: dict[str, list[float]] = {name: [] for name in flows}
        for _ in range(args.runs):  # interleaved, so machine noise hits every flow alike
            for name, steps in flows.items():
                times[name].append(sum(timed(cmd, work) for cmd in steps))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"FP32 vs INT8 ONNX (text-classifier), 64 golden inputs, whole process, {args.device}, n={args.runs}")
    for name, ts in times.items():
        print(f"  {name:<30} median {med[name] * 1000:7.1f} ms  (min {min(ts) * 1000:.1f}, max {max(ts) * 1000:.1f})")
    for ours, theirs in (("driftguard parity (fresh)", "polygraphy save + compare"),
                         ("driftguard parity (recorded)", "polygraphy compare (saved)")):
        ratio = med[ours] / med[theirs]
        print(textwrap.shorten(f"ratio {ours} / {theirs}: {ratio:.3f} (target <= 0.5: "
                               f"{'met' if ratio <= 0.5 else 'NOT met'})", 200))


if __name__ == "__main__":
    main()
