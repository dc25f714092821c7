"""Starting hyperparameters per method and task, read from presets/hyperparams.yaml."""

from __future__ import annotations

from typing import Any

from tuiapp.core.config import FTConfig, with_changes
from tuiapp.core.presets import read_preset

# Keys in the preset that live in the training section of the config (the rest name their section).
_TRAINING_KEYS = {"learning_rate", "optimizer", "warmup_ratio", "lr_scheduler", "weight_decay", "epochs"}


def preset_changes(method: str, task: str) -> dict[str, Any]:
    """Dotted-path changes ({"training.learning_rate": 2e-4, "lora.r": 16, ...}); the task wins ties."""
    data = read_preset("hyperparams.yaml")
    changes: dict[str, Any] = {}
    for source in (data["methods"].get(method, {}), data["tasks"].get(task, {})):
        for key, value in source.items():
            if isinstance(value, dict):
                changes.update({f"{key}.{inner}": item for inner, item in value.items()})
            elif key in _TRAINING_KEYS:
                changes[f"training.{key}"] = value
            else:
                raise ValueError(f"presets/hyperparams.yaml: unknown key {key!r} under {method}/{task}")
    return changes


def apply_preset(config: FTConfig) -> FTConfig:
    """The config with the preset for its own method and task applied (validated)."""
    return with_changes(config, preset_changes(config.method, config.task))
