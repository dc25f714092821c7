"""The four training charts: one at a time behind a tab line on small terminals, a 2x2 grid on large ones.

Which layout applies is pure CSS (the Training screen's `-wide` / `-tall` breakpoint classes, see
app.tcss); this widget only knows which chart is selected.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.tui.widgets.metric_chart import CHARTS, MetricChart

CHART_TICK_S = 0.125  # one chart rebuilt per tick: each of the four at least twice a second


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

    def cycle(self) -> None:
        self.selected = (self.selected + 1) % len(CHARTS)

    def on_mount(self) -> None:
        self.set_interval(CHART_TICK_S, self._redraw_next)

    def show(self, state: DashboardState, at_once: bool = False) -> None:
        """Take new figures. Live, each chart is rebuilt on its own tick (a plotext build costs ~10 ms, so
        four in one frame would stall keys); `at_once` (the replay) rebuilds them all now."""
        self._state = state
        charts = list(self.query(MetricChart))
        if at_once:
            for chart in charts:
                chart.show(state)
            self._pending.clear()
        else:
            self._pending.update(range(len(charts)))

    def _redraw_next(self) -> None:
        if not self._pending or self._state is None:
            return
        charts = list(self.query(MetricChart))
        visible = [i for i in sorted(self._pending) if charts[i].display]
        index = (visible or sorted(self._pending))[0]
        self._pending.discard(index)
        charts[index].show(self._state)

    @property
    def up_to_date(self) -> bool:
        return not self._pending
