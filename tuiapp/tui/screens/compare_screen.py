"""Compare methods: a short measured trial of each, beside the planner's estimates (table, flags, bars).

Opened from the Method screen (`c`: it starts a comparison of the highlighted option's config) or on a
comparison made before (Runs, `ftwizard attach`). The trials run in the detached comparison worker; this screen
only reads the run's events, so Back (or closing the TUI) leaves them running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker

from tuiapp.core.compare.plan import DEFAULT_METHODS, DEFAULT_STEPS
from tuiapp.core.compare.result import CompareResult
from tuiapp.core.compare.run_dir import load_result
from tuiapp.core.compare.table import bar_chart, mismatch_lines, reason_lines, table_rows
from tuiapp.core.runs.layout import RunPaths
from tuiapp.tui.screens.step_screen import StepScreen, failure_text

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

Starter = Callable[["FTConfig", tuple[str, ...], int], tuple[RunPaths, Any]]
POLL_S = 1.0


def _start_here(config: FTConfig, methods: tuple[str, ...], steps: int) -> tuple[RunPaths, Any]:
    from tuiapp.core.compare.start import start_for_config

    return start_for_config(config, methods, steps)


def _stop(paths: RunPaths) -> int:
    from tuiapp.core.runs.launcher import stop_run

    return stop_run(paths)


def status_text(result: CompareResult, run_name: str) -> str:
    """`lora: 2 of 3 trials…` while it runs, the final state after; the comparison's notes under it."""
    started = result.started
    if started is None:
        return f"[dim]{escape(run_name)}: waiting for its plan…[/]"
    where = escape(started.gpu or "the CPU")
    lines = [f"[b]{escape(started.model)}[/b]: {started.steps} steps per method on {where}"]
    running = [row.method for row in result.rows.values() if row.state == "running"]
    done = sum(row.trial is not None for row in result.rows.values())
    if result.final is not None:
        colour = "green" if result.final == "completed" else "yellow"
        lines.append(f"[{colour}]the comparison {result.final}[/] · {escape(run_name)}")
    elif running:
        lines.append(f"training {running[0]}: {done} of {len(started.methods)} trials done · {escape(run_name)}")
    else:
        lines.append(f"starting: {done} of {len(started.methods)} trials done · {escape(run_name)}")
    lines += [f"[dim]note: {escape(note)}[/]" for note in started.notes]
    return "\n".join(lines)


class CompareScreen(StepScreen[None]):
    """`CompareScreen(run_dir=…)` shows a comparison; `CompareScreen(config=…)` starts one first."""

    SCREEN_TITLE = "Compare methods"
    HELP_TOPIC = "compare"
    FAILURE_TITLE = "The comparison did not start"
    CSS_PATH = "compare_screen.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "stop", "Stop trials"),
    ]

    def __init__(
        self,
        run_dir: Path | None = None,
        config: FTConfig | None = None,
        methods: tuple[str, ...] = DEFAULT_METHODS,
        steps: int = DEFAULT_STEPS,
        start: Starter | None = None,  # None: start_for_config, here
        stop: Callable[[RunPaths], int] | None = None,  # None: the launcher's stop_run
        poll_s: float = POLL_S,
    ) -> None:
        super().__init__()
        self.run_dir, self.config, self.methods, self.steps = run_dir, config, methods, steps
        self._start, self._stop, self._poll_s = start or _start_here, stop or _stop, poll_s
        self._timer: Timer | None = None
        self.result = CompareResult()

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="compare-body"):
            yield Static("[dim]Planning the trials…[/]", id="compare-status")
            yield DataTable(id="compare-table", zebra_stripes=True, cursor_type="none")
            yield Static(id="compare-flags")
            yield Static(id="compare-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.show_title()
        if self.run_dir is not None:
            self.follow(self.run_dir)
        elif self.config is not None:
            self.start_trials(self.config)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-start")
    def start_trials(self, config: FTConfig) -> None:
        """Detecting the GPU, reading the model's shape and launching take a moment: off the UI thread."""
        paths, _process = self._start(config, self.methods, self.steps)
        self.app.call_from_thread(self.follow, paths.root)

    def follow(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.refresh_result()
        if self.result.final is None and self._timer is None:
            self._timer = self.set_interval(self._poll_s, self.refresh_result)

    def refresh_result(self) -> None:
        if self.run_dir is None:
            return
        self.result = load_result(self.run_dir)
        self.show_result(self.result)
        if self.result.final is not None and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def show_result(self, result: CompareResult) -> None:
        name = self.run_dir.name if self.run_dir else ""
        self.query_one("#compare-status", Static).update(status_text(result, name))
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        header, *rows = table_rows(result)
        table.add_columns(*header)
        for row in rows:
            table.add_row(*row)
        flags = [f"[yellow]{escape(line)}[/]" for line in mismatch_lines(result)]
        flags += [f"[dim]{escape(line)}[/]" for line in reason_lines(result)]
        flags.append("[dim]memory: measured / estimated at the batches each trial ran; ! = more than 5% off[/]")
        self.query_one("#compare-flags", Static).update("\n".join(flags))
        self.query_one("#compare-chart", Static).update(escape("\n".join(bar_chart(result, width=24))))

    def action_stop(self) -> None:
        if self.run_dir is None or self.result.final is not None:
            self.notify("No trials are running here", severity="warning")
            return
        self.request_stop(RunPaths(self.run_dir))

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-stop")
    def request_stop(self, paths: RunPaths) -> None:
        self._stop(paths)
        self.app.call_from_thread(self.notify, "Stopping the trials; the table keeps what was measured")

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        if worker.group != "compare-start":
            return False
        self.query_one("#compare-status", Static).update(f"[red]{self.FAILURE_TITLE}[/]: {escape(failure_text(error))}")
        return True

    def action_back(self) -> None:
        self.app.pop_screen()
