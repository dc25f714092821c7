"""Turn a chosen plan option into the one config model (with the method's and task's presets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuiapp.core.config import FTConfig, validate_config, with_changes
from tuiapp.core.hyperparam_presets import preset_changes

if TYPE_CHECKING:
    from tuiapp.core.estimate.planner import PlanOption


def config_from_option(
    model_name: str, option: PlanOption, framework: str, task: str = "sft", base: FTConfig | None = None
) -> FTConfig:
    """The config that trains `option`: presets first, then the planner's knobs on top."""
    config = base or validate_config({"model": {"name_or_path": model_name}})
    setup = option.setup
    changes = {
        "model.name_or_path": model_name,
        "task": task,
        "method": setup.method,
        "framework": framework,
        **preset_changes(setup.method, task),
        "training.max_length": setup.seq_len,
        "training.micro_batch_size": setup.micro_batch,
        "training.grad_accum": option.grad_accum,
        "training.gradient_checkpointing": setup.gradient_checkpointing,
        "training.optimizer": setup.optimizer,
    }
    if setup.method != "full":
        targets = setup.lora_targets
        changes["lora.r"] = setup.lora_r
        changes["lora.alpha"] = 2 * setup.lora_r
        changes["lora.target_modules"] = targets if isinstance(targets, str) else list(targets)
    return with_changes(config, changes)
