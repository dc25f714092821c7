"""One line per run for `ftwizard runs` and the TUI: state and the figures a person looks for first.

One run whose files cannot be read never hides the others: it is listed as `damaged`, with the reason and
whatever figures its readable files give.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuiapp.core.runs.action_history import action_records, latest_by_action
from tuiapp.core.runs.events import Event, Recovering
from tuiapp.core.runs.follow import EventFollower
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.oom import BatchSettings
from tuiapp.core.runs.run_damage import config_problem
from tuiapp.core.runs.status import RunState, WorkerStatus, is_alive, read_status_checked
from tuiapp.core.runs.summary_fold import SummaryFold
from tuiapp.core.user_error import UserError


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
    damaged: str | None = None  # why the run's files cannot be read (state "damaged"); the figures are what could be
    skipped_lines: int = 0  # lines of events.jsonl that are not events (cut by a crash, or mistyped) and were left out
    last_final: str | None = None  # the last final event's kind, whichever launch wrote it (resume reads it)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _here(artifacts: list[str], root: Path) -> list[str]:
    """The result folders as this run directory holds them: the completed event wrote absolute paths, which in
    a run folder copied or moved elsewhere name the original's `final/` (another run's files)."""
    return [
        str(root / Path(a).name) if Path(a).is_absolute() and not Path(a).is_relative_to(root) else a for a in artifacts
    ]


def summarize_run(paths: RunPaths, events: Iterable[Event] | None = None) -> RunSummary:
    """Read one run directory into a summary in one pass over its events (read from the file unless given)."""
    status, status_problem = read_status_checked(paths.status)
    follower = EventFollower(paths.events)
    fold = SummaryFold(status)
    problems = [status_problem, config_problem(paths.config)]
    try:
        for event in follower.stream() if events is None else events:
            fold.add(event)
    except OSError as exc:
        problems.append(f"{paths.events.name} cannot be read: {exc.strerror or exc}")
    try:
        checkpoint = paths.last_checkpoint()
    except OSError as exc:
        checkpoint, _ = None, problems.append(f"{paths.checkpoints.name}/ cannot be read: {exc.strerror or exc}")
    damage = "; ".join(problem for problem in problems if problem) or None
    state = "damaged" if damage else _state(status, fold)
    totals = fold.totals.totals()
    latest = latest_by_action(action_records(fold.action_events))
    metrics, started = fold.last_metrics, fold.last_started
    return RunSummary(
        name=paths.name,
        path=str(paths.root),
        state=state,
        pid=status.pid if status and state == "running" else None,
        started_at=fold.first_started.time if fold.first_started else None,
        updated_at=fold.last_time,
        step=totals.step,
        total_steps=metrics.total_steps if metrics else started.total_steps if started else None,
        loss=fold.last_loss,
        eval_loss=fold.last_eval.eval_loss if fold.last_eval else None,
        artifacts=_here(fold.last_completed.artifacts, paths.root)
        if fold.last_completed and state == "completed"
        else [],
        failure=fold.last_failed.message if fold.last_failed and state == "failed" else None,
        checkpoint=str(checkpoint) if checkpoint else None,
        oom_recoveries=fold.recoveries,
        recovered_settings=_settings_after(fold.last_recovery) if fold.last_recovery else None,
        train_loss=totals.train_loss,
        training_s=totals.training_s,
        tokens=totals.tokens,
        actions={record.action: record.state for record in latest.values()},
        action_lines=[record.line() for record in latest.values()],
        damaged=damage,
        skipped_lines=follower.skipped,
        last_final=fold.final_kind,
    )


def _state(status: WorkerStatus | None, fold: SummaryFold) -> RunState:
    """As `status.run_state` has it, from the fold's final event of the latest launch."""
    if status is None:
        return "created"
    if fold.launch_final_kind is not None:
        return fold.launch_final_kind  # type: ignore[return-value]
    return "running" if is_alive(status) else "died"


def _settings_after(event: Recovering) -> str:
    settings = BatchSettings(event.new_micro_batch_size, event.new_grad_accum, event.new_gradient_checkpointing)
    return settings.describe()


def list_runs(root: Path) -> list[RunSummary]:
    """Every run directory under `root` (a folder holding config.yaml), newest first; none when `root` does
    not exist yet. A root that is not a readable folder is a UserError: nothing could be listed."""
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise UserError(
            f"the runs folder {root} is a file, not a folder", "pass another one with --runs-dir DIR, or move the file"
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot read the runs folder {root}: {exc.strerror or exc}",
            f"give yourself read access (chmod u+rx {root}) or pass another folder with --runs-dir DIR",
        ) from None
    found: list[tuple[float, Path]] = []
    for folder in entries:
        try:
            is_run = folder.is_dir() and any((folder / name).exists() for name in RUN_FILES)
            when = folder.stat().st_mtime if is_run else 0.0
        except OSError:  # a folder we may not enter is listed, damaged; one removed while we read is gone
            is_run, when = folder.exists(), 0.0
        if is_run:
            found.append((when, folder))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [_summary_or_damaged(RunPaths(folder)) for _, folder in found]


RUN_FILES = ("config.yaml", "events.jsonl", "status.json")  # a folder holding any of them is a run


def _summary_or_damaged(paths: RunPaths) -> RunSummary:
    """The run's summary; should reading it fail in a way the checks above did not foresee, a damaged line."""
    try:
        return summarize_run(paths)
    except (OSError, ValueError, ArithmeticError, RecursionError) as exc:
        reason = f"cannot be read: {type(exc).__name__}: {str(exc)[:200]}"
        return RunSummary(paths.name, str(paths.root), "damaged", None, None, None, 0, None, None, None, [], None,
                          None, damaged=reason)  # fmt: skip
