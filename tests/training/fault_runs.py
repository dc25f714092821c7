"""Shared by the fault and resume tests: one small seeded config, the reference run trained straight through
(once per test session, whichever module asks first), checkpoint hashes, and waiting on a worker."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import save_config, validate_config, with_changes
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Metrics, RunPaths, read_events
from tuiapp.core.runs.launcher import launch_worker, prepare_run

TIMEOUT_S = 180
MAX_STEPS = 12
SAVE_STEPS = 5  # checkpoints 5, 10 and (the last step) 12, then the final save
SEED = 1234


def make_config(model: Path, **training: Any) -> Any:
    """Seeded LoRA on the bundled messages.jsonl, fp32 on the CPU, no dropout: a resume can match exactly."""
    settings = {"max_steps": MAX_STEPS, "micro_batch_size": 4, "grad_accum": 1, "learning_rate": 5e-3}
    settings |= {
        "precision": "fp32",
        "max_length": 256,
        "warmup_ratio": 0.0,
        "save_steps": SAVE_STEPS,
        "seed": SEED,
        **training,
    }
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "dataset": {"source": str(sample_path("messages.jsonl"))},
            "training": settings,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        }
    )


def set_debug(paths: RunPaths, **debug: Any) -> None:
    """Change the run's `debug` section in its config.yaml, as the next launch will read it."""
    from tuiapp.core.config import load_config

    config = load_config(paths.config)
    save_config(with_changes(config, {f"debug.{key}": value for key, value in debug.items()}), paths.config)


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def complete_checkpoints(paths: RunPaths) -> dict[str, dict[str, str]]:
    """The hashes of each complete checkpoint (its trainer state written), by folder name."""
    return {
        folder.name: file_hashes(folder)
        for folder in sorted(paths.checkpoints.glob("checkpoint-*"))
        if (folder / "trainer_state.json").is_file()
    }


def step_losses(paths: RunPaths) -> dict[int, list[float]]:
    """Every logged loss by step, a step logged by more than one launch listed more than once."""
    found: dict[int, list[float]] = {}
    for event in read_events(paths.events):
        if isinstance(event, Metrics) and event.loss is not None:
            found.setdefault(event.step, []).append(event.loss)
    return found


def wait_until(done: Callable[[], bool], process: subprocess.Popen[bytes] | None, paths: RunPaths) -> None:
    """Poll `done()`; fail when the worker exits first (if given) or the time runs out."""
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        assert process is None or process.poll() is None, f"worker exited early:\n{paths.log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out:\n{paths.log.read_text()[-3000:]}"
        time.sleep(0.02)


def finish(process: subprocess.Popen[bytes], paths: RunPaths) -> int:
    try:
        return process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"worker did not finish:\n{paths.log.read_text()[-3000:]}") from None


def reference_run(model: Path, factory: pytest.TempPathFactory) -> tuple[RunPaths, float, float]:
    """The config trained straight through, once per session: (its paths, seconds to its started event,
    seconds per step). Later callers get the same run."""
    root = factory.getbasetemp() / "reference-run"
    marker = root / "timeline.txt"
    if not marker.is_file():
        paths = prepare_run(make_config(model), runs_dir=str(root))
        launched = time.time()
        assert finish(launch_worker(paths), paths) == 0, paths.log.read_text()
        events = read_events(paths.events)
        started = next(e.time for e in events if e.kind == "started")
        steps = [e.time for e in events if isinstance(e, Metrics)]
        per_step = (steps[-1] - steps[0]) / max(len(steps) - 1, 1)
        marker.write_text(f"{paths.root}\n{started - launched}\n{per_step}\n")
    folder, load_s, per_step_s = marker.read_text().split()
    return RunPaths(Path(folder)), float(load_s), float(per_step_s)
