"""`ftwizard attach`'s event log shows the actions run on a finished run: start, outcome, fixes; not progress."""

from __future__ import annotations

from tuiapp.core.runs.action_events import (
    ActionCancelled,
    ActionDone,
    ActionFailed,
    ActionProgress,
    ActionStarted,
)
from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.events import event_to_json, parse_event


def test_action_events_round_trip_and_become_log_lines() -> None:
    events = [
        ActionStarted("gguf", "gguf-1", 42, "q8_0", time=1.0),
        ActionProgress("gguf", "gguf-1", "converting", 3, 9, time=2.0),
        ActionDone(
            "gguf",
            "gguf-1",
            "wrote demo-Q8_0.gguf",
            ["/runs/demo/gguf/demo-Q8_0.gguf"],
            notes=["ollama create"],
            time=3.0,
        ),
        ActionStarted("push", "push-1", 43, time=4.0),
        ActionFailed("push", "push-1", "no Hugging Face token", ["run `hf auth login`"], time=5.0),
        ActionStarted("merge", "merge-1", 44, time=6.0),
        ActionCancelled("merge", "merge-1", time=7.0),
    ]
    parsed = [parse_event(event_to_json(event)) for event in events]
    assert parsed == events
    state = DashboardState("demo")
    lines = [(line.text, line.level) for line in state.apply(parsed)]
    assert lines == [
        ("gguf started: q8_0", "info"),
        ("gguf done: wrote demo-Q8_0.gguf", "good"),
        ("demo-Q8_0.gguf", "detail"),
        ("ollama create", "detail"),
        ("push started", "info"),
        ("push failed: no Hugging Face token", "error"),
        ("Fix: run `hf auth login`", "detail"),
        ("merge started", "info"),
        ("merge cancelled; nothing half-written was kept", "warn"),
    ]
    assert state.final is None, "actions are not the run's own end"
