#!/usr/bin/env bash
# The GPU check in one command, for an NVIDIA machine with no network (about 7.5 minutes; see gpu_check.py).
# First, where pip works: scripts/gpu_wheels.sh (fills wheels/; with `unsloth`, wheels-unsloth/).
# Then on the GPU machine, from the repo root:
#   bash benchmarks/gpu_check.sh [gpu_check.py flags]      (e.g. --extra for the second set of cases)
# The wheels install into /tmp/site (nothing already installed is replaced; this checkout's tuiapp comes first); the CSV lands in
# benchmarks/results/ and, when $OUT is set, in $OUT too, with the raw rows and the whole log.
set -uo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
out="${OUT:-}"
# wheels/ in the first call; wheels-unsloth/ (with --framework unsloth) in a call right after it, while the
# machine is still warm and /tmp/site still holds the first set (the two sets together exceed one call's 64 MiB).
for folder in wheels wheels-unsloth; do
  if ls "$folder"/*.whl >/dev/null 2>&1; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
      "$folder"/*.whl || { echo "gpu_check: installing $folder/ failed" >&2; exit 2; }
  fi
done
if ! PYTHONPATH="$PWD:/tmp/site" "$python" -c "import bitsandbytes, datasets, pydantic, trl, tuiapp" 2>/dev/null; then
  echo "gpu_check: trl, bitsandbytes, datasets, pydantic or ftwizard is missing: run scripts/gpu_wheels.sh where" \
    "pip works and carry wheels/" >&2
  exit 2
fi
export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
args=("$@")
[ -n "$out" ] && args+=(--copy-to "$out")
if [ -n "$out" ]; then
  timeout 470 "$python" benchmarks/gpu_check.py "${args[@]}" 2>&1 | tee "$out/gpu_check.log"
else
  timeout 470 "$python" benchmarks/gpu_check.py "${args[@]}"
fi
status=${PIPESTATUS[0]}
[ "$status" = 124 ] && echo "gpu_check: stopped at 470 s; the CSV holds what finished" >&2
exit "$status"
