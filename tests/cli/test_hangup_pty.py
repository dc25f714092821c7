"""A real terminal hang-up: `ftwizard train` (and the wizard's demo dashboard) run in the foreground of a
pseudo-terminal, which is then closed, as a dropped SSH link closes it. The README promises the training goes
on (the worker leads its own session) and finishes, and that a later `ftwizard` finds it: here `ftwizard runs`
lists it completed, every step trained once."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Metrics, RunPaths, read_events
from tuiapp.core.runs.listing import summarize_run
from tuiapp.core.runs.status import read_status

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180


def in_a_terminal(words: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Start `ftwizard WORDS` as the session leader of a new pseudo-terminal: (its pid, the master's fd)."""
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, stdin/out/err
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "tuiapp", *words], env)
    return pid, master


def read_until(master: int, done: Callable[[], bool], pid: int) -> bytes:
    """Drain the terminal (a full pty would block the program) until `done()` holds."""
    seen = b""
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        assert time.monotonic() < deadline, seen[-2000:]
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
        finished, _ = os.waitpid(pid, os.WNOHANG)
        assert finished == 0, f"exited before the hang-up:\n{seen[-2000:].decode(errors='replace')}"
    return seen


def hang_up(master: int, pid: int) -> int:
    """Close the master side (the kernel sends SIGHUP to the terminal's session); the program's wait status."""
    os.close(master)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("the foreground program outlived its terminal by 30 s")


def trained_steps(paths: RunPaths) -> list[int]:
    return [e.step for e in read_events(paths.events) if isinstance(e, Metrics)]


def survives(paths: RunPaths, cli_sid: int, total: int, env: dict[str, str]) -> None:
    """The worker, in a session of its own, goes on to the end; `ftwizard runs` then lists it completed."""
    status = read_status(paths.status)
    assert status is not None and os.getsid(status.pid) != cli_sid
    deadline = time.monotonic() + TIMEOUT_S
    while summarize_run(paths).state == "running":
        assert time.monotonic() < deadline, paths.log.read_text()[-3000:]
        time.sleep(0.2)
    assert summarize_run(paths).state == "completed", paths.log.read_text()[-3000:]
    assert trained_steps(paths) == list(range(1, total + 1))
    command = [sys.executable, "-m", "tuiapp", "runs", "--runs-dir", str(paths.root.parent), "--json"]
    listed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    (entry,) = json.loads(listed.stdout)
    assert (entry["name"], entry["state"], entry["step"]) == (paths.name, "completed", total)


@pytest.mark.slow
def test_closing_the_terminal_of_a_foreground_train_leaves_training_going(tiny_model_dir: Path, tmp_path: Path):
    runs = tmp_path / "runs"
    config = tmp_path / "hup.yaml"
    config.write_text(
        f"model: {{name_or_path: {tiny_model_dir}}}\n"
        f"dataset: {{source: {sample_path('messages.jsonl')}}}\n"
        "training: {max_steps: 10, micro_batch_size: 4, grad_accum: 1, max_length: 256, save_steps: 1000}\n"
        "output: {run_name: hup}\n"
    )
    env = {**os.environ, "TERM": "xterm-256color"}
    pid, master = in_a_terminal(["train", str(config), "--runs-dir", str(runs)], env)
    paths = RunPaths(runs / "hup")
    shown = read_until(master, lambda: len(trained_steps(paths)) >= 2, pid)
    sid = os.getsid(pid)
    status = hang_up(master, pid)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGHUP, (status, shown[-500:])
    assert trained_steps(paths)[-1] < 10, "the hang-up came after the training ended: nothing was tested"
    survives(paths, sid, 10, env)


@pytest.mark.slow
def test_closing_the_terminal_of_the_demo_dashboard_leaves_training_going(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "XDG_DATA_HOME": str(tmp_path / "data")}
    env |= {"FTWIZARD_RUNS_DIR": str(tmp_path / "runs"), "COLUMNS": "100", "LINES": "30"}
    pid, master = in_a_terminal(["demo"], env)
    runs = tmp_path / "runs"

    def first_step() -> bool:
        folders = list(runs.glob("*")) if runs.is_dir() else []
        return bool(folders) and bool(trained_steps(RunPaths(folders[0])))

    read_until(master, first_step, pid)
    (folder,) = runs.iterdir()
    paths = RunPaths(folder)
    sid = os.getsid(pid)
    hang_up(master, pid)  # Textual may catch the hang-up and exit on its own: either way the app is gone
    total = next(e.total_steps for e in read_events(paths.events) if isinstance(e, Metrics))
    assert trained_steps(paths)[-1] < total, "the hang-up came after the training ended: nothing was tested"
    survives(paths, sid, total, env)
