#!/usr/bin/env bash
# Build the side environments whose tools check our exports: Axolotl and LLaMA-Factory pin other
# transformers / TRL versions than ours, so each lives in its own virtual environment, never in .venv.
# They go under ${FTWIZARD_TOOL_VENVS:-~/.cache/ftwizard/tool-venvs} (outside the checkout, so a fresh clone
# and CI reuse them) and are rebuilt only when the versions below change. Usage: scripts/make-tool-venvs.sh
set -euo pipefail
root="${FTWIZARD_TOOL_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/ftwizard/tool-venvs}"
python="${PYTHON:-python3}"
torch_spec="torch==2.13.0"  # named in the same pip command, so neither tool pulls a multi-GB CUDA torch

build() {  # build NAME "PIP SPECS" [PACKAGES TO REMOVE AFTERWARDS]
  local name="$1" specs="$2" remove="${3:-}"
  local venv="$root/$name" want
  want="$(echo "$specs $remove $torch_spec" | sha256sum | cut -c1-16)"
  if [ -f "$venv/.ftwizard-built" ] && [ "$(cat "$venv/.ftwizard-built")" = "$want" ]; then
    echo "tool venv $name: up to date ($venv)"
    return
  fi
  echo "tool venv $name: building in $venv (a few minutes)…" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # shellcheck disable=SC2086  # the specs are words on purpose
  "$venv/bin/python" -m pip install --quiet "$torch_spec" $specs
  if [ -n "$remove" ]; then
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip uninstall --quiet -y $remove
  fi
  echo "$want" > "$venv/.ftwizard-built"
}

mkdir -p "$root"
build axolotl "axolotl==0.19.*"
# PyPI's torchvision is built against another torch and breaks transformers' import in that venv.
build llamafactory "llamafactory==0.9.5" "torchvision"
