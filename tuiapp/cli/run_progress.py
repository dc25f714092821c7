"""Follow a run's events.jsonl in the terminal: one compact progress line, lifecycle events as lines.

On a terminal the progress line is redrawn in place, cut to the terminal's width so it never wraps; under
nohup, a pipe or a file each log step (each metrics event) is a new line. Ctrl-C asks the worker to stop
gracefully.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TextIO

from tuiapp.core.runs.events import (
    CheckpointSaved,
    Completed,
    EvalDone,
    Event,
    Failed,
    Metrics,
    Recovering,
    Started,
    Stopped,
)
from tuiapp.core.runs.follow import EventFollower
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.status import is_alive, read_status
from tuiapp.core.user_error import UserError

POLL_S = 0.3
EXIT_WAIT_S = 30.0
REASON_SHOWN = 80  # characters of the error in a recovery line (CUDA's message runs to hundreds)


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_line(
    event: Metrics, started: Started | None, recovered: Recovering | None = None, width: int | None = None
) -> str:
    """`step 12/40 (30%) · epoch 0.60 · loss 2.314 · lr 1.8e-04 · 310 tok/s · ETA 0:01:23`, and after an
    out-of-memory recovery the settings that fit: `· micro-batch 2x4 after OOM`. With `width`, the least
    important parts are left out until the line fits (the step last of all, cut short if it must be)."""
    parts = [(0, f"step {event.step}/{event.total_steps} ({100 * event.step // max(event.total_steps, 1)}%)")]
    if event.epoch is not None:
        parts.append((4, f"epoch {event.epoch:.2f}"))
    if event.loss is not None:
        parts.append((1, f"loss {event.loss:.4f}"))
    if event.learning_rate is not None:
        parts.append((6, f"lr {event.learning_rate:.1e}"))
    if event.tokens_per_s is not None:
        parts.append((5, f"{event.tokens_per_s:,.0f} tok/s"))
    if started is not None and event.step > started.step:
        per_step = (event.time - started.time) / (event.step - started.step)
        parts.append((2, f"ETA {_duration(per_step * (event.total_steps - event.step))}"))
    if recovered is not None:
        parts.append((3, f"micro-batch {recovered.new_micro_batch_size}x{recovered.new_grad_accum} after OOM"))
    return fit_parts(parts, width)


def fit_parts(parts: list[tuple[int, str]], width: int | None, sep: str = " · ") -> str:
    """The parts joined in order; when longer than `width`, the highest-ranked (least important) go first."""
    kept = list(parts)
    line = sep.join(text for _, text in kept)
    while width is not None and len(line) > width and len(kept) > 1:
        kept.remove(max(kept, key=lambda part: part[0]))
        line = sep.join(text for _, text in kept)
    if width is not None and len(line) > width:
        line = line[: max(width - 1, 0)] + "…" if width > 0 else ""
    return line


def terminal_width() -> int:
    """Columns a redrawn line may use: one less than the terminal's, as writing the last column wraps on some."""
    return max(shutil.get_terminal_size().columns - 1, 1)


def recovering_line(event: Recovering) -> str:
    """What ran out of memory, and what the worker tries next."""
    changes = []
    if (event.old_micro_batch_size, event.old_grad_accum) != (event.new_micro_batch_size, event.new_grad_accum):
        changes.append(
            f"micro-batch {event.old_micro_batch_size} x {event.old_grad_accum} accumulation -> "
            f"{event.new_micro_batch_size} x {event.new_grad_accum} (same effective batch)"
        )
    if event.new_gradient_checkpointing and not event.old_gradient_checkpointing:
        changes.append("gradient checkpointing on")
    where = f"step {event.step} (last checkpoint)" if event.checkpoint else "the start (no checkpoint yet)"
    reason = event.reason if len(event.reason) <= REASON_SHOWN else event.reason[: REASON_SHOWN - 1] + "…"
    return (
        f"out of memory ({reason}); recovery {event.attempt} of {event.max_attempts}: "
        f"restarting from {where} with {', '.join(changes)}"
    )


