"""The event log's lines for actions on a finished run (merge, GGUF, push): their start, outcome and
fixes; progress has the Finish screen's bar, not lines."""

from __future__ import annotations

from pathlib import PurePath

from tuiapp.core.runs.action_events import ActionCancelled, ActionDone, ActionFailed, ActionProgress, ActionStarted
from tuiapp.core.runs.event_base import Event

LINE_CHARS = 200
OUTPUTS_SHOWN = 3


def action_texts(event: Event) -> list[tuple[str, str]] | None:
    """(text, level) lines for an action event; None for any other event."""
    if isinstance(event, ActionProgress):
        return []
    if isinstance(event, ActionStarted):
        detail = f": {event.detail}" if event.detail else ""
        return [(f"{event.action} started{detail}"[:LINE_CHARS], "info")]
    if isinstance(event, ActionDone):
        lines = [(f"{event.action} done: {event.summary}"[:LINE_CHARS], "good")]
        lines += [
            (f"{PurePath(o).name if o.startswith('/') else o}"[:LINE_CHARS], "detail")
            for o in event.outputs[:OUTPUTS_SHOWN]
        ]
        return lines + [(note[:LINE_CHARS], "detail") for note in event.notes]
    if isinstance(event, ActionFailed):
        lines = [(f"{event.action} failed: {event.message}"[:LINE_CHARS], "error")]
        return lines + [(f"Fix: {fix}"[:LINE_CHARS], "detail") for fix in event.fixes]
    if isinstance(event, ActionCancelled):
        return [(f"{event.action} cancelled; nothing half-written was kept", "warn")]
    return None
