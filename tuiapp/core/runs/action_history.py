"""What each action launched on a run did, read back from its events: the Finish screen's and `ftwizard runs`'
view of merge, GGUF and push (one record per launch, the latest last)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tuiapp.core.runs.action_events import (
    ActionCancelled,
    ActionDone,
    ActionFailed,
    ActionProgress,
    ActionStarted,
)
from tuiapp.core.runs.event_base import Event
from tuiapp.core.runs.status import WorkerStatus, is_alive

ActionState = Literal["running", "done", "failed", "cancelled", "died"]


@dataclass(frozen=True)
class ActionRecord:
    """One launch of an action, as far as its events go."""

    action: str
    action_id: str
    state: ActionState
    pid: int
    started_at: float
    detail: str | None = None
    phase: str | None = None  # the last progress event's
    fraction: float | None = None
    summary: str | None = None  # done
    outputs: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    message: str | None = None  # failed
    fixes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for a list: `merge: done — merged into RUN/merged (bf16, 1.2 GiB)`."""
        text = {
            "running": f"{self.phase or 'starting'}" + (f" {self.fraction:.0%}" if self.fraction is not None else ""),
            "done": self.summary or "done",
            "failed": f"failed: {self.message}",
            "cancelled": "cancelled",
            "died": "stopped without a word (its process is gone): run it again",
        }[self.state]
        return f"{self.action}: {text}"


def _alive(record: ActionRecord) -> bool:
    return is_alive(WorkerStatus(record.pid, None, record.started_at))


def action_records(events: list[Event], check_alive: bool = True) -> list[ActionRecord]:
    """Every action launch in `events`, oldest first. One whose process is gone without a final event
    is "died" (checked only when `check_alive`; otherwise it stays "running")."""
    records: dict[str, ActionRecord] = {}
    for event in events:
        if isinstance(event, ActionStarted):
            records[event.action_id] = ActionRecord(
                event.action, event.action_id, "running", event.pid, event.time, event.detail
            )
            continue
        record = records.get(getattr(event, "action_id", ""))
        if record is None or record.state != "running":
            continue
        if isinstance(event, ActionProgress):
            records[record.action_id] = _replace(record, phase=event.phase, fraction=event.fraction)
        elif isinstance(event, ActionDone):
            records[record.action_id] = _replace(
                record, state="done", summary=event.summary, outputs=event.outputs, facts=event.facts,
                notes=event.notes, fraction=1.0,
            )  # fmt: skip
        elif isinstance(event, ActionFailed):
            records[record.action_id] = _replace(record, state="failed", message=event.message, fixes=event.fixes)
        elif isinstance(event, ActionCancelled):
            records[record.action_id] = _replace(record, state="cancelled")
    found = list(records.values())
    if check_alive:
        found = [_replace(r, state="died") if r.state == "running" and not _alive(r) else r for r in found]
    return found


def latest_by_action(records: list[ActionRecord]) -> dict[str, ActionRecord]:
    """The last launch of each action."""
    return {record.action: record for record in records}


def _replace(record: ActionRecord, **changes: Any) -> ActionRecord:
    from dataclasses import replace

    return replace(record, **changes)
