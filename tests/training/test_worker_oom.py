"""GPU out-of-memory on a CPU: `debug.inject_oom_at_step` raises torch.OutOfMemoryError in real workers on
the tiny model, and the worker recovers (lighter settings, from the last checkpoint), or fails with fixes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import load_config, validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import (
    CheckpointSaved,
    Completed,
    Failed,
    Metrics,
    Recovering,
    RunPaths,
    Started,
    read_events,
    summarize_run,
)
from tuiapp.core.runs.launcher import launch_worker, prepare_run

TIMEOUT_S = 120


def make_config(model: Path, debug: dict[str, Any], **training: Any) -> Any:
    settings = {"max_steps": 8, "micro_batch_size": 4, "grad_accum": 1, "learning_rate": 5e-3, "max_length": 128}
    settings |= {"warmup_ratio": 0.0, "save_steps": 4, "gradient_checkpointing": False, **training}
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "dataset": {"source": str(sample_path("messages.jsonl"))},
            "training": settings,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
            "debug": debug,
        }
    )


def run_worker(paths: RunPaths) -> tuple[int, list[Any]]:
    """Launch the worker, wait for it: (exit code, its events)."""
    process = launch_worker(paths)
    try:
        code = process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return code, read_events(paths.events)


def of_kind(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


@pytest.mark.slow
def test_injected_oom_restarts_from_the_checkpoint_with_the_same_effective_batch(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import torch

    paths = prepare_run(make_config(tiny_model_dir, {"inject_oom_at_step": 6}), runs_dir=str(tmp_path))
    code, events = run_worker(paths)
    assert code == 0, paths.log.read_text()

    (recovering,) = of_kind(events, Recovering)
    assert (recovering.attempt, recovering.max_attempts, recovering.step) == (1, 2, 4)
    assert recovering.checkpoint == str(paths.checkpoints / "checkpoint-4")
    assert "injected at step 6" in recovering.reason
    old = (recovering.old_micro_batch_size, recovering.old_grad_accum, recovering.old_gradient_checkpointing)
    new = (recovering.new_micro_batch_size, recovering.new_grad_accum, recovering.new_gradient_checkpointing)
    assert (old, new) == ((4, 1, False), (2, 2, False))

    kinds = [e.kind for e in events]
    assert kinds.index("recovering") > kinds.index("checkpoint_saved")  # it fired after checkpoint-4
    starts = of_kind(events, Started)
    assert [(s.step, s.resumed_from) for s in starts] == [(0, None), (4, recovering.checkpoint)]
    steps = [m.step for m in of_kind(events, Metrics)]
    assert steps[:5] == [1, 2, 3, 4, 5]  # step 5 ran; step 6 ran out of memory as it began
    assert steps[5:] == [5, 6, 7, 8], "after the restart the count continues from the checkpoint, without a gap"
    assert [c.step for c in of_kind(events, CheckpointSaved)] == [4, 8]
    assert isinstance(events[-1], Completed) and events[-1].step == 8

    # The restarted trainer really ran micro-batches of 2, accumulating 2 (the same 4 rows a step).
    args = torch.load(paths.checkpoints / "checkpoint-8" / "training_args.bin", weights_only=False)
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (2, 2)
    epochs = [m.epoch for m in of_kind(events, Metrics)]
    assert epochs[-1] == pytest.approx(8 * 4 / 60), "8 steps of 4 rows (of 60): no rows skipped or repeated"
    settled = load_config(paths.config)
    assert (settled.training.micro_batch_size, settled.training.grad_accum) == (2, 2)
    assert settled.training.effective_batch_size == 4
    assert settled.debug.inject_oom_at_step is None, "the injection fires on the first attempt only"

    summary = summarize_run(paths)
    assert (summary.state, summary.step, summary.oom_recoveries) == ("completed", 8, 1)
    assert summary.recovered_settings == "micro-batch 2 x 2 accumulation, checkpointing off"


@pytest.mark.slow
def test_recovery_off_fails_as_out_of_memory_with_the_fixes_that_apply(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = make_config(tiny_model_dir, {"inject_oom_at_step": 2}, oom_retries=0)
    paths = prepare_run(config, runs_dir=str(tmp_path))
    code, events = run_worker(paths)
    assert code == 1
    assert not of_kind(events, Recovering)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.reason == "out_of_memory"
    assert failed.message.startswith("out of memory; automatic recovery is off (training.oom_retries: 0)")
    assert "CUDA out of memory" in failed.message
    fixes = "\n".join(failed.fixes)
    for words in ("max_length (now 128)", "micro_batch_size (now 4)", "e.g. 2 x 2", "gradient_checkpointing"):
        assert words in fixes
    assert "method qlora" in fixes and "8-bit optimizer" in fixes
    assert failed.hint == "; ".join(failed.fixes)
    assert any("OutOfMemoryError" in line for line in failed.traceback_tail)
    saved = load_config(paths.config)
    assert (saved.training, saved.debug) == (config.training, config.debug), "the settings were left as they were"
    assert summarize_run(paths).state == "failed"


@pytest.mark.slow
def test_recovery_gives_up_after_oom_retries(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = make_config(tiny_model_dir, {"inject_oom_at_step": 3, "inject_oom_times": 3}, save_steps=2)
    paths = prepare_run(config, runs_dir=str(tmp_path))
    code, events = run_worker(paths)
    assert code == 1, paths.log.read_text()
    recoveries = of_kind(events, Recovering)
    assert [(r.attempt, r.step, r.new_micro_batch_size, r.new_grad_accum) for r in recoveries] == [
        (1, 2, 2, 2),
        (2, 2, 1, 4),
    ]
    assert [s.step for s in of_kind(events, Started)] == [0, 2, 2]
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.reason == "out_of_memory"
    assert "after 2 automatic recoveries (from micro-batch 4 x 1 to micro-batch 1 x 4" in failed.message
    assert not any("micro_batch_size" in fix for fix in failed.fixes), "micro-batch 1 cannot be lowered"
    assert any("gradient_checkpointing" in fix for fix in failed.fixes)
    settled = load_config(paths.config).training
    assert (settled.micro_batch_size, settled.grad_accum) == (1, 4)
