"""Start, stop and resume training workers. The worker runs `python -m tuiapp.training.worker RUN_DIR` in
its own session, so it outlives the terminal, the TUI and SIGHUP; we talk to it through the run directory
and signals only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tuiapp.core.child_env import child_env
from tuiapp.core.runs.layout import RunPaths, create_run_dir, make_private, resolve_runs_root, run_name_for
from tuiapp.core.runs.listing import RunSummary, summarize_run
from tuiapp.core.runs.run_damage import config_problem, events_problem
from tuiapp.core.runs.status import is_alive, read_status, write_status
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

if TYPE_CHECKING:  # the config models load when a run is prepared, not when the TUI imports launch_worker
    from tuiapp.core.config import FTConfig

WORKER_MODULE = "tuiapp.training.worker"
EXIT_WAIT_S = 15.0  # how long resume waits for a worker that has written its final event to exit


def _absolute_if_local(value: str, base: Path) -> str:
    """A path that exists relative to `base` becomes absolute (the worker runs in the run directory)."""
    candidate = user_path(base / value)
    return str(candidate.resolve()) if candidate.exists() else value


def resolved_config(config: FTConfig, runs_root: Path, name: str, base: Path) -> FTConfig:
    """The config as the worker will run it: local model and data paths absolute, the run's place filled in."""
    from tuiapp.core.config import with_changes

    changes: dict[str, object] = {
        "model.name_or_path": _absolute_if_local(config.model.name_or_path, base),
        "output.runs_root": str(runs_root),
        "output.run_name": name,
    }
    if config.dataset is not None:
        changes["dataset.source"] = _absolute_if_local(config.dataset.source, base)
    return with_changes(config, changes)


def prepare_run(config: FTConfig, runs_dir: str | None = None, base: Path | None = None) -> RunPaths:
    """Create the run directory (private: see layout.PRIVATE_DIR_MODE, which every file written in it falls
    under) and write the resolved config into it; nothing runs yet."""
    from tuiapp.core.config import save_config

    base = base or Path.cwd()
    if config.dataset is None:
        raise UserError("the config has no dataset: add `dataset: {source: FILE_OR_HUB_ID}` to train")
    configured = config.output.runs_root
    root = resolve_runs_root(runs_dir, str(base / configured) if configured else None)
    name = config.output.run_name or run_name_for(config.model.name_or_path, config.method)
    paths = create_run_dir(root, name, exact=config.output.run_name is not None)
    save_config(resolved_config(config, root, paths.name, base), paths.config)
    return paths


def spawn_detached(command: list[str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `command` in a session of its own (it outlives the terminal, the TUI and SIGHUP), its output
    appended to `log_path`."""
    with log_path.open("ab") as log:  # in a private run directory (its mode is the gate: layout.PRIVATE_DIR_MODE)
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def launch_worker(paths: RunPaths) -> subprocess.Popen[bytes]:
    """Start the worker for this run, detached in a new session; its output goes to the run's log."""
    make_private(paths.root)  # a run made before the file-mode policy gets it on resume
    launched_at = time.time()
    try:
        process = spawn_detached([sys.executable, "-m", WORKER_MODULE, str(paths.root)], paths.root, paths.log)
    except OSError as exc:  # the log cannot be opened: a read-only or full disk, a folder not ours
        where = exc.filename or paths.log
        raise UserError(
            f"cannot start run {paths.name}'s worker: {where} cannot be written ({exc.strerror or exc})",
            f"make {paths.root.parent} writable (a disk remounted read-only after an error: check it, then remount), "
            "or free space on it, then resume again",
        ) from None
    try:
        write_status(paths.status, process.pid, launched_at)
    except OSError as exc:  # the worker is started but nothing could name it: stop it rather than lose it
        process.terminate()
        raise UserError(
            f"cannot record run {paths.name}'s worker in {paths.status} ({exc.strerror or exc}); it was stopped",
            f"make {paths.root.parent} writable or free space on it, then resume again",
        ) from None
    return process


def stop_run(paths: RunPaths) -> int:
    """Ask the worker to stop gracefully (SIGTERM: it saves a checkpoint, then writes `stopped`); its pid."""
    summary = summarize_run(paths)
    status = read_status(paths.status)
    if summary.state == "damaged" and (pid := worker_pid(paths)) is not None:  # its status file is torn
        os.kill(pid, signal.SIGTERM)
        return pid
    if summary.state != "running" or status is None:  # a worker that wrote its final event may still be exiting
        raise UserError(f"run {paths.name} is not running (it is {summary.state}); nothing to stop")
    os.kill(status.pid, signal.SIGTERM)
    return status.pid


def resume_run(paths: RunPaths) -> subprocess.Popen[bytes]:
    """Start the worker again on a stopped, died or failed run; it continues from the last checkpoint."""
    from tuiapp.core.compare.run_dir import refuse_resume_of_comparison

    refuse_resume_of_comparison(paths)  # a comparison's config.yaml is not a run to train
    summary = summarize_run(paths)
    if summary.state == "damaged":
        _check_resumable(paths, summary)
    if summary.state == "running":
        raise UserError(f"run {paths.name} is still running (pid {summary.pid}); stop it first: ftwizard stop")
    if summary.state == "completed":
        raise UserError(f"run {paths.name} has completed; its result is in {paths.final}")
    status = read_status(paths.status)
    deadline = time.monotonic() + EXIT_WAIT_S
    while status is not None and is_alive(status):  # it wrote its final event and is exiting
        if time.monotonic() > deadline:
            raise UserError(f"run {paths.name}'s worker (pid {status.pid}) is still exiting; try again in a moment")
        time.sleep(0.1)
    return launch_worker(paths)


def _check_resumable(paths: RunPaths, summary: RunSummary) -> None:
    """A damaged run resumes when what the worker needs reads (its config and events: a torn status file is
    rewritten at launch), it has not completed, and no worker of it still runs."""
    if blocking := config_problem(paths.config) or events_problem(paths.events):
        raise UserError(
            f"run {paths.name} cannot be resumed: {blocking} (in {paths.root})",
            "restore that file from a copy, or start a new run with `ftwizard train CONFIG.yaml`",
        )
    if summary.last_final == "completed":
        raise UserError(f"run {paths.name} has completed; its result is in {paths.final}")
    if (pid := worker_pid(paths)) is not None:
        raise UserError(f"run {paths.name} is still running (pid {pid}); stop it first: ftwizard stop {paths.name}")


def worker_pid(paths: RunPaths) -> int | None:
    """The pid of a live worker of this run found by its command line, for a run whose status file is lost."""
    import psutil

    target = str(paths.root)
    for process in psutil.process_iter(["cmdline"]):
        command = process.info.get("cmdline") or []
        if WORKER_MODULE in command and target in command:
            return process.pid
    return None
