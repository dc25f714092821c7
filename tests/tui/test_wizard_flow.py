"""The walk between screens (issue 9's defects): each test here failed before the flow was fixed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static
from tui_scenes import ALPACA, NO_GPU, ONE_GPU, TO_DATASET, catalogue_only, in_process_inspector

from tuiapp.core.config import load_config
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.status import write_status
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.gpu_box_screen import GpuBoxScreen
from tuiapp.tui.screens.hardware_screen import HardwareScreen
from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen
from tuiapp.tui.screens.method_screen import MethodScreen
from tuiapp.tui.screens.model_screen import ModelScreen
from tuiapp.tui.screens.save_config_screen import SaveConfigScreen
from tuiapp.tui.widgets.model_facts import ModelFacts
from tuiapp.tui.widgets.step_trail import StepTrail

FIXTURE_RUN = Path(__file__).parents[1] / "fixtures" / "runs" / "tiny-llama-lora"


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(root))
    return root


def running_run(root: Path, name: str = "busy-run") -> RunPaths:
    """A run whose 'worker' is this test process: alive, with no final event since its launch."""
    folder = root / name
    folder.mkdir()
    shutil.copy(FIXTURE_RUN / "config.yaml", folder / "config.yaml")
    paths = RunPaths(folder)
    paths.events.write_text("", encoding="utf-8")
    write_status(paths.status, os.getpid(), time.time())
    return paths


def wizard(tmp_path: Path, launched: list, hardware=ONE_GPU, **kwargs) -> FTWizardApp:
    return FTWizardApp(
        hardware=hardware,
        resolve=catalogue_only,
        inspect=in_process_inspector,
        save_dir=tmp_path,
        launch=launched.append,
        **kwargs,
    )


FOLLOWERS = ("follow", "gpu")  # the dashboard's readers run as long as it is open


async def settle(pilot) -> None:
    """Let every worker but the dashboard's endless readers finish, then let the screen catch up."""
    await pilot.pause()
    workers = [worker for worker in pilot.app.workers if worker.group not in FOLLOWERS]
    if workers:  # an empty list would mean all of them
        await pilot.app.workers.wait_for_complete(workers)
    await pilot.pause()


async def offered_attach(pilot) -> ConfirmScreen:
    """Wait for the offer to attach to a run going (the runs are first read a moment after the first
    screen has its facts, on a timer) and return it."""
    for _ in range(60):
        await pilot.pause(0.1)
        if isinstance(pilot.app.screen, ConfirmScreen):
            return pilot.app.screen
    raise AssertionError(f"no offer to attach: {pilot.app.screen!r} is on screen")


async def to_hyperparams(pilot, keys=TO_DATASET) -> HyperparamsScreen:
    await pilot.press(*keys, *ALPACA, "enter")
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HyperparamsScreen)
    return pilot.app.screen


PLANNED_TO_DATASET = ("t", *"4090", "enter", *TO_DATASET)


async def test_planning_for_another_gpu_ends_in_saving_not_training(tmp_path, runs_dir) -> None:
    """Defect 1: with a target GPU, the last Ctrl+N saves the config for the box; training here asks first."""
    launched: list = []
    app = wizard(tmp_path, launched, hardware=NO_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot, PLANNED_TO_DATASET)
        assert "Save" in str(app.screen.query_one(StepTrail).render())
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, SaveConfigScreen) and not launched
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, GpuBoxScreen)
        saved = app.screen.saved
        assert saved.exists() and load_config(saved).model.name_or_path.endswith("Llama-3.2-1B-Instruct")
        commands = str(app.screen.query_one("#gpu-box-commands", Static).render())
        assert f"ftwizard train {saved.name}" in commands and "RTX 4090" in app.screen.sub_title + str(
            app.screen.query_one(".hint", Static).render()
        )
        assert app.screen.sub_title.startswith("Step 6 of 6 · Save for the GPU box")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and not launched
        detail = str(app.screen.query_one("#confirm-detail", Static).render())
        assert "CPU core" in detail and "HF_HUB_OFFLINE is set" in detail
        await pilot.press("n")
        await settle(pilot)
        assert not launched and isinstance(app.screen, GpuBoxScreen)


async def test_a_failed_lookup_clears_the_choice_and_blocks_next(tmp_path) -> None:
    """Defect 2: after a good model, a failed lookup leaves no model chosen and no facts on screen."""
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"Qwen2.5-0.5B", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ModelScreen) and screen.model is not None
        screen.query_one("#model-query", Input).value = ""
        await pilot.press(*"nobody/nothing-13b", "enter")
        await settle(pilot)
        assert screen.model is None and screen.query_one(ModelFacts).model is None
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.screen is screen
        assert "nobody/nothing-13b" in str(screen.query_one("#model-problem", Static).render())


