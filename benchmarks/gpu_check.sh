#!/usr/bin/env bash
# The GPU check (issue 9): on one CUDA GPU, the parity tests marked `gpu` and the parity benchmark, in under
# 5 minutes once set up. Not run by CI (no GPU there); run by hand on a GPU machine:
#
#   bash benchmarks/gpu_check.sh
#
# Set-up, not counted in the 5 minutes: scripts/setup.sh test when .venv is missing (torch==2.13.0 from PyPI is
# its CUDA build on Linux x86-64), then onnxruntime swapped for onnxruntime-gpu when it has no CUDA execution
# provider. The tests and the benchmark then run under one 300 s limit and fail if either fails or the GPU is
# not used.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
[ -x .venv/bin/python ] || bash scripts/setup.sh test
py=.venv/bin/python
if ! $py -c 'import onnxruntime as o, sys; sys.exit("CUDAExecutionProvider" not in o.get_available_providers())'; then
  $py -m pip install -q onnxruntime-gpu
  $py -m pip uninstall -q -y onnxruntime
  $py -m pip install -q --force-reinstall --no-deps onnxruntime-gpu  # the two share one module folder
fi
$py - <<'PY'
import onnxruntime, torch
print("torch", torch.__version__, "cuda:", torch.cuda.is_available(),
      "| onnxruntime", onnxruntime.__version__, onnxruntime.get_available_providers())
assert torch.cuda.is_available() or "CUDAExecutionProvider" in onnxruntime.get_available_providers(), "no CUDA"
PY
start=$SECONDS
timeout 300 bash -c "
  $py -m pytest -q -p no:cacheprovider -m gpu -rs tests/ &&
  $py benchmarks/bench_parity.py --runs 5 --device cuda --models tiny
"
echo "gpu check: $((SECONDS - start)) s (limit 300)"
