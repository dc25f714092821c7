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


def profile_names() -> list[str]:
    """The named profiles in presets/hyperparams.yaml, in file order ("recommended" first)."""
    return list(read_preset("hyperparams.yaml").get("profiles", {}))


def apply_profile(config: FTConfig, name: str) -> FTConfig:
    """The config with its method and task presets, then the named profile, applied (validated).

    The effective batch (micro-batch x grad_accum) is kept when the profile changes only the micro-batch.
    """
    profile = read_preset("hyperparams.yaml")["profiles"][name]
    changes = preset_changes(config.method, config.task)
    changes.update({f"{section}.{key}": value for section, values in profile.items() for key, value in values.items()})
    micro = changes.get("training.micro_batch_size")
    if micro and "training.grad_accum" not in changes:
        changes["training.grad_accum"] = max(1, config.training.effective_batch_size // micro)
    if "training.max_steps" not in changes:
        changes["training.max_steps"] = None
    return with_changes(config, changes)
