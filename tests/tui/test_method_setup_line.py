"""The Method screen says which stack the highlighted figure describes."""

from __future__ import annotations

from textual.widgets import Static
from tui_scenes import ONE_GPU, WITHOUT_UNSLOTH, catalogue_only, to_model_screen

from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.method_screen import MethodScreen


async def test_the_highlighted_option_names_its_setup(tmp_path) -> None:
    app = FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, save_dir=tmp_path, installed=WITHOUT_UNSLOTH)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_model_screen(pilot)
        await pilot.press(*"Llama-3.1-8B-Instruct", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MethodScreen)
        for row, option in enumerate(screen.plan.options):
            screen.query_one("DataTable").move_cursor(row=row)
            await pilot.pause()
            text = str(screen.query_one("#method-reasons", Static).render())
            adapters = {"full": "all weights train", "lora": "adapters fp32", "qlora": "adapters bf16"}
            stack = "setup: transformers + PEFT + TRL · chunked loss · norms and head in bf16"
            expected = f"{stack} · {adapters[option.method]}"
            assert expected in text.replace("\n", " "), text
