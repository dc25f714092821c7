"""The status file (which process runs this run) and the run's state derived from it and the events.

A run is `running` while its worker lives, `completed` / `failed` / `stopped` by the last final event
written since the last launch, and `died` when the worker is gone without writing one (SIGKILL, OOM
killer, power loss). The pid is checked together with the process's start time, so a reused pid never
makes a dead run look alive.
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

from tuiapp.core.runs.events import FINAL_KINDS, Event

RunState = Literal["created", "running", "completed", "failed", "stopped", "died"]


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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WorkerStatus(int(data["pid"]), data.get("pid_started"), float(data["launched_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
