#!/usr/bin/env bash
# Download the wheels the GPU check carries to a GPU machine without network (Python 3.12, x86-64) and build
# ours: wheels/ (bitsandbytes, trl, datasets, dill, multiprocess, pydantic, pydantic_core, ... + ftwizard),
# or with `unsloth` wheels-unsloth/ for the second run. Both folders are ignored by git; each stays under what
# one device call carries (64 MiB with the checkout). The list and the checks: benchmarks/gpucheck/wheels.py.
# Usage: scripts/gpu_wheels.sh [base|unsloth]
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
exec "$python" benchmarks/gpucheck/wheels.py download --set "${1:-base}"
