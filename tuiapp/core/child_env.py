"""The environment for the worker child processes (`python -m tuiapp.training...`)."""

from __future__ import annotations

import os
from pathlib import Path

import tuiapp


def child_env() -> dict[str, str]:
    """The parent's environment, with this checkout importable and library chatter kept off stdout."""
    env = dict(os.environ)
    root = str(Path(tuiapp.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    env.setdefault("TOKENIZERS_PARALLELISM", "true")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
