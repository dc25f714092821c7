"""One line for the Hyperparameters screen: how many optimizer steps a config makes and roughly how long."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuiapp.core.estimate import step_time
from tuiapp.core.hardware.catalog import spec_for_name

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.data.token_stats import TokenStats
    from tuiapp.core.hardware import GpuInfo
    from tuiapp.core.models.shape import ModelShape


def schedule_line(config: FTConfig, shape: ModelShape, stats: TokenStats | None, gpu: GpuInfo | None) -> str:
    """`120 steps (40 per epoch) · ≈ 25 min on RTX 4090`, or without the time when the GPU's speed is unknown."""
    if stats is None or not stats.rows:
        return "steps known once a dataset is open"
    spec = spec_for_name(gpu.name) if gpu else None
    tflops = spec.bf16_tflops if spec else None
    estimate = step_time.estimate_steps(shape, config, stats.rows, stats.mean, tflops)
    steps = f"{estimate.total_steps:,} steps ({estimate.steps_per_epoch:,} per epoch)"
    if config.training.max_steps is not None:
        steps = f"{estimate.total_steps:,} steps (max_steps)"
    if estimate.seconds is None:
        where = f"{gpu.name}'s speed unknown" if gpu else "no GPU to time"
        return f"{steps} · {where}"
    return f"{steps} · {step_time.format_duration(estimate.seconds)} on {gpu.name}"  # type: ignore[union-attr]