async def test_the_title_follows_the_screen_on_back_and_after_a_run(tmp_path, runs_dir) -> None:
    """Defect 3: one numbering; Esc shows the earlier step's title; a run's dashboard leaves no title behind."""
    launched: list = []
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.sub_title == "Step 1 of 7 · Hardware"
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.sub_title == "Step 2 of 7 · Model"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HardwareScreen) and app.screen.sub_title == "Step 1 of 7 · Hardware"
        await pilot.press("n", *"Llama-3.2-1B-Instruct", "enter")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, MethodScreen) and app.screen.sub_title == "Step 3 of 7 · Method"
        await pilot.press("escape", "escape", "escape")
        await pilot.pause()
        await to_hyperparams(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert len(launched) == 1 and app.screen.sub_title.startswith("Step 6 of 7 · Training")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.sub_title.startswith("Step 5 of 7 · Hyperparameters")


async def test_ctrl_n_twice_starts_one_run(tmp_path, runs_dir) -> None:
    """Defect 4: a launch in progress ignores further launches."""
    launched: list = []
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await settle(pilot)
        assert len(launched) == 1


async def test_a_second_run_on_the_gpu_needs_a_yes_that_shows_the_first(tmp_path, runs_dir) -> None:
    """Defect 4: one run per GPU unless the user confirms a second one."""
    launched: list = []
    running_run(runs_dir)
    app = wizard(tmp_path, launched)
    async with app.run_test(size=(80, 24)) as pilot:
        await offered_attach(pilot)
        await pilot.press("n")
        await settle(pilot)
        await to_hyperparams(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and not launched
        assert "busy-run is already training on GeForce RTX 4090" in str(
            app.screen.query_one("#confirm-detail", Static).render()
        )
        await pilot.press("y")
        await settle(pilot)
        assert len(launched) == 1


async def test_enter_takes_the_highlighted_suggestion(tmp_path) -> None:
    """Defect 5: typing `qwen` then Enter looks up the highlighted catalogue row, not "qwen"."""
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"qwen")
        await pilot.pause()
        screen = app.screen
        options = screen.query_one(OptionList)
        assert options.highlighted == 0
        first = str(options.get_option_at_index(0).id)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.model is not None and screen.model.shape.name == first
        assert screen.query_one("#model-query", Input).value == first


async def test_failures_are_our_sentences_without_internal_names(tmp_path) -> None:
    """Defect 6: the failed lookup shows inline, with no toast naming a worker or an exception class."""
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"nobody/nothing-13b", "enter")
        await settle(pilot)
        toasts = [str(n.message) + str(n.title) for n in app._notifications]
        assert not [t for t in toasts if "run_resolve" in t or "Error" in t]
        problem = str(app.screen.query_one("#model-problem", Static).render())
        assert "ModelResolveError" not in problem and "nobody/nothing-13b" in problem


async def test_quitting_with_a_run_going_says_it_keeps_running(tmp_path, runs_dir, capfd) -> None:
    """Defect 7: q with a run going says it keeps training and how to re-attach; the title bar shows it."""
    running_run(runs_dir)
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        offer = await offered_attach(pilot)
        assert "busy-run" in str(offer.query_one("#confirm-question", Static).render())
        await pilot.press("n")
        await pilot.pause(0.2)
        assert "● 1 run training" in app.screen.sub_title
        await pilot.press("q")
        await pilot.pause()
    message = capfd.readouterr().err  # the app prints its exit message as it closes
    assert "busy-run keeps training" in message and "ftwizard attach busy-run" in message


async def test_checkboxes_say_their_state_in_text(tmp_path) -> None:
    """Defect 12: ticked and unticked boxes differ without colour."""
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*TO_DATASET)
        await settle(pilot)
        box = app.screen.query_one("#dataset-skip-bad")
        off = str(box.render())
        box.value = True
        await pilot.pause()
        assert "[ ]" in off and "[X]" in str(box.render())


