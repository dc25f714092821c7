"""Stop, kill, resume and detach, with real workers on the tiny model."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import CheckpointSaved, Metrics, RunPaths, Started, Stopped, read_events, summarize_run
from tuiapp.core.runs.launcher import launch_worker, prepare_run, resume_run, stop_run
from tuiapp.core.user_error import UserError

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


def make_config(model: Path, **training: Any) -> Any:
    settings = {"max_steps": 60, "micro_batch_size": 4, "grad_accum": 1, "learning_rate": 5e-3, "max_length": 256}
    settings |= {"warmup_ratio": 0.0, "save_steps": 1000, **training}
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "dataset": {"source": str(sample_path("messages.jsonl"))},
            "training": settings,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        }
    )


def wait_for(paths: RunPaths, done: Callable[[list[Any]], bool], process: subprocess.Popen[bytes]) -> list[Any]:
    """Poll the events until `done(events)`; fail if the worker exits first or it takes too long."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        events = read_events(paths.events)
        if done(events):
            return events
        assert process.poll() is None, f"worker exited early:\n{paths.log.read_text()}"
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"timed out; log:\n{paths.log.read_text()}")


def metrics_of(events: list[Any]) -> list[Metrics]:
    return [e for e in events if isinstance(e, Metrics)]


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_resume_continues_the_schedule(tiny_model_dir: Path, tmp_path: Path) -> None:
    paths = prepare_run(make_config(tiny_model_dir), runs_dir=str(tmp_path))
    process = launch_worker(paths)
    wait_for(paths, lambda events: len(metrics_of(events)) >= 3, process)
    assert summarize_run(paths).state == "running"
    assert stop_run(paths) == process.pid
    assert process.wait(timeout=TIMEOUT_S) == 0
    events = read_events(paths.events)
    stopped = events[-1]
    assert isinstance(stopped, Stopped), events[-1]
    assert 3 <= stopped.step < 60
    assert stopped.checkpoint == str(paths.checkpoints / f"checkpoint-{stopped.step}")
    for name in ("optimizer.pt", "scheduler.pt", "trainer_state.json", "adapter_model.safetensors"):
        assert (Path(stopped.checkpoint) / name).is_file(), name
    summary = summarize_run(paths)
    assert (summary.state, summary.step, summary.checkpoint) == ("stopped", stopped.step, stopped.checkpoint)
    with pytest.raises(UserError, match="not running"):
        stop_run(paths)

    resumed = resume_run(paths)
    assert resumed.wait(timeout=TIMEOUT_S) == 0, paths.log.read_text()
    events = read_events(paths.events)
    starts = [e for e in events if isinstance(e, Started)]
    assert [s.step for s in starts] == [0, stopped.step]
    assert starts[1].resumed_from == stopped.checkpoint
    steps = [m.step for m in metrics_of(events)]
    assert steps == list(range(1, 61)), "the step count must continue without a gap or a repeat"
    rates = [m.learning_rate for m in metrics_of(events)]
    # Cosine decay without warmup: a restored scheduler keeps falling; a fresh one would jump back to the peak.
    assert all(a > b for a, b in itertools.pairwise(rates)), rates
    assert events[-1].kind == "completed" and summarize_run(paths).state == "completed"
    # The trainer's own figures cover the resumed launch only; the completed event's cover the whole run.
    completed = events[-1]
    assert completed.train_loss == pytest.approx(sum(m.loss for m in metrics_of(events)) / 60)
    trained = (stopped.time - starts[0].time) + (completed.time - starts[1].time)
    assert completed.runtime_s == pytest.approx(trained) and trained < completed.time - starts[0].time
    assert completed.tokens == sum(m.tokens for m in metrics_of(events) if m.step in (stopped.step, 60))
    summary = summarize_run(paths)
    assert (summary.train_loss, summary.training_s) == (completed.train_loss, pytest.approx(trained))
    with pytest.raises(UserError, match="completed"):
        resume_run(paths)


@pytest.mark.slow
def test_sigkill_shows_died_and_resume_works(tiny_model_dir: Path, tmp_path: Path) -> None:
    paths = prepare_run(make_config(tiny_model_dir, max_steps=30, save_steps=5), runs_dir=str(tmp_path))
    process = launch_worker(paths)
    wait_for(paths, lambda events: any(isinstance(e, CheckpointSaved) for e in events), process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=TIMEOUT_S)
    summary = summarize_run(paths)
    assert summary.state == "died" and summary.pid is None
    assert summary.checkpoint is not None
    checkpoint_step = int(Path(summary.checkpoint).name.removeprefix("checkpoint-"))

    resumed = resume_run(paths)
    assert resumed.wait(timeout=TIMEOUT_S) == 0, paths.log.read_text()
    events = read_events(paths.events)
    assert [e.step for e in events if isinstance(e, Started)][-1] == checkpoint_step
    assert events[-1].kind == "completed" and events[-1].step == 30
    assert summarize_run(paths).state == "completed"


LAUNCH_AND_EXIT = """
import sys
from tuiapp.core.runs.launcher import launch_worker
from tuiapp.core.runs.layout import RunPaths
print(launch_worker(RunPaths(__import__("pathlib").Path(sys.argv[1]))).pid, flush=True)
"""


@pytest.mark.slow
def test_detached_worker_outlives_its_launcher_and_ignores_sighup(tiny_model_dir: Path, tmp_path: Path) -> None:
    paths = prepare_run(make_config(tiny_model_dir, max_steps=40), runs_dir=str(tmp_path))
    launcher = subprocess.run(
        [sys.executable, "-c", LAUNCH_AND_EXIT, str(paths.root)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    pid = int(launcher.stdout.strip())
    assert os.getsid(pid) == pid, "the worker leads its own session"
    deadline = time.monotonic() + TIMEOUT_S
    while not metrics_of(read_events(paths.events)) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(pid, signal.SIGHUP)  # what a dropped SSH link sends
    while summarize_run(paths).state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    events = read_events(paths.events)
    assert events[-1].kind == "completed", paths.log.read_text()
    assert [m.step for m in metrics_of(events)] == list(range(1, 41))
