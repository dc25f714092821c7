#!/usr/bin/env bash
# Install (first run only) and open the wizard. Arguments go to ftwizard, e.g. --gpu "RTX 4090".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
exec .venv/bin/ftwizard "$@"
