"""The Training screen's keys that act on the run's worker: `s` stops it (asking first), `r` resumes a stopped one.

Each runs in a thread (a signal, or launching a process, never blocks the event loop) and ends in a
notification in our words: a UserError's own sentence, anything else with where its details went, never
an exception's class name. The screen supplies the run and its state; this only decides and asks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from tuiapp.core.runs.launcher import stop_run
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.step_screen import failure_text

if TYPE_CHECKING:
    from textual.screen import Screen

    from tuiapp.core.runs.dashboard_state import DashboardState
    from tuiapp.core.runs.layout import RunPaths

    Base = Screen[None]
else:
    Base = object


def in_words(error: BaseException) -> str:
    """A failure as a notification says it: its own sentence, never its class name."""
    return failure_text(error) if str(error) else "Something went wrong; worker.log in the run directory may say more."


class RunControls(Base):
    """Stop and resume for a screen that has `paths`, `state` and `_draw` (the Training screen)."""

    paths: RunPaths
    state: DashboardState
    replayed: bool
    stopping: bool
    resuming: bool  # a resumed worker was launched and has not been heard from yet
    _resume: Callable[[RunPaths], Any]

    if TYPE_CHECKING:

        def _draw(self, at_once: bool = False) -> None: ...

    @property
    def running(self) -> bool:
        return self.resuming or (self.state.phase in ("training", "waiting") and self.state.alive is not False)

    @property
    def resumable(self) -> bool:
        """A stopped run, or one that died or failed after saving a checkpoint (a completed one is done)."""
        phase = self.state.phase
        if self.resuming or not self.replayed:
            return False
        return phase == "stopped" or (phase in ("died", "failed") and self.state.checkpoint is not None)

    def action_stop(self) -> None:
        if not self.running:  # it ended between the key and now
            self.notify(f"Run {self.paths.name} is not running (it is {self.state.phase})", severity="warning")
            return
        question = f"Stop run {self.paths.name}?"
        detail = f"It saves a checkpoint, then ends. Continue later with: ftwizard resume {self.paths.name}"
        self.app.push_screen(ConfirmScreen(question, detail), self._stop_confirmed)

    def _stop_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.request_stop()

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop")
    def request_stop(self) -> None:
        try:
            pid = stop_run(self.paths)
        except UserError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Not stopped", severity="warning")
            return
        self.app.call_from_thread(self._stop_sent, pid)

    def action_resume(self) -> None:
        if not self.resumable:  # its state changed between the key and now
            self.notify(f"Run {self.paths.name} cannot be resumed now (it is {self.state.phase})", severity="warning")
            return
        self.resuming = True
        self._draw()
        self.request_resume()

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume")
    def request_resume(self) -> None:
        """Launch the worker again (from the last checkpoint); the follower picks its events up."""
        try:
            pid = getattr(self._resume(self.paths), "pid", None)
        except Exception as exc:  # said in our words, never a traceback or a class name
            self.app.call_from_thread(self._resume_failed, exc)
        else:
            self.app.call_from_thread(self._resume_started, pid)

    def _resume_started(self, pid: int | None) -> None:
        checkpoint = self.paths.last_checkpoint()
        where = f"from {checkpoint.name}" if checkpoint else "from the start (no checkpoint)"
        self.notify(f"Run {self.paths.name} resumes {where}: its worker (pid {pid}) is loading", title="Resuming")

    def _resume_failed(self, exc: Exception) -> None:
        self.resuming = False
        self.notify(in_words(exc), title="Not resumed", severity="warning" if isinstance(exc, UserError) else "error")
        self._draw()

    def _stop_sent(self, pid: int) -> None:
        self.stopping = self.running
        self.notify(f"Asked the worker (pid {pid}) to stop: it saves a checkpoint first", title="Stopping")
        self._draw()
