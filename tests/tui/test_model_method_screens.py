"""Pilot tests of the Model and Method screens, through the real wizard flow."""

from __future__ import annotations

import importlib.util

import pytest
from textual.widgets import DataTable, Input, OptionList, Static
from tui_scenes import ONE_GPU, WITH_UNSLOTH, WITHOUT_UNSLOTH, catalogue_only, to_model_screen

from tuiapp.core.config import load_config
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.dataset_screen import DatasetScreen
from tuiapp.tui.screens.method_screen import MethodScreen
from tuiapp.tui.screens.model_screen import ModelScreen
from tuiapp.tui.screens.save_config_screen import SaveConfigScreen
from tuiapp.tui.widgets.model_facts import ModelFacts


async def test_choose_a_model_by_typing_then_see_its_shape(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_model_screen(pilot)
        await pilot.press(*"qwen2.5-7b-instruct", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.model is not None and screen.model.shape.name == "Qwen/Qwen2.5-7B-Instruct"
        facts = str(screen.query_one(ModelFacts).render())
        assert "7.6" in facts and "parameters" in facts and "Qwen2ForCausalLM" in facts


async def test_cached_models_are_listed_completed_and_resolved_offline(tmp_path, hub_cache) -> None:
    config = {**find_in_catalog("SmolLM2-135M").config, "num_hidden_layers": 3}
    hub_cache("someorg/tiny-chat-model", config)
    app = FTWizardApp(hardware=ONE_GPU, save_dir=tmp_path)  # the real resolve_model
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_model_screen(pilot)
        first = screen.query_one(OptionList).get_option_at_index(0)
        assert first.id == "someorg/tiny-chat-model" and "cached" in str(first.prompt)
        await pilot.press(*"someorg/ti")
        await pilot.pause()
        await pilot.press("right")  # accept the completion
        query = screen.query_one("#model-query", Input)
        assert query.value == "someorg/tiny-chat-model"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.model is not None and screen.model.source == "cache"
        assert screen.model.shape.num_layers == 3


async def test_tab_completes_a_catalogue_id_then_moves_focus(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_model_screen(pilot)
        query = screen.query_one("#model-query", Input)
        await pilot.press(*"meta-llama/Llama-3.2-1")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert query.value == "meta-llama/Llama-3.2-1B-Instruct" and query.has_focus
        await pilot.press("tab")  # nothing left to complete: Tab moves on, as everywhere else
        await pilot.pause()
        assert query.value == "meta-llama/Llama-3.2-1B-Instruct" and not query.has_focus


async def test_unknown_model_is_a_message_not_a_crash(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test() as pilot:
        screen = await to_model_screen(pilot)
        await pilot.press(*"nobody/nothing-13b", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.model is None
        assert "nobody/nothing-13b" in str(screen.query_one("#model-problem", Static).visual)
        assert isinstance(app.screen, ModelScreen)


async def test_method_table_marks_the_recommendation_and_saves_a_config(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_model_screen(pilot)
        await pilot.press(*"Llama-3.1-8B-Instruct", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MethodScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        recommended = screen.plan.recommended
        assert recommended is not None and screen.highlighted is recommended
        assert "★ recommended" in str(screen.query_one("#method-reasons", Static).visual)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SaveConfigScreen)  # it asks where, suggesting the folder and a name
        assert app.screen.query_one(Input).value == str(tmp_path / f"llama-3.1-8b-instruct-{recommended.method}.yaml")
        await pilot.press("enter")
        await pilot.pause()
        (saved,) = tmp_path.glob("*.yaml")
        config = load_config(saved)
        assert config.model.name_or_path == "meta-llama/Llama-3.1-8B-Instruct"
        assert config.method == recommended.method
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DatasetScreen)
        assert app.screen.config == config


@pytest.mark.parametrize(
    ("installed", "framework", "said"),
    [
        (WITH_UNSLOTH, "unsloth", "Unsloth: installed, CUDA GPU present and llama is supported"),
        (WITHOUT_UNSLOTH, "hf", "pip install 'ftwizard[unsloth]' for ~2x speed"),
    ],
    ids=["unsloth-installed", "unsloth-missing"],
)
async def test_method_plans_with_what_is_installed(tmp_path, installed, framework, said) -> None:
    """What is installed is injected as the hardware is: the plan, its reasons and its config follow it."""
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path, installed=installed)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_model_screen(pilot)
        await pilot.press(*"Llama-3.1-8B-Instruct", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MethodScreen)
        assert screen.plan.framework == framework
        assert all(option.setup.framework == framework for option in screen.plan.options)
        assert said in str(screen.query_one("#method-reasons", Static).render())
        assert screen._config(screen.highlighted).framework == framework


async def test_the_wizard_looks_for_unsloth_when_nothing_is_injected(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_model_screen(pilot)
        await pilot.press(*"Llama-3.1-8B-Instruct", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        here = importlib.util.find_spec("unsloth") is not None
        assert app.screen.plan.framework == ("unsloth" if here else "hf")


async def test_escape_goes_back_a_step(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test() as pilot:
        await to_model_screen(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HardwareScreen"


@pytest.mark.parametrize("found", [True, False], ids=["axolotl-found", "axolotl-missing"])
async def test_method_offers_axolotl_where_its_command_is_found(tmp_path, found) -> None:
    """With the axolotl command here, `a` makes the config framework: axolotl; without it, one line says how to
    get it (the side environment script, or pip in a venv of its own, and the config key for its path)."""
    tools = frozenset({"axolotl"} if found else ())
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path, installed=tools.__contains__)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_model_screen(pilot)
        await pilot.press(*"Llama-3.1-8B-Instruct", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MethodScreen)
        said = str(screen.query_one("#method-reasons", Static).render())
        if not found:
            assert "not found" in said and "scripts/make-tool-venvs.sh" in said and "axolotl_command" in said
            await pilot.press("a")
            assert screen._config(screen.highlighted).framework == "hf"
            return
        assert "a trains this option with framework: axolotl" in said
        await pilot.press("a")
        await pilot.pause()
        assert screen._config(screen.highlighted).framework == "axolotl"
        assert "chosen with a" in str(screen.query_one("#method-reasons", Static).render())
