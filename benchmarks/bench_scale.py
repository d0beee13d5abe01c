"""Benchmark: whole-process, config-only ``driftguard check`` of generated repositories of many models.

    .venv/bin/python benchmarks/bench_scale.py [--models 500 5000] [--shards 10] [--runs 3] [--keep]
                                               [--baseline DIR] [--quick]

Every figure is a whole process (``benchmarks/whole.py``: ``driftguard check`` in a cold interpreter, imports
included, peak RSS from the child), interleaved with ``python -c "import torch"``, the named baseline each check
is a paired ratio to, run for run. ``--quick``: 500 models, 3 runs, no shards (a minute or two).

``--baseline DIR``: a checkout of another revision (``git worktree add /tmp/base REV``), timed in the same
run on the same repositories (its ``driftguard`` imported from DIR), each figure then shown as a ratio. This
checkout's own ``driftguard`` is imported from this checkout (``PYTHONPATH``), whatever is installed.

Each model has seven artifacts: training config.json, tokenizer_config.json and generation_config.json; on the
deployment side a Triton config.pbtxt (vllm backend), the vllm_backend's model.json (engine args), a serving
request (vLLM sampling parameters) and the model folder (hf-model, the same three files the training side
reads). Every tenth model's request drifts (top_p), every twentieth has an approval. Targets (issue 10, on a
2-core machine): 500 models <= 2 s, 5,000 <= 15 s, growth linear; each of ``--shard 1/10 .. 10/10`` on 5,000
models <= 2.5 s. Repositories are written under benchmarks/_data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml
from whole import Contender, cli, paired, python, report  # benchmarks/, this script's folder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"

CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
          "max_position_embeddings": 4096, "vocab_size": 32000, "eos_token_id": 2, "bos_token_id": 1}
TOKENIZER = {"model_max_length": 1024, "truncation_side": "left", "padding_side": "left", "eos_token": "</s>"}
GENERATION = {"do_sample": True, "temperature": 0.7, "top_p": 0.92, "top_k": 40, "max_new_tokens": 256,
              "eos_token_id": 2, "bos_token_id": 1}
PBTXT = 'name: "{name}"\nbackend: "vllm"\nmax_batch_size: 0\nmodel_transaction_policy {{ decoupled: true }}\n' \
        'instance_group [ {{ count: 1, kind: KIND_MODEL }} ]\n'
APPROVAL = ("id: {name}-top-p\nmodel: {name}\nkey: generation.top_p\ntraining: 0.92\ndeployed: 0.85\n"
            "reason: benchmark\napproved_by: bench\napproved_on: 2026-11-01\nexpires: 2027-10-01\n")


def generate(count: int) -> Path:
    """A repository of ``count`` models (reused when it exists)."""
    repo = DATA / f"scale-{count}"
    if (repo / "driftguard.yaml").is_file():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "approvals").mkdir(parents=True)
    models = {}
    for i in range(count):
        name = f"model-{i:05d}"
        base = repo / "models" / name
        (base / "hf").mkdir(parents=True)
        (base / "triton" / "1").mkdir(parents=True)
        (base / "hf" / "config.json").write_text(json.dumps(CONFIG, indent=2))
        (base / "hf" / "tokenizer_config.json").write_text(json.dumps(TOKENIZER, indent=2))
        (base / "hf" / "generation_config.json").write_text(json.dumps(GENERATION, indent=2))
        (base / "triton" / "config.pbtxt").write_text(PBTXT.format(name=name))
        (base / "triton" / "1" / "model.json").write_text(json.dumps(
            {"model": "hf", "disable_log_requests": True, "gpu_memory_utilization": 0.9, "max_model_len": 4096}))
        drift = i % 10 == 0
        request = {"temperature": 0.7, "top_p": 0.85 if drift else 0.92, "top_k": 40, "max_tokens": 256,
                   "truncate_prompt_tokens": 1024}
        (base / "request.json").write_text(json.dumps(request, indent=2))
        if drift and i % 20 == 0:
            (repo / "approvals" / f"{name}-top-p.yaml").write_text(APPROVAL.format(name=name))
        models[name] = {
            "training": [{"path": f"models/{name}/hf/{f}"} for f in
                         ("config.json", "tokenizer_config.json", "generation_config.json")],
            "deployment": [{"path": f"models/{name}/triton/config.pbtxt"},
                           {"path": f"models/{name}/triton/1/model.json"},
                           {"path": f"models/{name}/request.json", "kind": "vllm"},
                           {"path": f"models/{name}/hf", "kind": "hf-model"}],
        }
    (repo / "driftguard.yaml").write_text(yaml.safe_dump({"version": 1, "models": models}, sort_keys=False))
    return repo


def timed(repo: Path, *extra: str, source: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "driftguard", "check", "--today", "2026-12-01", "--format", "json", *extra]
    env = {**os.environ, "PYTHONPATH": str(source)} if source is not None else None
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 1:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return elapsed


def check_cmd(*extra: str) -> list[str]:
    return cli("check", "--today", "2026-12-01", "--format", "json", *extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=None, help="default 500 5000; 500 with --quick")
    parser.add_argument("--shards", type=int, default=None, help="time each of --shard 1/N..N/N on the largest "
                        "(default 10; 0 with --quick)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    parser.add_argument("--baseline", type=Path, help="a checkout of another revision, timed alongside")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    args.models = args.models or ([500] if args.quick else [500, 5000])
    args.shards = args.shards if args.shards is not None else (0 if args.quick else 10)
    # PYTHONPATH names each checkout: from the data folder, python -m driftguard would otherwise import the
    # installed package (an editable install of another worktree), not this checkout's
    sources: list[tuple[str, Path | None]] = [("this", ROOT)]
    if args.baseline is not None:
        sources.append(("baseline", args.baseline.resolve()))
    results: dict[tuple[str, int], float] = {}
    for count in args.models:
        repo = generate(count)
        contenders = {f"check ({label})": Contender(check_cmd(), ok=(1,),
                                                    env={"PYTHONPATH": str(source)} if source else None)
                      for label, source in sources}
        contenders["python -c 'import torch'"] = Contender(python("import torch"))
        paired(contenders, args.runs, cwd=repo)
        report(contenders, "python -c 'import torch'", f"{count} models")
        for label, _ in sources:
            runs = contenders[f"check ({label})"].seconds
            results[(label, count)] = statistics.median(runs)
            print(f"  {label:8s} {count:6d} models: {results[(label, count)] / count * 1000:.2f} ms/model")
        if args.baseline is not None:
            print(f"         {count:6d} models: this / baseline = "
                  f"{results[('this', count)] / results[('baseline', count)]:.2f}")
    if len(args.models) > 1:
        a, b = min(args.models), max(args.models)
        print(f"growth {a} -> {b} models: x{results[('this', b)] / results[('this', a)]:.1f} for x{b / a:.0f} models")
    if args.shards:
        repo = generate(max(args.models))
        for label, source in sources:
            shard_times = [timed(repo, "--shard", f"{i}/{args.shards}", source=source)
                           for i in range(1, args.shards + 1)]
            results[(label, -1)] = statistics.median(shard_times)
            print(f"{label:8s} --shard i/{args.shards} on {max(args.models)} models: max {max(shard_times):.2f} s, "
                  f"median {statistics.median(shard_times):.2f} s")
        if args.baseline is not None:
            ratio = results[("this", -1)] / results[("baseline", -1)]
            print(f"         --shard: this / baseline (medians) = {ratio:.2f}")
    if not args.keep:
        shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
