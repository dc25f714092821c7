"""One training chart (loss with eval loss, learning rate, grad norm or throughput) drawn with plotext."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from tuiapp.core.runs.dashboard_state import DashboardState


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


MOST_POINTS = 600  # kept per line between batches; drawing thins again to the chart's width

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


def step_ticks(first: int, last: int, most: int) -> list[int]:
    """Whole-step x ticks, at most `most` of them, evenly spaced on a round stride (1, 2, 5, 10, 20, …)."""
    span, gaps = max(last - first, 0), max(most - 1, 1)
    strides = (m * 10**k for k in range(20) for m in (1, 2, 5))
    stride = next(s for s in strides if span / s <= gaps)
    start = -(-first // stride) * stride  # the first multiple of the stride at or after `first`
    return list(range(start, last + 1, stride)) or [first]


class MetricChart(PlotextPlot):
    """`show` takes the latest series from the dashboard state; the plot is built when drawn, at its size."""

    def __init__(self, spec: ChartSpec, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spec = spec
        self._drawn: list[tuple[Line, list[tuple[int, float]]]] = []

    def show(self, state: DashboardState) -> None:
        drawn = [(line, state.series[line.series].points) for line in self.spec.lines]
        drawn = [(line, thinned(points, MOST_POINTS)) for line, points in drawn if points]
        self._drawn = drawn[:1] if self.spec.either else drawn
        self.refresh()

    def render(self) -> RenderResult:
        plt, width = self.plt, self.size.width
        plt.clear_data()
        plt.clear_figure()
        if not self._drawn:
            plt.title(f"{self.spec.title} · waiting for the first step")
            return super().render()
        for line, points in self._drawn:
            shown = thinned(points, max(width, 8))  # a point a column: plotext's cost grows with points
            xs, ys = [p[0] for p in shown], [p[1] for p in shown]
            if line.scatter:
                plt.scatter(xs, ys, color=line.color, marker="dot")
            else:
                plt.plot(xs, ys, color=line.color, marker="braille")
        first = min(points[0][0] for _, points in self._drawn)
        last = max(points[-1][0] for _, points in self._drawn)
        plt.xticks(step_ticks(first, last, max(width // 12, 2)))
        plt.title(" · ".join(f"{line.label} {_figure(points[-1][1])}" for line, points in self._drawn))
        return super().render()
