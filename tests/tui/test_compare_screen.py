"""The Compare screen on a recorded comparison (no training): its table, flags and bars, following a comparison
still running, starting one through the Method screen's `c`, stopping, and a start that fails."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

from screen_harness import ScreenHarness
from textual.widgets import DataTable, Static
from tui_scenes import ONE_GPU, catalogue_only

from tuiapp.core.demo import demo_config
from tuiapp.core.runs.compare_events import TrialMeasured
from tuiapp.core.runs.events import EventWriter
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.compare_screen import CompareScreen
from tuiapp.tui.screens.method_screen import MethodScreen

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "compare-demo"


def copied(tmp_path: Path, keep_lines: int | None = None) -> Path:
    target = tmp_path / "runs" / "compare-demo"
    shutil.copytree(RECORDED, target)
    if keep_lines is not None:
        lines = (target / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (target / "events.jsonl").write_text("".join(lines[:keep_lines]), encoding="utf-8")
    return target


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.02)


def text(screen: CompareScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id, Static).render())


def cells(screen: CompareScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def test_a_recorded_comparison_shows_its_table_and_bars(tmp_path: Path) -> None:
    run = copied(tmp_path)
    app = ScreenHarness(lambda: CompareScreen(run_dir=run))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.result.final is not None)
        screen = app.screen
        rows = cells(screen)
        assert [row[0] for row in rows] == ["full", "lora", "qlora"] and {row[1] for row in rows} == {"completed"}
        assert rows[0][2:4] == ["344", "6.6142"] and rows[0][4] == "n/a on CPU / 12.2 MiB"
        assert "the comparison completed" in text(screen, "#compare-status")
        chart = text(screen, "#compare-chart")
        assert "tokens/s" in chart and "393 tokens/s" in chart and "peak RSS" in chart
        assert screen.sub_title.startswith("Compare methods")


async def test_a_running_comparison_fills_in_as_trials_end(tmp_path: Path) -> None:
    run = copied(tmp_path, keep_lines=4)  # the plan, started, the first trial started and measured
    stops: list[Path] = []
    app = ScreenHarness(lambda: CompareScreen(run_dir=run, poll_s=0.05, stop=lambda paths: stops.append(paths.root)))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.result.rows))
        screen = app.screen
        assert [row[1] for row in cells(screen)] == ["completed", "waiting", "waiting"]
        assert "1 of 3 trials done" in text(screen, "#compare-status")
        await pilot.press("s")
        await until(pilot, lambda: stops == [run])
        trial = TrialMeasured(method="lora", state="completed", device="cuda", steps=10, tokens_per_s=900.0,
                              measured={"allocated": 11 * GIB}, estimated={"allocated": 10 * GIB})  # fmt: skip
        with EventWriter(run / "events.jsonl") as writer:
            writer.write(trial)
        await until(pilot, lambda: cells(screen)[1][1] == "completed")
        assert cells(screen)[1][4].startswith("11.00 GiB ! / 10.00 GiB")
        assert "lora allocated: measured 11.00 GiB, estimated 10.00 GiB (+10.0%" in text(screen, "#compare-flags")


async def test_c_on_the_method_screen_starts_a_comparison_of_its_config(tmp_path: Path, monkeypatch) -> None:
    started: list[tuple[str, tuple[str, ...], int]] = []
    run = copied(tmp_path)

    def fake_start(config, methods, steps):
        started.append((config.model.name_or_path, methods, steps))
        return RunPaths(run), None

    monkeypatch.setattr("tuiapp.tui.screens.compare_screen._start_here", fake_start)
    model = catalogue_only("Qwen/Qwen2.5-0.5B-Instruct")
    app = ScreenHarness(lambda: MethodScreen(model, ONE_GPU, installed=lambda module: False))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MethodScreen))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.result.final is not None)
        assert started == [("Qwen/Qwen2.5-0.5B-Instruct", ("full", "lora", "qlora"), 30)]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MethodScreen))


async def test_a_start_that_fails_is_said_in_the_screen(tmp_path: Path) -> None:
    def refuse(config, methods, steps):
        raise UserError("no method can be trialled here (full: does not fit)", "compare on a bigger GPU")

    app = ScreenHarness(lambda: CompareScreen(config=demo_config(tmp_path), start=refuse))
    async with app.run_test(size=(80, 24)) as pilot:

        def said() -> bool:
            return isinstance(app.screen, CompareScreen) and "did not start" in text(app.screen, "#compare-status")

        await until(pilot, said)
        assert "no method can be trialled here" in text(app.screen, "#compare-status") and app.notes == []


async def test_attach_on_a_comparison_opens_the_compare_screen(tmp_path: Path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, run_dir=copied(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await until(pilot, lambda: app.screen.result.final == "completed")
