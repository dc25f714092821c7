"""Follow a run's events.jsonl in the terminal: one compact progress line, lifecycle events as lines.

On a terminal the progress line is redrawn in place; under nohup or a pipe it is printed as a new line at
most every `PLAIN_EVERY_S` seconds, so logs stay short. Ctrl-C asks the worker to stop gracefully.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
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

PLAIN_EVERY_S = 10.0
POLL_S = 0.3
EXIT_WAIT_S = 30.0
REASON_SHOWN = 80  # characters of the error in a recovery line (CUDA's message runs to hundreds)


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_line(event: Metrics, started: Started | None, recovered: Recovering | None = None) -> str:
    """`step 12/40 (30%) · epoch 0.60 · loss 2.314 · lr 1.8e-04 · 310 tok/s · ETA 0:01:23`, and after an
    out-of-memory recovery the settings that fit: `· micro-batch 2x4 after OOM`."""
    parts = [f"step {event.step}/{event.total_steps} ({100 * event.step // max(event.total_steps, 1)}%)"]
    if event.epoch is not None:
        parts.append(f"epoch {event.epoch:.2f}")
    if event.loss is not None:
        parts.append(f"loss {event.loss:.4f}")
    if event.learning_rate is not None:
        parts.append(f"lr {event.learning_rate:.1e}")
    if event.tokens_per_s is not None:
        parts.append(f"{event.tokens_per_s:,.0f} tok/s")
    if started is not None and event.step > started.step:
        per_step = (event.time - started.time) / (event.step - started.step)
        parts.append(f"ETA {_duration(per_step * (event.total_steps - event.step))}")
    if recovered is not None:
        parts.append(f"micro-batch {recovered.new_micro_batch_size}x{recovered.new_grad_accum} after OOM")
    return " · ".join(parts)


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
    """Prints events as they arrive; remembers the started event for the ETA and the last OOM recovery."""

    def __init__(self, paths: RunPaths, out: TextIO, tty: bool) -> None:
        self.paths, self.out, self.tty = paths, out, tty
        self.started: Started | None = None
        self.recovered: Recovering | None = None
        self.last_plain = 0.0
        self.open_line = False

    def show(self, event: Event) -> None:
        if isinstance(event, Started):
            self.started = event
        if isinstance(event, Recovering):
            self.recovered = event
        if isinstance(event, Metrics):
            line = progress_line(event, self.started, self.recovered)
            if self.tty:
                self.out.write(f"\r\033[K{line}")
                self.open_line = True
            elif time.monotonic() - self.last_plain >= PLAIN_EVERY_S or event.step == event.total_steps:
                self.out.write(line + "\n")
                self.last_plain = time.monotonic()
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
    """Print progress until the worker ends: 0 completed, 1 failed / stopped / died, 130 stopped by Ctrl-C."""
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
