"""Step 4's dashboard: follow one run directory live (charts, GPU, progress with ETA, event log).

The screen only draws `DashboardState`. A thread replays `events.jsonl` into a fresh state and hands it
over, then posts new events in batches at most every `poll_s` seconds, so a trainer logging hundreds of
steps a second costs the event loop ten small updates a second. The run is never owned by the screen:
leaving it (or detaching or quitting, which end the app) leaves the worker training. A stopped run is resumed
with `r`; the follower keeps reading the same `events.jsonl`, so the new launch appears as it comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static
from textual.worker import Worker, get_current_worker

from tuiapp.core.hardware.gpu_monitor import GpuMonitor, GpuReading
from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.launcher import resume_run
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.other_events import AnyEvent
from tuiapp.core.runs.run_watch import RunWatch
from tuiapp.tui.messages import FinishRequested
from tuiapp.tui.screens.step_screen import StepScreen
from tuiapp.tui.screens.training_controls import RunControls, in_words
from tuiapp.tui.widgets.event_log import EventLog
from tuiapp.tui.widgets.gpu_sparklines import GpuSparklines
from tuiapp.tui.widgets.run_status import RunProgress, outcome_text, stats_text
from tuiapp.tui.widgets.training_charts import CHARTS, TrainingCharts

POLL_S = 0.1  # new events reach the screen at most ten times a second
IDLE_POLL_S = 0.5  # while no worker runs (a resume may start one)
GPU_EVERY_S = 1.0
OUTCOME_CLASSES = {"completed": "-good", "stopped": "-warn", "failed": "-bad", "died": "-bad"}


def _nap(worker: Worker, seconds: float) -> None:
    """Sleep in short slices, so a cancelled worker (the screen closed) ends promptly."""
    deadline = time.monotonic() + seconds
    while not worker.is_cancelled and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))


class TrainingScreen(RunControls, StepScreen[None]):
    """`s` stops the run gracefully, `r` resumes a stopped one, `d` and `q` quit (training goes on) saying how to
    come back, Esc goes back to the wizard, `o` shows the run directory."""

    BINDINGS = [
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("d", "detach", "Detach"),
        Binding("o", "show_path", "Folder"),
        Binding("c", "next_chart", "Chart"),
        Binding("f", "finish", "Finish"),
        Binding("ctrl+n", "finish", "Next: finish", show=False, priority=True),
        *(Binding(str(n), f"chart({n - 1})", f"Chart {n}", show=False) for n in range(1, len(CHARTS) + 1)),
        Binding("escape", "go_back", "Back"),
        Binding("q", "detach", "Quit (training goes on)", show=False),  # the footer's ^q does the same
    ]
    HELP_TOPIC = "training"
    RUNNING_NOTE = False  # the screen itself shows the run; the title keeps the run's name whole
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    @dataclass
    class Replayed(Message):
        """The events written before the screen opened, already folded (the worker hands the state over)."""

        state: DashboardState

    @dataclass
    class NewEvents(Message):
        """Events written since the last batch, and whether the worker lives (None: not known)."""

        events: list[AnyEvent]
        alive: bool | None

    @dataclass
    class GpusRead(Message):
        """A reading of every GPU, or (once) why there is none."""

        readings: tuple[GpuReading, ...]
        no_gpu_reason: str | None = None

    def __init__(
        self,
        run_dir: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        gpu_monitor: GpuMonitor | None = None,
        poll_s: float = POLL_S,
        gpu_every_s: float = GPU_EVERY_S,
        resume: Callable[[RunPaths], Any] = resume_run,
    ) -> None:
        super().__init__()
        self.paths = RunPaths(Path(run_dir))
        self.state = DashboardState(self.paths.name)
        self.replayed = False
        self.stopping = False
        self.resuming = False  # a resumed worker was launched and has not been heard from yet
        self._resume = resume
        self._offered: tuple[bool, bool] = (True, False)  # whether the footer offers `s` and `r`
        self._outcome_of: tuple[object, object] | None = None  # (phase, final event) the outcome box shows
        self._clock, self._gpu_monitor = clock, gpu_monitor
        self._poll_s, self._gpu_every_s = poll_s, gpu_every_s

    def compose(self) -> ComposeResult:
        yield from self.header()
        with Vertical(id="training-body"):
            yield Static(stats_text(self.state), id="training-stats")
            yield RunProgress(id="training-progress")
            yield GpuSparklines(id="training-gpus")
            yield TrainingCharts(id="training-charts")
            with VerticalScroll(id="training-outcome"):
                yield Static(id="training-outcome-text")
            yield EventLog(id="training-log")
        yield Footer()

    def screen_title(self) -> str:
        """`Training · NAME` when attached; the wizard's own step title when it opened the run as its last step."""
        return f"{super().screen_title()} · {self.paths.name}" if self.step_id else f"Training · {self.paths.name}"

    def on_mount(self) -> None:
        self.follow_events()
        self.sample_gpus()
        self.set_interval(1.0, self._tick)

    # ----- workers: they only read and post -----------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="follow")
    def follow_events(self) -> None:
        """Replay the history into a fresh state, then follow the file while the screen is open: more slowly
        once the worker is gone, but on, since a resumed worker appends to the same file."""
        worker = get_current_worker()
        watch = RunWatch(self.paths)
        state = DashboardState(self.paths.name)
        state.apply(watch.replay())  # one event at a time: a long history is folded, never held whole
        state.alive = watch.alive
        self.post_message(self.Replayed(state))
        while not worker.is_cancelled:
            _nap(worker, IDLE_POLL_S if watch.over and not self.resuming else self._poll_s)
            alive = watch.alive
            events = watch.read()
            if events or watch.alive != alive:
                self.post_message(self.NewEvents(events, watch.alive))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gpu")
    def sample_gpus(self) -> None:
        """NVML readings about once a second (NVML can block for a moment: never on the event loop)."""
        worker = get_current_worker()
        monitor = self._gpu_monitor or GpuMonitor()
        reason = monitor.open()
        if reason is not None:
            self.post_message(self.GpusRead((), reason))
            return
        try:
            while not worker.is_cancelled and (readings := monitor.read()) is not None:
                self.post_message(self.GpusRead(readings))
                _nap(worker, self._gpu_every_s)
        finally:
            monitor.close()

    # ----- handlers own the state ---------------------------------------------------------------
    def on_training_screen_replayed(self, message: Replayed) -> None:
        state = message.state
        state.gpus, state.no_gpu_reason = self.state.gpus, self.state.no_gpu_reason  # read meanwhile
        self.state = state
        log = self.query_one(EventLog)
        log.clear()
        log.add(state.log, state.first_time)
        self.replayed = True
        self._draw(at_once=True)
        self.query_one(GpuSparklines).show(state)

    def on_training_screen_new_events(self, message: NewEvents) -> None:
        lines = self.state.apply(message.events)
        self.state.alive = message.alive
        self.query_one(EventLog).add(lines, self.state.first_time)
        self._draw()

    def on_training_screen_gpus_read(self, message: GpusRead) -> None:
        self.state.add_gpu_readings(message.readings)
        self.state.no_gpu_reason = message.no_gpu_reason
        self.query_one(GpuSparklines).show(self.state)

    # ----- drawing -------------------------------------------------------------------------------
    def _draw(self, at_once: bool = False) -> None:
        """Update what changed; ten times a second at most, so nothing here re-lays the screen out needlessly."""
        state = self.state
        if state.phase != "training":
            self.stopping = False
        if self.resuming and state.phase in ("waiting", "training") and state.alive is not False:
            self.resuming = False  # the resumed worker is heard from
        if (self.running, self.resumable) != self._offered:
            self._offered = (self.running, self.resumable)
            self.refresh_bindings()  # the footer's `s Stop` and `r Resume` come and go with them
        stats = stats_text(state, self.stopping, self.resuming)
        self.query_one("#training-stats", Static).update(stats, layout=False)
        self.query_one(RunProgress).show(state, self._clock())
        self.query_one(TrainingCharts).show(state, at_once)
        if (state.phase, state.final) != self._outcome_of:
            self._outcome_of = (state.phase, state.final)
            text = outcome_text(state, self.paths.root)
            self.query_one("#training-outcome-text", Static).update(text or "")
            outcome = self.query_one("#training-outcome")
            outcome.display = text is not None
            for name in set(OUTCOME_CLASSES.values()):
                outcome.set_class(OUTCOME_CLASSES.get(state.phase) == name, name)
            self.set_class(state.phase in ("failed", "died"), "-broken")  # app.tcss: the failure before charts
            self.set_class(state.phase in ("completed", "stopped"), "-ended")  # app.tcss: room for the outcome

    def _tick(self) -> None:
        """Elapsed time and ETA move between batches too."""
        self.query_one(RunProgress).show(self.state, self._clock())

    # ----- keys ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`s` is offered only while the run trains, `r` only when it can resume, Esc when there is a way back."""
        if action == "stop":
            return self.running
        if action == "resume":
            return self.resumable
        if action == "go_back":
            return len(self.app.screen_stack) > 2
        if action == "finish":
            return self.state.phase == "completed"
        return True

    def action_finish(self) -> None:
        """The Finish screen: merge, GGUF, chat, push (the app opens it)."""
        if self.state.phase == "completed":
            self.post_message(FinishRequested(self.paths.root, in_wizard=self.step_id is not None))

    def action_next_chart(self) -> None:
        self.query_one(TrainingCharts).cycle()

    def action_chart(self, index: int) -> None:
        self.query_one(TrainingCharts).selected = index

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        """A reader thread that broke: said in words (the screen keeps what it has shown)."""
        what = {"follow": "Following the run's events", "gpu": "Reading the GPUs", "stop": "Stopping the run"}
        self.notify(f"{what.get(worker.group, 'A background task')} stopped. {in_words(error)}", severity="error")
        return True

    def leave_message(self) -> Text:
        """What the terminal says after the app exits from this screen."""
        name = self.paths.name
        if self.running:
            return Text(
                f"Detached. Run {name} keeps training in the background.\n"
                f"  re-attach: ftwizard attach {name}\n  stop it:   ftwizard stop {name}"
            )
        return Text(f"Left run {name} ({self.state.phase}).\n  its files: {self.paths.root}")

    def action_detach(self) -> None:
        self.app.exit(message=self.leave_message())

    def action_show_path(self) -> None:
        path = str(self.paths.root)
        self.app.copy_to_clipboard(path)
        self.notify(path, title="Run directory (copied, where the terminal allows)", timeout=15)

    def action_back(self) -> None:
        """Back to the wizard when it opened this screen; otherwise (ftwizard attach) the same as detach."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.action_detach()

    def action_go_back(self) -> None:
        """Esc: back to the screen below, when there is one (the run goes on either way)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
