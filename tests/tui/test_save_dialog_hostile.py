"""The Save dialog refuses places that are not files (/dev/null became /dev/null.yaml, a FIFO x.yaml beside it)
and paths pathlib cannot take (~nosuchuser crashed the app), saying why, and saves nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Input, Static

from tuiapp.core.config import validate_config
from tuiapp.tui.screens.save_config_screen import SaveConfigScreen

CONFIG = validate_config({"model": {"name_or_path": "org/model"}})


@pytest.mark.parametrize("typed", ["/dev/null", "FIFO", "~nosuchuser9/x.yaml"])
async def test_a_place_that_is_not_a_file_is_refused(tmp_path: Path, typed: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    typed = str(fifo) if typed == "FIFO" else typed
    results: list[Path | None] = []
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(SaveConfigScreen(CONFIG, tmp_path / "x.yaml"), results.append)
        await pilot.pause()
        app.screen.query_one(Input).value = typed
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#save-problem", Static).render()).lower()
        assert isinstance(app.screen, SaveConfigScreen) and not results, "the dialog closed"
        assert "type the name of a file" in shown or "no user" in shown
    assert not Path("/dev/null.yaml").exists() and not (tmp_path / "pipe.yaml").exists()
