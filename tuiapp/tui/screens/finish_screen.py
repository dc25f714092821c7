"""Step 7: the result leaves the box. Shows what a finished run produced and runs its actions: chat (base
beside tuned), merge, GGUF + Ollama, push to the Hub.

Merge, GGUF and push run in child processes of their own session (`action_launcher`), so closing the
terminal does not stop an upload; this screen follows them through the run's `events.jsonl`, the same
events `ftwizard attach` and `ftwizard runs` read. One action at a time (the GGUF merges first anyway);
`x` cancels it, and the action removes what it had half-written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from tuiapp.core.runs.action_events import ACTION_EVENT_TYPES
from tuiapp.core.runs.action_history import ActionRecord, action_records, latest_by_action
from tuiapp.core.runs.action_launcher import cancel_action, launch_action
from tuiapp.core.runs.follow import EventFollower
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.run_result import RunResult, run_result
from tuiapp.tui.messages import ExportRequested
from tuiapp.tui.screens.step_screen import StepScreen
from tuiapp.tui.widgets.finish_panels import ACTION_KEYS, ActionRow, result_text

POLL_S = 0.25
ALIVE_EVERY_S = 1.0  # how often a running action's process is checked (a killed one becomes "died")
ACTION_KINDS = frozenset(cls.kind for cls in ACTION_EVENT_TYPES)


def _last_line(path: Path, limit: int = 4096) -> str:
    """The last line of a log (its last `limit` bytes read), or empty."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(path.stat().st_size - limit, 0))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:400] if lines else ""


def describe(action: str, options: dict[str, Any]) -> str:
    """The action_started event's detail: `bf16`, `q4_k_m`, `adapter to user/name (private)`."""
    if action == "merge":
        return f"{options.get('dtype', 'bf16')} into merged/"
    if action == "gguf":
        return f"{options.get('quant', 'q8_0')}"
    visibility = "private" if options.get("private", True) else "public"
    return f"{options.get('what', 'adapter')} to {options.get('repo')} ({visibility})"


