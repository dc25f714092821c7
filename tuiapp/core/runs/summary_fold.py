"""A run's events folded one at a time into what its summary needs: one pass, memory bounded by the number of
actions launched on it (not by the number of events), so listing a run with a 1 GB log is linear and small."""

from __future__ import annotations

from tuiapp.core.runs.action_events import ActionProgress
from tuiapp.core.runs.event_base import Event
from tuiapp.core.runs.events import FINAL_KINDS, Completed, EvalDone, Failed, Metrics, Recovering, Started
from tuiapp.core.runs.run_totals import TotalsFold
from tuiapp.core.runs.status import WorkerStatus


class SummaryFold:
    """The figures of `ftwizard runs` from a run's events; `launched_at` (the status file's) decides which
    final event belongs to the latest launch."""

    def __init__(self, status: WorkerStatus | None) -> None:
        self.launched_at = status.launched_at if status is not None else None
        self.events = 0
        self.first_started: Started | None = None
        self.last_started: Started | None = None
        self.last_metrics: Metrics | None = None
        self.last_loss: float | None = None
        self.last_eval: EvalDone | None = None
        self.last_completed: Completed | None = None
        self.last_failed: Failed | None = None
        self.last_recovery: Recovering | None = None
        self.recoveries = 0
        self.last_time: float | None = None
        self.final_kind: str | None = None  # the last final event's kind, whenever it was written
        self.launch_final_kind: str | None = None  # the same, since the latest launch
        self.totals = TotalsFold()
        self.action_events: list[Event] = []  # every action event but superseded progress ones
        self._progress_at: dict[str, int] = {}  # action_id -> index of its latest progress in action_events

    def add(self, event: Event) -> None:
        self.events += 1
        self.last_time = event.time
        self.totals.add(event)
        if isinstance(event, Started):
            self.first_started = self.first_started or event
            self.last_started = event
        elif isinstance(event, Metrics):
            self.last_metrics = event
            self.last_loss = event.loss if event.loss is not None else self.last_loss
        elif isinstance(event, EvalDone):
            self.last_eval = event
        elif isinstance(event, Recovering):
            self.recoveries += 1
            self.last_recovery = event
        elif hasattr(event, "action_id"):
            self._add_action(event)
        if isinstance(event, Completed):
            self.last_completed = event
        elif isinstance(event, Failed):
            self.last_failed = event
        if event.kind in FINAL_KINDS:
            self.final_kind = event.kind
            if self.launched_at is not None and event.time >= self.launched_at:
                self.launch_final_kind = event.kind

    def _add_action(self, event: Event) -> None:
        """Only an action's latest progress matters (action_history reads the rest in order)."""
        action_id = str(getattr(event, "action_id", ""))
        if isinstance(event, ActionProgress) and action_id in self._progress_at:
            self.action_events[self._progress_at[action_id]] = event
            return
        self._progress_at.pop(action_id, None)
        if isinstance(event, ActionProgress):
            self._progress_at[action_id] = len(self.action_events)
        self.action_events.append(event)
