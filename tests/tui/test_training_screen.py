"""Pilot tests of the Training screen on recorded runs: replay, live following, coalescing, keys."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static
from training_scenes import (
    COMPLETED_RUN,
    FAILED_RUN,
    AttachedApp,
    ScriptedGpus,
    busy_4090,
    copy_run,
    settled,
)

from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.other_events import LenientFollower
from tuiapp.core.runs.status import write_status
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets.event_log import EventLog
from tuiapp.tui.widgets.gpu_sparklines import GpuSparklines
from tuiapp.tui.widgets.metric_chart import MetricChart
from tuiapp.tui.widgets.run_status import RunProgress, stats_text
from tuiapp.tui.widgets.training_charts import TrainingCharts

NO_GPU = "the NVIDIA driver library (libnvidia-ml) is not installed"


def attached(run: Path, gpus: ScriptedGpus | None = None, **options: object) -> AttachedApp:
    monitor = gpus or ScriptedGpus((), NO_GPU)
    return AttachedApp(lambda: TrainingScreen(run, gpu_monitor=monitor, gpu_every_s=0, **options))


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition` holds (the follower thread works in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.02)


def log_text(screen: TrainingScreen) -> str:
    return "\n".join(strip.text for strip in screen.query_one(EventLog).lines)


def shown(widget) -> str:
    return str(widget.render())


async def test_replay_of_a_completed_run_fills_charts_progress_and_log(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    async with attached(run).run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot)
        state = screen.state
        assert state.phase == "completed" and state.step == 40
        stats = shown(screen.query_one("#training-stats", Static))
        assert "✔ completed · step 40/40 · epoch 2.86 · loss 5.3218 · eval 5.4858" in stats
        progress = shown(screen.query_one(RunProgress))
        assert "100%" in progress and "elapsed 0:00:33" in progress and "ETA" not in progress
        charts = {chart.spec.key: chart for chart in screen.query(MetricChart)}
        assert all(chart.display and chart.size.height >= 8 for chart in charts.values())  # 2x2 grid when large
        loss = shown(charts["loss"])
        assert "loss 5.322 · eval loss 5.486" in loss
        assert [len(points) for _, points in charts["loss"]._drawn] == [40, 4]
        assert "tokens/s" in shown(charts["speed"]) and "grad norm" in shown(charts["grad"])
        log = log_text(screen)
        assert "0:00:00 started: 40 steps on cpu" in log and "completed at step 40 in 0:00:33" in log
        outcome = shown(screen.query_one("#training-outcome-text", Static))
        assert outcome.startswith("Completed at step 40 in 0:00:33 (train loss 5.7835). Result: ")
        assert "tiny-llama-lora/final" in outcome and "What next:" in outcome
        assert f"no GPU: {NO_GPU}" in shown(screen.query_one(GpuSparklines))
        assert pilot.app.screen.sub_title == "Training · tiny-llama-lora"


async def test_small_terminal_shows_one_chart_and_keys_switch_it(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    async with attached(run).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)

        def visible() -> list[str]:
            return [chart.spec.key for chart in screen.query(MetricChart) if chart.display]

        assert visible() == ["loss"]
        await pilot.press("c")
        assert visible() == ["lr"] and screen.query_one(TrainingCharts).selected == 1
        await pilot.press("4")
        assert visible() == ["speed"]
        await pilot.press("c")
        assert visible() == ["loss"]
        chart = screen.query_one("#chart-loss", MetricChart)
        assert chart.size.height >= 8 and chart.size.width >= 70


async def test_failed_run_shows_reason_fixes_and_recoveries(tmp_path: Path) -> None:
    run = copy_run(FAILED_RUN, tmp_path)
    async with attached(run).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert screen.state.phase == "failed" and screen.has_class("-broken")
        outcome = shown(screen.query_one("#training-outcome-text", Static))
        assert outcome.startswith("Failed (out of memory): still out of memory after 2 automatic recoveries")
        assert "Fix 1: shorten training.max_length" in outcome and "Fix 4:" in outcome
        assert not screen.query_one(TrainingCharts).display  # the failure comes first on a small terminal
        log = log_text(screen)
        assert log.count("recovering: attempt") == 2 and "torch.OutOfMemoryError" in log
        assert "✖ failed · step 11/40" in shown(screen.query_one("#training-stats", Static))


async def test_following_live_adds_events_as_the_worker_writes_them(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path, keep_lines=5, alive=True)
    rest = (COMPLETED_RUN / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[5:]
    gpus = ScriptedGpus(busy_4090(5))
    async with attached(run, gpus).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert screen.state.step == 4 and screen.state.phase == "training"
        gpu_line = shown(screen.query_one(GpuSparklines))
        assert gpu_line.startswith("GPU0 ") and "%" in gpu_line and "GiB" in gpu_line
        with (run / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write("".join(rest[:10]) + rest[10][:25])  # and half a line
            handle.flush()
            await until(pilot, lambda: screen.state.step == 13)  # steps 5-13 and the eval at 10; 14 is cut
            assert "eval at step 10" in log_text(screen)
            assert "ETA" in shown(screen.query_one(RunProgress))
            handle.write(rest[10][25:] + "".join(rest[11:]))
        await until(pilot, lambda: screen.state.phase == "completed")
        assert screen.state.step == 40 and "completed at step 40" in log_text(screen)
        await until(pilot, lambda: screen.query_one(TrainingCharts).up_to_date)  # one chart a tick
        assert [len(points) for _, points in screen.query_one("#chart-loss", MetricChart)._drawn] == [40, 4]
        assert "✔ completed" in shown(screen.query_one("#training-stats", Static))


class CountingScreen(TrainingScreen):
    """Counts the batches that reach the event loop (Textual also calls the base class's handler)."""

    batches = 0

    def on_training_screen_new_events(self, message: TrainingScreen.NewEvents) -> None:
        CountingScreen.batches += 1


def write_steadily(path: Path, start: float, steps: int, per_write: int, pause_s: float) -> None:
    """A fast trainer: `per_write` metrics lines at a time, `pause_s` apart."""
    with path.open("a", encoding="utf-8") as handle:
        for first in range(1, steps + 1, per_write):
            for step in range(first, min(first + per_write, steps + 1)):
                line = {"event": "metrics", "time": start + step, "step": step, "total_steps": steps, "loss": 1.0}
                handle.write(json.dumps(line) + "\n")
            handle.flush()
            time.sleep(pause_s)


async def test_a_flood_of_events_reaches_the_screen_in_a_few_batches(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path, keep_lines=1, alive=True)
    CountingScreen.batches = 0
    app = AttachedApp(lambda: CountingScreen(run, gpu_monitor=ScriptedGpus((), NO_GPU), poll_s=0.1))
    start = json.loads((run / "events.jsonl").read_text().splitlines()[0])["time"]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        began = time.monotonic()
        # 4,000 steps written 10 at a time every 2 ms, for about a second (more on a slow machine)
        writer = threading.Thread(target=write_steadily, args=(run / "events.jsonl", start, 4000, 10, 0.002))
        writer.start()
        await until(pilot, lambda: not writer.is_alive(), timeout=60)
        await until(pilot, lambda: screen.state.step == 4000)
        seconds = time.monotonic() - began
        assert screen.state.events_seen == 4001
        most = seconds / 0.1 + 3  # one batch a poll, at most ten a second
        assert 2 <= CountingScreen.batches <= most, (CountingScreen.batches, seconds)


async def test_stop_asks_first_then_signals_the_worker(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path, keep_lines=12)
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_status(run / "status.json", worker.pid, launched_at=0.0)
        async with attached(run).run_test(size=(80, 24)) as pilot:
            screen = await settled(pilot)
            await pilot.press("s")
            assert isinstance(pilot.app.screen, ConfirmScreen)
            await pilot.press("n")
            assert pilot.app.screen is screen and worker.poll() is None
            await pilot.press("s", "y")
            await until(pilot, lambda: worker.poll() is not None)
            assert worker.returncode == -15  # SIGTERM: the worker saves a checkpoint, then stops
            await until(pilot, lambda: any(n.title == "Stopping" for n in pilot.app._notifications))
            # this stand-in worker exits without a final event, so the run reads as died
            await until(pilot, lambda: screen.state.phase == "died")
            assert "✖ worker died" in shown(screen.query_one("#training-stats", Static))
            assert screen.check_action("stop", ()) is False
    finally:
        worker.kill()


def test_the_stopping_badge_shows_while_the_worker_saves() -> None:
    state = DashboardState("r")
    state.apply(LenientFollower(COMPLETED_RUN / "events.jsonl").poll()[:12])
    assert str(stats_text(state, stopping=True)).startswith("■ stopping: saving a checkpoint · step 10/40")
    assert str(stats_text(state)).startswith("● training · step 10/40")


async def test_stop_is_offered_only_while_the_run_trains(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    async with attached(run).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert screen.check_action("stop", ()) is False
        await pilot.press("s")
        assert pilot.app.screen is screen  # no question asked
        screen.action_stop()  # reached anyway (the run ended between the key and the action)
        await pilot.pause()
        assert any("is not running (it is completed)" in str(n.message) for n in pilot.app._notifications)


async def test_path_key_copies_the_run_directory(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    async with attached(run).run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.press("o")
        assert pilot.app.clipboard == str(run)
        assert any(str(run) == str(n.message) for n in pilot.app._notifications)


@pytest.mark.parametrize("key", ["d", "q"])
async def test_detach_or_quit_when_attached_exits_and_says_how_to_come_back(tmp_path: Path, key: str, capfd) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path, keep_lines=12, alive=True)
    app = attached(run)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0
    message = capfd.readouterr().err
    assert "Detached. Run tiny-llama-lora keeps training in the background." in message
    assert "re-attach: ftwizard attach tiny-llama-lora" in message


async def test_back_returns_to_the_screen_below_when_there_is_one(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    app = attached(run)
    async with app.run_test(size=(80, 24)) as pilot:
        below = await settled(pilot)
        await pilot.app.push_screen(TrainingScreen(run, gpu_monitor=ScriptedGpus((), NO_GPU)))
        assert await settled(pilot) is not below
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is below and app.is_running


async def test_attach_option_opens_the_training_screen(tmp_path: Path) -> None:
    run = copy_run(COMPLETED_RUN, tmp_path)
    async with FTWizardApp(run_dir=run).run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        assert screen.paths.root == run and screen.state.phase == "completed"


def test_figures_line_shows_torch_memory_and_gpu_line_shows_heat() -> None:
    from tuiapp.core.hardware.gpu_monitor import GpuReading
    from tuiapp.core.runs.events import Metrics, Started
    from tuiapp.core.units import GIB
    from tuiapp.tui.widgets.gpu_sparklines import gpu_line, sparkline

    state = DashboardState("r")
    state.apply([Started(pid=1, step=0, total_steps=9, time=0.0)])
    state.apply([Metrics(step=1, total_steps=9, gpu_memory_allocated=3 * GIB, gpu_memory_reserved=4 * GIB, time=1.0)])
    assert "torch 3.0/4.0 GiB alloc/reserved" in str(stats_text(state))
    assert sparkline([0, 50, 100], 5, 100.0) == "  ▁▅█"
    assert sparkline(range(100), 3, 100.0) == "███"
    for utilization in (10.0, 99.0):
        state.add_gpu_readings([GpuReading(0, "H200", utilization, 136 * GIB, 140 * GIB, 86.0, 690.0, 700.0)])
    line = gpu_line(state.gpus[0], 80)
    assert str(line).startswith("GPU0 ") and " 99%" in str(line) and "136.0/140.0 GiB" in str(line)
    assert "86°C hot" in str(line) and "690/700 W" in str(line) and len(str(line)) <= 80
    assert any(span.style == "red" for span in line.spans)  # memory past 95% is the warning
    assert "H200" in str(gpu_line(state.gpus[0], 120))
