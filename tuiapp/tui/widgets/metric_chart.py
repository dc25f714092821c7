"""One training chart (loss with eval loss, learning rate, grad norm or throughput) drawn with plotext.

A plotext build costs several milliseconds, so live updates build the chart in a thread and the event loop only
swaps the finished text in; the first paint, a resize and the replay still build it where it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import RenderResult
from textual.message import Message
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

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


Points = tuple[tuple[int, float], ...]
Drawn = tuple[tuple[Line, Points], ...]  # what a chart shows: each line with data, and its points

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


def drawn_lines(spec: ChartSpec, state: DashboardState) -> Drawn:
    """The lines `spec` draws from `state`, copied (a thread builds from them while the state moves on)."""
    drawn = [(line, tuple(thinned(state.series[line.series].points, MOST_POINTS))) for line in spec.lines]
    drawn = [(line, points) for line, points in drawn if points]
    return tuple(drawn[:1] if spec.either else drawn)


def plot_text(spec: ChartSpec, drawn: Drawn, width: int, height: int, theme: str) -> Text:
    """The chart at `width` x `height` as text. It touches no widget, so any thread may build it."""
    plt = Plot()
    if not drawn:
        plt.title(f"{spec.title} · waiting for the first step")
    for line, points in drawn:
        shown = thinned(list(points), max(width, 8))  # a point a column: plotext's cost grows with points
        xs, ys = [p[0] for p in shown], [p[1] for p in shown]
        if line.scatter:
            plt.scatter(xs, ys, color=line.color, marker="dot")
        else:
            plt.plot(xs, ys, color=line.color, marker="braille")
    if drawn:
        first = min(points[0][0] for _, points in drawn)
        last = max(points[-1][0] for _, points in drawn)
        plt.xticks(step_ticks(first, last, max(width // 12, 2)))
        plt.title(" · ".join(f"{line.label} {_figure(points[-1][1])}" for line, points in drawn))
    plt.plotsize(width, height)  # then size and theme, in the order PlotextPlot.render sets them
    plt._set_size(width, height)  # (textual-plotext issue 5)
    plt.theme(theme)
    return Text.from_ansi(plt.build())


@dataclass(frozen=True)
class Picture:
    """A built chart and what it was built from, so the loop knows whether it still fits."""

    drawn: Drawn
    size: tuple[int, int]
    theme: str
    text: Text


class MetricChart(PlotextPlot):
    """`show` takes the latest series and has a thread build the picture; `render` shows the last one built."""

    @dataclass
    class Built(Message, bubble=False):
        """A thread finished building the chart."""

        picture: Picture

    def __init__(self, spec: ChartSpec, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spec = spec
        self._drawn: Drawn = ()
        self._picture: Picture | None = None
        self.building = False  # a thread is building a picture; until it is done, the last one stays up

    @property
    def current(self) -> bool:
        """The picture on screen shows the latest series (or nothing is on screen to show them)."""
        return not self.building and (self._picture is None or self._picture.drawn == self._drawn)

    def show(self, state: DashboardState, now: bool = False) -> bool:
        """Take the latest series; False if they did not change. A thread builds the new picture, unless `now`
        (the next frame builds it) or a build is under way (the next `show` starts one)."""
        drawn = drawn_lines(self.spec, state)
        if drawn == self._drawn:
            return False
        self._drawn = drawn
        if now or self._picture is None:
            self._picture = None
            self.refresh()
        elif not self.building:
            self.building = True
            self._build(drawn, self._picture.size, self._picture.theme)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="plot")
    def _build(self, drawn: Drawn, size: tuple[int, int], theme: str) -> None:
        text = plot_text(self.spec, drawn, *size, theme)
        self.post_message(self.Built(Picture(drawn, size, theme, text)))

    def on_metric_chart_built(self, message: Built) -> None:
        self.building = False
        if self._picture is not None and self._picture.drawn != self._drawn:  # else a newer one is up, or coming
            self._picture = message.picture
            self.refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):  # the next frame builds it here instead
            self.building, self._picture = False, None
            self.refresh()

    def _theme_name(self) -> str:
        return self._get_plotext_theme_name(self.app.theme)

    def render(self) -> RenderResult:
        """The last picture while it fits the size and theme; otherwise one built here, from the latest series."""
        size, theme, picture = (self.size.width, self.size.height), self._theme_name(), self._picture
        if picture is None or picture.size != size or picture.theme != theme:
            picture = self._picture = Picture(self._drawn, size, theme, plot_text(self.spec, self._drawn, *size, theme))
        return picture.text
