"""Starting hyperparameters per method and task, read from presets/hyperparams.yaml."""

from __future__ import annotations

import math
from typing import Any

from tuiapp.core.config import FTConfig, with_changes
from tuiapp.core.presets import read_preset
from tuiapp.core.user_error import UserError

# Keys in the preset that live in the training section of the config (the rest name their section).
_TRAINING_KEYS = {"learning_rate", "optimizer", "warmup_ratio", "lr_scheduler", "weight_decay", "epochs"}
# Keys of a profile that are not config sections.
PROFILE_META_KEYS = {"description", "passes_at_most"}


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


def _profile(name: str) -> dict[str, Any]:
    profiles = read_preset("hyperparams.yaml").get("profiles", {})
    if name not in profiles:
        raise UserError(f"no preset named {name!r}: choose one of {', '.join(profiles)}")
    return profiles[name]


def profile_description(name: str) -> str:
    """The one line saying what the profile changes (shown when it is picked)."""
    return str(_profile(name)["description"])


def apply_profile(config: FTConfig, name: str, train_rows: int | None = None) -> FTConfig:
    """The config with its method and task presets, then the named profile, applied (validated).

    The effective batch (micro-batch x grad_accum) is kept when the profile changes only the micro-batch.
    With `train_rows` known, a profile's `passes_at_most` lowers its max_steps to that many passes over the
    data (and the checkpoint and eval intervals with it), so a quick check never loops over a small set.
    """
    profile = _profile(name)
    changes = preset_changes(config.method, config.task)
    for section, values in profile.items():
        if section in PROFILE_META_KEYS:
            continue
        changes.update({f"{section}.{key}": value for key, value in values.items()})
    micro = changes.get("training.micro_batch_size")
    if micro and "training.grad_accum" not in changes:
        changes["training.grad_accum"] = max(1, config.training.effective_batch_size // micro)
    if "training.max_steps" not in changes:
        changes["training.max_steps"] = None
    passes, steps = profile.get("passes_at_most"), changes["training.max_steps"]
    if passes and steps and train_rows:
        micro = changes.get("training.micro_batch_size", config.training.micro_batch_size)
        batch = micro * changes.get("training.grad_accum", config.training.grad_accum)
        steps = changes["training.max_steps"] = min(steps, max(1, math.ceil(passes * train_rows / batch)))
    for interval in ("save_steps", "eval_steps") if steps else ():  # an interval past the end never comes
        current = changes.get(f"training.{interval}", getattr(config.training, interval))
        if current is not None and current > steps:
            changes[f"training.{interval}"] = steps
    return with_changes(config, changes)
