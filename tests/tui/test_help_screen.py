"""The Help screen: topic texts as data, and a key table read from the bindings of the screen it explains."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from screen_harness import COMPLETED_RUN, NoGpus, ScreenHarness, recorded_run
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Markdown

import tuiapp.tui.screens
from tuiapp.tui.help import GENERAL, TOPICS, help_text, split_title
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.help_screen import HelpScreen, KeyRow
from tuiapp.tui.screens.model_screen import ModelScreen
from tuiapp.tui.screens.training_screen import TrainingScreen

HELP_DIR = Path(__file__).resolve().parents[2] / "tuiapp" / "tui" / "help"


def rows_by_description(screen: HelpScreen) -> dict[str, KeyRow]:
    return {row.description: row for row in screen.rows}


async def open_help(pilot, key: str) -> HelpScreen:
    await pilot.pause()
    await pilot.press(key)
    await pilot.pause()
    help_screen = pilot.app.screen
    assert isinstance(help_screen, HelpScreen)
    return help_screen


async def test_model_help_lists_its_keys_hidden_ones_and_the_apps() -> None:
    app = ScreenHarness(lambda: ModelScreen(cached=lambda: ()))
    async with app.run_test(size=(80, 24)) as pilot:
        help_screen = await open_help(pilot, "f1")  # F1 works while the model box has focus
        rows = rows_by_description(help_screen)
        assert rows["Next: method"].keys == "^n" and not rows["Next: method"].available  # no model yet
        assert rows["Back"].keys == "esc" and rows["Back"].available
        assert rows["Complete"].keys == "tab"  # hidden from the footer
        assert rows["Next item"].keys == "↓" and rows["Previous item"].keys == "↑"
        assert rows["Quit"].keys == "^q / q"  # the app's keys, the footer-hidden q with them
        assert rows["Help"].keys == "? / f1"
        assert "Palette" in rows and all(row.description for row in help_screen.rows)
        assert help_screen.query_one("#help-title").render().plain.startswith("Help · ")
        assert "Model" in str(help_screen.query_one("#help-title").render())
        assert len(help_screen.query(Markdown)) == 2  # the topic, then what applies everywhere
        box = help_screen.query_one("#help-box")
        assert box.region.right <= 80 and box.region.bottom <= 24
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ModelScreen)


async def test_training_help_lists_every_described_screen_key_first(tmp_path: Path) -> None:
    run = recorded_run(COMPLETED_RUN, tmp_path / "tiny-llama-lora")
    app = ScreenHarness(lambda: TrainingScreen(run, gpu_monitor=NoGpus(), gpu_every_s=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        training = pilot.app.screen
        help_screen = await open_help(pilot, "question_mark")
        listed = [(row.keys, row.description) for row in help_screen.rows]
        own = [b for b in Binding.make_bindings(TrainingScreen.BINDINGS) if b.description]
        assert own and all((pilot.app.get_key_display(b), b.description) in listed[: len(own)] for b in own)
        assert not rows_by_description(help_screen)["Stop"].available  # the run has completed
        app_quit = next(row for row in help_screen.rows if row.description == "Quit" and "^q" in row.keys)
        shadowed = "q" in training._bindings.key_to_bindings  # the screen's own q hides the app's
        assert ("q" in app_quit.keys.split(" / ")) != shadowed
        assert listed.index((app_quit.keys, "Quit")) < listed.index(("tab", "Focus Next"))  # Textual's last
        assert help_screen.topic == TrainingScreen.HELP_TOPIC
        for key in ("escape", "question_mark", "f1"):  # each closes the help; ? opens it again
            await pilot.press(key)
            await pilot.pause()
            assert pilot.app.screen is training
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(pilot.app.screen, HelpScreen)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_a_short_titled_file(topic: str) -> None:
    page = HELP_DIR / f"{topic}.md"
    text = page.read_text(encoding="utf-8")
    title, body = split_title(text)
    assert title and body.strip() and len(text.splitlines()) <= 45
    assert help_text(topic) == text


def test_every_screens_help_topic_has_a_file() -> None:
    topics = {}
    for module in pkgutil.iter_modules(tuiapp.tui.screens.__path__):
        loaded = importlib.import_module(f"tuiapp.tui.screens.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, Screen) and "HELP_TOPIC" in vars(cls):
                topics[cls.__name__] = cls.HELP_TOPIC
    assert topics.get("RunsScreen") == "runs"
    assert {name: topic for name, topic in topics.items() if topic not in TOPICS} == {}


async def test_a_modal_screen_lists_only_its_own_keys() -> None:
    app = ScreenHarness(lambda: ConfirmScreen("Stop run x?"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = HelpScreen(pilot.app.screen).rows
        listed = [(row.keys, row.description) for row in rows]
        assert listed[:2] == [("y / ⏎", "Yes"), ("n / esc", "No")]
        assert ("^q", "Quit") in listed and ("f1", "Help") in listed  # the app's priority keys still work
        assert ("?", "Help") not in listed and ("q", "Quit") not in listed  # the others do not


def test_unknown_topics_fall_back_on_the_general_text() -> None:
    general = help_text(GENERAL)
    assert "FTWIZARD_RUNS_DIR" in general and "~/.local/share/ftwizard/runs" in general
    assert help_text("no-such-step") == general
    assert help_text("../../README") == general


async def test_a_screen_without_a_topic_gets_the_general_help_once() -> None:
    app = ScreenHarness(Screen)
    async with app.run_test(size=(80, 24)) as pilot:
        help_screen = await open_help(pilot, "question_mark")
        assert help_screen.topic == GENERAL
        assert len(help_screen.query(Markdown)) == 1
        assert "Help · Everywhere" in str(help_screen.query_one("#help-title").render())
