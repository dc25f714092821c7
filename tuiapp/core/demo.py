"""The CPU demo: a tiny model built on this machine and a bundled dataset, trained in well under a minute.

It shows the whole flow (detached worker, live dashboard, checkpoints, the adapter at the end) to someone
without a GPU. Building the model imports torch, so it happens in a child process
(`python -m tuiapp.training.demo_model`); this module only knows where things go and the config.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tuiapp.core.child_env import child_env
from tuiapp.core.config import FTConfig, validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.user_error import UserError

DEMO_DATASET = "messages.jsonl"


def demo_model_dir() -> Path:
    """Where the demo model lives: $XDG_DATA_HOME/ftwizard/demo-model (built once, reused)."""
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "ftwizard" / "demo-model"


def ensure_demo_model(folder: Path | None = None) -> Path:
    """Build the demo model in a child process unless it is already there; return its folder."""
    folder = folder or demo_model_dir()
    if (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file():
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
