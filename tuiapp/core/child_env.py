"""The environment for the worker child processes (`python -m tuiapp.training...`)."""

from __future__ import annotations

import os
from pathlib import Path

import tuiapp

ALLOC_CONF_VARS = ("PYTORCH_ALLOC_CONF", "PYTORCH_CUDA_ALLOC_CONF")
"""PyTorch's allocator settings; the first wins when both are set (c10/core/AllocatorConfig.h)."""
DEFAULT_ALLOC_CONF = "expandable_segments:True"
"""One growing segment per pool instead of one per request: PyTorch's own advice against fragmentation (its
out-of-memory message says so), and what the estimate's reserved figure assumes."""
ALLOC_CONF_CAP = 200  # characters of the setting recorded in the started event


def child_env() -> dict[str, str]:
    """The parent's environment, with this checkout importable, library chatter kept off stdout, and
    PyTorch's expandable segments on unless the user chose allocator settings."""
    env = dict(os.environ)
    root = str(Path(tuiapp.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    env.setdefault("TOKENIZERS_PARALLELISM", "true")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not any(env.get(name) for name in ALLOC_CONF_VARS):  # the user's own setting stands
        env["PYTORCH_CUDA_ALLOC_CONF"] = DEFAULT_ALLOC_CONF
    return env


def allocator_conf(environ: dict[str, str] | None = None) -> str | None:
    """The allocator setting this process runs with (`name=value`, at most ALLOC_CONF_CAP characters), or
    None for PyTorch's defaults."""
    environ = dict(os.environ) if environ is None else environ
    for name in ALLOC_CONF_VARS:
        if environ.get(name):
            return f"{name}={environ[name]}"[:ALLOC_CONF_CAP]
    return None
