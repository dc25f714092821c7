"""The Export dialog on the Hyperparameters and Finish screens: the same files `ftwizard export` writes, a
file never replaced unasked, a bad place refused in place, and what the tool cannot express shown."""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from rich.console import Console
from test_finish_screen import FakeChild, finished_run, until
from test_hyperparams_screen import set_field, to_hyperparams, wizard
from textual.widgets import Input, Static

from tuiapp.core.config import load_config
from tuiapp.core.export.render import render_export
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.export_screen import ExportScreen
from tuiapp.tui.screens.finish_screen import FinishScreen


def said(app: FTWizardApp, selector: str) -> str:
    """The text a Static shows, as the terminal would (a table rendered at the screen's width)."""
    console = Console(width=app.size.width, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return " ".join(console.export_text().split())


async def written(pilot, keys: tuple[str, ...]) -> Path:
    """Press `keys` in the dialog and wait for its file."""
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    await pilot.press(*keys)
    await until(pilot, lambda: screen.written is not None)
    assert screen.written is not None
    return screen.written


async def test_hyperparams_exports_for_trl_what_the_cli_writes(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_hyperparams(pilot)
        await set_field(pilot, screen, "training.learning_rate", "0.0003")
        config = screen.config
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        suggested = app.screen.query_one("#export-path", Input).value
        assert suggested.endswith(".ftwizard.yaml") and Path(suggested).parent == tmp_path
        path = await written(pilot, ("down", "enter"))  # the second format: TRL's CLI
        assert path.name.endswith(".trl.yaml") and path.parent == tmp_path
        outcome = said(app, "#export-said")
        assert f"trl sft --config {path.name}" in outcome and "Not translated" in outcome
        assert "dataset.format alpaca" in outcome  # the sample is alpaca rows, which TRL's CLI does not convert
        assert path.read_text() == render_export(config, "trl", "a config not saved yet", path).text
        assert yaml.safe_load(path.read_text())["learning_rate"] == 0.0003  # the edit on screen, not the plan

        await pilot.press("escape")
        assert isinstance(app.screen, type(screen))


async def test_our_own_format_reads_back_as_the_config_on_screen(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_hyperparams(pilot)
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        path = await written(pilot, ("enter",))
        assert load_config(path) == screen.config
        assert f"ftwizard train {path.name}" in said(app, "#export-said")


async def test_an_existing_file_is_replaced_only_after_a_yes(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        target = Path(app.screen.query_one("#export-path", Input).value)
        target.write_text("mine\n")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text() == "mine\n" and app.screen.written is None
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen) and app.screen.written == target.resolve())
        assert target.read_text() != "mine\n" and load_config(target) is not None


async def test_a_place_that_is_not_a_file_is_said_in_the_dialog(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        app.screen.query_one("#export-path", Input).value = "/dev/null"
        app.screen.query_one("#export-path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "/dev/null is a character device" in said(app, "#export-problem")
        assert isinstance(app.screen, ExportScreen) and app.screen.written is None


async def test_a_marked_value_blocks_the_export(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_hyperparams(pilot)
        await set_field(pilot, screen, "training.learning_rate", "fast")
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert app.screen is screen and "Learning rate" in str(screen.query_one("#hp-hint", Static).render())


async def test_finish_exports_the_runs_config_named_after_the_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = finished_run(tmp_path / "runs")
    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinishScreen(paths.root, in_wizard=False, poll_s=0.05, launch=FakeChild().launch)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.result is not None)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert app.screen.query_one("#export-path", Input).value == f"{paths.name}.ftwizard.yaml"
        path = await written(pilot, ("down", "enter"))
        assert path == tmp_path / f"{paths.name}.trl.yaml"
        assert f"from run {paths.name}" in path.read_text().splitlines()[1]
        assert yaml.safe_load(path.read_text())["model_name_or_path"] == load_config(paths.config).model.name_or_path


async def test_a_damaged_run_config_is_said_not_a_crash(tmp_path: Path) -> None:
    paths = finished_run(tmp_path / "runs")
    paths.config.write_text("method: [\n")
    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinishScreen(paths.root, in_wizard=False, poll_s=0.05, launch=FakeChild().launch)
        await app.push_screen(screen)
        await pilot.press("e")
        await until(pilot, lambda: any("config.yaml" in str(n.message) for n in app._notifications))
        assert app.screen is screen and app.return_code is None


async def test_the_script_format_writes_the_script_and_its_rows(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        path = await written(pilot, ("down", "down", "enter"))
        rows = path.with_name(f"{path.stem}.rows.jsonl")
        assert path.suffix == ".py" and rows.is_file() and len(rows.read_text().splitlines()) > 10
        assert "rows) (script)" in said(app, "#export-problem") and f"python {path.name}" in said(app, "#export-said")
        compile(path.read_text(), str(path), "exec")


async def test_the_accelerate_export_takes_the_gpus_and_sharding_typed(tmp_path) -> None:
    from tuiapp.core.estimate.sharding import Sharding
    from tuiapp.core.export.render import FORMATS

    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_hyperparams(pilot)
        config = screen.config
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        dialog = app.screen
        line = dialog.query_one("#export-sharding", Input)
        assert not line.display  # only for the accelerate export
        await pilot.press(*["down"] * list(FORMATS).index("accelerate"))
        await pilot.pause()
        assert line.display and line.value == "2 fsdp2 none"
        line.value = "1 fsdp2"
        line.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "give 2 to 64" in said(app, "#export-problem"))
        assert dialog.written is None and not list(tmp_path.glob("*.accelerate.*"))
        line.value = "4 zero3 optimizer"
        path = await written(pilot, ("enter",))
        assert path.name.endswith(".accelerate.yaml")
        expected = render_export(
            config, "accelerate", "a config not saved yet", path, Sharding(4, "zero3", "optimizer")
        )
        assert path.read_text() == expected.text
        assert path.with_suffix(".py").is_file()
        assert "accelerate launch --config_file" in said(app, "#export-said")
