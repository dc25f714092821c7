"""The run's event log: lifecycle lines, timed by the run's training clock (the elapsed time's, loading and stopped
gaps left out), or for lines without one from the run's first event; the same on every machine."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.widgets import RichLog

from tuiapp.core.runs.dashboard_state import LOG_LINES
from tuiapp.core.runs.event_lines import LogLine, duration

STYLES = {"info": "", "good": "bold green", "warn": "yellow", "error": "bold red", "detail": "dim"}


def log_text(line: LogLine, origin: float) -> Table:
    """`0:00:12 checkpoint saved at step 20 (checkpoint-20)`; detail lines are indented under their event,
    and a long line wraps inside its own column."""
    detail = line.level == "detail"
    row = Table.grid(padding=(0, 1), expand=True)
    row.add_column(width=9 if detail else 7, no_wrap=True, style="dim")
    row.add_column(ratio=1)
    at = line.clock_s if line.clock_s is not None else line.time - origin
    row.add_row("" if detail else duration(at), Text(line.text, style=STYLES[line.level]))
    return row


class EventLog(RichLog):
    """Appends lines as events arrive; keeps the last LOG_LINES."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, max_lines=LOG_LINES, auto_scroll=True, min_width=20)

    def add(self, lines: Iterable[LogLine], origin: float | None) -> None:
        for line in lines:
            self.write(log_text(line, origin if origin is not None else line.time), expand=True)
