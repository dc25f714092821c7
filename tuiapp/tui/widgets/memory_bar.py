"""A text bar of estimated peak memory against free VRAM, for table cells, and the peak's three figures in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import MemoryEstimate


def memory_bar(peak_bytes: int, free_bytes: int | None, width: int = 12) -> Text:
    """Green while it fits with room, yellow when tight (>90%), red past the free memory."""
    if not free_bytes:
        return Text(f"{peak_bytes / GIB:5.1f} GiB")
    share = peak_bytes / free_bytes
    filled = min(width, round(share * width))
    style = "red" if share > 0.95 else "yellow" if share > 0.85 else "green"
    return Text.assemble(
        ("█" * filled, style),
        ("░" * (width - filled), "dim"),
        f" {peak_bytes / GIB:5.1f}/{free_bytes / GIB:.0f} GiB",
    )


def memory_totals(estimate: MemoryEstimate) -> str:
    """`peak GiB: 25.9 allocated · 28.0 reserved · 28.5 nvidia-smi (fits: under the free memory less 5%)`, the
    three figures a GPU reports and the one the verdict is on (markup-free)."""
    from tuiapp.core.estimate.closed_form import FIT_MARGIN

    return (
        f"peak GiB: {estimate.peak_alloc_bytes / GIB:.1f} allocated · {estimate.peak_reserved_bytes / GIB:.1f} "
        f"reserved · {estimate.nvidia_smi_bytes / GIB:.1f} nvidia-smi (fits: under the free memory less "
        f"{FIT_MARGIN:.0%})"
    )