async def test_no_gpu_here_asks_before_training_on_the_cpu(tmp_path, runs_dir) -> None:
    """Defect 1: on a machine without a GPU, training here says what it means before it starts."""
    launched: list = []
    app = wizard(tmp_path, launched, hardware=NO_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and not launched
        await pilot.press("y")
        await settle(pilot)
        assert len(launched) == 1


async def test_start_from_a_saved_config_opens_at_hyperparameters(tmp_path, runs_dir) -> None:
    """Start anywhere: `ftwizard --config FILE` lays the steps down and opens at Hyperparameters."""
    config_path = tmp_path / "saved.yaml"
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one(Input).value = str(config_path)
        await pilot.press("enter")
        await settle(pilot)
    assert config_path.exists()
    again = wizard(tmp_path, [], config=load_config(config_path), config_path=config_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert isinstance(again.screen, HyperparamsScreen)
        assert again.screen.config.dataset.source == ALPACA
        await pilot.press("escape", "escape", "escape")
        await pilot.pause()
        assert isinstance(again.screen, ModelScreen) and again.screen.model is not None
        assert "Llama-3.2-1B-Instruct" in again.screen.query_one("#model-query", Input).value


async def test_saving_never_overwrites_without_asking(tmp_path, runs_dir) -> None:
    """Saving: a suggested name, then a question before replacing a file."""
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await to_hyperparams(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        box = app.screen.query_one(Input)
        assert box.value.endswith("llama-3.2-1b-instruct-lora.yaml") or box.value.endswith(".yaml")
        target = Path(box.value) if Path(box.value).is_absolute() else Path.cwd() / box.value
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("keep me", encoding="utf-8")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == "keep me"


async def test_help_lists_every_key_of_the_screen(tmp_path) -> None:
    """? opens help for the step on screen, with its keys."""
    from tuiapp.tui.screens.help_screen import HelpScreen

    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_the_palette_holds_the_wizards_commands(tmp_path) -> None:
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for wanted in ("Help for this screen", "Runs", "Plan for another GPU", "Re-detect hardware", "CPU demo"):
            assert wanted in titles
        assert all(binding.description for _, binding, *_ in app.screen.active_bindings.values())


async def test_a_size_typed_in_the_gpu_picker_lists_cards_at_once(tmp_path) -> None:
    """Defect 12: "24GB" shows a 24 GB card and the catalogue's 24 GB cards before Enter."""
    app = wizard(tmp_path, [], hardware=NO_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", *"24GB")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert shown[0].startswith("24 GB GPU") and any("RTX 4090" in row for row in shown)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HardwareScreen) and app.screen.target.memory_gib == 24


def test_core_hints_name_the_screens_controls_not_flags() -> None:
    """Defect 11: what the dataset doctor and the planner say in CLI words reads as the screen's controls."""
    from tuiapp.core.data.read_common import SKIP_HINT
    from tuiapp.tui.control_words import DATASET_WORDS, PLAN_WORDS, flags_left, on_screen

    assert flags_left(SKIP_HINT) and not flags_left(on_screen(SKIP_HINT, DATASET_WORDS))
    assert "skip bad" in on_screen(SKIP_HINT, DATASET_WORDS)
    advice = "no GPU here: add --gpu 'RTX 4090' or --gpu 24GB to plan for the box you will rent"
    assert not flags_left(on_screen(advice, PLAN_WORDS)) and "press t" in on_screen(advice, PLAN_WORDS)
    for cli, screen in {**DATASET_WORDS, **PLAN_WORDS}.items():
        assert flags_left(cli) or "ftwizard" in cli, cli  # each entry replaces a command-line phrase
        assert not flags_left(screen), screen


async def test_q_in_a_text_box_types_and_ctrl_q_quits(tmp_path) -> None:
    """Defect 14: the footer offers ^q, which quits from a text box too; q there is a letter."""
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "q")
        await pilot.pause()
        assert app.screen.query_one("#model-query", Input).value == "q" and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.slow
async def test_the_cpu_demo_walk_ends_in_a_completed_event(tmp_path, runs_dir, monkeypatch) -> None:
    """The newcomer's demo path in-process with the real worker: c → dashboard → completed."""
    from tuiapp.core.runs.events import Completed
    from tuiapp.core.runs.follow import read_events
    from tuiapp.tui.screens.training_screen import TrainingScreen

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = FTWizardApp(hardware=NO_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        for _ in range(1200):  # building the model and 40 CPU steps: well under two minutes
            await pilot.pause(0.25)
            screen = app.screen
            if isinstance(screen, TrainingScreen) and screen.state.phase in ("completed", "failed", "died"):
                break
        assert isinstance(screen, TrainingScreen) and screen.state.phase == "completed"
        assert screen.sub_title.startswith("Training · demo-model")
        await pilot.press("f")  # what next: the Finish screen of the same run
        from tuiapp.tui.screens.finish_screen import FinishScreen

        for _ in range(100):
            await pilot.pause(0.1)
            if isinstance(app.screen, FinishScreen) and app.screen.result is not None:
                break
        assert app.screen.result.finished and app.screen.sub_title.startswith("Finish · demo-model")
    (run,) = runs_dir.iterdir()
    assert isinstance(read_events(run / "events.jsonl")[-1], Completed)


async def test_ftwizard_with_a_run_going_offers_to_attach(tmp_path, runs_dir) -> None:
    """Start anywhere: a run training on this machine is offered (after the first screen has its facts)."""
    from tuiapp.tui.screens.training_screen import TrainingScreen

    running_run(runs_dir)
    app = wizard(tmp_path, [])
    async with app.run_test(size=(80, 24)) as pilot:
        offer = await offered_attach(pilot)
        assert "Run busy-run is training" in str(offer.query_one("#confirm-question").render())
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen) and app.screen.paths.name == "busy-run"
