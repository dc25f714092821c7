"""A real worker on the tiny model, watched by the Training screen: detaching leaves it training."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from training_scenes import settled

from tuiapp.core.config import validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Metrics, Stopped, read_events, summarize_run
from tuiapp.core.runs.launcher import launch_worker, prepare_run, stop_run
from tuiapp.tui.app import FTWizardApp

TIMEOUT_S = 120


def long_config(model: Path):
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "method": "lora",
            "dataset": {"source": str(sample_path("messages.jsonl"))},
            "training": {"max_steps": 5000, "micro_batch_size": 2, "max_length": 128, "save_steps": 1000},
            "lora": {"r": 4, "alpha": 8},
        }
    )


def metrics_steps(path: Path) -> list[int]:
    return [e.step for e in read_events(path) if isinstance(e, Metrics)]


@pytest.mark.slow
async def test_detach_quits_the_app_and_the_worker_keeps_training(tiny_model_dir: Path, tmp_path: Path, capfd) -> None:
    paths = prepare_run(long_config(tiny_model_dir), runs_dir=str(tmp_path / "runs"))
    process: subprocess.Popen[bytes] = launch_worker(paths)
    try:
        app = FTWizardApp(run_dir=paths.root)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await settled(pilot)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + TIMEOUT_S
            while screen.state.step < 2:  # the live dashboard sees real steps
                assert loop.time() < deadline and process.poll() is None, paths.log.read_text()
                await pilot.pause(0.1)
            assert screen.state.phase == "training" and screen.state.alive is True
            await pilot.press("d")
            await pilot.pause()
        assert app.return_code == 0
        assert f"Run {paths.name} keeps training in the background" in capfd.readouterr().err
        seen = max(metrics_steps(paths.events))
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while max(metrics_steps(paths.events)) < seen + 3:  # it goes on without the UI
            assert process.poll() is None, paths.log.read_text()
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
        assert summarize_run(paths).state == "running"
        stop_run(paths)
        assert process.wait(timeout=TIMEOUT_S) == 0
        assert isinstance(read_events(paths.events)[-1], Stopped)
    finally:
        if process.poll() is None:
            process.kill()
