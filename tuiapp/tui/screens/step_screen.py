"""The base of every wizard step: a worker that fails becomes a notification, never a traceback."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

ResultType = TypeVar("ResultType")


class StepScreen(Screen[ResultType]):
    """A wizard step. Worker state messages do not bubble, so each step handles its own failures here."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.name} failed", severity="error")
            self.worker_failed(event.worker, error)

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        """Override to show the failure in the screen itself (the notification is already sent)."""