class FinishScreen(StepScreen[None]):
    """`c` chat, `m` merge, `g` GGUF, `p` push, `e` export the config, `x` cancels the action running, `o` the
    run's folder."""

    STEP = "finish"
    HELP_TOPIC = "finish"
    FAILURE_TITLE = "The Finish screen could not do that"
    BINDINGS = [
        Binding("c", "chat", "Chat"),
        Binding("m", "run('merge')", "Merge"),
        Binding("g", "run('gguf')", "GGUF"),
        Binding("p", "run('push')", "Push"),
        Binding("e", "export", "Export", show=False),  # said under the actions: the footer is full at 80 columns
        Binding("x", "cancel", "Stop it"),
        Binding("o", "show_path", "Folder", show=False),  # in the help; the footer keeps room for x at 80 columns
        Binding("escape", "back", "Back"),
    ]

    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    @dataclass
    class ResultRead(Message):
        result: RunResult

    @dataclass
    class ActionsRead(Message):
        records: list[ActionRecord]

    def __init__(
        self,
        run_dir: str | Path,
        *,
        in_wizard: bool = True,
        poll_s: float = POLL_S,
        launch: Callable[[RunPaths, str, dict[str, Any], str], object] = launch_action,
        cancel: Callable[[ActionRecord], bool] = cancel_action,
    ) -> None:
        super().__init__()
        self._launch, self._cancel = launch, cancel
        self.paths = RunPaths(Path(run_dir))
        self.step_id = self.STEP if in_wizard else None
        self.result: RunResult | None = None
        self.records: dict[str, ActionRecord] = {}
        self.launching = False
        self._poll_s = poll_s

    def screen_title(self) -> str:
        return f"{super().screen_title()} · {self.paths.name}" if self.step_id else f"Finish · {self.paths.name}"

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="finish-body"):
            yield Static("[dim]Reading the run…[/]", id="finish-result")
            with Vertical(id="finish-actions"):
                for key, action, label, purpose in ACTION_KEYS:
                    yield ActionRow(key, action, label, purpose)
            export = Text.assemble((" e ", "reverse bold"), (" Export", "bold"))
            export.append("  the config for Axolotl, LLaMA-Factory, TRL or a script", style="dim")
            yield Static(export, id="finish-more")
        yield Footer()

    def on_mount(self) -> None:
        self.read_result()
        self.follow_actions()

    # ----- reading (threads; they only post messages) ------------------------------------------------
    @work(thread=True, exclusive=True, group="finish-result", exit_on_error=False)
    def read_result(self) -> None:
        self.post_message(self.ResultRead(run_result(self.paths)))

    @work(thread=True, exclusive=True, group="finish-follow", exit_on_error=False)
    def follow_actions(self) -> None:
        worker = get_current_worker()
        follower = EventFollower(self.paths.events)
        events: list[Any] = []
        shown: list[ActionRecord] | None = None
        last_alive_check = 0.0
        while not worker.is_cancelled:
            new = follower.poll()
            events += [event for event in new if event.kind in ACTION_KINDS]
            finished = any(event.kind == "completed" for event in new)
            now = time.monotonic()
            check_alive = now - last_alive_check >= ALIVE_EVERY_S
            if new or check_alive:
                records = action_records(events, check_alive=check_alive)
                if check_alive:
                    last_alive_check = now
                if records != shown:
                    shown = records
                    self.post_message(self.ActionsRead(records))
                if finished or any(e.kind == "action_done" for e in new):
                    self.read_result()  # new files (merged/, gguf/) or the run's end
            time.sleep(self._poll_s)

    def on_finish_screen_result_read(self, message: ResultRead) -> None:
        self.result = message.result
        self.query_one("#finish-result", Static).update(result_text(message.result))
        chat = "base and tuned side by side, streamed; Esc stops an answer" if message.result.finished else "-"
        self.query_one("#finish-chat", ActionRow).show(None, note=chat)
        self.refresh_bindings()

    def on_finish_screen_actions_read(self, message: ActionsRead) -> None:
        self.records = latest_by_action(message.records)
        if self.running_action() is not None:
            self.launching = False
        notes_shown = 1 if self.size.height < 34 else 2  # at 24 rows every action stays in sight
        for row in self.query(ActionRow):
            if row.action != "chat":
                row.show(self.records.get(row.action), notes_shown=notes_shown)
        self.refresh_bindings()

    # ----- keys -----------------------------------------------------------------------------------
    def running_action(self) -> ActionRecord | None:
        return next((r for r in self.records.values() if r.state == "running"), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        finished = self.result is not None and self.result.finished
        if action in ("chat", "run"):
            return finished
        if action == "cancel":
            return self.running_action() is not None
        if action == "back":
            return len(self.app.screen_stack) > 2
        return True

    def action_chat(self) -> None:
        from tuiapp.tui.screens.chat_screen import ChatScreen

        self.app.push_screen(ChatScreen(self.paths.root))

    def action_run(self, action: str) -> None:
        if self.result is None or not self.result.finished:
            return
        running = self.running_action()
        if running is not None or self.launching:
            what = running.action if running else "an action"
            self.notify(f"{what} is running; wait for it, or x cancels it", severity="warning")
            return
        if action == "merge" and self.result.method == "full":
            self.notify("A full fine-tune's final/ is already the whole model: nothing to merge. g makes a GGUF of it.")
            return
        from tuiapp.tui.screens.action_options_screen import ActionOptionsScreen

        def start(options: dict[str, Any] | None) -> None:
            if options is not None:
                self.launching = True
                self.launch(action, options)

        self.app.push_screen(ActionOptionsScreen(action, self.result), start)

    @work(thread=True, exclusive=True, group="finish-launch", exit_on_error=False)
    def launch(self, action: str, options: dict[str, Any]) -> None:
        """Start the child; one that ends before its first event was refused (another action holds the run):
        its one line says why."""
        process = self._launch(self.paths, action, options, describe(action, options))
        poll = getattr(process, "poll", None)
        while callable(poll) and self.launching and not get_current_worker().is_cancelled:
            if poll() is not None:
                if self.launching:
                    self.app.call_from_thread(self._launch_refused, action)
                return
            time.sleep(0.1)

    def _launch_refused(self, action: str) -> None:
        """The child has ended: refused before it began when its last line is our refusal (an action that ran,
        however briefly, wrote events, which the follower shows)."""
        self.launching = False
        said = _last_line(self.paths.actions_log)
        if said.startswith("ftwizard: "):
            self.notify(said.removeprefix("ftwizard: "), title=f"{action} did not start", severity="error")

    def worker_failed(self, worker: Any, error: BaseException) -> bool:
        if worker.group == "finish-launch":
            self.launching = False
        return False  # the notification says it

    def action_cancel(self) -> None:
        running = self.running_action()
        if running is None:
            return
        if self._cancel(running):
            self.notify(f"Cancelling {running.action}: it removes what it had half-written")
        else:
            self.notify(f"{running.action} had already ended")

    @work(thread=True, exclusive=True, group="finish-export", exit_on_error=False)
    def action_export(self) -> None:
        """The run's config (read off the event loop) in the Export dialog, suggesting `RUN-NAME.FORMAT.yaml`."""
        from tuiapp.core.config import load_config

        config = load_config(self.paths.config)  # a damaged config is said by the worker's failure line
        source = f"run {self.paths.name} ({self.paths.config})"
        self.post_message(ExportRequested(config, stem=self.paths.name, source_name=source))

    def action_show_path(self) -> None:
        path = str(self.paths.root)
        self.app.copy_to_clipboard(path)
        self.notify(escape(path), title="Run directory (copied, where the terminal allows)", timeout=15)

    def action_back(self) -> None:
        """Back to the dashboard; opened alone (`ftwizard finish`) there is nothing behind it (Ctrl+Q quits)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def quit_note(self) -> str | None:
        """What quitting leaves going: the action running (it goes on in its own process)."""
        running = self.running_action()
        if running is None:
            return None
        return (
            f"{running.action} keeps running in the background for run {self.paths.name}.\n"
            f"  see it: ftwizard finish {self.paths.name}   (or ftwizard runs)"
        )
