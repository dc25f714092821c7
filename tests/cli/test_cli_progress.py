"""The headless progress of `ftwizard train` / `resume`: one line per log step, never wider than the terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tuiapp.cli import run_progress
from tuiapp.cli.run_progress import ProgressPrinter, fit_parts, progress_line, terminal_width
from tuiapp.core.runs import Metrics, Recovering, RunPaths, Started, read_events

RESUMED = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "tiny-llama-resume" / "events.jsonl"


def busy_metrics() -> Metrics:
    return Metrics(
        step=1234, total_steps=5000, epoch=1.57, loss=2.3141, learning_rate=1.8e-4, tokens_per_s=31000.0, time=100.0
    )


def recovered() -> Recovering:
    return Recovering(
        attempt=1,
        max_attempts=2,
        reason="CUDA out of memory",
        step=1000,
        checkpoint="/r/checkpoints/checkpoint-1000",
        old_micro_batch_size=4,
        old_grad_accum=4,
        old_gradient_checkpointing=False,
        new_micro_batch_size=2,
        new_grad_accum=8,
        new_gradient_checkpointing=False,
    )


def test_the_whole_line_when_it_fits() -> None:
    started = Started(pid=1, step=0, total_steps=5000, time=0.0)
    line = progress_line(busy_metrics(), started, recovered(), width=200)
    assert line == progress_line(busy_metrics(), started, recovered())
    assert line.split(" · ")[0] == "step 1234/5000 (24%)" and "ETA 0:05:05" in line


@pytest.mark.parametrize("width", [120, 80, 60, 45, 30, 20, 8])
def test_a_narrow_terminal_drops_the_least_important_parts_first(width: int) -> None:
    started = Started(pid=1, step=0, total_steps=5000, time=0.0)
    line = progress_line(busy_metrics(), started, recovered(), width=width)
    assert len(line) <= width
    parts = line.split(" · ")
    full = progress_line(busy_metrics(), started, recovered()).split(" · ")
    if width < 20:  # not even the step fits: it is cut short, never wrapped
        assert line == "step 12…"
        return
    assert parts == [part for part in full if part in parts]  # the order is kept
    assert parts[0] == "step 1234/5000 (24%)"
    for more, less in (("loss", "ETA"), ("ETA", "micro-batch"), ("micro-batch", "epoch"), ("epoch", "tok/s")):
        if any(less in part for part in parts):
            assert any(more in part for part in parts), (more, less, line)
    assert not any(part.startswith("lr ") for part in parts) or width >= len(" · ".join(full))


def test_fit_parts_cuts_a_single_part_short() -> None:
    assert fit_parts([(0, "step 1/10 (10%)")], 8) == "step 1/…"
    assert fit_parts([(0, "a"), (1, "b")], None) == "a · b"


def test_terminal_width_leaves_the_last_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert terminal_width() == 59


def test_a_redrawn_line_is_fitted_to_the_terminal_now(tmp_path: Path) -> None:
    out = io.StringIO()
    widths = iter([80, 40])
    printer = ProgressPrinter(RunPaths(tmp_path), out, tty=True, width=lambda: next(widths))
    printer.show(Started(pid=1, step=0, total_steps=5000, time=0.0))
    printer.show(busy_metrics())
    printer.show(busy_metrics())
    drawn = out.getvalue().split("\r\033[K")[1:]
    assert [len(line) <= limit for line, limit in zip(drawn, (80, 40), strict=True)] == [True, True]
    assert "\n" not in "".join(drawn)


def _replay(tty: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(run_progress.time, "monotonic", lambda: 1.0)  # a machine booted a second ago
    out = io.StringIO()
    printer = ProgressPrinter(RunPaths(RESUMED.parent), out, tty=tty, width=lambda: 200)
    for event in read_events(RESUMED):
        printer.show(event)
    return out.getvalue()


def test_not_a_terminal_prints_every_log_step_the_first_after_a_resume_too(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _replay(False, monkeypatch).splitlines()
    steps = [line for line in lines if line.startswith("step ")]
    assert len(steps) == sum(isinstance(event, Metrics) for event in read_events(RESUMED)) == 40
    assert lines[0].startswith("training: 40 steps") and steps[0].startswith("step 1/40 (2%)")
    resumed = next(i for i, line in enumerate(lines) if line.startswith("resuming at step 16"))
    after = next(line for line in lines[resumed + 1 :] if not line.startswith("  note:"))
    assert after.startswith("step 17/40 (42%)")


def test_a_terminal_draws_the_first_step_after_a_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _replay(True, monkeypatch)
    after = text.split("resuming at step 16", 1)[1]
    assert after.split("\r\033[K")[1].startswith("step 17/40 (42%)")


@pytest.mark.parametrize(("reason", "code"), [("bad_data", 2), ("model_not_found", 2), ("disk_full", 2), ("error", 1)])
def test_a_classified_failure_exits_2_an_unexpected_one_1(tmp_path: Path, reason: str, code: int) -> None:
    from tuiapp.cli.run_progress import follow_run
    from tuiapp.core.runs import EventWriter, Failed
    from tuiapp.core.runs.follow import EventFollower
    from tuiapp.core.runs.layout import RunPaths

    paths = RunPaths(tmp_path / "run")
    paths.root.mkdir()
    EventWriter(paths.events).write(Failed(reason=reason, message="what went wrong"))
    assert follow_run(paths, EventFollower(paths.events)) == code
