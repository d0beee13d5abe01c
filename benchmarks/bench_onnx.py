"""Benchmark: reading a 1 GB embedded-weights ONNX model, driftguard's extractor vs ``onnx.load``.

Target (issue 4): driftguard <= 0.1x ``onnx.load``'s time, peak RSS <= 100 MiB.

    python benchmarks/bench_onnx.py [--size-mb 1024] [--runs 5] [--model /tmp/driftguard-bench-1g.onnx]

Generates the model once (not committed; reused when present with the right size), then runs each reader
``--runs`` times, each in a fresh interpreter so peak RSS (``VmHWM``) is its own, and prints medians.
The page cache is warm for both (the file is read once before timing). Run by hand; CI never asserts times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path

def hwm_mib():
    # VmHWM is this process's own peak RSS (ru_maxrss can carry the parent's high-water mark across fork+exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

path, how = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
import onnx
t_import = time.perf_counter() - t0
rss_import = hwm_mib()
t0 = time.perf_counter()
if how == "onnx.load":
    m = onnx.load(path, load_external_data=False)
    n = len(m.graph.initializer)
elif how == "driftguard":
    from driftguard.extractors import onnx as onnx_extractor
    from driftguard.extractors.base import ExtractOptions
    cfg = onnx_extractor.extract(Path(path), ExtractOptions())
    n = cfg["model.weights.count"].value
else:
    n = 0
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "import_seconds": t_import, "initializers": n,
                  "peak_rss_mib": hwm_mib(), "import_rss_mib": rss_import}))
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


def measure(path: Path, how: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), how], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", type=Path, default=Path("/tmp/driftguard-bench-1g.onnx"))
    args = ap.parse_args()
    if not args.model.is_file() or abs(args.model.stat().st_size - args.size_mb * 2**20) > 2**20:
        print(f"generating {args.model} ({args.size_mb} MiB)...", flush=True)
        generate(args.model, args.size_mb)
    with args.model.open("rb") as fh:  # warm the page cache for both readers
        while fh.read(1 << 24):
            pass
    print(f"model: {args.model} ({args.model.stat().st_size / 2**20:.0f} MiB), {args.runs} runs each, medians")
    rows = {}
    for how in ("import only", "onnx.load", "driftguard"):
        runs = [measure(args.model, how) for _ in range(args.runs)]
        rows[how] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        r = rows[how]
        print(f"  {how:12s} read {r['seconds'] * 1000:9.1f} ms   peak RSS {r['peak_rss_mib']:7.1f} MiB   "
              f"(import onnx {r['import_seconds'] * 1000:.0f} ms, {r['import_rss_mib']:.0f} MiB)")
    ratio = rows["driftguard"]["seconds"] / rows["onnx.load"]["seconds"]
    print(f"driftguard / onnx.load time: {ratio:.4f}x (target <= 0.1x); "
          f"driftguard peak RSS {rows['driftguard']['peak_rss_mib']:.1f} MiB (target <= 100 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
