"""A run's totals over every launch, from its own events: what the completed event, the dashboard and
`ftwizard runs` all say after a stop and a resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.core.runs import CheckpointSaved, Completed, Metrics, RunPaths, Started, Stopped, summarize_run
from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.events import LOADING_MODEL, Phase
from tuiapp.core.runs.other_events import LenientFollower
from tuiapp.core.runs.run_totals import completed_with_totals, run_totals

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
RESUMED = FIXTURES / "tiny-llama-resume"


def recorded(name: str) -> list:
    return LenientFollower(FIXTURES / name / "events.jsonl").poll()


def test_a_stopped_and_resumed_run_is_summed_from_its_events_not_the_trainers_last_launch() -> None:
    events = recorded("tiny-llama-resume")
    starts = [e for e in events if isinstance(e, Started)]
    stopped = next(e for e in events if isinstance(e, Stopped))
    completed = events[-1]
    assert isinstance(completed, Completed) and len(starts) == 2
    assert completed.train_loss == pytest.approx(3.30685)  # the trainer's: the resumed part's sum over all steps
    losses = [e.loss for e in events if isinstance(e, Metrics)]
    assert len(losses) == 40 and min(losses) > 4.9 and max(losses) < 6.9
    totals = run_totals(events)
    assert totals.step == 40
    assert totals.train_loss == pytest.approx(sum(losses) / 40)  # logged every step: each weighs one
    trained = (stopped.time - starts[0].time) + (completed.time - starts[1].time)
    assert totals.training_s == pytest.approx(trained)
    assert totals.training_s < completed.time - starts[0].time - 9  # the ~10 s while stopped are left out
    # the worker's completed event says the same
    fixed = completed_with_totals(completed, events[:-1])
    assert (fixed.train_loss, fixed.runtime_s) == (pytest.approx(totals.train_loss), pytest.approx(trained))
    # and so do `ftwizard runs` and the dashboard, whose three durations agree
    summary = summarize_run(RunPaths(RESUMED))
    assert (summary.step, summary.train_loss, summary.training_s) == (40, totals.train_loss, totals.training_s)
    state = DashboardState("tiny-llama-resume")
    lines = state.apply(events)
    assert state.elapsed_s(now=2e9) == pytest.approx(trained)
    assert isinstance(state.final, Completed) and state.final.train_loss == pytest.approx(totals.train_loss)
    done = lines[-2]
    assert done.text == f"completed at step 40 in 0:00:10 · train loss {totals.train_loss:.4f}"
    assert done.clock_s == pytest.approx(trained)  # the log's clock is the training clock too
    resumed = next(line for line in lines if line.text.startswith("resumed at step 16"))
    assert resumed.clock_s == pytest.approx(stopped.time - starts[0].time)


def test_a_single_launch_gives_the_trainers_own_figures() -> None:
    events = recorded("tiny-llama-lora")
    completed = events[-1]
    totals = run_totals(events)
    assert totals.train_loss == pytest.approx(completed.train_loss, abs=1e-4)
    assert totals.training_s == pytest.approx(completed.runtime_s, abs=0.1)


def test_steps_trained_again_count_once_and_a_dead_launch_ends_at_its_last_step() -> None:
    events = [Started(pid=1, step=0, total_steps=30, time=0.0)]
    events += [Metrics(step=s, total_steps=30, loss=2.0, tokens=100 * s, time=float(s)) for s in (10, 20)]
    events += [CheckpointSaved(step=20, path="/r/checkpoints/checkpoint-20", time=20.5)]
    events += [Metrics(step=25, total_steps=30, loss=9.0, tokens=2600, time=25.0)]  # then killed: no final event
    events += [Phase(name=LOADING_MODEL, time=100.0), Started(pid=2, step=20, total_steps=30, time=110.0)]
    events += [Metrics(step=30, total_steps=30, loss=1.0, tokens=1000, time=120.0)]
    totals = run_totals([*events, Completed(step=30, train_loss=0.1, runtime_s=10.0, tokens=1000, time=121.0)])
    assert totals.step == 30
    assert totals.train_loss == pytest.approx((2.0 * 20 + 1.0 * 10) / 30)  # steps 21-25 were trained again
    assert totals.training_s == pytest.approx(25.0 + 11.0)  # the dead launch ends at its last metrics
    assert totals.tokens == 2600 + 1000  # tokens (like time) count every launch's work
    bare = completed_with_totals(Completed(step=1, train_loss=0.5, tokens=7, time=3.0), [Started(1, 0, 1, time=1.0)])
    assert (bare.train_loss, bare.runtime_s, bare.tokens) == (0.5, 2.0, 7)  # nothing logged: the trainer's kept
