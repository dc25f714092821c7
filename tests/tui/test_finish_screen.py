"""The Finish screen: a finished run's result, its actions launched with their options and followed through
events.jsonl (progress, done, failed, cancel), reached from the Training and Runs screens and `ftwizard finish`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from training_scenes import COMPLETED_RUN, FIXTURES

from tuiapp.cli import main
from tuiapp.core.runs.action_events import ActionDone, ActionFailed, ActionProgress, ActionStarted
from tuiapp.core.runs.events import EventWriter
from tuiapp.core.runs.layout import RunPaths
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.action_options_screen import ActionOptionsScreen
from tuiapp.tui.screens.finish_screen import FinishScreen
from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets.finish_panels import ActionRow

FOLLOWERS = {"finish-follow", "follow", "gpu", "runs-poll"}


def finished_run(root: Path, source: Path = COMPLETED_RUN) -> RunPaths:
    """A copy of a recorded run with an adapter in final/, as the worker leaves it."""
    target = root / source.name
    target.mkdir(parents=True)
    for name in ("config.yaml", "events.jsonl"):
        shutil.copy(source / name, target / name)
    (target / "final").mkdir()
    (target / "final" / "adapter_config.json").write_text("{}")
    (target / "status.json").write_text('{"pid": 1, "launched_at": 0}')  # its worker (long gone) was launched
    return RunPaths(target)


class FakeChild:
    """Stands in for `python -m tuiapp.training.action_main`: records the launch; the test writes its events."""

    def __init__(self) -> None:
        self.launches: list[tuple[str, dict, str]] = []
        self.cancelled: list[str] = []

    def launch(self, paths: RunPaths, action: str, options: dict, detail: str) -> None:
        self.launches.append((action, options, detail))

    def cancel(self, record) -> bool:
        self.cancelled.append(record.action_id)
        return True


async def until(pilot, condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen did not get there")


def row_text(screen: FinishScreen, action: str) -> str:
    row = screen.query_one(f"#finish-{action}", ActionRow)
    return str(row.query_one(".finish-action-state").render())


async def test_result_actions_and_their_events(tmp_path: Path) -> None:
    paths = finished_run(tmp_path)
    child = FakeChild()
    app = FTWizardApp(hardware=None, detect=lambda: None, finish_dir=None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinishScreen(paths.root, in_wizard=False, poll_s=0.05, launch=child.launch, cancel=child.cancel)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.result is not None)
        result = str(screen.query_one("#finish-result").render())
        assert (
            "tiny-llama-lora · completed" in result
            and "train loss 5.7835" in result
            and "tiny-llama-lora/final" in result
        )
        assert screen.sub_title.startswith("Finish · tiny-llama-lora")

        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ActionOptionsScreen))
        await pilot.click("#option-start")
        await until(pilot, lambda: bool(child.launches))
        assert child.launches == [("merge", {"dtype": "bf16", "device": "auto", "out": None}, "bf16 into merged/")]

        with EventWriter(paths.events) as writer:  # what the child writes
            writer.write(ActionStarted("merge", "merge-1", os.getpid(), "bf16 into merged/"))
            writer.write(ActionProgress("merge", "merge-1", "writing shards", 1, 4))
        await until(pilot, lambda: "writing shards" in row_text(screen, "merge"))
        assert screen.query_one("#finish-merge", ActionRow).query_one("ProgressBar").display

        await pilot.press("g")  # one action at a time
        await pilot.pause()
        assert not isinstance(app.screen, ActionOptionsScreen) and len(child.launches) == 1
        await pilot.press("x")
        assert child.cancelled == ["merge-1"]

        with EventWriter(paths.events) as writer:
            writer.write(ActionDone("merge", "merge-1", "merged into tiny-llama-lora/merged (bf16)", notes=["n"]))
        await until(pilot, lambda: "done: merged into" in row_text(screen, "merge"))
        assert not screen.query_one("#finish-merge", ActionRow).query_one("ProgressBar").display


async def test_push_asks_for_a_valid_repo_and_shows_the_failure_with_its_fix(tmp_path: Path) -> None:
    paths = finished_run(tmp_path)
    child = FakeChild()
    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinishScreen(paths.root, in_wizard=False, poll_s=0.05, launch=child.launch, cancel=child.cancel)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.result is not None)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ActionOptionsScreen))
        await pilot.press(*"bad name!", "enter")
        assert "repository name" in str(app.screen.query_one("#option-problem").render()) and not child.launches
        app.screen.query_one("#option-repo").value = "ada/tiny-chat"
        await pilot.press("enter")
        await until(pilot, lambda: bool(child.launches))
        action, options, detail = child.launches[0]
        assert (action, options) == (
            "push",
            {"repo": "ada/tiny-chat", "what": "adapter", "private": True, "endpoint": None},
        )
        assert detail == "adapter to ada/tiny-chat (private)"

        with EventWriter(paths.events) as writer:
            writer.write(ActionStarted("push", "push-1", os.getpid()))
            writer.write(
                ActionFailed("push", "push-1", "no Hugging Face token", ["run `hf auth login`, or set HF_TOKEN"])
            )
        await until(pilot, lambda: "failed: no Hugging Face token" in row_text(screen, "push"))
        assert "Fix: run `hf auth login`" in row_text(screen, "push")


async def test_a_run_that_did_not_complete_offers_no_action(tmp_path: Path) -> None:
    paths = finished_run(tmp_path, FIXTURES / "tiny-llama-oom")
    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinishScreen(paths.root, in_wizard=False, poll_s=0.05, launch=FakeChild().launch)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.result is not None)
        assert "The run has failed: merge, GGUF, chat and push need" in str(screen.query_one("#finish-result").render())
        await pilot.press("m")
        await pilot.pause()
        assert app.screen is screen, "no options dialog for a run without a result"


async def test_the_training_screen_of_a_completed_run_opens_finish_with_f(tmp_path: Path) -> None:
    paths = finished_run(tmp_path)
    app = FTWizardApp(run_dir=paths.root)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.state.phase == "completed")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FinishScreen))
        await until(pilot, lambda: app.screen.result is not None)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TrainingScreen))


def test_finish_print_lists_the_result_each_action_and_its_command(tmp_path: Path, capsys) -> None:
    paths = finished_run(tmp_path)
    with EventWriter(paths.events) as writer:
        writer.write(ActionStarted("gguf", "gguf-1", os.getpid()))
        writer.write(ActionDone("gguf", "gguf-1", "wrote tiny-llama-lora/gguf/model-q8_0.gguf"))
    assert main(["finish", str(paths.root), "--print"]) == 0
    out = capsys.readouterr().out
    assert "train loss 5.7835" in out
    assert "gguf   wrote tiny-llama-lora/gguf/model-q8_0.gguf" in out
    assert "ftwizard push tiny-llama-lora --repo NAME" in out and "merge  not run yet" in out


def test_runs_shows_the_actions_of_a_run(tmp_path: Path, capsys) -> None:
    paths = finished_run(tmp_path)
    with EventWriter(paths.events) as writer:
        writer.write(ActionStarted("merge", "merge-1", os.getpid()))
        writer.write(ActionDone("merge", "merge-1", "merged"))
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert "merge done" in capsys.readouterr().out


async def test_f_on_the_runs_screen_opens_finish_for_a_completed_run_only(tmp_path: Path) -> None:
    """(It once crashed the app: the highlighted run was called like a method.)"""
    from tuiapp.tui.screens.runs_screen import RunsScreen

    done = finished_run(tmp_path / "runs")
    failed = finished_run(tmp_path / "runs", FIXTURES / "tiny-llama-oom")
    app = FTWizardApp(hardware=None, detect=lambda: None, runs_dir=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed)
        runs = app.screen
        order = [run.name for run in runs.runs]
        runs.query_one("DataTable").move_cursor(row=order.index(failed.name))
        await pilot.press("f")
        await pilot.pause()
        assert app.screen is runs, "a failed run has no result to finish"
        runs.query_one("DataTable").move_cursor(row=order.index(done.name))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FinishScreen) and app.screen.result is not None)
        assert app.screen.paths.root == done.root and app.return_code is None
