"""Benchmark: effective config of a ~2 GB Lightning-style checkpoint vs ``torch.load``.

Headline: whole processes. Each run is a fresh ``python -c`` interpreter, timed by this process from spawn to
exit (start-up, imports, the load, output), interleaved so that machine noise hits every contender alike; peak
RSS is the child's own VmHWM. The contenders are ``driftguard extract CKPT`` (the CLI, JSON to a pipe) and
``torch.load(CKPT, mmap=True, weights_only=True)``, the fastest way torch offers to open a checkpoint (tensors
mapped, not read). ``torch.load`` without mmap is shown too. Medians over ``--repeat`` runs.

Secondary, in-process (imports excluded, as before): driftguard's warm second ``api.extract`` call and its first
call in a fresh process, against ``torch.load`` with and without mmap timed around the call alone.

Targets (issue 4): driftguard's extraction >= 100x faster than ``torch.load(weights_only=True)`` in-process,
and its peak RSS <= 64 MiB above ``python -c pass``.

    .venv/bin/python benchmarks/bench_checkpoint.py [--size-gb 2] [--repeat 5] [--path /tmp/big.ckpt] [--keep]

The checkpoint is generated (not committed): float32 tensors in a ``state_dict``, Lightning's top-level keys,
hyper_parameters and datamodule_hyper_parameters, optimizer state without moment buffers. The page cache is
warmed before timing, so every contender reads the file from memory.
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
ckpt = torch.load(sys.argv[1], weights_only=True, map_location="cpu", mmap=sys.argv[2] == "mmap")
dt = time.perf_counter() - t
print(json.dumps({"op_s": dt, "keys": len(ckpt["state_dict"]),
                  "max_length": ckpt["datamodule_hyper_parameters"]["max_length"], "rss": hwm_mib()}))
"""

# The CLI as a user runs it (``driftguard extract CKPT``), in this interpreter; the peak RSS goes to stderr so
# that stdout is exactly what the CLI printed.
_CLI = _HWM + """
import sys, json, os
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as driftguard.cli.main does
from driftguard import cli
rc = cli.run(["extract", "--format", "json", sys.argv[1]])
sys.stdout.flush()
print(json.dumps({"rc": rc, "rss": hwm_mib()}), file=sys.stderr)
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


def run_process(code: str, *args: str) -> tuple[float, float, str]:
    """(whole-process seconds, peak RSS in MiB, stdout) for one fresh interpreter running ``code``; the child
    reports its peak RSS as the last line of stderr (CLI) or of stdout (the torch.load one-liners)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    err_lines = proc.stderr.strip().splitlines()
    last = err_lines[-1] if err_lines and err_lines[-1].startswith("{") else proc.stdout.strip().splitlines()[-1]
    report = json.loads(last)
    if report.get("rc", 0) != 0:
        raise SystemExit(f"driftguard extract exited {report['rc']}: {proc.stderr.strip()[-500:]}")
    return wall, float(report["rss"]), proc.stdout


def whole_process(path: Path, repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Interleaved fresh-process runs of every contender: {name: [(seconds, peak RSS MiB)]}."""
    contenders: dict[str, tuple[str, tuple[str, ...]]] = {
        "python -c pass": (_PASS, ()),
        "driftguard extract": (_CLI, (str(path),)),
        "torch.load mmap": (_TORCH_LOAD, (str(path), "mmap")),
        "torch.load": (_TORCH_LOAD, (str(path), "read")),
    }
    # One untimed round: .pyc files written, the checkpoint in the page cache, torch's shared libraries mapped.
    for code, args in contenders.values():
        run_process(code, *args)
    _, _, out = run_process(_CLI, str(path))
    assert '"kind": "lightning"' in out and '"preprocessing.max_length"' in out, out[:300]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, (code, args) in contenders.items():
            wall, rss, _ = run_process(code, *args)
            runs[name].append((wall, rss))
    return runs


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
    runs = whole_process(path, args.repeat)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
    dg_wall, dg_rss = med["driftguard extract"]
    print(f"\nWhole process, fresh interpreters, interleaved, median of {args.repeat} "
          f"({path.stat().st_size / GIB:.2f} GiB checkpoint, page cache warm):")
    print(f"{'':22} {'wall (median)':>14} {'min':>9} {'max':>9} {'peak RSS':>10} {'vs driftguard':>14}")
    for name, (wall, rss) in med.items():
        walls = [w for w, _ in runs[name]]
        print(f"{name:22} {wall * 1000:11.1f} ms {min(walls) * 1000:6.1f} ms {max(walls) * 1000:6.1f} ms "
              f"{rss:7.1f} MiB {wall / dg_wall:12.2f}x")
    mm_wall, mm_rss = med["torch.load mmap"]
    print(f"headline: driftguard extract {dg_wall * 1000:.0f} ms / {dg_rss:.0f} MiB vs torch.load(mmap=True, "
          f"weights_only=True) {mm_wall * 1000:.0f} ms / {mm_rss:.0f} MiB: {mm_wall / dg_wall:.2f}x the time, "
          f"{mm_rss / dg_rss:.2f}x the memory")

    # Secondary: the operation alone, inside the process (imports excluded).
    results: dict[str, list[tuple[float, float, float]]] = {"pass": [], "torch.load": [], "torch.load mmap": [],
                                                             "driftguard": []}
    firsts: list[float] = []
    for _ in range(args.repeat):
        rep, wall, rss = run_child(_PASS)
        results["pass"].append((0.0, wall, rss))
        rep, wall, rss = run_child(_TORCH_LOAD, str(path), "read")
        results["torch.load"].append((rep["op_s"], wall, rss))
        rep, wall, rss = run_child(_TORCH_LOAD, str(path), "mmap")
        results["torch.load mmap"].append((rep["op_s"], wall, rss))
        # the first (cold) call goes to the warm-up file; the timed one to the big checkpoint
        rep, wall, rss = run_child(_EXTRACT, str(warmup), str(path))
        results["driftguard"].append((rep["op_s"], wall, rss))
        rep, _, _ = run_child(_EXTRACT, str(path), str(warmup))
        firsts.append(rep["first_s"])

    imed = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in results.items()}
    print("\nSecondary, in-process: the call alone (imports excluded); driftguard = its warm second call")
    print(f"{'':16} {'op (median)':>14} {'process':>10} {'peak RSS':>10}")
    for name, (op, wall, rss) in imed.items():
        print(f"{name:16} {op * 1000:11.2f} ms {wall:8.2f} s {rss:7.1f} MiB")
    first = statistics.median(firsts)
    print(f"driftguard first call in a fresh process (lazy imports included): {first * 1000:.1f} ms")
    print(f"speedup (op, warm call vs torch.load): {imed['torch.load'][0] / imed['driftguard'][0]:.0f}x "
          f"(target >= 100x); vs torch.load mmap: {imed['torch.load mmap'][0] / imed['driftguard'][0]:.1f}x; "
          f"first call vs torch.load mmap: {imed['torch.load mmap'][0] / first:.2f}x")
    over = imed["driftguard"][2] - imed["pass"][2]
    print(f"driftguard peak RSS above `python -c pass`: {over:.1f} MiB (target <= 64 MiB)")
    if tmp is not None and not args.keep:
        tmp.cleanup()


if __name__ == "__main__":
    main()
