"""A one-line bar of used versus free GPU memory, sized to its container."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tuiapp.core.units import GIB


class VramBar(Widget):
    """Used memory in colour (red past 90%), free memory dim, the figures at the end."""

    DEFAULT_CSS = "VramBar { height: 1; }"

    used_bytes: reactive[int] = reactive(0)
    total_bytes: reactive[int] = reactive(1)

    def __init__(self, used_bytes: int, total_bytes: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(VramBar.used_bytes, used_bytes)
        self.set_reactive(VramBar.total_bytes, max(total_bytes, 1))

    @property
    def used_fraction(self) -> float:
        return min(max(self.used_bytes / self.total_bytes, 0.0), 1.0)

    def render(self) -> Text:
        label = f" {self.used_bytes / GIB:.1f}/{self.total_bytes / GIB:.1f} GiB used"
        width = max(self.size.width - len(label), 4)
        filled = round(self.used_fraction * width)
        style = "bold red" if self.used_fraction > 0.9 else "bold yellow" if self.used_fraction > 0.5 else "green"
        return Text.assemble(("█" * filled, style), ("░" * (width - filled), "dim"), label)
