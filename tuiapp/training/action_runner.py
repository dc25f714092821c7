"""Runs one action (merge, GGUF, push) on a run, in whatever process calls it: `ftwizard merge` in its own,
the Finish screen through `python -m tuiapp.training.action_main`. It writes the action's events, turns
SIGTERM / Ctrl+C into a cancel (the body's `finally` blocks remove partial files), and a UserError or any
other exception into one `action_failed` event: the user never sees a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuiapp.core.crash_log import write_crash_log
from tuiapp.core.runs.action_events import (
    ActionCancelled,
    ActionDone,
    ActionFailed,
    ActionProgress,
    ActionStarted,
)
from tuiapp.core.runs.events import EventWriter
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

PROGRESS_EVERY_S = 0.25  # counted progress is written at most this often (a phase change always)
EXIT_DONE, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130


class Cancelled(BaseException):
    """A stop request (SIGTERM, SIGINT) reached the action; a BaseException so `except Exception` keeps out."""


@dataclass(frozen=True)
class ActionOutcome:
    """What a finished action returns: one sentence, what it produced, figures by name, notes."""

    summary: str
    outputs: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class ActionReport:
    """Handed to an action's body: `phase()` says what it is doing (and how far); `cancelled` is checked
    by long loops that run outside Python's signal handling (a thread, a C loop)."""

    def __init__(self, writer: EventWriter, action: str, action_id: str, echo: Callable[[str], None] | None):
        self._writer, self.action, self.action_id, self._echo = writer, action, action_id, echo
        self._last_phase: str | None = None
        self._last_write = 0.0
        self.cancelled = threading.Event()
        self.committed = False  # past the point of no return: the output is being put in place

    def phase(self, name: str, done: int | None = None, total: int | None = None) -> None:
        now = time.monotonic()
        changed = name != self._last_phase
        finished = done is not None and total is not None and done >= total
        if not changed and not finished and now - self._last_write < PROGRESS_EVERY_S:
            return
        self._last_phase, self._last_write = name, now
        self._writer.write(ActionProgress(self.action, self.action_id, name, done, total))
        if self._echo is not None:
            counted = f" {done}/{total}" if done is not None and total else ""
            self._echo(f"{self.action}: {name}{counted}")

    def commit(self) -> None:
        """From here on a stop request no longer cancels: the finished output is being renamed into place, and
        reporting "cancelled" with the output there would be a lie (call it just before the final rename)."""
        self.committed = True

    def check(self) -> None:
        """Raise Cancelled when a stop was requested (for bodies that poll)."""
        if self.cancelled.is_set():
            raise Cancelled


@contextlib.contextmanager
def _stop_signals(report: ActionReport) -> Iterator[None]:
    """SIGTERM and SIGINT raise Cancelled in the main thread (and set `report.cancelled` for pollers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_stop(signum: int, frame: Any) -> None:
        if not report.cancelled.is_set() and not report.committed:
            report.cancelled.set()
            raise Cancelled

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_action(
    paths: RunPaths,
    action: str,
    body: Callable[[ActionReport], ActionOutcome],
    detail: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> tuple[int, ActionDone | ActionFailed | ActionCancelled]:
    """Run `body`, writing its events to the run's log; the exit code and the final event. One action at a
    time on a run (the TUI's and the CLI's alike): a second one is refused with a UserError, before any event."""
    action_id = f"{action}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    with _one_action_at_a_time(paths, action), EventWriter(paths.events) as writer:
        report = ActionReport(writer, action, action_id, echo)
        writer.write(ActionStarted(action, action_id, os.getpid(), detail))
        final: ActionDone | ActionFailed | ActionCancelled
        try:
            with _stop_signals(report):
                outcome = body(report)
                report.commit()  # a signal between here and the restored handlers does not undo a done action
            final = ActionDone(action, action_id, outcome.summary, outcome.outputs, outcome.facts, outcome.notes)
            code = EXIT_DONE
        except (Cancelled, KeyboardInterrupt):
            final, code = ActionCancelled(action, action_id), EXIT_CANCELLED
        except UserError as error:
            fixes = [error.fix] if error.fix else []
            final, code = ActionFailed(action, action_id, error.what, fixes), EXIT_FAILED
        except MemoryError as error:
            message = f"ran out of memory ({error or 'RAM'})"
            final = ActionFailed(action, action_id, message, ["close other programs, or run it on a larger machine"])
            code = EXIT_FAILED
        except OSError as error:
            final, code = ActionFailed(action, action_id, _os_message(error), _os_fixes(error)), EXIT_FAILED
        except Exception as error:  # a bug of ours or a library's: one line here, the traceback in a file
            log = write_crash_log(error)
            message = f"unexpected error: {type(error).__name__}: {str(error)[:300]}"
            final = ActionFailed(action, action_id, message, [], str(log) if log else None)
            code = EXIT_FAILED
        writer.write(final)
    return code, final


@contextlib.contextmanager
def _one_action_at_a_time(paths: RunPaths, action: str) -> Iterator[None]:
    """Hold the run's action lock (an flock, released by the kernel if the process dies)."""
    import fcntl

    lock_path = paths.root / ".action.lock"
    handle = lock_path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(200).strip() or "another action"
            raise UserError(
                f"{holder} is running on run {paths.name}; one action at a time",
                "wait for it to end (ftwizard finish shows it), or stop it: x on the Finish screen, Ctrl+C in a shell",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{action} (pid {os.getpid()})")
        handle.flush()
        yield
    finally:
        handle.close()


def _os_message(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _os_fixes(error: OSError) -> list[str]:
    import errno

    if error.errno == errno.ENOSPC:
        return ["free space on that disk, or choose another folder with -o DIR"]
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ["choose a folder you can write to with -o DIR"]
    return []


def action_output_dir(default: Path, chosen: str | None) -> Path:
    """Where an action writes: the user's `-o DIR` (made absolute) or the run's own folder for it."""
    return user_path(chosen).resolve() if chosen else default
