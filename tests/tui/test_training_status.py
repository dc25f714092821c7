"""The Training screen's figures line and progress bar before the first step: what the worker is busy with,
and a failure there said plainly (one Fix line, no "waiting for the first step" left behind)."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Static
from training_scenes import COMPLETED_RUN, AttachedApp, ScriptedGpus, settled

from tuiapp.core.runs import EventWriter, Failed, Started, Stopped
from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.events import FIRST_STEP, LOADING_LIBRARIES, LOADING_MODEL, PREPARING_DATASET, Metrics, Phase
from tuiapp.core.runs.failure import not_cached_fix
from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets.event_log import EventLog
from tuiapp.tui.widgets.run_status import RunProgress, outcome_text, stats_text

NO_GPU = "the NVIDIA driver library (libnvidia-ml) is not installed"
OFFLINE = "model org/m: HF_HUB_OFFLINE is set and the model is not in the cache (/home/ada/.cache/huggingface/hub)"


def progress_label(state: DashboardState) -> str:
    bar = RunProgress()
    bar.show(state, now=100.0)
    return str(bar.render()).lstrip("━╸ ")


def second_line(state: DashboardState) -> str:
    return str(stats_text(state)).split("\n")[1]


def test_phases_show_until_the_first_logged_step() -> None:
    state = DashboardState("r")
    assert second_line(state) == "starting the worker…" and progress_label(state) == "starting…"
    state.apply([Phase(name=LOADING_LIBRARIES, time=1.0)])
    assert second_line(state) == "loading the training libraries…" and state.phase == "waiting"
    state.apply([Phase(name=LOADING_MODEL, detail="/home/ada/models/tiny-llama", time=2.0)])
    assert second_line(state) == "loading the model: tiny-llama…"
    assert progress_label(state) == "loading the model…"
    tokenizing = "tokenizing train dataset"
    lines = state.apply([Phase(PREPARING_DATASET, tokenizing, done=d, total=500, time=3.0) for d in (0, 120)])
    assert second_line(state) == "preparing the dataset: tokenizing train dataset 120/500 (24%)…"
    assert progress_label(state) == "tokenizing train dataset 24%"
    assert [line.text for line in lines] == ["preparing the dataset: tokenizing train dataset"]  # progress: no lines
    state.apply([Started(pid=1, step=0, total_steps=40, time=4.0), Phase(name=FIRST_STEP, done=3, total=10, time=5.0)])
    assert state.phase == "training" and second_line(state) == "first step 3/10 (30%)…"
    assert progress_label(state).startswith("0%")  # the run's own bar from here on
    state.apply([Metrics(step=10, total_steps=40, loss=2.0, learning_rate=1e-4, time=6.0)])
    assert state.activity is None and second_line(state) == "lr 1.00e-04"


def test_a_resume_loading_shows_its_phase_not_the_old_figures() -> None:
    state = DashboardState("r")
    state.apply([Started(pid=1, step=0, total_steps=40, time=0.0)])
    state.apply([Metrics(step=5, total_steps=40, learning_rate=1e-4, time=5.0), Stopped(step=5, time=6.0)])
    assert state.phase == "stopped"
    state.apply([Phase(name=LOADING_MODEL, time=100.0)])
    assert state.phase == "waiting" and state.final is None and second_line(state) == "loading the model…"
    assert state.elapsed_s(now=200.0) == 6.0  # loading is not training time


def test_a_failure_before_the_first_step_says_so_with_one_fix(tmp_path: Path) -> None:
    fix = not_cached_fix("HF_HUB_OFFLINE", "org/m")
    failed = Failed(reason="model_not_cached", message=OFFLINE, hint=fix, traceback_tail=["UserError: …"], time=2.0)
    state = DashboardState("r")
    state.apply([Phase(name=LOADING_MODEL, detail="org/m", time=1.0), failed])
    stats = str(stats_text(state))
    assert stats == "✖ failed\nfailed before the first step, while loading the model"
    outcome = str(outcome_text(state, tmp_path / "r"))
    assert outcome.startswith("Failed (model not cached): model org/m: HF_HUB_OFFLINE is set and the model is not in")
    assert outcome.count("Fix") == 1 and f"\nFix: {fix}\n" in outcome and outcome.count("worker.log") == 1
    # an older worker's failure: its only hint pointed at worker.log, which the next line names anyway
    old = Failed(reason="error", message="boom", hint="see worker.log in the run directory for the full traceback")
    state.apply([old])
    assert "Fix" not in str(outcome_text(state, tmp_path / "r"))


async def test_the_empty_progress_bar_goes_once_a_run_fails_before_its_first_step(tmp_path: Path) -> None:
    run = tmp_path / "offline-run"
    run.mkdir()
    shutil.copy(COMPLETED_RUN / "config.yaml", run / "config.yaml")
    with EventWriter(run / "events.jsonl") as writer:
        writer.write(Phase(name=LOADING_LIBRARIES, time=1.0))
        writer.write(Failed(reason="model_not_cached", message=OFFLINE, hint="download it once", time=2.0))
    app = AttachedApp(lambda: TrainingScreen(run, gpu_monitor=ScriptedGpus((), NO_GPU), clock=lambda: 3.0))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        stats = str(screen.query_one("#training-stats", Static).render())
        assert "waiting for the first step" not in stats and "failed before the first step" in stats
        assert not screen.query_one(RunProgress).display
        log = "\n".join(strip.text for strip in screen.query_one(EventLog).lines)
        assert "0:00:00 loading the training libraries" in log and "failed (model_not_cached)" in log
