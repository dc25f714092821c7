"""The events a training worker (and an action on its result) writes to `events.jsonl`, one JSON object a
line, and how to read them back.

Each event is a small frozen dataclass; on disk it is `{"event": KIND, "time": UNIX_SECONDS, ...fields}`.
Readers (the TUI, `ftwizard runs`) use `parse_event`, which ignores unknown keys and unknown kinds, so an
older reader keeps working on a newer log (and a newer reader on an older one: `phase` events and the
metrics' `tokens` are recent, and nothing requires them). Nothing here imports torch.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tuiapp.core.runs.action_events import ACTION_EVENT_TYPES
from tuiapp.core.runs.compare_events import COMPARE_EVENT_TYPES  # ftwizard compare's: trial_measured, ...
from tuiapp.core.runs.event_base import Event, progress_fraction
from tuiapp.core.runs.event_fields import field_checks


@dataclass(frozen=True)
class Started(Event):
    """The worker has loaded everything and is about to train (again, when `resumed_from` is set)."""

    kind: ClassVar[str] = "started"
    pid: int
    step: int  # the step training starts from (0, or the checkpoint's step on resume)
    total_steps: int
    resumed_from: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # settings the worker adjusted, and why
    allocator_conf: str | None = None  # PYTORCH_CUDA_ALLOC_CONF=... as the worker ran (None: older runs, or unset)


@dataclass(frozen=True)
class Metrics(Event):
    """One logging step's figures; a value the trainer did not report is None."""

    kind: ClassVar[str] = "metrics"
    step: int
    total_steps: int
    epoch: float | None = None
    loss: float | None = None
    learning_rate: float | None = None
    grad_norm: float | None = None
    tokens_per_s: float | None = None
    samples_per_s: float | None = None
    gpu_memory_allocated: int | None = None  # bytes, torch's view (CUDA only)
    gpu_memory_reserved: int | None = None
    tokens: int | None = None  # tokens trained on in this launch so far (TRL's count restarts at each launch)


LOADING_LIBRARIES = "loading the training libraries"
LOADING_MODEL = "loading the model"
PREPARING_DATASET = "preparing the dataset"
LOADING_CHECKPOINT = "loading the checkpoint"
FIRST_STEP = "first step"
STEP_PHASES = frozenset({FIRST_STEP})  # phases after `started`; any other one belongs to a launch still loading


@dataclass(frozen=True)
class Phase(Event):
    """What the worker is busy with before the first logged step (loading, preparing data, the first step), so
    nobody stares at a silent screen; `done` of `total` where the work can be counted (None where it cannot)."""

    kind: ClassVar[str] = "phase"
    name: str  # one of the names above, or a newer worker's own
    detail: str | None = None  # e.g. the model's name, or "tokenizing train dataset"
    done: int | None = None
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        """How far this phase is, 0 to 1, when its total is known."""
        return progress_fraction(self.done, self.total)


@dataclass(frozen=True)
class EvalDone(Event):
    """An evaluation pass finished."""

    kind: ClassVar[str] = "eval"
    step: int
    eval_loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """A checkpoint (weights or adapter, optimizer, scheduler, RNG, trainer state) is on disk."""

    kind: ClassVar[str] = "checkpoint_saved"
    step: int
    path: str


@dataclass(frozen=True)
class Recovering(Event):
    """The GPU ran out of memory: the worker restarts from the last checkpoint with lighter settings (the
    `new_*` ones, written to the run's config.yaml too) and the same effective batch."""

    kind: ClassVar[str] = "recovering"
    attempt: int  # 1 for the first recovery of this launch
    max_attempts: int  # training.oom_retries
    reason: str  # the error's first line
    step: int  # the step training restarts from (the last checkpoint's, or 0)
    checkpoint: str | None
    old_micro_batch_size: int
    old_grad_accum: int
    old_gradient_checkpointing: bool
    new_micro_batch_size: int
    new_grad_accum: int
    new_gradient_checkpointing: bool


@dataclass(frozen=True)
class Completed(Event):
    """Training finished and the result is saved; `artifacts` are the folders to use or upload."""

    kind: ClassVar[str] = "completed"
    step: int
    artifacts: list[str] = field(default_factory=list)
    train_loss: float | None = None  # over the whole run, resumed parts included (see run_totals)
    runtime_s: float | None = None  # training time over every launch, the gaps while stopped left out
    tokens: int | None = None
    """Tokens trained on over every launch, for tokens/s over the whole run."""


@dataclass(frozen=True)
class Stopped(Event):
    """Stopped on request (SIGTERM / SIGINT); `checkpoint` is where `ftwizard resume` continues from."""

    kind: ClassVar[str] = "stopped"
    step: int
    checkpoint: str | None = None


@dataclass(frozen=True)
class Failed(Event):
    """The worker could not go on: a classified `reason`, a readable `message`, the traceback's tail."""

    kind: ClassVar[str] = "failed"
    reason: str
    message: str
    step: int | None = None
    hint: str | None = None
    traceback_tail: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)  # the changes that apply, one each (`hint` joins them)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        Started,
        Phase,
        Metrics,
        EvalDone,
        CheckpointSaved,
        Recovering,
        Completed,
        Stopped,
        Failed,
        *ACTION_EVENT_TYPES,
        *COMPARE_EVENT_TYPES,
    )
}
FINAL_KINDS = frozenset({"completed", "stopped", "failed"})


def event_to_json(event: Event) -> dict[str, Any]:
    """The on-disk form: `event` and `time` first, then the fields."""
    body = asdict(event)
    return {"event": event.kind, "time": body.pop("time"), **body}


def parse_event(data: Any) -> Event | None:
    """An Event from one decoded line, or None for an unknown kind or a malformed object: a missing field,
    or one whose value is not of its type and within its bounds (see event_fields)."""
    if not isinstance(data, dict):
        return None
    cls = EVENT_TYPES.get(data.get("event")) if isinstance(data.get("event"), str) else None
    if cls is None:
        return None
    checks = field_checks(cls)
    values = {k: v for k, v in data.items() if k in checks}
    if not all(checks[name](value) for name, value in values.items()):
        return None  # `"time": "yesterday"`, `"step": -3`: a line another program (or a person) wrote
    try:
        return cls(**values)
    except TypeError:  # a required field is missing
        return None


def _finite(value: Any) -> Any:
    """NaN and infinities become None: strict JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class EventWriter:
    """Appends events to a run's `events.jsonl`, one line each, written at once so a reader sees it.

    Each line goes out in one `write` on an append-only descriptor, and starts on a fresh line: when the file
    does not end in a newline (a crash cut the last line, ours or another process's), a newline comes first,
    so the cut line stays one skipped line and this event is read (a resumed launch's `started` included).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)

    def write(self, event: Event) -> None:
        if self._fd is None:
            raise ValueError(f"the event writer of {self.path} is closed")
        body = _finite(event_to_json(event))
        line = json.dumps(body, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8", "replace") + b"\n"
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        view = memoryview(line)
        while view:  # a regular file takes it whole; a short write only comes with an error on the next call
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
