"""The training worker: `python -m tuiapp.training.worker RUN_DIR`.

It runs the run directory's config with the chosen backend, writes events to `events.jsonl` (`phase` ones
while it loads, so nobody waits in silence), and always ends with one final event: completed (its train
loss, time and tokens summed over every launch of the run, `run_totals`), stopped (SIGTERM / SIGINT: save
a checkpoint, then stop; a second signal stops at once) or failed (with a classified reason). SIGHUP is
ignored, so a dropped SSH link does not end training. A run with checkpoints continues from the last one;
GPU out-of-memory first restarts from there with lighter settings (`oom_recovery`).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.runs.events import Completed, Event, EventWriter, Failed, Stopped
from tuiapp.core.runs.failure import classify_failure, traceback_tail
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.run_totals import completed_with_totals
from tuiapp.core.runs.status import read_status, write_status
from tuiapp.core.user_error import UserError

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

Backend = Callable[["FTConfig", RunPaths, EventWriter, Callable[[], bool]], Event]


class HardStop(BaseException):
    """Raised by a second stop signal: leave now, without a checkpoint."""


def pick_backend(framework: str) -> Backend:
    """The one place that maps `framework` to a backend module."""
    if framework == "hf":
        from tuiapp.training.backend_hf import train

        return train
    if framework == "unsloth":  # imports no ML library: its train() imports Unsloth before anything heavy
        from tuiapp.training.backend_unsloth import train

        return train
    if framework == "axolotl":  # imports no ML library: Axolotl runs from its own environment, as a child
        from tuiapp.training.backend_axolotl import train

        return train
    raise UserError(f"the {framework} backend is not available yet: set framework: hf in the config")


def _install_signal_handlers(stop: threading.Event) -> None:
    def on_stop(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise HardStop
        stop.set()
        print(f"ftwizard worker: {signal.Signals(signum).name} received, saving a checkpoint and stopping", flush=True)

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _record_pid(paths: RunPaths) -> None:
    """Write our pid unless the launcher already did (started by hand, the worker records itself)."""
    import os

    status = read_status(paths.status)
    if status is None or status.pid != os.getpid():
        write_status(paths.status, os.getpid())


def _failed(exc: BaseException, paths: RunPaths) -> Failed:
    """The failed event for an exception; the full traceback goes to the worker's log. A full disk is told with
    its path, the step reached and the checkpoints still intact (`disk_full`)."""
    why = classify_failure(exc)
    message = why.message or str(exc) or f"{type(exc).__name__} (no message)"
    failed = Failed(reason=why.reason, message=message, hint=why.hint, traceback_tail=traceback_tail(exc))
    if why.reason == "disk_full":  # first: it removes the checkpoint cut short, giving its space back
        from tuiapp.training.disk_full import disk_full_failure

        failed = disk_full_failure(exc, paths, failed)
    with contextlib.suppress(OSError):  # the log may be on the disk that is full
        traceback.print_exception(exc)
    return failed


def _checkpoint_step(checkpoint: Path | None) -> int:
    return int(checkpoint.name.removeprefix("checkpoint-")) if checkpoint else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when training completed or was stopped on request, 1 when it failed, 2 on a bad argument."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not (Path(args[0]) / "config.yaml").is_file():
        print("usage: python -m tuiapp.training.worker RUN_DIR (a folder holding config.yaml)", file=sys.stderr)
        return 2
    paths = RunPaths(Path(args[0]).resolve())
    stop = threading.Event()
    _install_signal_handlers(stop)
    _record_pid(paths)
    with EventWriter(paths.events) as writer:
        final = run(paths, stop, writer)
        if isinstance(final, Completed):  # the trainer's figures cover this launch only
            final = completed_with_totals(final, read_events(paths.events))
        writer.write(final)
    print(f"ftwizard worker: {final.kind}", flush=True)
    return 0 if isinstance(final, Completed | Stopped) else 1


def run(paths: RunPaths, stop: threading.Event, writer: EventWriter) -> Event:
    """Load the config and train; every outcome becomes the final event, never an escaping exception."""
    from tuiapp.core.config import load_config
    from tuiapp.core.context_check import past_context_refusal
    from tuiapp.training.oom_recovery import train_with_recovery

    try:
        config = load_config(paths.config)
        if problem := past_context_refusal(config):  # what `ftwizard check` calls an error, the worker refuses
            raise UserError(problem)
        return train_with_recovery(pick_backend(config.framework), config, paths, writer, stop.is_set)
    except HardStop:
        checkpoint = paths.last_checkpoint()
        return Stopped(step=_checkpoint_step(checkpoint), checkpoint=str(checkpoint) if checkpoint else None)
    except BaseException as exc:  # a failed event must be written whatever broke
        return _failed(exc, paths)


if __name__ == "__main__":
    sys.exit(main())