def lifecycle_line(event: Event, paths: RunPaths) -> str | None:
    """A line for each lifecycle event (None for metrics)."""
    if isinstance(event, Started):
        where = f"resuming at step {event.step}" if event.resumed_from else "training"
        device = event.hardware.get("device", "?")
        return f"{where}: {event.total_steps} steps on {device}" + "".join(f"\n  note: {n}" for n in event.notes)
    if isinstance(event, EvalDone):
        return f"eval at step {event.step}: eval_loss {event.eval_loss:.4f}" if event.eval_loss is not None else None
    if isinstance(event, CheckpointSaved):
        return f"checkpoint saved at step {event.step}"
    if isinstance(event, Completed):
        return f"completed at step {event.step}: result in {', '.join(event.artifacts)}"
    if isinstance(event, Stopped):
        return f"stopped at step {event.step}; continue with: ftwizard resume {paths.name}"
    if isinstance(event, Recovering):
        return recovering_line(event)
    if isinstance(event, Failed):
        if event.fixes:
            hint = "\n  fixes (any one lowers the memory needed):" + "".join(f"\n  - {fix}" for fix in event.fixes)
        else:
            hint = f"\n  fix: {event.hint}" if event.hint else ""
        return f"failed ({event.reason}): {event.message}{hint}\n  log: {paths.log}"
    return None


class ProgressPrinter:
    """Prints events as they arrive; remembers the started event for the ETA and the last OOM recovery.

    Each metrics event is one log step: on a terminal it redraws the progress line (as wide as the terminal
    is now), elsewhere it is a line of its own, so a log holds every step, the first after a resume too."""

    def __init__(self, paths: RunPaths, out: TextIO, tty: bool, width: Callable[[], int] = terminal_width) -> None:
        self.paths, self.out, self.tty, self.width = paths, out, tty, width
        self.started: Started | None = None
        self.recovered: Recovering | None = None
        self.open_line = False

    def show(self, event: Event) -> None:
        if isinstance(event, Started):
            self.started = event
        if isinstance(event, Recovering):
            self.recovered = event
        if isinstance(event, Metrics):
            if self.tty:
                line = progress_line(event, self.started, self.recovered, self.width())
                self.out.write(f"\r\033[K{line}")
                self.open_line = True
            else:
                self.out.write(progress_line(event, self.started, self.recovered) + "\n")
        else:
            text = lifecycle_line(event, self.paths)
            if text:
                self.out.write(("\n" if self.open_line else "") + text + "\n")
                self.open_line = False
        self.out.flush()


def _let_it_exit(process: subprocess.Popen[bytes] | None) -> None:
    """Wait for a worker that wrote its final event, so a `resume` right after finds it gone."""
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=EXIT_WAIT_S)


def follow_run(paths: RunPaths, follower: EventFollower, process: subprocess.Popen[bytes] | None = None) -> int:
    """Print progress until the worker ends: 0 completed, 2 failed for a classified reason (the user can act on
    it: bad data, a missing model, out of memory, a full disk), 1 an unexpected failure / stopped /
    died, 130 stopped by Ctrl-C."""
    from tuiapp.core.runs.launcher import stop_run

    printer = ProgressPrinter(paths, sys.stdout, sys.stdout.isatty())
    interrupted = False
    while True:
        try:
            status = read_status(paths.status)
            # Checked before reading, so the events a worker wrote just before it exited are still seen.
            exited = process.poll() is not None if process is not None else not (status and is_alive(status))
            for event in follower.poll():
                printer.show(event)
                if isinstance(event, Completed | Stopped | Failed):
                    _let_it_exit(process)
                    if isinstance(event, Completed):
                        return 0
                    if isinstance(event, Failed) and event.reason != "error":  # classified: the user's to fix
                        return 2
                    return 130 if interrupted and isinstance(event, Stopped) else 1
            if exited:
                print(f"\nftwizard: the worker ended without a final event (died); log: {paths.log}", file=sys.stderr)
                return 1
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            if interrupted:
                print(f"\nftwizard: leaving run {paths.name} to stop in the background", file=sys.stderr)
                return 130
            interrupted = True
            print("\nftwizard: stopping: saving a checkpoint (Ctrl-C again to stop waiting)", file=sys.stderr)
            with contextlib.suppress(UserError):  # it may have ended on its own meanwhile
                stop_run(paths)
