"""Benchmark: effective config of a ~2 GB Lightning-style checkpoint vs ``torch.load``.

Targets (issue 4): driftguard's extraction >= 100x faster than ``torch.load(weights_only=True)``, and its peak
RSS <= 64 MiB above ``python -c pass``. Each measurement runs in a fresh process; peak RSS comes from
``os.wait4`` for that child alone, times are measured inside the child around the operation itself (imports
excluded) and for the whole process. Medians over ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_checkpoint.py [--size-gb 2] [--repeat 5] [--path /tmp/big.ckpt] [--keep]

The checkpoint is generated (not committed): float32 tensors in a ``state_dict``, Lightning's top-level keys,
hyper_parameters and datamodule_hyper_parameters, optimizer state without moment buffers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 1024**3
MIB = 1024**2

# Peak RSS is the child's own VmHWM: wait4's ru_maxrss would include the parent's footprint carried over exec.
_HWM = """
def hwm_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

_PASS = _HWM + """
import json
print(json.dumps({"op_s": 0.0, "rss": hwm_mib()}))
"""

_TORCH_LOAD = _HWM + """
import sys, time, json, torch
t = time.perf_counter()
ckpt = torch.load(sys.argv[1], weights_only=True, map_location="cpu")
dt = time.perf_counter() - t
print(json.dumps({"op_s": dt, "keys": len(ckpt["state_dict"]), "rss": hwm_mib()}))
"""

# First call in a fresh process (pays driftguard's lazy imports of the extractor modules), then the same
# extraction on another file with those modules loaded: the like-for-like number against torch.load, whose
# time also excludes `import torch`.
_EXTRACT = _HWM + """
import sys, time, json
from driftguard import api
t = time.perf_counter()
cfg = api.extract(sys.argv[1])
first = time.perf_counter() - t
t = time.perf_counter()
cfg = api.extract(sys.argv[2])
warm = time.perf_counter() - t
assert cfg.kind == "lightning", cfg.kind
assert "torch" not in sys.modules
print(json.dumps({"op_s": warm, "first_s": first, "keys": len(cfg),
                  "max_length": cfg["preprocessing.max_length"].value, "rss": hwm_mib()}))
"""


def generate(path: Path, size_gb: float) -> None:
    import torch

    per_tensor = 4096 * 2048  # 8 Mi float32 elements = 32 MiB
    count = max(1, int(size_gb * GIB / (per_tensor * 4)))
    state = {f"model.layers.{i}.weight": torch.randn(4096, 2048) for i in range(count)}
    ckpt = {
        "epoch": 9, "global_step": 90_000, "pytorch-lightning_version": "2.4.0",
        "state_dict": state,
        "loops": {"fit_loop": {"epoch_progress": {"total": {"completed": 9}}}},
        "callbacks": {}, "lr_schedulers": [{"last_epoch": 90_000, "base_lrs": [3e-4]}],
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 3e-4, "betas": (0.9, 0.999),
                                                             "weight_decay": 0.01, "params": list(range(count))}]}],
        "hparams_name": "kwargs",
        "hyper_parameters": {"hidden_size": 2048, "num_layers": count, "num_labels": 5, "precision": "bf16-mixed",
                             "optimizer": {"name": "adamw", "lr": 3e-4}},
        "datamodule_hyper_parameters": {"max_length": 512, "batch_size": 32},
    }
    torch.save(ckpt, path)


def run_child(code: str, *args: str) -> tuple[dict[str, float], float, float]:
    """(child's JSON report, whole-process seconds, peak RSS in MiB) for one fresh process."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {code[:60]}...")
    report = json.loads(proc.stdout)
    return report, wall, float(report["rss"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--path", type=Path, help="checkpoint to use or create (default: a temporary file)")
    parser.add_argument("--keep", action="store_true", help="keep a generated checkpoint")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.size_gb)
        return

    tmp = None
    path = args.path
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "big.ckpt"
    warmup = path.with_name(path.stem + "-warmup.ckpt")
    for target, size in ((path, args.size_gb), (warmup, 0.001)):
        if not target.exists():
            t = time.perf_counter()
            # in a child, so this process never holds torch or the tensors
            subprocess.run([sys.executable, __file__, "--generate", str(target), "--size-gb", str(size)], check=True)
            print(f"generated {target} ({target.stat().st_size / GIB:.3f} GiB) in {time.perf_counter() - t:.1f} s")
    results: dict[str, list[tuple[float, float, float]]] = {"pass": [], "torch.load": [], "driftguard": []}
    firsts: list[float] = []
    for _ in range(args.repeat):
        rep, wall, rss = run_child(_PASS)
        results["pass"].append((0.0, wall, rss))
        rep, wall, rss = run_child(_TORCH_LOAD, str(path))
        results["torch.load"].append((rep["op_s"], wall, rss))
        # the first (cold) call goes to the warm-up file; the timed one to the big checkpoint
        rep, wall, rss = run_child(_EXTRACT, str(warmup), str(path))
        results["driftguard"].append((rep["op_s"], wall, rss))
        rep, _, _ = run_child(_EXTRACT, str(path), str(warmup))
        firsts.append(rep["first_s"])

    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in results.items()}
    print(f"{'':12} {'op (median)':>14} {'process':>10} {'peak RSS':>10}")
    for name, (op, wall, rss) in med.items():
        print(f"{name:12} {op * 1000:11.2f} ms {wall:8.2f} s {rss:7.1f} MiB")
    speedup = med["torch.load"][0] / med["driftguard"][0]
    over = med["driftguard"][2] - med["pass"][2]
    print(f"driftguard first call in a fresh process (lazy imports included): "
          f"{statistics.median(firsts) * 1000:.1f} ms")
    print(f"speedup (op): {speedup:.0f}x (target >= 100x); process: {med['torch.load'][1] / med['driftguard'][1]:.1f}x")
    print(f"driftguard peak RSS above `python -c pass`: {over:.1f} MiB (target <= 64 MiB)")
    if tmp is not None and not args.keep:
        tmp.cleanup()


if __name__ == "__main__":
    main()
