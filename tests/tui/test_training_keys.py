"""The Training screen's keys: q quits saying the run goes on, Esc goes back, r resumes a stopped run and the
screen follows the new launch; notifications are in words, never exception class names."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from training_scenes import COMPLETED_RUN, FIXTURES, AttachedApp, ScriptedGpus, copy_run, settled

from tuiapp.core.runs import RunPaths
from tuiapp.core.runs.status import write_status
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets.event_log import EventLog
from tuiapp.tui.widgets.run_status import RunProgress

RESUMED_RUN = FIXTURES / "tiny-llama-resume"
STOPPED_LINES = 21  # the recorded run up to its `stopped` event at step 16
NO_GPU = ScriptedGpus((), "the NVIDIA driver library (libnvidia-ml) is not installed")
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b")


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.02)


def dead_pid() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def stopped_run(root: Path) -> Path:
    run = copy_run(RESUMED_RUN, root, keep_lines=STOPPED_LINES)
    write_status(run / "status.json", dead_pid(), launched_at=0.0)
    checkpoint = run / "checkpoints" / "checkpoint-16"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text('{"global_step": 16}', encoding="utf-8")
    (checkpoint / "adapter_model.safetensors").write_bytes(b"\x02" + b"\0" * 7 + b"{}")  # complete, no tensors
    return run


def screen_for(run: Path, **options: object) -> TrainingScreen:
    return TrainingScreen(run, gpu_monitor=NO_GPU, gpu_every_s=0, clock=lambda: 2e9, **options)


def footer_keys(screen: TrainingScreen) -> set[str]:
    return {binding.key for _, binding, enabled, _ in screen.active_bindings.values() if enabled}


class FakeResume:
    """Stands in for resume_run: a "worker" (this process) that writes the rest of the recorded run at once."""

    def __init__(self) -> None:
        self.calls: list[RunPaths] = []

    def __call__(self, paths: RunPaths) -> SimpleNamespace:
        self.calls.append(paths)
        write_status(paths.status, os.getpid())
        rest = (RESUMED_RUN / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[STOPPED_LINES:]
        loading = {"event": "phase", "time": json.loads(rest[0])["time"] - 1, "name": "loading the model"}
        with paths.events.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(loading) + "\n" + "".join(rest))
        return SimpleNamespace(pid=4242)


async def test_q_on_a_running_dashboard_over_the_wizard_quits_saying_how_to_come_back(tmp_path: Path, capfd) -> None:
    below = copy_run(COMPLETED_RUN, tmp_path / "a")
    running = copy_run(COMPLETED_RUN, tmp_path / "b", keep_lines=12, alive=True)
    app = AttachedApp(lambda: screen_for(below))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.app.push_screen(screen_for(running))
        screen = await settled(pilot)
        assert screen.running and len(pilot.app.screen_stack) > 2
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0  # quit, not back to the screen below
    message = capfd.readouterr().err
    assert "Detached. Run tiny-llama-lora keeps training in the background." in message
    assert "re-attach: ftwizard attach tiny-llama-lora" in message


async def test_escape_goes_back_only_where_there_is_a_screen_below(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path, keep_lines=12, alive=True)
    app = AttachedApp(lambda: screen_for(run))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert "escape" not in footer_keys(screen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and pilot.app.screen is screen


async def test_r_resumes_a_stopped_run_and_the_screen_follows_the_new_launch(tmp_path: Path) -> None:
    run = stopped_run(tmp_path)
    resume = FakeResume()
    async with AttachedApp(lambda: screen_for(run, resume=resume)).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert screen.state.phase == "stopped" and screen.resumable and "r" in footer_keys(screen)
        await pilot.press("r")
        await until(pilot, lambda: screen.state.phase == "completed")
        assert [paths.root for paths in resume.calls] == [run]
        notes = [str(n.message) for n in pilot.app._notifications if n.title == "Resuming"]
        assert notes == ["Run tiny-llama-resume resumes from checkpoint-16: its worker (pid 4242) is loading"]
        log = "\n".join(strip.text for strip in screen.query_one(EventLog).lines)
        assert "0:00:00 loading the model" in log and "resumed at step 16 from checkpoint-16" in log
        assert "0:00:10 completed at step 40 in 0:00:10" in log  # the training clock, gaps left out
        assert "elapsed 0:00:10" in str(screen.query_one(RunProgress).render())
        await until(pilot, lambda: "r" not in footer_keys(screen))
        assert not screen.resumable and screen.check_action("resume", ()) is False  # completed: nothing to resume


async def test_a_completed_run_offers_no_resume(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    resume = FakeResume()
    async with AttachedApp(lambda: screen_for(run, resume=resume)).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert "r" not in footer_keys(screen)
        await pilot.press("r")
        await pilot.pause()
        assert resume.calls == []


class LauncherCrashError(RuntimeError):
    pass


@pytest.mark.parametrize(
    "error", [UserError("run x is still running (pid 7); stop it first"), LauncherCrashError("disk on fire"), OSError()]
)
async def test_a_resume_that_fails_is_said_in_words(tmp_path: Path, monkeypatch, error: Exception) -> None:
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))
    run = stopped_run(tmp_path / "runs")

    def broken(paths: RunPaths) -> None:
        raise error

    async with AttachedApp(lambda: screen_for(run, resume=broken)).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        await pilot.press("r")
        await until(pilot, lambda: any(n.title == "Not resumed" for n in pilot.app._notifications))
        (note,) = [str(n.message) for n in pilot.app._notifications if n.title == "Not resumed"]
        assert not CLASS_NAME.search(note), note
        assert str(error) in note and not screen.resuming and screen.resumable  # it can be tried again


class BrokenGpus(ScriptedGpus):
    def open(self) -> str | None:
        raise KeyError("nvml")


async def test_a_broken_reader_thread_is_said_in_words(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))
    run = copy_run(COMPLETED_RUN, tmp_path / "runs")
    app = AttachedApp(lambda: TrainingScreen(run, gpu_monitor=BrokenGpus(), gpu_every_s=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(pilot.app._notifications))
        notes = [str(n.message) for n in pilot.app._notifications]
        assert notes and notes[0].startswith("Reading the GPUs stopped.") and not CLASS_NAME.search(" ".join(notes))
