"""Re-estimate a chosen plan option at another sequence length (the dataset's max length)."""

from __future__ import annotations

from dataclasses import replace

from tuiapp.core.estimate.closed_form import FIT_MARGIN, estimate_memory
from tuiapp.core.estimate.planner import PlanOption
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB


def memory_line(shape: ModelShape, option: PlanOption, seq_len: int) -> str:
    """`Peak at 1,024 tokens: ~12.3 GiB in nvidia-smi of 22.1 GiB free (fits, 5% kept spare)`, from the closed
    form (well under 5 ms)."""
    estimate = estimate_memory(shape, replace(option.setup, seq_len=seq_len))
    peak = estimate.nvidia_smi_bytes / GIB
    label = option.method
    if option.free_bytes is None:
        return f"{label} peak at {seq_len:,} tokens: ~{peak:.1f} GiB"
    fits = estimate.fits(option.free_bytes)
    verdict = f"fits, {FIT_MARGIN:.0%} kept spare" if fits else "does NOT fit: shorten the max length"
    free = option.free_bytes / GIB
    return f"{label} peak at {seq_len:,} tokens: ~{peak:.1f} GiB in nvidia-smi of {free:.1f} GiB free ({verdict})"
