"""What training a config on this machine's CPU means, said before it starts: how slow, what it downloads."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tuiapp.core.estimate.step_time import estimate_steps, format_duration

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.models.resolve import ResolvedModel

CPU_TFLOPS_PER_CORE = 0.03  # sustained fp32 matmul throughput of one modern core, generously
DEMO_PARAMS = 50_000_000  # below this a CPU run is a demo that ends in minutes


def cpu_training_detail(config: FTConfig, model: ResolvedModel, cores: int, rows: int | None) -> str:
    """Two or three sentences for the confirmation: speed on these cores, and where the weights come from."""
    shape = model.shape
    estimate = estimate_steps(shape, config, max(rows or 1, 1))
    per_step = estimate.tokens_per_step * estimate.flops_per_token / (cores * CPU_TFLOPS_PER_CORE * 1e12)
    lines = [
        f"There is no GPU here: {shape.name} trains on this machine's {cores} CPU core(s). One step "
        f"({estimate.tokens_per_step:,} tokens) takes {format_duration(per_step)}, so "
        f"{estimate.total_steps:,} steps take {format_duration(per_step * estimate.total_steps)}."
    ]
    if shape.total_params > DEMO_PARAMS:
        lines.append("That is a test of the pipeline, not a way to train this model: a GPU is ~100× faster.")
    gib = shape.total_params * 2 / 1024**3
    if model.source == "local":
        lines.append(f"The weights are read from the folder {config.model.name_or_path}.")
    elif os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "TRUE", "yes"):
        lines.append(
            f"HF_HUB_OFFLINE is set: the weights (about {gib:.1f} GiB) must already be in the Hugging Face "
            "cache, or the run fails at once."
        )
    else:
        lines.append(f"The weights (about {gib:.1f} GiB in 16-bit) download from the Hub unless they are cached.")
    return " ".join(lines)
