"""The wizard's CPU path: `c` on the Hardware screen starts the tiny demo and shows its dashboard."""

from __future__ import annotations

from tui_scenes import NO_GPU

from tuiapp.core.runs.layout import RunPaths
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.training_screen import TrainingScreen


async def test_hardware_screen_c_starts_the_demo_and_shows_its_dashboard(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "runs"))
    launched: list[RunPaths] = []
    app = FTWizardApp(hardware=NO_GPU, launch=launched.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)
    (paths,) = launched
    assert paths.config.is_file() and paths.root.parent == (tmp_path / "runs").resolve()
