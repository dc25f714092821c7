"""The event log's lines: one readable line per lifecycle event (metrics have charts, not lines).

A kind without a line of its own (an OtherEvent, or an Event subclass added after this file) is shown
generically as `kind: field value · field value`, so nothing a worker writes is ever hidden.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from tuiapp.core.runs.action_lines import action_texts
from tuiapp.core.runs.events import CheckpointSaved, Completed, EvalDone, Failed, Metrics, Phase, Started, Stopped
from tuiapp.core.runs.other_events import AnyEvent, OtherEvent

Level = Literal["info", "good", "warn", "error", "detail"]
TRACEBACK_SHOWN = 3  # last traceback lines in the log (the whole tail is in worker.log)
VALUE_CHARS = 60


@dataclass(frozen=True)
class LogLine:
    """One line of the event log; `detail` lines belong to the line above them. `clock_s` is the run's training
    time when the event came (what the log shows), where known."""

    time: float
    kind: str
    text: str
    level: Level = "info"
    clock_s: float | None = None


def duration(seconds: float) -> str:
    """`1:02:03` (hours not padded, minutes and seconds always two digits)."""
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        text = ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(_value(v) for v in value)
    elif isinstance(value, str) and value.startswith("/"):
        text = PurePath(value).name  # a path: its last part says enough in a log line
    else:
        text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def generic_text(kind: str, fields: dict[str, Any]) -> str:
    """`recovering: step 12 · reason out_of_memory` for any event; empty and None fields are left out."""
    parts = [f"{k.replace('_', ' ')} {_value(v)}" for k, v in fields.items() if v not in (None, "", [], {})]
    return f"{kind.replace('_', ' ')}: " + " · ".join(parts) if parts else kind.replace("_", " ")


def _started(event: Started) -> list[tuple[str, Level]]:
    device = event.hardware.get("device") or "?"
    if event.resumed_from:
        head = f"resumed at step {event.step} from {PurePath(event.resumed_from).name}: {event.total_steps} steps"
    else:
        head = f"started: {event.total_steps} steps"
    notes = [("notes: " + "; ".join(event.notes), "detail")] if event.notes else []
    return [(f"{head} on {device}", "info"), *notes]


def phase_text(event: Phase, counts: bool = True) -> str:
    """`preparing the dataset: tokenizing train dataset 120/500` (without the counts for the log)."""
    text = f"{event.name}: {event.detail}" if event.detail else event.name
    if counts and event.done is not None:
        text += f" {event.done:,}/{event.total:,}" if event.total else f" {event.done:,}"
    return text


def _failed(event: Failed) -> list[tuple[str, Level]]:
    where = f" at step {event.step}" if event.step is not None else ""
    lines: list[tuple[str, Level]] = [(f"failed ({event.reason}){where}: {event.message}", "error")]
    lines += [(line, "detail") for line in event.traceback_tail[-TRACEBACK_SHOWN:]]
    return lines


def _texts(event: AnyEvent, run_name: str) -> list[tuple[str, Level]]:
    if isinstance(event, OtherEvent):
        return [(generic_text(event.kind, event.fields), "warn")]
    if isinstance(event, Metrics):
        return []
    if isinstance(event, Started):
        return _started(event)
    if isinstance(event, Phase):
        return [(phase_text(event, counts=False), "info")]
    if isinstance(event, EvalDone):
        loss = f"{event.eval_loss:.4f}" if event.eval_loss is not None else "-"
        accuracy = event.metrics.get("eval_mean_token_accuracy")
        extra = f" · token accuracy {accuracy:.1%}" if accuracy is not None else ""
        return [(f"eval at step {event.step}: eval loss {loss}{extra}", "info")]
    if isinstance(event, CheckpointSaved):
        return [(f"checkpoint saved at step {event.step} ({PurePath(event.path).name})", "info")]
    if isinstance(event, Completed):
        took = f" in {duration(event.runtime_s)}" if event.runtime_s is not None else ""
        loss = f" · train loss {event.train_loss:.4f}" if event.train_loss is not None else ""
        return [(f"completed at step {event.step}{took}{loss}", "good")] + [
            (f"result: {artifact}", "detail") for artifact in event.artifacts
        ]
    if isinstance(event, Stopped):
        saved = f"; checkpoint {PurePath(event.checkpoint).name}" if event.checkpoint else "; no checkpoint yet"
        return [(f"stopped at step {event.step}{saved}", "warn"), (f"continue: ftwizard resume {run_name}", "detail")]
    if isinstance(event, Failed):
        return _failed(event)
    if (lines := action_texts(event)) is not None:
        return lines  # type: ignore[return-value]
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "time"}
    return [(generic_text(event.kind, fields), "warn")]


def log_lines(event: AnyEvent, run_name: str, clock_s: float | None = None) -> list[LogLine]:
    """The log lines for one event (none for metrics), timed by `clock_s` when given."""
    return [LogLine(event.time, event.kind, text, level, clock_s) for text, level in _texts(event, run_name)]
