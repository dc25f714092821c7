"""The events a comparison (`ftwizard compare`, tuiapp.core.compare) writes to its run's `events.jsonl`, beside
the usual started / completed ones.

`tuiapp.core.runs.events.EVENT_TYPES` includes them, so `parse_event` reads them back with the same per-field
checks as every other event; an older ftwizard skips them as unknown kinds (its `parse_event` returns None for a
kind it does not know) and reads the rest of the run. This module imports only the event base, for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from tuiapp.core.runs.event_base import Event

FIGURES = ("allocated", "reserved", "nvidia_smi")
"""The GPU memory figures measured and estimated: torch's max allocated and max reserved, and NVML's peak."""


@dataclass(frozen=True)
class CompareStarted(Event):
    """The comparison's plan: the methods it trials in order, those it leaves out (with the reason), the steps."""

    kind: ClassVar[str] = "compare_started"
    methods: list[str]
    steps: int
    model: str
    device: str  # "cuda" or "cpu"
    gpu: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # method -> why it is not trialled here
    notes: list[str] = field(default_factory=list)
    planned: dict[str, dict[str, int | None]] = field(default_factory=dict)  # method -> FIGURES at max_length


@dataclass(frozen=True)
class TrialStarted(Event):
    """A trial's worker is starting (the `index`-th of `total`, from 1)."""

    kind: ClassVar[str] = "trial_started"
    method: str
    index: int
    total: int
    run_dir: str


@dataclass(frozen=True)
class TrialMeasured(Event):
    """What one trial measured, beside the estimate for the batches it really trained on. Bytes; a figure this
    machine cannot measure (GPU memory on the CPU) is None."""

    kind: ClassVar[str] = "trial_measured"
    method: str
    state: str  # the trial's final event: completed, failed or stopped (or died)
    device: str
    steps: int = 0
    tokens_per_s: float | None = None  # after the first logged step (which pays for warm-up)
    loss: float | None = None  # the last logged training loss
    measured: dict[str, int | None] = field(default_factory=dict)  # FIGURES
    estimated: dict[str, int | None] = field(default_factory=dict)  # FIGURES, at `batch_shape`
    peak_rss: int | None = None  # the trial process's peak resident memory (loading included)
    batch_shape: list[int] = field(default_factory=list)  # [micro-batch, tokens] of the longest batch
    wall_s: float | None = None
    message: str | None = None  # why a trial that did not complete stopped


@dataclass(frozen=True)
class EstimateMismatch(Event):
    """A measured peak off its estimate by more than the tolerance: everything a bug report needs to redo it."""

    kind: ClassVar[str] = "estimate_mismatch"
    method: str
    figure: str  # one of FIGURES
    measured_bytes: int
    estimated_bytes: int
    ratio: float  # measured / estimated
    gpu: str | None = None
    setup: dict[str, Any] = field(default_factory=dict)  # the estimator's inputs
    versions: dict[str, str] = field(default_factory=dict)


COMPARE_EVENT_TYPES: tuple[type[Event], ...] = (CompareStarted, TrialStarted, TrialMeasured, EstimateMismatch)
