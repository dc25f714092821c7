"""Run directories: layout, status, events (schema, writer, tail-follower), listing and the worker launcher.

Pure: stdlib, psutil and the config only, so the TUI and the CLI can watch a run without torch.
"""

from tuiapp.core.runs.events import (
    FINAL_KINDS,
    CheckpointSaved,
    Completed,
    EvalDone,
    Event,
    EventWriter,
    Failed,
    Metrics,
    Phase,
    Recovering,
    Started,
    Stopped,
    event_to_json,
    parse_event,
)
from tuiapp.core.runs.follow import EventFollower, read_events
from tuiapp.core.runs.layout import RunPaths, default_runs_root, find_run, resolve_runs_root
from tuiapp.core.runs.listing import RunSummary, list_runs, summarize_run
from tuiapp.core.runs.status import RunState, read_status, run_state

__all__ = [
    "FINAL_KINDS",
    "CheckpointSaved",
    "Completed",
    "EvalDone",
    "Event",
    "EventFollower",
    "EventWriter",
    "Failed",
    "Metrics",
    "Phase",
    "Recovering",
    "RunPaths",
    "RunState",
    "RunSummary",
    "Started",
    "Stopped",
    "default_runs_root",
    "event_to_json",
    "find_run",
    "list_runs",
    "parse_event",
    "read_events",
    "read_status",
    "resolve_runs_root",
    "run_state",
    "summarize_run",
]
