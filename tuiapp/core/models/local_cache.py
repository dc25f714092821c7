"""Models already in the local Hugging Face cache, found by listing its folders (no huggingface_hub import).

The hub cache keeps each repo in `models--{owner}--{name}/snapshots/{revision}/`, with `refs/main` naming
the revision a plain download fetched. A model is listed when that snapshot holds a config.json: it is what
resolving the id offline reads (huggingface_hub's try_to_load_from_cache), so every listed id resolves.
"""

from __future__ import annotations

import os
from pathlib import Path

MODEL_PREFIX = "models--"


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads, read from the environment as huggingface_hub reads it:
    HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return _expanded(os.environ[name])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return _expanded(home) / "hub"


def _expanded(path: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(path)))


def _has_config(repo_folder: Path) -> bool:
    """Whether the snapshot refs/main names holds a config.json (the ref read as huggingface_hub reads it)."""
    try:
        revision = (repo_folder / "refs" / "main").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return bool(revision) and (repo_folder / "snapshots" / revision / "config.json").is_file()


def cached_model_ids(cache_dir: Path | None = None) -> tuple[str, ...]:
    """Repo ids (owner/name) of cached models with a config.json, sorted case-insensitively; () when the
    cache is missing or unreadable."""
    root = cache_dir or hub_cache_dir()
    try:
        folders = [entry for entry in root.iterdir() if entry.name.startswith(MODEL_PREFIX) and entry.is_dir()]
    except OSError:
        return ()
    ids = [folder.name[len(MODEL_PREFIX) :].replace("--", "/") for folder in folders if _has_config(folder)]
    return tuple(sorted(ids, key=str.lower))
