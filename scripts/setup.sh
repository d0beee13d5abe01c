#!/usr/bin/env bash
# Set up driftguard in ./.venv.
#   bash scripts/setup.sh        the light, config-only install (what a CI gate needs)
#   bash scripts/setup.sh test   everything: ONNX, torch, parity, git extras and the dev tools
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
py=.venv/bin/python
$py -m pip install -q --upgrade pip
if [ "${1:-}" = "test" ]; then
  # torch first, pinned: this machine carries the 2.13.0 CPU wheel; an unpinned torch pulls a CUDA build.
  $py -m pip install -q "torch==2.13.0"
  $py -m pip install -q -e ".[all,dev]"
else
  $py -m pip install -q -e .
fi
