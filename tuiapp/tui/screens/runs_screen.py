"""Every run in the runs folder, refreshed every two seconds: attach to one, stop it, resume it, find its files.

The screen only reads run directories (in a thread) and calls the launcher's stop and resume; it never
opens the dashboard itself: `Attach` asks the app to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from tuiapp.core.runs.launcher import resume_run, stop_run
from tuiapp.core.runs.layout import RUNS_DIR_ENV, RunPaths, resolve_runs_root
from tuiapp.core.runs.listing import RunSummary, list_runs
from tuiapp.core.user_error import UserError
from tuiapp.tui.messages import FinishRequested
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.step_screen import StepScreen

REFRESH_S = 2.0
RESUMABLE = ("stopped", "died", "failed", "damaged")
STATE_STYLES = {
    "running": "bold green",
    "completed": "green",
    "stopped": "yellow",
    "failed": "bold red",
    "died": "bold red",
    "created": "dim",
    "damaged": "bold magenta",
}
FAILURE_CHARS = 160  # of a failure's message in the detail lines (the dashboard shows all of it)
COLUMNS = (("run", None), ("state", 9), ("step", 9), ("loss", 6), ("eval", 6), ("started", 11))


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def run_cells(run: RunSummary) -> tuple[Text | str, ...]:
    """One table row: name, state (coloured), step/total, loss, eval loss, when it started."""
    step = f"{run.step}/{run.total_steps}" if run.total_steps else str(run.step)
    started = time.strftime("%m-%d %H:%M", time.localtime(run.started_at)) if run.started_at else "-"
    name = Text(run.name, no_wrap=True, overflow="ellipsis")
    return name, Text(run.state, STATE_STYLES[run.state]), step, _figure(run.loss), _figure(run.eval_loss), started


def run_detail(run: RunSummary) -> str:
    """Two or three lines on the highlighted run: where it is, then what its state means."""
    lines = [f"[b]{escape(run.name)}[/b] · {escape(run.path)}"]
    checkpoint = f"continues from {Path(run.checkpoint).name}" if run.checkpoint else "no checkpoint yet"
    if run.state == "running":
        lines.append(f"[green]training (pid {run.pid})[/] · Enter attaches · s stops it")
    elif run.state == "completed":
        result = escape(", ".join(run.artifacts) or str(Path(run.path, "final")))
        lines.append(f"[green]completed[/]: {result} · f Finish")
        if run.action_lines:
            lines.append(f"[dim]{escape(' · '.join(run.action_lines)[:FAILURE_CHARS])}[/]")
    elif run.state == "failed":
        failure = escape((run.failure or "see worker.log")[:FAILURE_CHARS])
        lines.append(f"[red]failed[/]: {failure} · r resumes ({checkpoint})")
    elif run.state == "damaged":  # resume says whether it can go on (a torn status file does not stop it)
        lines.append(f"[magenta]damaged[/]: {escape((run.damaged or '')[:FAILURE_CHARS])} · r tries to resume")
    elif run.state in RESUMABLE:
        lines.append(f"[yellow]{run.state}[/] · r resumes ({checkpoint})")
    else:
        lines.append("[dim]never started: its worker was not launched[/]")
    if run.oom_recoveries:
        settings = escape(str(run.recovered_settings))
        lines.append(f"[dim]{run.oom_recoveries} out-of-memory recoveries; now {settings}[/]")
    return "\n".join(lines)


def empty_text(root: Path) -> str:
    """What an empty runs folder says: how to start a run, and how to look elsewhere."""
    return (
        f"No runs yet in {escape(str(root))}.\n\n"
        "Start one: go through the wizard (Ctrl+N on Hyperparameters starts training), or from a shell run "
        "[b]ftwizard train CONFIG.yaml[/b], or [b]ftwizard demo[/b] for a tiny run on the CPU.\n"
        f"Runs kept elsewhere: set ${RUNS_DIR_ENV} or pass --runs-dir DIR."
    )


class RunsScreen(StepScreen[None]):
    """Enter attaches to the highlighted run, `s` stops it, `r` resumes it, `o` shows its folder."""

    HELP_TOPIC = "runs"
    SCREEN_TITLE = "Runs"
    BINDINGS = [
        Binding("enter", "attach", "Attach", priority=True),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("f", "finish", "Finish"),
        Binding("o", "show_path", "Run dir"),
        Binding("escape", "back", "Back"),
    ]

    @dataclass
    class Attach(Message):
        """Show this run's live dashboard (the app pushes the Training screen)."""

        run_dir: Path

    @dataclass
    class Listed(Message):
        """A fresh reading of the runs folder, or why it could not be read."""

        runs: list[RunSummary]
        problem: str | None = None

    def __init__(
        self,
        runs_dir: Path | None = None,
        stop: Callable[[RunPaths], int] = stop_run,
        resume: Callable[[RunPaths], object] = resume_run,
        *,
        refresh_s: float = REFRESH_S,
    ) -> None:
        super().__init__()
        self.root = resolve_runs_root(str(runs_dir) if runs_dir else None)
        self._stop, self._resume, self._refresh_s = stop, resume, refresh_s
        self.runs: list[RunSummary] = []
        self.listed = False  # whether the first reading has arrived
        self._problem: str | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Vertical(id="runs-body"):
            yield Static(f"[dim]Runs in {escape(str(self.root))}[/]", id="runs-where")
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Static("[dim]Reading the runs…[/]", id="runs-empty")
            yield Static(id="runs-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        name_width = max(16, min(48, self.app.size.width - 58))  # 22 at 80 columns: the row fits, no scrolling
        for label, width in COLUMNS:
            table.add_column(label, width=width or name_width, key=label)
        table.display = False
        self.load_runs()
        self.set_interval(self._refresh_s, self.load_runs)

    # ----- reading: a thread reads, the handler owns the list ------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="list")
    def load_runs(self) -> None:
        """Summaries read every run's events: keep them off the event loop."""
        try:
            runs = list_runs(self.root)
        except OSError as exc:  # a run folder removed mid-read, or no permission
            self.post_message(self.Listed([], f"cannot read {self.root}: {exc.strerror or exc}"))
            return
        except UserError as exc:  # the runs folder is a file, or unreadable
            self.post_message(self.Listed([], str(exc)))
            return
        self.post_message(self.Listed(runs))

    def on_runs_screen_listed(self, message: Listed) -> None:
        if self.listed and message.runs == self.runs and message.problem == self._problem:
            return  # nothing moved: leave the table (and the cursor) alone
        self.listed, self._problem = True, message.problem
        table = self.query_one(DataTable)
        keep = self.highlighted.path if self.highlighted else None
        self.runs = message.runs
        table.clear()
        for run in self.runs:
            table.add_row(*run_cells(run), key=run.path)
        paths = [run.path for run in self.runs]
        if keep in paths:
            table.move_cursor(row=paths.index(keep))
        table.display = bool(self.runs)
        empty = self.query_one("#runs-empty", Static)
        empty.display = not self.runs or message.problem is not None
        empty.update(f"[red]{escape(message.problem)}[/]" if message.problem else empty_text(self.root))
        self._show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        run = self.highlighted
        detail = self.query_one("#runs-detail", Static)
        detail.display = run is not None
        detail.update(run_detail(run) if run else "")

    @property
    def highlighted(self) -> RunSummary | None:
        """The run under the table's cursor, if any."""
        row = self.query_one(DataTable).cursor_row
        return self.runs[row] if self.runs and 0 <= row < len(self.runs) else None

    # ----- keys ----------------------------------------------------------------------------------
    def _chosen(self) -> RunSummary | None:
        run = self.highlighted
        if run is None:
            self.notify("There is no run here yet", severity="warning")
        return run

    def action_attach(self) -> None:
        if run := self._chosen():
            self.post_message(self.Attach(Path(run.path)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A click on a highlighted row attaches too (Enter never reaches the table: the screen takes it)."""
        self.action_attach()

    def action_stop(self) -> None:
        run = self._chosen()
        if run is None:
            return
        if run.state != "running":
            self.notify(f"Run {run.name} is not running (it is {run.state}); nothing to stop", severity="warning")
            return
        question = f"Stop run {run.name}?"
        detail = "It saves a checkpoint, then ends. Continue later with r here, or: ftwizard resume " + run.name
        paths = RunPaths(Path(run.path))

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.request_stop(paths)

        self.app.push_screen(ConfirmScreen(question, detail), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop")
    def request_stop(self, paths: RunPaths) -> None:
        try:
            pid = self._stop(paths)
        except UserError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Not stopped", severity="warning")
            return
        message = f"Asked run {paths.name}'s worker (pid {pid}) to stop: it saves a checkpoint first"
        self.app.call_from_thread(self.notify, message, title="Stopping")
        self.app.call_from_thread(self.load_runs)

    def action_resume(self) -> None:
        run = self._chosen()
        if run is None:
            return
        if run.state in RESUMABLE:
            self.request_resume(RunPaths(Path(run.path)))
        elif run.state == "running":
            self.notify(f"Run {run.name} is still running: Enter attaches to it", severity="warning")
        elif run.state == "completed":
            self.notify(f"Run {run.name} has completed; its result is in {Path(run.path, 'final')}")
        else:
            self.notify(f"Run {run.name} never started, so there is nothing to resume", severity="warning")

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume")
    def request_resume(self, paths: RunPaths) -> None:
        try:
            worker = self._resume(paths)
        except (UserError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Not resumed", severity="error")
            return
        self.app.call_from_thread(self._resumed, paths, getattr(worker, "pid", None))

    def _resumed(self, paths: RunPaths, pid: int | None) -> None:
        where = f" (pid {pid})" if pid else ""
        self.notify(f"Run {paths.name} continues from its last checkpoint{where}", title="Resumed")
        self.load_runs()
        self.post_message(self.Attach(paths.root))

    def action_finish(self) -> None:
        """The Finish screen of the highlighted run (merge, GGUF, chat, push), for a completed one."""
        run = self._chosen()
        if run is None:
            return
        if run.state != "completed":
            self.notify(f"Run {run.name} is {run.state}: Finish needs a completed run", severity="warning")
            return
        self.post_message(FinishRequested(Path(run.path)))

    def action_show_path(self) -> None:
        if run := self._chosen():
            self.app.copy_to_clipboard(run.path)
            self.notify(run.path, title="Run directory (copied, where the terminal allows)", timeout=15)

    def action_back(self) -> None:
        """Back to the screen that opened this one; the app's last screen quits instead of leaving a blank one."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()
