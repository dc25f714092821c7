"""One line per run for `ftwizard runs` and the TUI: state and the figures a person looks for first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuiapp.core.runs.action_history import action_records, latest_by_action
from tuiapp.core.runs.events import Completed, EvalDone, Event, Failed, Metrics, Recovering, Started
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.oom import BatchSettings
from tuiapp.core.runs.run_totals import run_totals
from tuiapp.core.runs.status import RunState, is_alive, read_status, run_state


@dataclass(frozen=True)
class RunSummary:
    """A run at a glance."""

    name: str
    path: str
    state: RunState
    pid: int | None
    started_at: float | None  # first `started` event
    updated_at: float | None  # last event
    step: int  # the step reached (after a resume from an earlier checkpoint, that checkpoint's step at first)
    total_steps: int | None
    loss: float | None  # the last logged loss
    eval_loss: float | None
    artifacts: list[str]
    failure: str | None  # the failed event's message
    checkpoint: str | None  # the last complete checkpoint (what resume continues from)
    oom_recoveries: int = 0  # automatic restarts after running out of GPU memory
    recovered_settings: str | None = None  # the settings the last of them switched to, in words
    train_loss: float | None = None  # over the whole run, as the completed event has it (see run_totals)
    training_s: float = 0.0  # over every launch, loading and the gaps while stopped left out
    tokens: int | None = None  # trained on, over every launch
    actions: dict[str, str] = field(default_factory=dict)  # the last launch's state of each action run on it
    action_lines: list[str] = field(default_factory=list)  # and each in words: `merge: merged into …`

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize_run(paths: RunPaths, events: list[Event] | None = None) -> RunSummary:
    """Read one run directory into a summary (events are read unless given)."""
    events = read_events(paths.events) if events is None else events
    status = read_status(paths.status)
    state = run_state(status, events)
    started = [e for e in events if isinstance(e, Started)]
    metrics = [e for e in events if isinstance(e, Metrics)]
    evals = [e for e in events if isinstance(e, EvalDone)]
    completed = [e for e in events if isinstance(e, Completed)]
    failed = [e for e in events if isinstance(e, Failed)]
    recoveries = [e for e in events if isinstance(e, Recovering)]
    totals = run_totals(events)
    losses = [m.loss for m in metrics if m.loss is not None]
    checkpoint = paths.last_checkpoint()
    latest = latest_by_action(action_records(events))
    return RunSummary(
        name=paths.name,
        path=str(paths.root),
        state=state,
        pid=status.pid if status and state == "running" and is_alive(status) else None,
        started_at=started[0].time if started else None,
        updated_at=events[-1].time if events else None,
        step=totals.step,
        total_steps=(metrics[-1].total_steps if metrics else started[-1].total_steps if started else None),
        loss=losses[-1] if losses else None,
        eval_loss=evals[-1].eval_loss if evals else None,
        artifacts=completed[-1].artifacts if completed and state == "completed" else [],
        failure=failed[-1].message if failed and state == "failed" else None,
        checkpoint=str(checkpoint) if checkpoint else None,
        oom_recoveries=len(recoveries),
        recovered_settings=_settings_after(recoveries[-1]) if recoveries else None,
        train_loss=totals.train_loss,
        training_s=totals.training_s,
        tokens=totals.tokens,
        actions={record.action: record.state for record in latest.values()},
        action_lines=[record.line() for record in latest.values()],
    )


def _settings_after(event: Recovering) -> str:
    settings = BatchSettings(event.new_micro_batch_size, event.new_grad_accum, event.new_gradient_checkpointing)
    return settings.describe()


def list_runs(root: Path) -> list[RunSummary]:
    """Every run directory under `root` (a folder holding config.yaml), newest first."""
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if (p / "config.yaml").is_file()]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [summarize_run(RunPaths(p)) for p in folders]
