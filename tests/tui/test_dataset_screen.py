"""Pilot tests of the Dataset screen through the wizard: open a file, read its rows and lengths, move on."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, Input, Static
from tui_scenes import ALPACA, ONE_GPU, TO_DATASET, catalogue_only, in_process_inspector

from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.dataset_screen import DatasetScreen
from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen

SAMPLES = Path(__file__).resolve().parents[2] / "tuiapp" / "sample_data"


async def open_dataset(pilot, source: str) -> DatasetScreen:
    await pilot.press(*TO_DATASET)
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DatasetScreen)
    screen.query_one("#dataset-source", Input).value = source
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def text_of(screen: DatasetScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def wizard(tmp_path: Path) -> FTWizardApp:
    return FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, inspect=in_process_inspector, save_dir=tmp_path)


async def test_open_alpaca_see_format_rows_and_lengths_then_save(tmp_path) -> None:
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dataset(pilot, ALPACA)
        assert "alpaca for sft 100%" in text_of(screen, "#dataset-format-line")
        first = text_of(screen, "#dataset-row")
        assert first.startswith("Row 1 of 80") and "learned" in first and "rectangle" in first
        screen.query_one("#dataset-tabs Tabs").focus()
        await pilot.press("]")  # rows move with [ and ] wherever focus is not in a text box
        await pilot.pause()
        assert text_of(screen, "#dataset-row").startswith("Row 2 of 80")
        stats = text_of(screen, "#dataset-stats")
        assert "recommended 128" in stats and "Max length 2,048" in stats
        await pilot.press("r")
        await pilot.pause()
        assert screen.max_length == 128
        assert screen.query_one("#dataset-max-length", Input).value == "128"
        assert "Max length 128" in text_of(screen, "#dataset-stats")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, HyperparamsScreen)
        chosen = app.screen.config
    assert chosen.dataset.source == ALPACA and chosen.dataset.format == "alpaca"
    assert chosen.training.max_length == 128


async def test_typed_max_length_updates_the_cut_share_without_reinspecting(tmp_path) -> None:
    app = wizard(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dataset(pilot, str(SAMPLES / "messages.jsonl"))
        box = screen.query_one("#dataset-max-length", Input)
        box.value = "64"
        await pilot.pause()
        stats = text_of(screen, "#dataset-stats")
        assert "Max length 64" in stats and "0 rows (0.0%) cut" not in stats


async def test_malformed_line_names_the_place_then_skip_bad_counts_it(tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = (SAMPLES / "prompt_completion.jsonl").read_text().splitlines()
    bad.write_text("\n".join([good[0], '{"prompt": "x", "completion": ', *good[1:5]]) + "\n")
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dataset(pilot, str(bad))
        line = text_of(screen, "#dataset-format-line")
        assert "bad.jsonl:2" in line and "skip" in line
        screen.query_one("#dataset-skip-bad", Checkbox).value = True
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "prompt_completion" in text_of(screen, "#dataset-format-line")
        checks = text_of(screen, "#dataset-checks")
        assert "1 malformed line(s) skipped" in checks and "bad.jsonl:2" in checks


async def test_data_for_another_task_says_which_task_fits(tmp_path) -> None:
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dataset(pilot, str(SAMPLES / "preference.jsonl"))
        line = text_of(screen, "#dataset-format-line")
        assert "cannot train task sft" in line and "dpo" in line
        await pilot.press("ctrl+n")  # nothing usable: stays here and says why
        await pilot.pause()
        assert app.screen is screen


async def test_unknown_columns_suggest_a_mapping_that_then_works(tmp_path) -> None:
    data = tmp_path / "qa.jsonl"
    data.write_text('{"question": "2+2?", "answer": "4"}\n{"question": "3+3?", "answer": "6"}\n')
    app = wizard(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dataset(pilot, str(data))
        assert "question=instruction" in text_of(screen, "#dataset-format-line")
        screen.query_one("#dataset-map", Input).value = "question=instruction answer=output"
        screen.query_one("#dataset-map", Input).focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "alpaca" in text_of(screen, "#dataset-format-line")
        assert "Row 1 of 2" in text_of(screen, "#dataset-row")


async def test_browse_opens_the_picker_on_the_bundled_samples(tmp_path) -> None:
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*TO_DATASET)
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert type(app.screen).__name__ == "SourcePickerScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DatasetScreen)


async def test_rows_that_cannot_train_block_next_until_skip_bad_is_ticked(tmp_path) -> None:
    data = tmp_path / "some_empty.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": ""}\n')
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dataset(pilot, str(data))
        assert "1 row(s) dropped" in text_of(screen, "#dataset-checks")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        screen.query_one("#dataset-skip-bad", Checkbox).value = True
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, HyperparamsScreen) and app.screen.config.dataset.skip_bad
