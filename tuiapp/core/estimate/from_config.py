"""Estimate the peak memory of a config as written (the Hyperparameters screen's live figure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuiapp.core.estimate.closed_form import MemoryEstimate, TrainingSetup, estimate_memory

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.models.shape import ModelShape


def setup_from_config(config: FTConfig, bf16: bool = True) -> TrainingSetup:
    """The estimator's view of a config; precision "auto" means bf16 where the GPU has it, else fp16."""
    training, lora = config.training, config.lora
    precision = training.precision if training.precision != "auto" else ("bf16" if bf16 else "fp16")
    targets = lora.target_modules if isinstance(lora.target_modules, str) else tuple(lora.target_modules)
    return TrainingSetup(
        method=config.method,
        seq_len=training.max_length,
        micro_batch=training.micro_batch_size,
        gradient_checkpointing=training.gradient_checkpointing,
        optimizer=training.optimizer,
        precision=precision,
        lora_r=lora.r,
        lora_targets=targets,
        lora_dropout=lora.dropout,
        attn_implementation=config.model.attn_implementation,
        framework=config.framework,
    )


def estimate_config(config: FTConfig, shape: ModelShape, bf16: bool = True) -> MemoryEstimate:
    """The closed-form peak for this config on this model (pure Python, a few milliseconds)."""
    return estimate_memory(shape, setup_from_config(config, bf16))
