#!/usr/bin/env bash
# Create or update .venv with ftwizard installed (editable). Usage: scripts/setup-venv.sh [EXTRAS]
# torch goes in first and pinned: an unpinned torch would pull a multi-GB CUDA build on CPU machines.
# Set FTWIZARD_TORCH to another spec (e.g. "torch==2.13.0+cu128") to choose your own build; an
# existing torch in .venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
torch_spec="${FTWIZARD_TORCH:-torch==2.13.0}"

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.ftwizard-installed${extras:+-$extras}"
want="$(cat pyproject.toml constraints/cpu-tested.txt constraints/unsloth-cpu.txt | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "ftwizard: installing into .venv (first run takes a few minutes)…" >&2
.venv/bin/python -m pip install --quiet --upgrade pip
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet "$torch_spec"
fi
# The constraints pin the CPU-tested stack (TRL 1.16 trains on CPU; 1.15 cannot).
.venv/bin/python -m pip install --quiet -c constraints/cpu-tested.txt -e ".${extras:+[$extras]}"
# Dev and CI also get Unsloth, CPU only and without its dependencies, so it never replaces torch,
# transformers or TRL (why: constraints/unsloth-cpu.txt). GPU users: .venv/bin/pip install '.[unsloth]'.
if [[ ",$extras," == *",dev,"* ]]; then
  .venv/bin/python -m pip install --quiet --no-deps -r constraints/unsloth-cpu.txt
fi
echo "$want" > "$stamp"
