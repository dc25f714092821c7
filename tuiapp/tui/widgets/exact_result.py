"""The exact check's answer in words, for the Method and Hyperparameters screens: the simulated peak, what the
caching allocator would reserve and nvidia-smi show (replayed), whether it fits the free memory, and how far the
quick estimate was from it."""

from __future__ import annotations

from typing import Any

from tuiapp.core.estimate.closed_form import FIT_MARGIN, fits_in
from tuiapp.core.estimate.exact_memory import simulated_memory, simulated_peak
from tuiapp.core.units import GIB

__all__ = ["exact_result_text", "simulated_memory", "simulated_peak"]


def exact_result_text(label: str, result: dict[str, Any], closed_alloc_bytes: int, free_bytes: int | None) -> str:
    """`Exact check (lora): 1.71 GiB allocated, 1.85 reserved, ~2.35 GiB in nvidia-smi: fits in 20.6 GiB free
    (5% kept spare) · closed form 1.70 GiB (-0.5%)` (markup)."""
    peak, reserved, smi = simulated_memory(result)
    if free_bytes is None:
        verdict = "[dim]no GPU to compare with[/]"
    elif fits_in(smi, free_bytes):
        verdict = f"[green]fits[/] in {free_bytes / GIB:.1f} GiB free ({FIT_MARGIN:.0%} kept spare)"
    else:
        verdict = f"[red]does NOT fit[/] in {free_bytes / GIB:.1f} GiB free ({FIT_MARGIN:.0%} kept spare)"
    closed = f"closed form {closed_alloc_bytes / GIB:.2f} GiB ({closed_alloc_bytes / peak - 1:+.1%})"
    return (
        f"Exact check ({label}): {peak / GIB:.2f} GiB allocated, {reserved / GIB:.2f} reserved, ~{smi / GIB:.2f} GiB "
        f"in nvidia-smi: {verdict} · {closed}"
    )
