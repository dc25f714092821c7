"""Pilot tests: the Model screen completes base ids and unsloth/ mirrors from the catalogue, and the Method
screen says in words that a Mixtral's experts stay 16-bit under QLoRA, with the ways out."""

from __future__ import annotations

from textual.widgets import Input, OptionList, Static
from tui_scenes import ONE_GPU, WITHOUT_UNSLOTH, catalogue_only, to_model_screen

from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.method_screen import MethodScreen


async def test_a_base_id_is_listed_taken_and_sized_offline(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_model_screen(pilot)
        await pilot.press(*"meta-llama/Llama-3.1-8B")
        await pilot.pause()
        options = screen.query_one(OptionList)
        listed = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
        assert listed[0] == "meta-llama/Llama-3.1-8B-Instruct" and "meta-llama/Llama-3.1-8B" in listed
        await pilot.press("enter")  # the typed id is listed exactly: Enter takes it, not the highlighted row
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.model is not None and screen.model.shape.name == "meta-llama/Llama-3.1-8B"
        assert screen.model.source == "catalogue"


async def test_tab_completes_an_unsloth_4bit_mirror(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_model_screen(pilot)
        query = screen.query_one("#model-query", Input)
        await pilot.press(*"unsloth/qwen2.5-7b-instruct-b")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert query.value.lower() == "unsloth/qwen2.5-7b-instruct-bnb-4bit"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.model is not None and screen.model.shape.stored_quantization is not None


async def test_the_method_screen_says_mixtral_experts_stay_16bit(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path, installed=WITHOUT_UNSLOTH)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_model_screen(pilot)
        await pilot.press(*"mixtral", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MethodScreen)
        words = " ".join(str(screen.query_one("#method-reasons", Static).visual).split())
        assert "experts stay in 16-bit with this transformers: QLoRA saves only the attention weights" in words
        assert "84.0 GiB of expert weights" in words
        assert "ways out: Unsloth" in words and "or larger" in words
