"""Move an OptionList's highlight while the focus stays in the filter Input above it."""

from __future__ import annotations

from textual.widgets import OptionList


def move_highlight(options: OptionList, delta: int) -> None:
    """Step the highlight by `delta`, wrapping around; the first step from nothing lands on an end."""
    if options.option_count:
        current = options.highlighted if options.highlighted is not None else -delta
        options.highlighted = (current + delta) % options.option_count
