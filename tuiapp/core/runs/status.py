"""The status file (which process runs this run) and the run's state derived from it and the events.

A run is `running` while its worker lives, `completed` / `failed` / `stopped` by the last final event
written since the last launch, and `died` when the worker is gone without writing one (SIGKILL, OOM
killer, power loss); `damaged` when its files cannot be read (see listing). The pid is checked together
with the process's start time, so a reused pid never makes a dead run look alive.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import psutil

from tuiapp.core.runs.event_fields import field_checks
from tuiapp.core.runs.events import FINAL_KINDS, Event

RunState = Literal["created", "running", "completed", "failed", "stopped", "died", "damaged"]


@dataclass(frozen=True)
class WorkerStatus:
    """What `status.json` holds: the worker's pid, its process start time, and when it was launched."""

    pid: int
    pid_started: float | None
    launched_at: float


def process_start_time(pid: int) -> float | None:
    """The OS's start time of `pid`, or None when no such process exists."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def write_status(path: Path, pid: int, launched_at: float | None = None) -> WorkerStatus:
    """Write the status file atomically (temp file + rename), so a reader never sees half of it."""
    status = WorkerStatus(pid, process_start_time(pid), launched_at if launched_at is not None else time.time())
    fd, tmp = tempfile.mkstemp(prefix=".status.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(status), handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return status


def read_status(path: Path) -> WorkerStatus | None:
    """The status file's content, or None when it is missing or unreadable."""
    return read_status_checked(path)[0]


def read_status_checked(path: Path) -> tuple[WorkerStatus | None, str | None]:
    """The status file's content and, when it exists but cannot be used, why (torn, mistyped, unreadable)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_STATUS_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror or exc}"
    try:
        data = json.loads(raw) if len(raw) <= MAX_STATUS_BYTES else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return None, f"{path.name} is not the JSON object a worker writes (cut short, or edited)"
    pid, started, launched = data.get("pid"), data.get("pid_started"), data.get("launched_at")
    if not (_pid_ok(pid) and _TIME(launched) and (started is None or _TIME(started))):
        return None, f"{path.name} holds a pid or a time out of range"
    return WorkerStatus(pid, None if started is None else float(started), float(launched)), None


MAX_STATUS_BYTES = 4096
_TIME = field_checks(Event)["time"]


def _pid_ok(value: object) -> bool:
    return type(value) is int and 0 < value < 2**31


def is_alive(status: WorkerStatus) -> bool:
    """Whether the recorded worker process still runs (a zombie or a reused pid counts as dead)."""
    try:
        process = psutil.Process(status.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False
    return status.pid_started is None or abs(started - status.pid_started) < 1.0


def run_state(status: WorkerStatus | None, events: list[Event]) -> RunState:
    """The state of a run from its status file and its events (see the module docstring)."""
    if status is None:
        return "created"
    final = [e for e in events if e.kind in FINAL_KINDS and e.time >= status.launched_at]
    if final:
        return final[-1].kind  # type: ignore[return-value]
    return "running" if is_alive(status) else "died"
