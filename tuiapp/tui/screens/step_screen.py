"""The base of every wizard screen: its title and breadcrumb, its help topic, and failures in our words.

The title bar follows the screen on screen: it is set each time a screen is shown (on resume too, so
Back never leaves a later step's title behind). A worker that fails becomes our sentence, never a
traceback or a class name; a screen that shows the failure in place returns True from `worker_failed`
and no notification covers it.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header
from textual.worker import Worker, WorkerState

from tuiapp.core.crash_log import write_crash_log
from tuiapp.core.user_error import UserError
from tuiapp.tui.steps import step_title
from tuiapp.tui.widgets.step_trail import StepTrail

ResultType = TypeVar("ResultType")
MESSAGE_CAP = 400  # characters of an error shown in a notification


def failure_text(error: BaseException) -> str:
    """What a user reads for a failure: a UserError's own sentence; anything else, where its details went."""
    if isinstance(error, UserError):
        return str(error)[:MESSAGE_CAP]
    log = write_crash_log(error)
    where = f" The details are in {log}." if log else ""
    return f"Something went wrong: {str(error)[:MESSAGE_CAP]}.{where}"


class StepScreen(Screen[ResultType]):
    """A wizard screen. `STEP` places it in the step sequence (None: outside it, such as Runs)."""

    STEP: ClassVar[str | None] = None
    HELP_TOPIC: ClassVar[str] = "general"
    SCREEN_TITLE: ClassVar[str] = ""  # the title of a screen outside the sequence
    FAILURE_TITLE: ClassVar[str] = "That did not work"
    RUNNING_NOTE: ClassVar[bool] = True  # whether the title bar adds the app's note on runs going

    def __init__(self) -> None:
        super().__init__()
        self.step_id: str | None = self.STEP

    @property
    def planned(self) -> bool:
        """Whether the wizard plans for a GPU this machine does not have (its last step saves, not trains)."""
        return bool(getattr(self.app, "planned", False))

    def screen_title(self) -> str:
        """The title bar's text for this screen; screens outside the sequence override it."""
        return step_title(self.step_id, self.planned) if self.step_id else self.SCREEN_TITLE

    def header(self) -> ComposeResult:
        """The title bar and, for a step, the breadcrumb under it."""
        yield Header(show_clock=False)
        if self.step_id:
            yield StepTrail(self.step_id, self.planned, id="step-trail")

    def show_title(self) -> None:
        """Put this screen's title in its title bar, with the app's note on runs going (if any)."""
        note = getattr(self.app, "running_note", "") if self.RUNNING_NOTE else ""
        self.sub_title = self.screen_title() + (f" · {note}" if note else "")

    @on(events.ScreenResume)
    def _title_on_resume(self) -> None:
        self.show_title()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            if not self.worker_failed(event.worker, error):
                self.notify(failure_text(error), title=self.FAILURE_TITLE, severity="error")

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        """Override to show the failure in the screen itself; return True when it is shown there."""
        return False
