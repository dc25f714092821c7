"""Pilot tests of the Hyperparameters screen: live figures, validation, presets, and starting a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static
from tui_scenes import ALPACA, ONE_GPU, TO_DATASET, catalogue_only, in_process_inspector

from tuiapp.core.config import load_config
from tuiapp.core.runs.layout import RunPaths
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen
from tuiapp.tui.screens.training_screen import TrainingScreen


@pytest.fixture
def launched(tmp_path, monkeypatch) -> list[RunPaths]:
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "runs"))
    return []


async def to_hyperparams(pilot) -> HyperparamsScreen:
    await pilot.press(*TO_DATASET, *ALPACA, "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("ctrl+n")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, HyperparamsScreen)
    return screen


def wizard(tmp_path: Path, launched: list[RunPaths]) -> FTWizardApp:
    return FTWizardApp(
        hardware=ONE_GPU,
        resolve=catalogue_only,
        inspect=in_process_inspector,
        save_dir=tmp_path,
        launch=launched.append,
    )


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def set_field(pilot, screen: HyperparamsScreen, path: str, value: str) -> None:
    box = screen.query_one(f"#field-{path.replace('.', '-')} Input", Input)
    box.focus()
    box.value = value
    await pilot.pause(0.3)  # past the estimate's debounce


async def test_edits_update_batch_steps_and_memory_live(tmp_path, launched) -> None:
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_hyperparams(pilot)
        summary = text(screen, "#hp-summary")
        assert "Effective batch 16 = 2 × 8" in summary and "steps" in summary and "RTX 4090" in summary
        before = text(screen, "#hp-memory")
        await set_field(pilot, screen, "training.micro_batch_size", "8")
        assert "Effective batch 64 = 8 × 8" in text(screen, "#hp-summary")
        after = text(screen, "#hp-memory")
        for _ in range(50):  # the estimate follows the edit on a short timer: a loaded machine needs a moment
            if after != before:
                break
            await pilot.pause(0.1)
            after = text(screen, "#hp-memory")
        assert before != after
        peak = lambda line: float(line.split("GiB")[0].split()[-1].split("/")[0])  # noqa: E731
        assert peak(after) > peak(before)


async def test_a_bad_value_is_explained_and_blocks_next_until_fixed(tmp_path, launched) -> None:
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_hyperparams(pilot)
        await set_field(pilot, screen, "training.learning_rate", "fast")
        assert "takes a number" in text(screen, "#hp-hint")
        assert screen.query_one("#field-training-learning_rate").has_class("-invalid")
        await set_field(pilot, screen, "training.warmup_ratio", "1.5")  # parses, but the config refuses it
        assert "warmup_ratio" in text(screen, "#hp-hint") or "less than 1" in text(screen, "#hp-hint")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen and not launched
        await set_field(pilot, screen, "training.learning_rate", "1e-4")
        await set_field(pilot, screen, "training.warmup_ratio", "0.05")
        assert screen.config.training.learning_rate == 1e-4
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert len(launched) == 1


async def test_low_memory_preset_keeps_the_effective_batch(tmp_path, launched) -> None:
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_hyperparams(pilot)
        screen.query_one("#hp-preset", Select).value = "low_memory"
        await pilot.pause(0.3)
        training = screen.config.training
        assert (training.micro_batch_size, training.grad_accum, training.optimizer) == (1, 16, "adamw_8bit")
        box = screen.query_one("#field-training-grad_accum Input", Input)
        assert box.value == "16"


async def test_next_saves_the_config_creates_the_run_and_opens_the_dashboard(tmp_path, launched) -> None:
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_hyperparams(pilot)
        await set_field(pilot, screen, "training.epochs", "2")
        await pilot.press("ctrl+n")
        for _ in range(50):  # the run directory is made in a thread
            await pilot.pause(0.05)
            if isinstance(app.screen, TrainingScreen):
                break
        assert isinstance(app.screen, TrainingScreen)
    (paths,) = launched
    run_config = load_config(paths.config)
    assert run_config.training.epochs == 2 and Path(run_config.dataset.source).is_absolute()
    assert paths.root.parent == (tmp_path / "runs").resolve()
    assert not list(tmp_path.glob("*.yaml"))  # the run keeps its config; nothing is saved unasked


async def test_max_length_past_the_model_context_is_flagged(tmp_path, launched) -> None:
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_hyperparams(pilot)
        context = screen.model.context_length
        assert "past the model" not in text(screen, "#hp-summary")
        await set_field(pilot, screen, "training.max_length", str(context * 2))
        assert f"past the model's {context:,}-token context" in text(screen, "#hp-summary")
