"""A text bar of estimated peak memory against free VRAM, for table cells."""

from __future__ import annotations

from rich.text import Text

from tuiapp.core.units import GIB


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
