"""What the Training screen shows, folded from a run's events: series to chart, latest figures, ETA, log.

No I/O and no clock: the same events (and `now`, where asked) always give the same state, so replaying
`events.jsonl` and following it live are one code path, and the screen only draws. Memory stays bounded
however long the run: series are thinned by halves past `MAX_POINTS`, the log keeps its last lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from tuiapp.core.hardware.gpu_monitor import GpuReading
from tuiapp.core.runs.event_lines import LogLine, log_lines
from tuiapp.core.runs.events import STEP_PHASES, CheckpointSaved, Completed, EvalDone, Failed, Metrics, Started, Stopped
from tuiapp.core.runs.events import Phase as WorkerPhase
from tuiapp.core.runs.other_events import AnyEvent
from tuiapp.core.runs.run_totals import RunTotals, TotalsFold, with_totals

MAX_POINTS = 1000  # per series; past it every other point is dropped
RATE_WINDOW = 20  # recent logging steps the ETA's pace is taken from
LOG_LINES = 500
GPU_HISTORY = 120  # readings per GPU kept for the sparklines
METRIC_SERIES = ("loss", "learning_rate", "grad_norm", "tokens_per_s", "samples_per_s")
SERIES = (*METRIC_SERIES, "eval_loss")

RunPhase = Literal["waiting", "training", "completed", "stopped", "failed", "died"]


@dataclass
class Series:
    """(step, value) points in step order."""

    points: list[tuple[int, float]] = field(default_factory=list)
    limit: int = MAX_POINTS

    def add(self, step: int, value: float) -> None:
        self.points.append((step, value))
        if len(self.points) > self.limit:
            last = self.points[-1]
            self.points = [*self.points[:-1:2], last]

    def drop_after(self, step: int) -> None:
        """Forget points past `step` (a resumed run trains those steps again)."""
        self.points = [point for point in self.points if point[0] <= step]

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None


@dataclass
class GpuHistory:
    """The latest reading of one GPU and its recent utilization and memory share, for sparklines."""

    reading: GpuReading
    utilization: deque[float] = field(default_factory=lambda: deque(maxlen=GPU_HISTORY))
    memory: deque[float] = field(default_factory=lambda: deque(maxlen=GPU_HISTORY))


@dataclass
class DashboardState:
    """A run as the dashboard shows it. `apply` folds events in; `alive` is the worker's liveness, if known."""

    run_name: str
    series: dict[str, Series] = field(default_factory=lambda: {name: Series() for name in SERIES})
    step: int = 0
    total_steps: int | None = None
    latest: Metrics | None = None
    eval_loss: float | None = None
    started: Started | None = None  # the latest launch's started event
    final: Completed | Stopped | Failed | None = None  # the latest launch's final event
    checkpoint: str | None = None
    first_time: float | None = None
    last_time: float | None = None
    activity: WorkerPhase | None = None  # what the worker said it is busy with, until the first logged step
    launching: bool = False  # a new launch is loading (its phase events came, its started event not yet)
    totals: TotalsFold = field(default_factory=TotalsFold)  # train loss, training time, tokens over every launch
    events_seen: int = 0
    alive: bool | None = None
    log: deque[LogLine] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    pace: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=RATE_WINDOW))  # (time, step)
    gpus: dict[int, GpuHistory] = field(default_factory=dict)
    no_gpu_reason: str | None = None

    def apply(self, events: Iterable[AnyEvent]) -> list[LogLine]:
        """Fold events in order; returns the log lines they added, each timed by the training clock (so the
        log, the elapsed time and the completed line agree however often the run was stopped)."""
        added: list[LogLine] = []
        for event in events:
            self.events_seen += 1
            if self.first_time is None:
                self.first_time = event.time
            progress_only = isinstance(event, WorkerPhase) and self._same_activity(event)
            self.totals.add(event)
            if isinstance(event, Completed):  # an older worker wrote the trainer's figures for its last launch
                event = with_totals(event, self.totals.totals())
            self._fold(event)
            self.last_time = max(self.last_time or event.time, event.time)
            if not progress_only:  # a phase's progress updates move the bar, not the log
                added += log_lines(event, self.run_name, clock_s=self.totals.training_s())
        self.log.extend(added)
        return added

    def _same_activity(self, event: WorkerPhase) -> bool:
        return self.activity is not None and (self.activity.name, self.activity.detail) == (event.name, event.detail)

    def _fold(self, event: AnyEvent) -> None:
        if isinstance(event, WorkerPhase):
            self.activity = event
            if event.name not in STEP_PHASES:  # a launch (a resume, say) is loading
                self.launching, self.final = True, None
        elif isinstance(event, Metrics):
            self.activity = None
            self.latest, self.step, self.total_steps = event, event.step, event.total_steps
            for name in METRIC_SERIES:
                value = getattr(event, name)
                if value is not None:
                    self.series[name].add(event.step, value)
            self.pace.append((event.time, event.step))
        elif isinstance(event, EvalDone):
            if event.eval_loss is not None:
                self.eval_loss = event.eval_loss
                self.series["eval_loss"].add(event.step, event.eval_loss)
        elif isinstance(event, Started):
            self.started, self.final, self.launching, self.activity = event, None, False, None
            self.step, self.total_steps = event.step, event.total_steps
            self.pace.clear()
            for series in self.series.values():
                series.drop_after(event.step)
        elif isinstance(event, CheckpointSaved):
            self.checkpoint = event.path
        elif isinstance(event, Completed | Stopped | Failed):
            self.final, self.launching = event, False
            if event.step is not None:
                self.step = max(self.step, event.step) if isinstance(event, Completed) else event.step
        # other kinds only add log lines

    def add_gpu_readings(self, readings: Iterable[GpuReading]) -> None:
        for reading in readings:
            history = self.gpus.setdefault(reading.index, GpuHistory(reading))
            history.reading = reading
            if reading.utilization_pct is not None:
                history.utilization.append(reading.utilization_pct)
            history.memory.append(reading.memory_fraction)

    @property
    def phase(self) -> RunPhase:
        if self.final is not None:
            return self.final.kind  # type: ignore[return-value]
        if self.alive is False:  # its status file names a process that is gone, and no final event came
            return "died"
        return "training" if self.started is not None and not self.launching else "waiting"

    @property
    def stepped(self) -> bool:
        """Whether any training step has been logged (or a resume started past step 0)."""
        return self.latest is not None or self.step > 0

    def run_totals(self) -> RunTotals:
        """Train loss, training time and tokens over every launch, as the completed event and `ftwizard runs`
        have them."""
        return self.totals.totals()

    @property
    def fraction(self) -> float | None:
        """How much of the run is done, 0 to 1 (None before the total is known)."""
        if not self.total_steps:
            return None
        return min(max(self.step / self.total_steps, 0.0), 1.0)

    def seconds_per_step(self) -> float | None:
        """The recent pace: over the last logging steps, else since the start of this launch."""
        if len(self.pace) >= 2 and self.pace[-1][1] > self.pace[0][1]:
            (t0, s0), (t1, s1) = self.pace[0], self.pace[-1]
            return (t1 - t0) / (s1 - s0)
        if self.pace and self.started is not None and self.pace[-1][1] > self.started.step:
            t1, s1 = self.pace[-1]
            return (t1 - self.started.time) / (s1 - self.started.step)
        return None

    def eta_s(self, now: float) -> float | None:
        """Seconds left at the recent pace, counted down between steps by at most one step's time."""
        if self.final is not None or self.total_steps is None or self.phase != "training":
            return None
        per_step = self.seconds_per_step()
        if per_step is None:
            return None
        since_last = min(max(now - self.pace[-1][0], 0.0), per_step)
        return max((self.total_steps - self.step) * per_step - since_last, 0.0)

    def elapsed_s(self, now: float) -> float | None:
        """Training time so far over every launch (loading and stopped gaps excluded); frozen once it ends."""
        if self.started is None:
            return None
        running = self.phase == "training" and self.alive is not False
        return self.totals.training_s(now if running else None)
