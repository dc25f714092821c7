"""The training charts off the event loop: live rebuilds happen in a thread, only for charts on screen, only
when their figures changed; a chart that comes into sight shows the latest figures at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from training_scenes import COMPLETED_RUN, AttachedApp, ScriptedGpus, copy_run, settled

from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets import metric_chart
from tuiapp.tui.widgets.metric_chart import MetricChart
from tuiapp.tui.widgets.training_charts import TrainingCharts

NO_GPU = "the NVIDIA driver library (libnvidia-ml) is not installed"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every plotext build from now on: (chart key, whether it ran on the event loop's thread)."""
    seen: list[tuple[str, bool]] = []
    build = metric_chart.plot_text

    def counted(spec, *args):
        seen.append((spec.key, threading.current_thread() is threading.main_thread()))
        return build(spec, *args)

    monkeypatch.setattr(metric_chart, "plot_text", counted)
    return seen


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await pilot.pause(0.02)


def live_app(tmp_path: Path) -> tuple[AttachedApp, Path, list[str]]:
    run = copy_run(COMPLETED_RUN, tmp_path, keep_lines=5, alive=True)
    rest = (COMPLETED_RUN / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[5:]
    app = AttachedApp(lambda: TrainingScreen(run, gpu_monitor=ScriptedGpus((), NO_GPU), gpu_every_s=0))
    return app, run, rest


async def test_live_rebuilds_run_in_a_thread_and_the_loop_only_swaps_them_in(tmp_path: Path, builds) -> None:
    app, run, rest = live_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot)
        assert {key for key, _ in builds} == {"loss", "lr", "grad", "speed"}  # the replay: built where drawn
        builds.clear()
        with (run / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write("".join(rest[:10]))  # steps 5-13 and the eval at 10: the layout stays as it is
        charts = screen.query_one(TrainingCharts)
        await until(pilot, lambda: screen.state.step == 13 and charts.up_to_date)
        assert {key for key, _ in builds} == {"loss", "lr", "grad", "speed"}
        assert not any(on_loop for _, on_loop in builds)
        loss = screen.query_one("#chart-loss", MetricChart)
        assert [len(points) for _, points in loss._drawn] == [13, 1]
        assert "eval loss" in str(loss.render())


async def test_unchanged_figures_are_not_rebuilt(tmp_path: Path, builds) -> None:
    app, _, _ = live_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot)
        builds.clear()
        for chart in screen.query(MetricChart):
            assert chart.show(screen.state) is False
        screen.query_one(TrainingCharts).show(screen.state)
        await pilot.pause(0.6)
        assert builds == []


async def test_charts_out_of_sight_catch_up_when_they_appear(tmp_path: Path, builds) -> None:
    app, run, rest = live_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        with (run / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write("".join(rest))
        charts = screen.query_one(TrainingCharts)
        await until(pilot, lambda: screen.state.phase == "completed" and charts.up_to_date)
        assert {key for key, _ in builds} == {"loss"}  # the one chart on screen
        await pilot.press("c")
        lr = screen.query_one("#chart-lr", MetricChart)
        assert [len(points) for _, points in lr._drawn] == [40]
        assert "lr " in str(lr.render())
