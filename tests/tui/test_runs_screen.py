"""The Runs screen on copies of recorded runs: states, keys, and the stop and resume it is given."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from screen_harness import COMPLETED_RUN, FAILED_RUN, ScreenHarness, recorded_run
from textual.widgets import DataTable, Footer, Static
from textual.widgets._footer import FooterKey

from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.runs_screen import RunsScreen


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    """Four runs, newest first: one training (its "worker" is this process), completed, failed, died."""
    root = tmp_path / "runs"
    made = [
        recorded_run(COMPLETED_RUN, root / "died-run", keep_lines=27),
        recorded_run(FAILED_RUN, root / "tiny-llama-oom"),
        recorded_run(COMPLETED_RUN, root / "tiny-llama-lora"),
        recorded_run(COMPLETED_RUN, root / "live-run", keep_lines=27, pid=os.getpid()),
    ]
    for age, run in enumerate(reversed(made)):
        os.utime(run, (1_000_000 - age, 1_000_000 - age))
    return root


class Calls:
    """A stand-in for the launcher's stop or resume: records the run, returns or raises what it is told."""

    def __init__(self, result: object = 4242, error: Exception | None = None) -> None:
        self.runs: list[Path] = []
        self.result, self.error = result, error

    def __call__(self, paths: RunPaths) -> object:
        self.runs.append(paths.root)
        if self.error is not None:
            raise self.error
        return self.result


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.02)


async def listed(pilot) -> RunsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, RunsScreen)
    await until(pilot, lambda: screen.listed)
    await pilot.pause()
    return screen


def harness(root: Path, stop: Calls | None = None, resume: Calls | None = None, **options) -> ScreenHarness:
    return ScreenHarness(lambda: RunsScreen(root, stop=stop or Calls(), resume=resume or Calls(), **options))


async def select(pilot, screen: RunsScreen, name: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=[run.name for run in screen.runs].index(name))
    await pilot.pause()
    assert screen.highlighted is not None and screen.highlighted.name == name


async def test_lists_every_run_with_its_state_and_fits_80x24(runs_root: Path) -> None:
    async with harness(runs_root).run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        states = {run.name: run.state for run in screen.runs}
        assert states == {"live-run": "running", "tiny-llama-lora": "completed", "tiny-llama-oom": "failed",
                          "died-run": "died"}  # fmt: skip
        assert screen.runs[0].name == "live-run"  # newest first
        table = screen.query_one(DataTable)
        assert table.row_count == 4 and table.display
        row = [str(cell) for cell in table.get_row_at(1)]
        assert row[:5] == ["tiny-llama-lora", "completed", "40/40", "5.322", "5.486"]
        assert table.region.bottom <= 23 and table.virtual_size.width <= table.region.width  # no sideways scroll
        footer = screen.query_one(Footer)
        assert footer.region.y == 23 and footer.region.width == 80
        keys = {key.description: key.region for key in footer.query(FooterKey)}
        assert {"Attach", "Stop", "Resume", "Run dir", "Back", "Help"} <= keys.keys()
        assert all(region.right <= 80 and region.width > 0 for region in keys.values())
        detail = str(screen.query_one("#runs-detail", Static).render())
        assert "live-run" in detail and str(runs_root) in detail and f"pid {os.getpid()}" in detail
        await select(pilot, screen, "tiny-llama-oom")
        assert "failed" in str(screen.query_one("#runs-detail", Static).render())
        assert screen.HELP_TOPIC == "runs"


async def test_enter_posts_attach_for_the_highlighted_run(runs_root: Path) -> None:
    async with harness(runs_root).run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        await select(pilot, screen, "tiny-llama-lora")
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.attached == [runs_root.resolve() / "tiny-llama-lora"]
        assert isinstance(pilot.app.messages[0], RunsScreen.Attach)


