"""Events of the actions run on a finished run (merge, GGUF, push): written to the run's `events.jsonl`
beside training's own, so the Finish screen, `ftwizard attach` and `ftwizard runs` all see them.

Each launch of an action has its own `action_id`; its events are one `action_started`, any number of
`action_progress`, and one of `action_done` / `action_failed` / `action_cancelled` (none when the process
was killed: readers call that "died"). None of these is a training final event: a completed run stays
completed whatever its actions do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from tuiapp.core.runs.event_base import Event, progress_fraction

ACTIONS = ("merge", "gguf", "push")  # the ones run through tuiapp.training.action_main (chat talks on pipes)


@dataclass(frozen=True)
class ActionStarted(Event):
    """An action's process began; `detail` says what it was asked (`bf16 into RUN/merged`)."""

    kind: ClassVar[str] = "action_started"
    action: str
    action_id: str
    pid: int
    detail: str | None = None


@dataclass(frozen=True)
class ActionProgress(Event):
    """What the action is busy with; `done` of `total` where it can be counted (bytes, shards, files)."""

    kind: ClassVar[str] = "action_progress"
    action: str
    action_id: str
    phase: str
    done: int | None = None
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        return progress_fraction(self.done, self.total)


@dataclass(frozen=True)
class ActionDone(Event):
    """The action finished: one sentence, the files or URLs it produced, and its figures by name."""

    kind: ClassVar[str] = "action_done"
    action: str
    action_id: str
    summary: str
    outputs: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the user should know (a QLoRA merge is onto 16-bit)


@dataclass(frozen=True)
class ActionFailed(Event):
    """The action could not finish: what went wrong and the fixes that apply; nothing half-written is kept."""

    kind: ClassVar[str] = "action_failed"
    action: str
    action_id: str
    message: str
    fixes: list[str] = field(default_factory=list)
    crash_log: str | None = None  # an unexpected error's traceback, for a bug report


@dataclass(frozen=True)
class ActionCancelled(Event):
    """Stopped on request (the Finish screen's cancel key, Ctrl+C); partial files were removed."""

    kind: ClassVar[str] = "action_cancelled"
    action: str
    action_id: str


ACTION_EVENT_TYPES: tuple[type[Event], ...] = (ActionStarted, ActionProgress, ActionDone, ActionFailed, ActionCancelled)
ACTION_FINAL_KINDS = frozenset({"action_done", "action_failed", "action_cancelled"})
