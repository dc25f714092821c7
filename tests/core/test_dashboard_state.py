"""The Training dashboard's reducer: series, latest figures, ETA, phases, resume, the log, bounded memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest

from tuiapp.core.hardware.gpu_monitor import GpuReading
from tuiapp.core.runs import CheckpointSaved, Completed, EvalDone, Event, Failed, Metrics, Started, Stopped
from tuiapp.core.runs.dashboard_state import LOG_LINES, DashboardState, Series
from tuiapp.core.runs.event_lines import generic_text, log_lines
from tuiapp.core.runs.other_events import LenientFollower, OtherEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"


def recorded(name: str) -> list:
    return LenientFollower(FIXTURES / name / "events.jsonl").poll()


def steady_run(steps: int, total: int = 100, per_step: float = 2.0, start: float = 1000.0) -> list[Event]:
    """Started at `start`, then one metrics event every `per_step` seconds."""
    events: list[Event] = [Started(pid=1, step=0, total_steps=total, time=start)]
    for step in range(1, steps + 1):
        events.append(Metrics(step=step, total_steps=total, loss=3.0 - step / 100, time=start + per_step * step))
    return events


def test_replaying_a_recorded_run_gives_its_series_and_outcome() -> None:
    state = DashboardState("tiny-llama-lora")
    lines = state.apply(recorded("tiny-llama-lora"))
    assert [step for step, _ in state.series["loss"].points] == list(range(1, 41))
    assert [step for step, _ in state.series["eval_loss"].points] == [10, 20, 30, 40]
    assert len(state.series["tokens_per_s"].points) == 39  # the first step has no rate yet
    assert state.series["learning_rate"].points[0] == (1, 0.0)
    assert (state.step, state.total_steps, state.phase, state.fraction) == (40, 40, "completed", 1.0)
    assert state.eval_loss == pytest.approx(5.48579)
    assert isinstance(state.final, Completed) and state.final.artifacts[0].endswith("tiny-llama-lora/final")
    assert state.checkpoint and state.checkpoint.endswith("checkpoint-40")
    assert state.eta_s(now=2e9) is None
    # elapsed stops at the final event, however late it is read
    assert state.elapsed_s(now=2e9) == pytest.approx(state.final.time - state.started.time)
    texts = [line.text for line in lines]
    assert texts[0] == "started: 40 steps on cpu" and texts[1].startswith("notes: gradient checkpointing is off")
    assert "eval at step 10: eval loss 5.8870 · token accuracy 14.0%" in texts
    assert "checkpoint saved at step 20 (checkpoint-20)" in texts
    assert texts[-2].startswith("completed at step 40 in 0:00:33 · train loss 5.7835")
    assert texts[-1].startswith("result: ") and lines[-1].level == "detail"
    assert list(state.log) == lines


def test_eta_follows_the_recent_pace_and_counts_down_between_steps() -> None:
    state = DashboardState("r")
    state.apply(steady_run(10, total=100, per_step=2.0))
    last = 1000.0 + 2.0 * 10
    assert state.seconds_per_step() == pytest.approx(2.0)
    assert state.eta_s(now=last) == pytest.approx(90 * 2.0)
    assert state.eta_s(now=last + 1.5) == pytest.approx(180 - 1.5)
    assert state.eta_s(now=last + 60) == pytest.approx(180 - 2.0)  # a stall never counts it down further
    assert state.elapsed_s(now=last + 5) == pytest.approx(25.0)
    # the pace is the recent one: steps got twice as slow
    state.apply(Metrics(step=10 + k, total_steps=100, time=last + 4.0 * k) for k in range(1, 30))
    assert state.seconds_per_step() == pytest.approx(4.0)


def test_eta_from_the_start_event_when_only_one_step_is_known() -> None:
    state = DashboardState("r")
    state.apply(steady_run(1, total=11, per_step=3.0))
    assert state.eta_s(now=1003.0) == pytest.approx(10 * 3.0)
    assert DashboardState("r").eta_s(now=0.0) is None


def test_resume_drops_the_steps_trained_again_and_adds_up_training_time() -> None:
    state = DashboardState("r")
    state.apply(steady_run(12, total=40, per_step=1.0))  # t = 1000 .. 1012
    state.apply([CheckpointSaved(step=10, path="/runs/r/checkpoints/checkpoint-10", time=1012.5)])
    state.apply([Stopped(step=12, checkpoint="/runs/r/checkpoints/checkpoint-10", time=1013.0)])
    assert state.phase == "stopped" and state.eta_s(now=1013.0) is None
    lines = state.apply([Started(pid=2, step=10, total_steps=40, resumed_from="/x/checkpoint-10", time=2000.0)])
    assert lines[0].text == "resumed at step 10 from checkpoint-10: 40 steps on ?"
    assert state.phase == "training" and state.final is None and state.step == 10
    assert [s for s, _ in state.series["loss"].points] == list(range(1, 11))
    state.apply([Metrics(step=11, total_steps=40, loss=1.0, time=2002.0)])
    assert [s for s, _ in state.series["loss"].points][-2:] == [10, 11]
    assert state.elapsed_s(now=2002.0) == pytest.approx(13.0 + 2.0)


def test_failed_run_with_recoveries_logs_each_one() -> None:
    state = DashboardState("tiny-llama-oom")
    lines = state.apply(recorded("tiny-llama-oom"))
    assert state.phase == "failed" and isinstance(state.final, Failed)
    assert state.final.reason == "out_of_memory"
    recovering = [line for line in lines if line.kind == "recovering"]
    assert [line.text.split(" · ")[0] for line in recovering] == ["recovering: attempt 1", "recovering: attempt 2"]
    assert all("checkpoint checkpoint-10" in line.text and line.level == "warn" for line in recovering)
    assert sum(line.text.startswith("resumed at step 10") for line in lines) == 2
    failed = [line for line in lines if line.kind == "failed"]
    assert failed[0].text.startswith("failed (out_of_memory): still out of memory after 2 automatic recoveries")
    assert failed[-1].text.startswith("torch.OutOfMemoryError") and len(failed) == 4  # message + 3 traceback lines
    assert state.eta_s(now=2e9) is None


def test_unknown_kinds_become_generic_log_lines() -> None:
    other = OtherEvent("from_the_future", 5.0, {"step": 3, "ratio": 0.123456, "path": "/a/b/c", "empty": None})
    (line,) = log_lines(other, "r")
    assert line.text == "from the future: step 3 · ratio 0.1235 · path c"
    assert line.level == "warn"

    @dataclasses.dataclass(frozen=True)
    class Paused(Event):  # a kind added to events.py after the dashboard was written
        kind: ClassVar[str] = "paused"
        step: int
        reason: str

    (line,) = log_lines(Paused(step=7, reason="thermal", time=1.0), "r")
    assert line.text == "paused: step 7 · reason thermal"
    assert generic_text("heartbeat", {}) == "heartbeat"
    state = DashboardState("r")
    state.apply([other])
    assert state.phase == "waiting" and state.events_seen == 1


def test_phase_died_when_the_worker_is_gone_without_a_final_event() -> None:
    state = DashboardState("r")
    state.apply(steady_run(3))
    assert state.phase == "training"
    state.alive = False
    assert state.phase == "died" and state.eta_s(now=1010.0) is None
    assert state.elapsed_s(now=5000.0) == pytest.approx(6.0)  # frozen at the last event
    crashed_at_start = DashboardState("r")  # e.g. a broken install: not one event written
    assert crashed_at_start.phase == "waiting"
    crashed_at_start.alive = False
    assert crashed_at_start.phase == "died" and crashed_at_start.elapsed_s(now=1.0) is None


def test_series_thin_by_halves_and_keep_the_ends() -> None:
    series = Series(limit=10)
    for step in range(1, 26):
        series.add(step, float(step))
    steps = [s for s, _ in series.points]
    assert len(steps) <= 10 and steps[0] == 1 and steps[-1] == 25 and steps == sorted(steps)


def test_memory_stays_bounded_on_a_long_run() -> None:
    state = DashboardState("r")
    events: list[Event] = [Started(pid=1, step=0, total_steps=50_000, time=0.0)]
    for step in range(1, 50_001):
        events.append(Metrics(step=step, total_steps=50_000, loss=1.0, time=float(step)))
        if step % 50 == 0:
            events.append(EvalDone(step=step, eval_loss=1.0, time=float(step)))
    state.apply(events)
    assert all(len(series.points) <= 1000 for series in state.series.values())
    assert len(state.log) == LOG_LINES and state.log[-1].text.startswith("eval at step 50000")
    assert state.series["loss"].points[-1][0] == 50_000


def test_gpu_readings_keep_a_short_history_per_gpu() -> None:
    state = DashboardState("r")
    for i in range(200):
        reading = GpuReading(0, "RTX 4090", float(i % 100), i * 10**8, 24 * 10**9, 60.0, 300.0, 450.0)
        state.add_gpu_readings([reading, dataclasses.replace(reading, index=1, utilization_pct=None)])
    zero, one = state.gpus[0], state.gpus[1]
    assert len(zero.utilization) == 120 and zero.utilization[-1] == 99.0
    assert len(one.utilization) == 0 and len(one.memory) == 120
    assert zero.reading.memory_fraction == pytest.approx(199 * 10**8 / (24 * 10**9))
