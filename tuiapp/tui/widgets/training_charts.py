"""The four training charts: one at a time behind a tab line on small terminals, a 2x2 grid on large ones.

Which layout applies is pure CSS (the Training screen's `-wide` / `-tall` breakpoint classes, see
app.tcss); this widget only knows which chart is selected. Live, it has the charts on screen rebuilt in turn,
at a bounded rate and only when their figures changed; charts out of sight catch up when they appear.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.tui.widgets.metric_chart import CHARTS, MetricChart

CHART_TICK_S = 0.25  # at most one chart rebuilt per tick: each of the four on screen about once a second
CHART_EVERY_S = 0.5  # and no chart more often than this (the one chart of a small terminal)


def tab_line(selected: int) -> Text:
    """` 1 Loss  2 Learning rate …` with the selected chart highlighted, and the key that cycles them."""
    text = Text()
    for number, spec in enumerate(CHARTS, start=1):
        style = "bold reverse" if number - 1 == selected else "dim"
        text.append(f" {number} {spec.title} ", style=style)
        text.append(" ")
    text.append("c: next chart", style="dim italic")
    return text


class TrainingCharts(Vertical):
    """Charts for loss (with eval loss), learning rate, grad norm and throughput."""

    selected: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state: DashboardState | None = None
        self._pending: set[int] = set()  # charts whose figures changed since they were last built
        self._shown_at = [float("-inf")] * len(CHARTS)  # when each chart last took new figures (monotonic)

    def compose(self) -> ComposeResult:
        yield Static(tab_line(self.selected), id="chart-tabs")
        with Container(id="chart-grid"):
            for index, spec in enumerate(CHARTS):
                yield MetricChart(spec, id=f"chart-{spec.key}", classes="-selected" if index == self.selected else "")

    def watch_selected(self, selected: int) -> None:
        if not self.is_mounted:
            return
        self.query_one("#chart-tabs", Static).update(tab_line(selected))
        for index, chart in enumerate(self.query(MetricChart)):
            chart.set_class(index == selected, "-selected")
            if index == selected and index in self._pending and self._state is not None:  # show it up to date
                self._pending.discard(index)
                chart.show(self._state, now=True)

    def cycle(self) -> None:
        self.selected = (self.selected + 1) % len(CHARTS)

    def on_mount(self) -> None:
        self.set_interval(CHART_TICK_S, self._redraw_next)

    def show(self, state: DashboardState, at_once: bool = False) -> None:
        """Take new figures. Live, the charts are rebuilt on later ticks, in a thread (a plotext build costs
        several ms, too much for the event loop at this rate); `at_once` (the replay) rebuilds them all now."""
        self._state = state
        charts = list(self.query(MetricChart))
        if at_once:
            for chart in charts:
                chart.show(state, now=True)
            self._pending.clear()
        else:
            self._pending.update(range(len(charts)))

    def _on_screen(self, chart: MetricChart) -> bool:
        return self.display and chart.display

    def _redraw_next(self) -> None:
        """Start one rebuild: of the chart on screen that waited longest, if none is being built already."""
        charts = list(self.query(MetricChart))
        if self._state is None or not self._pending or any(chart.building for chart in charts):
            return
        now = time.monotonic()
        due = [i for i in self._pending if self._on_screen(charts[i]) and now - self._shown_at[i] >= CHART_EVERY_S]
        for index in sorted(due, key=lambda i: self._shown_at[i]):
            self._pending.discard(index)
            if charts[index].show(self._state):  # False: its figures did not change, try the next one
                self._shown_at[index] = now
                return

    @property
    def up_to_date(self) -> bool:
        """Every chart on screen shows the latest figures."""
        charts = list(self.query(MetricChart))
        waiting = [i for i in self._pending if self._on_screen(charts[i])]
        return not waiting and all(chart.current for chart in charts)
