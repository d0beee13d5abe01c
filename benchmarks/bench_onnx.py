"""Benchmark: reading a 1 GB embedded-weights ONNX model, driftguard vs ``onnx.load``.

Headline, whole processes as a user runs them (``benchmarks/whole.py``: cold interpreters, imports included,
interleaved, peak RSS from GNU time): ``driftguard extract onnx:MODEL --format json`` against
``python -c "import onnx; onnx.load(MODEL, load_external_data=False)"`` (the baseline), with ``python -c pass``
as the floor. Secondary, in-process: each reader timed around the read alone, after its imports, in its own
fresh interpreter (``onnx.load`` after ``import onnx``; ``extract`` after importing driftguard's extractor).
Every figure is a paired ratio to ``onnx.load`` measured in the same run.

Target (issue 24): the CLI <= 0.1x ``onnx.load``'s whole process, peak RSS <= 100 MiB.

    .venv/bin/python benchmarks/bench_onnx.py [--size-mb 1024] [--runs 5] [--model PATH] [--quick]

``--quick``: a 256 MiB model and 3 runs (about a minute). The model is generated once (not committed; reused
when present with the right size) under /tmp. The page cache is warm for every contender (the file is read
once before timing). Run by hand; CI never asserts times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from whole import Contender, cli, paired, python, report  # benchmarks/, this script's folder

#: The read alone, in a fresh interpreter, after the reader's imports: seconds and the child's VmHWM.
IN_PROCESS = r"""
import json, sys, time
from pathlib import Path
path, how = sys.argv[1], sys.argv[2]
if how == "onnx.load":
    import onnx
    t0 = time.perf_counter()
    onnx.load(path, load_external_data=False)
else:
    from driftguard.extractors import onnx as onnx_extractor
    from driftguard.extractors.base import ExtractOptions
    t0 = time.perf_counter()
    onnx_extractor.extract(Path(path), ExtractOptions())
elapsed = time.perf_counter() - t0
hwm = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "peak_rss_mib": hwm / 1024}))
"""


def generate(path: Path, size_mb: int) -> None:
    """A transformer-like stack of MatMul layers whose float32 weights (embedded raw_data) total size_mb."""
    import numpy as np
    from onnx import TensorProto, helper

    width = 2048
    per_layer = width * width * 4
    layers = max(1, size_mb * 1024 * 1024 // per_layer)
    nodes, inits = [], []
    rng = np.random.default_rng(0)
    block = rng.standard_normal((width, width), dtype=np.float32).tobytes()
    for i in range(layers):
        inits.append(helper.make_tensor(f"layer{i}.weight", TensorProto.FLOAT, [width, width], block, raw=True))
        nodes.append(helper.make_node("MatMul", [f"h{i}", f"layer{i}.weight"], [f"h{i + 1}"]))
    graph = helper.make_graph(nodes, "bench", [helper.make_tensor_value_info("h0", TensorProto.FLOAT,
                                                                             ["batch", width])],
                              [helper.make_tensor_value_info(f"h{layers}", TensorProto.FLOAT, ["batch", width])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench")
    path.write_bytes(model.SerializeToString())


def in_process(path: Path, how: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(path), how], capture_output=True, text=True,
                         check=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=None, help="model size (default 1024; 256 with --quick)")
    ap.add_argument("--runs", type=int, default=None, help="paired runs (default 5; 3 with --quick)")
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    size_mb = args.size_mb or (256 if args.quick else 1024)
    runs = args.runs or (3 if args.quick else 5)
    model = args.model or Path(f"/tmp/driftguard-bench-{size_mb}m.onnx")
    if not model.is_file() or abs(model.stat().st_size - size_mb * 2**20) > 2**20:
        print(f"generating {model} ({size_mb} MiB)...", flush=True)
        generate(model, size_mb)
    with model.open("rb") as fh:  # warm the page cache for every contender
        while fh.read(1 << 24):
            pass
    print(f"model: {model} ({model.stat().st_size / 2**20:.0f} MiB)")
    contenders = {
        "python -c pass": Contender(python("pass")),
        "driftguard extract (CLI)": Contender(cli("extract", f"onnx:{model}", "--format", "json")),
        "onnx.load (python -c)": Contender(python(f"import onnx; onnx.load({str(model)!r}, "
                                                  "load_external_data=False)")),
    }
    paired(contenders, runs)
    ratios = report(contenders, "onnx.load (python -c)", "whole process")
    ours = contenders["driftguard extract (CLI)"]
    print(f"target: CLI <= 0.1x onnx.load ({'met' if ratios['driftguard extract (CLI)'] <= 0.1 else 'NOT met'}), "
          f"peak RSS <= 100 MiB ({'met' if statistics.median(ours.peak_mib or [0]) <= 100 else 'NOT met'})")
    rows: dict[str, list[dict[str, float]]] = {"onnx.load": [], "driftguard": []}
    for _ in range(runs):  # interleaved
        for how in rows:
            rows[how].append(in_process(model, how))
    print(f"in process (the read alone, after imports): {runs} paired runs, medians (min-max); baseline: onnx.load")
    for how, samples in rows.items():
        secs = [r["seconds"] * 1000 for r in samples]
        rss = [r["peak_rss_mib"] for r in samples]
        line = (f"  {how:10s}  {statistics.median(secs):.1f} ms ({min(secs):.1f}-{max(secs):.1f})   peak RSS "
                f"{statistics.median(rss):.1f} MiB ({min(rss):.1f}-{max(rss):.1f})")
        if how != "onnx.load":
            ratio = [a["seconds"] / b["seconds"] for a, b in zip(samples, rows["onnx.load"], strict=True)]
            line += f"   {statistics.median(ratio):.4f}x baseline ({min(ratio):.4f}x-{max(ratio):.4f}x, paired)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
