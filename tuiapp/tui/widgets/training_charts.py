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

    def show(self, state: DashboardState) -> None:
        for chart in self.query(MetricChart):
            chart.show(state)
