"""A comparison's events folded into one row per method (planned, measured or left out), and the check of each
measured peak against its estimate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tuiapp.core.runs.compare_events import FIGURES, CompareStarted, EstimateMismatch, TrialMeasured, TrialStarted
from tuiapp.core.runs.event_base import Event
from tuiapp.core.runs.events import FINAL_KINDS

MISMATCH_SHARE = 0.05
"""A measured peak more than 5% off its estimate is flagged in the table and written as an event."""


def mismatches(trial: TrialMeasured, share: float = MISMATCH_SHARE) -> dict[str, float]:
    """figure -> measured / estimated, for each figure both sides have and that is off by more than `share`."""
    off: dict[str, float] = {}
    for figure in FIGURES:
        measured, estimated = trial.measured.get(figure), trial.estimated.get(figure)
        if measured is None or not estimated:
            continue
        ratio = measured / estimated
        if abs(ratio - 1) > share:
            off[figure] = ratio
    return off


@dataclass
class MethodRow:
    """One method of the comparison: its plan estimate, and its trial once measured (or why it did not run)."""

    method: str
    planned: dict[str, int | None] = field(default_factory=dict)
    skipped: str | None = None
    running: bool = False
    trial: TrialMeasured | None = None

    @property
    def state(self) -> str:
        if self.skipped is not None:
            return "skipped"
        if self.trial is not None:
            return self.trial.state
        return "running" if self.running else "waiting"

    @property
    def off(self) -> dict[str, float]:
        return mismatches(self.trial) if self.trial is not None else {}


@dataclass
class CompareResult:
    """Everything the table, the chart and the screen show."""

    started: CompareStarted | None = None
    rows: dict[str, MethodRow] = field(default_factory=dict)
    recorded_mismatches: list[EstimateMismatch] = field(default_factory=list)
    final: str | None = None  # completed / stopped / failed once the comparison has ended
    final_message: str | None = None

    @property
    def measured(self) -> list[TrialMeasured]:
        return [row.trial for row in self.rows.values() if row.trial is not None]

    def state_of(self, row: MethodRow) -> str:
        """The row's state; a trial that an ended comparison never measured is `not run`."""
        if self.final is not None and row.state in ("waiting", "running"):
            return "not run"
        return row.state

    def add(self, event: Event) -> None:
        if isinstance(event, CompareStarted):
            self.started = event
            order = [*event.methods, *(m for m in event.skipped if m not in event.methods)]
            self.rows = {m: MethodRow(m, event.planned.get(m, {}), event.skipped.get(m)) for m in order}
        elif isinstance(event, TrialStarted):
            self._row(event.method).running = True
        elif isinstance(event, TrialMeasured):
            row = self._row(event.method)
            row.trial, row.running = event, False
        elif isinstance(event, EstimateMismatch):
            self.recorded_mismatches.append(event)
        elif event.kind in FINAL_KINDS:
            self.final = event.kind
            self.final_message = getattr(event, "message", None)

    def _row(self, method: str) -> MethodRow:
        return self.rows.setdefault(method, MethodRow(method))


def fold_compare(events: Iterable[Event]) -> CompareResult:
    result = CompareResult()
    for event in events:
        result.add(event)
    return result
