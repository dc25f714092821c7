"""One training chart (loss with eval loss, learning rate, grad norm or throughput) drawn with plotext."""

from __future__ import annotations

from dataclasses import dataclass

from textual_plotext import PlotextPlot

from tuiapp.core.runs.dashboard_state import DashboardState, Series


@dataclass(frozen=True)
class Line:
    """A series drawn in a chart: which one, its legend label and colour."""

    series: str
    label: str
    color: str
    scatter: bool = False  # sparse points (evaluations) read better as markers


@dataclass(frozen=True)
class ChartSpec:
    """A chart: its tab title and the lines it draws (the first line with data names the chart)."""

    key: str
    title: str
    lines: tuple[Line, ...]
    either: bool = False  # draw only the first line that has data (tokens/s, else samples/s)


CHARTS = (
    ChartSpec("loss", "Loss", (Line("loss", "loss", "cyan"), Line("eval_loss", "eval loss", "orange", scatter=True))),
    ChartSpec("lr", "Learning rate", (Line("learning_rate", "lr", "green"),)),
    ChartSpec("grad", "Grad norm", (Line("grad_norm", "grad norm", "magenta"),)),
    ChartSpec(
        "speed",
        "Throughput",
        (Line("tokens_per_s", "tokens/s", "yellow"), Line("samples_per_s", "samples/s", "yellow")),
        either=True,
    ),
)


def _figure(value: float) -> str:
    return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:,.4g}"


def thinned(points: list[tuple[int, float]], most: int) -> list[tuple[int, float]]:
    """At most `most` points, evenly spaced, the last always kept: a chart has only so many columns."""
    if len(points) <= most or most < 2:
        return points
    step = len(points) / (most - 1)
    return [points[int(i * step)] for i in range(most - 1)] + [points[-1]]


class MetricChart(PlotextPlot):
    """Redrawn from the dashboard state on each batch of events; the title carries the latest values."""

    def __init__(self, spec: ChartSpec, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spec = spec

    def _lines(self, state: DashboardState) -> list[tuple[Line, Series]]:
        drawn = [(line, state.series[line.series]) for line in self.spec.lines if state.series[line.series].points]
        return drawn[:1] if self.spec.either else drawn

    def show(self, state: DashboardState) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        lines = self._lines(state)
        if not lines:
            plt.title(f"{self.spec.title} · waiting for the first step")
            self.refresh()
            return
        most = max(self.size.width * 2, 60)
        for line, series in lines:
            points = thinned(series.points, most)
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            if line.scatter:
                plt.scatter(xs, ys, color=line.color, marker="dot")
            else:
                plt.plot(xs, ys, color=line.color, marker="braille")
        plt.title(" · ".join(f"{line.label} {_figure(series.last)}" for line, series in lines if series.last is not None))
        plt.xlabel("step")
        self.refresh()
