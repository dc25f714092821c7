"""Re-estimate a chosen plan option at another sequence length (the dataset's max length)."""

from __future__ import annotations

from dataclasses import replace

from tuiapp.core.estimate.closed_form import estimate_memory
from tuiapp.core.estimate.planner import PlanOption
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB


def memory_line(shape: ModelShape, option: PlanOption, seq_len: int) -> str:
    """`Peak at 1,024 tokens: ~12.3 GiB of 22.1 GiB free (fits)`, from the closed form (well under 5 ms)."""
    estimate = estimate_memory(shape, replace(option.setup, seq_len=seq_len))
    peak = estimate.peak_reserved_bytes / GIB
    label = option.method
    if option.free_bytes is None:
        return f"{label} peak at {seq_len:,} tokens: ~{peak:.1f} GiB"
    verdict = "fits" if estimate.fits(option.free_bytes) else "does NOT fit: shorten the max length"
    return f"{label} peak at {seq_len:,} tokens: ~{peak:.1f} GiB of {option.free_bytes / GIB:.1f} GiB free ({verdict})"
