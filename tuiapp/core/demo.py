"""The CPU demo: a tiny model built on this machine and a bundled dataset, trained in well under a minute.

It shows the whole flow (detached worker, live dashboard, checkpoints, the adapter at the end) to someone
without a GPU. Building the model imports torch, so it happens in a child process
(`python -m tuiapp.training.demo_model`); this module only knows where things go and the config.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tuiapp.core.child_env import child_env
from tuiapp.core.config import FTConfig, validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.user_error import UserError

DEMO_DATASET = "messages.jsonl"
# The demo model's build, written beside it by tuiapp.training.demo_model. 2: a SentencePiece tokenizer
# (llama.cpp's GGUF converter reads it; it rejects version 1's byte-level BPE), so a version-1 folder is rebuilt.
DEMO_MODEL_VERSION = 2
DEMO_MODEL_MARKER = "ftwizard-demo-model.json"


def demo_model_dir() -> Path:
    """Where the demo model lives: $XDG_DATA_HOME/ftwizard/demo-model (built once, reused)."""
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "ftwizard" / "demo-model"


def demo_model_is_current(folder: Path) -> bool:
    """True when `folder` holds a complete demo model of this version (an older build is rebuilt)."""
    try:
        marker = json.loads((folder / DEMO_MODEL_MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    current = isinstance(marker, dict) and marker.get("version") == DEMO_MODEL_VERSION
    return current and (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()


def ensure_demo_model(folder: Path | None = None) -> Path:
    """Build the demo model in a child process unless this version of it is already there; return its folder."""
    folder = folder or demo_model_dir()
    if demo_model_is_current(folder):
        return folder
    command = [sys.executable, "-m", "tuiapp.training.demo_model", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(), check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"could not build the demo model in {folder}: {last}")
    return folder


def demo_config(model_dir: Path) -> FTConfig:
    """LoRA on the tiny model over the bundled chat examples: ~40 steps, eval every 10, checkpoints every 10."""
    return validate_config(
        {
            "model": {"name_or_path": str(model_dir)},
            "task": "sft",
            "method": "lora",
            "lora": {"r": 16, "alpha": 32, "dropout": 0.0},
            "dataset": {"source": str(sample_path(DEMO_DATASET)), "format": "messages", "eval_size": 0.1},
            "training": {
                "max_steps": 40,
                "learning_rate": 3e-3,
                "lr_scheduler": "cosine",
                "warmup_ratio": 0.05,
                "micro_batch_size": 4,
                "grad_accum": 1,
                "max_length": 256,
                "gradient_checkpointing": False,
                "precision": "fp32",
                "logging_steps": 1,
                "eval_steps": 10,
                "save_steps": 10,
            },
        }
    )
