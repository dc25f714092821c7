"""The exact check's answer in words, for the Method and Hyperparameters screens: the measured peak, whether it
fits the free memory, and how far the quick estimate was from it."""

from __future__ import annotations

from typing import Any

from tuiapp.core.estimate.closed_form import fits_in, reserved_bytes
from tuiapp.core.estimate.exact_check import ExactCheckError
from tuiapp.core.units import GIB

ANSWER_CAP = 200  # characters of a malformed answer quoted in the message


def simulated_peak(result: dict[str, Any]) -> int:
    """The child's measured peak (bytes allocated); an answer without a positive whole number is refused."""
    peak = result.get("peak_bytes") if isinstance(result, dict) else None
    if isinstance(peak, bool) or not isinstance(peak, int) or peak <= 0:
        raise ExactCheckError(f"the exact check answered without a peak in bytes: {str(result)[:ANSWER_CAP]}")
    return peak


def exact_result_text(label: str, result: dict[str, Any], closed_alloc_bytes: int, free_bytes: int | None) -> str:
    """`Exact check (lora): 1.71 GiB allocated at the peak, ~2.31 GiB in nvidia-smi: fits in 20.6 GiB free ·
    closed form 1.70 GiB (-0.5%)` (markup)."""
    peak = simulated_peak(result)
    reserved = reserved_bytes(peak)
    if free_bytes is None:
        verdict = "[dim]no GPU to compare with[/]"
    elif fits_in(reserved, free_bytes):
        verdict = f"[green]fits[/] in {free_bytes / GIB:.1f} GiB free"
    else:
        verdict = f"[red]does NOT fit[/] in {free_bytes / GIB:.1f} GiB free"
    return (
        f"Exact check ({label}): {peak / GIB:.2f} GiB allocated at the peak, ~{reserved / GIB:.2f} GiB in "
        f"nvidia-smi: {verdict} · closed form {closed_alloc_bytes / GIB:.2f} GiB ({closed_alloc_bytes / peak - 1:+.1%})"
    )
