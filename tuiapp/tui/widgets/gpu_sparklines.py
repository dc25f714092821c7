"""One line per GPU: utilization and memory as sparklines, then temperature and power (or why no GPU)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widget import Widget

from tuiapp.core.runs.dashboard_state import DashboardState, GpuHistory
from tuiapp.core.units import GIB

BLOCKS = "▁▂▃▄▅▆▇█"
HOT_C = 85  # most NVIDIA GPUs start to slow their clocks around here


def sparkline(values: Iterable[float], width: int, high: float = 1.0) -> str:
    """The last `width` values as block characters (0 to `high`), right-aligned in `width` columns."""
    shown = list(values)[-width:] if width > 0 else []
    cells = [BLOCKS[min(int(max(v, 0.0) / high * len(BLOCKS)), len(BLOCKS) - 1)] for v in shown]
    return " " * (width - len(cells)) + "".join(cells)


def _memory_style(share: float) -> str:
    """Memory close to full is the warning sign (busy compute is the goal, so utilization stays one colour)."""
    return "red" if share > 0.95 else "yellow" if share > 0.85 else "green"


def gpu_line(history: GpuHistory, width: int) -> Text:
    """`GPU0 ▃▅▇█ 97% │ ▅▆▆▇ 20.1/24.0 GiB │ 71°C 312/450 W` sized to `width` (the name too, when wide)."""
    reading = history.reading
    util = f"{reading.utilization_pct:3.0f}%" if reading.utilization_pct is not None else "  -%"
    memory = f"{reading.memory_used_bytes / GIB:.1f}/{reading.memory_total_bytes / GIB:.1f} GiB"
    extra = []
    if reading.temperature_c is not None:
        extra.append(f"{reading.temperature_c:.0f}°C" + (" hot" if reading.temperature_c >= HOT_C else ""))
    if reading.power_w is not None:
        limit = f"/{reading.power_limit_w:.0f}" if reading.power_limit_w else ""
        extra.append(f"{reading.power_w:.0f}{limit} W")
    head = f"GPU{reading.index} " + (f"{reading.name} " if width >= 110 else "")
    tail = " ".join(extra)
    fixed = len(head) + len(util) + len(memory) + len(tail) + 8
    spark = max((width - fixed) // 2, 4)
    text = Text(head, style="bold")
    text.append(sparkline(history.utilization, spark, 100.0), style="cyan")
    text.append(f" {util}  ")
    text.append(sparkline(history.memory, spark), style=_memory_style(reading.memory_fraction))
    text.append(f" {memory}  ")
    text.append(tail, style="dim")
    return text


class GpuSparklines(Widget):
    """Height follows the number of GPUs; "no GPU" (with the reason) is one dim line."""

    DEFAULT_CSS = "GpuSparklines { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state: DashboardState | None = None
        self._lines = 1

    def show(self, state: DashboardState) -> None:
        lines = max(len(state.gpus), 1)
        self.refresh(layout=self.state is None or lines != self._lines)  # a new height only with a new GPU count
        self.state, self._lines = state, lines

    def render(self) -> Text:
        state = self.state
        if state is None or (not state.gpus and state.no_gpu_reason is None):
            return Text("GPU: reading…", style="dim")
        if not state.gpus:
            return Text(f"no GPU: {state.no_gpu_reason}", style="dim")
        lines = [gpu_line(history, self.size.width) for _, history in sorted(state.gpus.items())]
        return Text("\n").join(lines)