async def test_stop_asks_first_then_calls_stop(runs_root: Path) -> None:
    stop = Calls(result=4242)
    async with harness(runs_root, stop=stop).run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        await select(pilot, screen, "tiny-llama-lora")
        await pilot.press("s")  # a completed run: nothing to ask
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ConfirmScreen) and stop.runs == []
        assert "is not running (it is completed)" in pilot.app.notes[-1][0]
        await select(pilot, screen, "live-run")
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmScreen) and stop.runs == []
        await pilot.press("n")
        await pilot.pause()
        assert stop.runs == []
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: any(title == "Stopping" for _, title, _ in pilot.app.notes))
        assert stop.runs == [runs_root.resolve() / "live-run"]
        assert "pid 4242" in pilot.app.notes[-1][0]


async def test_stop_refused_by_the_launcher_says_why_in_our_words(runs_root: Path) -> None:
    stop = Calls(error=UserError("run live-run is not running (it is completed); nothing to stop"))
    async with harness(runs_root, stop=stop).run_test(size=(80, 24)) as pilot:
        await listed(pilot)
        await pilot.press("s", "y")
        await until(pilot, lambda: any(title == "Not stopped" for _, title, _ in pilot.app.notes))
        message = pilot.app.notes[-1][0]
        assert message == "run live-run is not running (it is completed); nothing to stop"
        assert all("Error" not in text for text, _, _ in pilot.app.notes)


async def test_resume_calls_resume_then_attaches(runs_root: Path) -> None:
    class Worker:
        pid = 777

    resume = Calls(result=Worker())
    async with harness(runs_root, resume=resume).run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        await pilot.press("r")  # live-run is running: not resumed
        await pilot.pause()
        assert resume.runs == [] and "still running" in pilot.app.notes[-1][0]
        await select(pilot, screen, "died-run")
        await pilot.press("r")
        await until(pilot, lambda: pilot.app.attached != [])
        assert resume.runs == [runs_root.resolve() / "died-run"]
        assert pilot.app.attached == [runs_root.resolve() / "died-run"]
        assert any(title == "Resumed" and "pid 777" in text for text, title, _ in pilot.app.notes)


async def test_resume_failure_is_a_notification(runs_root: Path) -> None:
    resume = Calls(error=UserError("run tiny-llama-oom's worker (pid 1) is still exiting; try again in a moment"))
    async with harness(runs_root, resume=resume).run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        await select(pilot, screen, "tiny-llama-oom")
        await pilot.press("r")
        await until(pilot, lambda: any(title == "Not resumed" for _, title, _ in pilot.app.notes))
        assert pilot.app.notes[-1][0].startswith("run tiny-llama-oom's worker (pid 1) is still exiting")
        assert pilot.app.attached == []


async def test_o_shows_and_copies_the_run_directory(runs_root: Path) -> None:
    async with harness(runs_root).run_test(size=(80, 24)) as pilot:
        await listed(pilot)
        await pilot.press("o")
        await pilot.pause()
        path = str(runs_root.resolve() / "live-run")
        assert pilot.app.notes[-1][0] == path and pilot.app.clipboard == path


async def test_an_empty_runs_folder_says_how_to_start_one(tmp_path: Path) -> None:
    async with harness(tmp_path / "none-yet").run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        assert not screen.query_one(DataTable).display
        text = str(screen.query_one("#runs-empty", Static).render())
        assert "No runs yet" in text and "ftwizard train CONFIG.yaml" in text and "FTWIZARD_RUNS_DIR" in text
        await pilot.press("enter", "s", "r")
        await pilot.pause()
        assert pilot.app.attached == [] and not isinstance(pilot.app.screen, ConfirmScreen)


async def test_the_list_follows_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    async with harness(root, refresh_s=0.05).run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot)
        assert screen.runs == []
        recorded_run(FAILED_RUN, root / "tiny-llama-oom")
        await until(pilot, lambda: len(screen.runs) == 1)
        assert screen.query_one(DataTable).display and screen.runs[0].state == "failed"


async def test_runs_dir_default_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert RunsScreen().root == (tmp_path / "elsewhere").resolve()
