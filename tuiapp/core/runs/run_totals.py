"""A run's summary over every launch, from its own events: the step reached, train loss, training time, tokens.

The trainer's own figures cover one launch only: after a resume it divides the resumed part's summed loss by
all the steps, and its runtime starts again at zero. These are folded from `events.jsonl` instead, so the
worker's completed event, the dashboard and `ftwizard runs` give the same numbers:

- train loss: the mean of the logged `loss` values weighted by the steps each one covers (a loss logged at
  step 30 after one at step 20 stands for 10 steps), which is the trainer's own figure for a single launch.
  Steps trained again after a resume from an earlier checkpoint count once, with their latest values.
- training time: the sum over launches from each `started` to its end (its final or `recovering` event; for
  a worker that died, its last training event). Loading and the gaps while stopped are left out.
- tokens: the sum over launches of each one's last count (steps trained again count again, as their time does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from tuiapp.core.runs.events import (
    STEP_PHASES,
    CheckpointSaved,
    Completed,
    EvalDone,
    Failed,
    Metrics,
    Phase,
    Recovering,
    Started,
    Stopped,
)
from tuiapp.core.runs.other_events import AnyEvent


@dataclass(frozen=True)
class RunTotals:
    """The run at its latest event: the step reached and the figures over every launch."""

    step: int
    train_loss: float | None
    training_s: float
    tokens: int | None


@dataclass(frozen=True)
class _LossSum:
    """Logged losses weighted by the steps they cover, up to `last_step`."""

    weighted: float = 0.0
    steps: int = 0
    last_step: int = 0

    def add(self, step: int, loss: float) -> _LossSum:
        if step <= self.last_step:
            return self
        covered = step - self.last_step
        return _LossSum(self.weighted + loss * covered, self.steps + covered, step)


class TotalsFold:
    """Folds events one at a time (bounded memory: one loss snapshot per checkpoint), for a live dashboard."""

    def __init__(self) -> None:
        self.step = 0
        self._loss = _LossSum()
        self._at_checkpoint: dict[int, _LossSum] = {}  # where a resume may go back to
        self._closed_s = 0.0  # launches that ended
        self._open: tuple[float, float] | None = None  # (started, last training event) of the launch under way
        self._tokens_before: int | None = None  # tokens of launches that ended
        self._tokens_now: int | None = None  # the launch under way's count

    def add(self, event: AnyEvent) -> None:
        if isinstance(event, Started):
            self._close()
            self._open = (event.time, event.time)
            self._resume_loss(event.step)
            self.step = event.step
        elif isinstance(event, Metrics):
            self._touch(event.time)
            if event.loss is not None:
                self._loss = self._loss.add(event.step, event.loss)
            if event.tokens is not None:
                self._tokens_now = event.tokens
            self.step = event.step
        elif isinstance(event, EvalDone):
            self._touch(event.time)
        elif isinstance(event, CheckpointSaved):
            self._touch(event.time)
            self._at_checkpoint[event.step] = self._loss
        elif isinstance(event, Completed | Stopped | Failed | Recovering):
            self._touch(event.time)
            self._close()
            if event.step is not None:
                self.step = max(self.step, event.step) if isinstance(event, Completed) else event.step
        elif isinstance(event, Phase) and event.name not in STEP_PHASES:
            self._close()  # a new launch is loading: the one before it ended (died) at its last training event

    def _touch(self, time: float) -> None:
        if self._open is not None:
            self._open = (self._open[0], max(self._open[1], time))

    def _close(self) -> None:
        if self._open is not None:
            self._closed_s += max(self._open[1] - self._open[0], 0.0)
            self._open = None
        if self._tokens_now is not None:
            self._tokens_before = (self._tokens_before or 0) + self._tokens_now
            self._tokens_now = None

    def _resume_loss(self, step: int) -> None:
        """Training continues after `step`: forget the losses logged past it (those steps are trained again)."""
        if self._loss.last_step <= step:
            return
        earlier = [s for s in self._at_checkpoint if s <= step]
        self._loss = self._at_checkpoint[max(earlier)] if earlier else _LossSum()
        self._at_checkpoint = {s: loss for s, loss in self._at_checkpoint.items() if s <= step}

    @property
    def training(self) -> bool:
        """Whether a launch has started and not ended (as far as the events say)."""
        return self._open is not None

    def training_s(self, now: float | None = None) -> float:
        """Training time so far; `now` runs the launch under way up to that time, else to its last event."""
        if self._open is None:
            return self._closed_s
        end = max(now, self._open[1]) if now is not None else self._open[1]
        return self._closed_s + max(end - self._open[0], 0.0)

    def totals(self, now: float | None = None) -> RunTotals:
        steps = self._loss.steps
        loss = self._loss.weighted / steps if steps else None
        tokens = None if self._tokens_before is None and self._tokens_now is None else 0
        if tokens is not None:
            tokens = (self._tokens_before or 0) + (self._tokens_now or 0)
        return RunTotals(self.step, loss, self.training_s(now), tokens)


def run_totals(events: Iterable[AnyEvent]) -> RunTotals:
    """The totals of a run's events (the launch under way, if any, up to its last event)."""
    fold = TotalsFold()
    for event in events:
        fold.add(event)
    return fold.totals()


def with_totals(completed: Completed, totals: RunTotals) -> Completed:
    """The completed event with the run's totals (its own figures are kept only where the events have none)."""
    return dataclasses.replace(
        completed,
        train_loss=totals.train_loss if totals.train_loss is not None else completed.train_loss,
        runtime_s=totals.training_s,
        tokens=totals.tokens if totals.tokens is not None else completed.tokens,
    )


def completed_with_totals(completed: Completed, earlier: Iterable[AnyEvent]) -> Completed:
    """The completed event a worker writes: the totals of the run's earlier events and this one."""
    return with_totals(completed, run_totals([*earlier, completed]))
