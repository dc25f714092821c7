"""Pilot tests of the Hardware screen and the target-GPU picker."""

from __future__ import annotations

import threading

from textual.widgets import OptionList, Static
from tui_scenes import NO_GPU, ONE_GPU

from tuiapp.core.hardware import HardwareProfile
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.gpu_picker_screen import GpuPickerScreen
from tuiapp.tui.screens.hardware_screen import HardwareScreen
from tuiapp.tui.widgets.gpu_card import GpuCard


def hardware_screen(app: FTWizardApp) -> HardwareScreen:
    screen = app.screen
    assert isinstance(screen, HardwareScreen)
    return screen


async def test_detected_gpu_is_shown_as_a_card() -> None:
    app = FTWizardApp(hardware=ONE_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        (card,) = app.screen.query(GpuCard)
        assert "GeForce RTX 4090" in str(card.border_title)
        assert app.screen.query_one(".gpu-processes", Static).visual  # the process holding VRAM is listed
        assert not app.screen.query("#no-gpu")


async def test_no_gpu_says_so_and_pick_a_target_by_typing() -> None:
    app = FTWizardApp(hardware=NO_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#no-gpu")
        await pilot.press("t")
        assert isinstance(app.screen, GpuPickerScreen)
        await pilot.press(*"4090", "enter")
        await pilot.pause()
        profile = hardware_screen(app).profile
        assert profile is not None and profile.source == "planned"
        assert profile.gpus[0].name == "RTX 4090" and profile.gpus[0].free_bytes == 24564 * 1024**2
        assert profile.system == NO_GPU.system
        (card,) = app.screen.query(GpuCard)
        assert "target (planned)" in str(card.border_title)


async def test_pick_with_arrow_keys_and_back_to_this_machine() -> None:
    app = FTWizardApp(hardware=ONE_GPU)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t", *"a100", "down", "enter")
        await pilot.pause()
        assert hardware_screen(app).profile.gpus[0].name == "A100 80GB"
        await pilot.press("d")
        await pilot.pause()
        assert hardware_screen(app).profile == ONE_GPU


async def test_a_memory_size_is_a_target_too() -> None:
    app = FTWizardApp(hardware=NO_GPU)
    async with app.run_test() as pilot:
        await pilot.press("t", *"48GB", "enter")
        await pilot.pause()
        assert hardware_screen(app).profile.gpus[0].total_bytes == 48 * 1024**3


async def test_unknown_gpu_keeps_the_picker_open_with_a_reason() -> None:
    app = FTWizardApp(hardware=NO_GPU)
    async with app.run_test() as pilot:
        await pilot.press("t", *"banana", "enter")
        await pilot.pause()
        assert isinstance(app.screen, GpuPickerScreen)
        assert app.screen.query_one(OptionList).option_count == 0
        assert "unknown GPU 'banana'" in str(app.screen.query_one("#gpu-picker-error", Static).visual)
        await pilot.press("escape")
        assert hardware_screen(app).profile == NO_GPU


async def test_detection_runs_in_a_worker_off_the_event_loop() -> None:
    release = threading.Event()

    def slow_detect() -> HardwareProfile:
        assert release.wait(timeout=30)
        return ONE_GPU

    app = FTWizardApp(detect=slow_detect)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert hardware_screen(app).profile is None  # still detecting, and the UI keeps answering
        assert app.screen.query_one(".hint", Static)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert hardware_screen(app).profile == ONE_GPU


async def test_failed_detection_is_said_in_place_not_a_crash(tmp_path, monkeypatch) -> None:
    """Shown once, in the screen, in our words: no toast over it, no exception class name."""
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path))

    def broken_detect() -> HardwareProfile:
        raise OSError("disk unreadable")

    app = FTWizardApp(detect=broken_detect)
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        assert not list(app._notifications)
        shown = str(app.screen.query_one("#detect-error", Static).visual)
        assert "disk unreadable" in shown and "OSError" not in shown and str(tmp_path) in shown


async def test_q_quits() -> None:
    app = FTWizardApp(hardware=NO_GPU)
    async with app.run_test() as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
