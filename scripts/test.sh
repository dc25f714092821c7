#!/usr/bin/env bash
# Install (first run only) with the dev extras and the side environments that check our exports (Axolotl,
# LLaMA-Factory: built once under ~/.cache/ftwizard/tool-venvs), lint, run the test suite (arguments go to
# pytest), then walk the wizard in tmux as a newcomer would (scripts/newcomer_walk.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh dev
scripts/make-tool-venvs.sh
export FTWIZARD_REQUIRE_TOOL_VENVS=1  # the export checks fail, not skip, when a tool's environment is missing
.venv/bin/ruff check .
.venv/bin/ruff format --check .
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
# A newcomer's walk through the real terminal (tmux, 80x24): plan, save for the GPU box, demo, attach.
.venv/bin/python scripts/newcomer_walk.py
