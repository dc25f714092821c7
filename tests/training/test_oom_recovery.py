"""The recovery loop with a stand-in backend: fast, no model; the real worker runs are in test_worker_oom.py."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import FTConfig, load_config, save_config, validate_config
from tuiapp.core.runs import Completed, EventWriter, Failed, Recovering, RunPaths, Started, read_events
from tuiapp.training.oom_recovery import train_with_recovery


class OutOfMemoryError(RuntimeError):
    """Named like torch's; the worker recognizes it by name."""


def make_run(tmp_path: Path, **training: Any) -> tuple[FTConfig, RunPaths]:
    config = validate_config({"model": {"name_or_path": "org/m"}, "training": training})
    paths = RunPaths(tmp_path / "run")
    save_config(config, paths.config)
    return config, paths


def backend_failing(times: int, error: Callable[[], Exception] = lambda: OutOfMemoryError("CUDA out of memory")):
    """A backend that starts training, raises `error()` on its first `times` calls, then completes; it records
    each config it was given."""
    seen: list[FTConfig] = []

    def train(config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]) -> Any:
        seen.append(config)
        writer.write(Started(pid=0, step=0, total_steps=10))
        if len(seen) <= times:
            (paths.checkpoints / f"checkpoint-{3 * len(seen)}").mkdir(parents=True)
            (paths.checkpoints / f"checkpoint-{3 * len(seen)}" / "trainer_state.json").write_text('{"global_step": 3}')
            # weights resume can load: a safetensors file holding no tensors (8-byte header length, then `{}`)
            (paths.checkpoints / f"checkpoint-{3 * len(seen)}" / "adapter_model.safetensors").write_bytes(
                b"\x02" + b"\0" * 7 + b"{}"
            )
            raise error()
        return Completed(step=10)

    return train, seen


def run(config: FTConfig, paths: RunPaths, backend: Any, stop: bool = False) -> tuple[Any, list[Any]]:
    with EventWriter(paths.events) as writer:
        final = train_with_recovery(backend, config, paths, writer, lambda: stop)
    return final, read_events(paths.events)


def test_each_recovery_is_an_event_and_the_settled_config_is_saved(tmp_path: Path) -> None:
    config, paths = make_run(tmp_path, micro_batch_size=2, grad_accum=3, gradient_checkpointing=False, oom_retries=3)
    backend, seen = backend_failing(2)
    final, events = run(config, paths, backend)
    assert isinstance(final, Completed)
    assert [(c.training.micro_batch_size, c.training.grad_accum, c.training.gradient_checkpointing) for c in seen] == [
        (2, 3, False),
        (1, 6, False),
        (1, 6, True),
    ]
    recoveries = [e for e in events if isinstance(e, Recovering)]
    assert [e.kind for e in events] == ["started", "recovering", "started", "recovering", "started"]
    assert [(e.attempt, e.max_attempts, e.step, Path(e.checkpoint).name) for e in recoveries] == [
        (1, 3, 3, "checkpoint-3"),
        (2, 3, 6, "checkpoint-6"),
    ]
    assert all(e.reason == "CUDA out of memory" for e in recoveries)
    assert load_config(paths.config) == seen[-1]


def test_nothing_left_to_lower_fails_at_once(tmp_path: Path) -> None:
    config, paths = make_run(tmp_path, micro_batch_size=1, gradient_checkpointing=True)
    backend, seen = backend_failing(5, lambda: RuntimeError("CUDA error: out of memory"))
    final, events = run(config, paths, backend)
    assert len(seen) == 1 and [e.kind for e in events] == ["started"]
    assert isinstance(final, Failed) and final.reason == "out_of_memory"
    assert final.message == (
        "out of memory with micro-batch 1 x 8 accumulation, checkpointing on: nothing left to lower automatically: "
        "CUDA error: out of memory"
    )
    assert final.fixes and final.hint == "; ".join(final.fixes)


def test_a_stop_request_ends_recovery(tmp_path: Path) -> None:
    config, paths = make_run(tmp_path)
    backend, seen = backend_failing(1)
    final, _ = run(config, paths, backend, stop=True)
    assert len(seen) == 1 and isinstance(final, Failed) and final.reason == "out_of_memory"
    assert final.message.startswith("out of memory as a stop was requested, so not retried")


def test_other_errors_pass_through_untouched(tmp_path: Path) -> None:
    config, paths = make_run(tmp_path)
    backend, seen = backend_failing(1, lambda: ValueError("not memory"))
    with pytest.raises(ValueError, match="not memory"):
        run(config, paths, backend)
    assert len(seen) == 1 and [e.kind for e in read_events(paths.events)] == ["started"]


def test_out_of_memory_while_loading_is_not_retried(tmp_path: Path) -> None:
    config, paths = make_run(tmp_path, micro_batch_size=8)
    with EventWriter(paths.events) as writer:  # an earlier attempt's events do not count as this one's start
        writer.write(Started(pid=0, step=0, total_steps=10))
    calls = []

    def train(config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]) -> Any:
        calls.append(config)
        raise OutOfMemoryError("CUDA out of memory. Tried to allocate 14.00 GiB")

    final, events = run(config, paths, train)
    assert len(calls) == 1 and [e.kind for e in events] == ["started"]
    assert isinstance(final, Failed) and final.reason == "out_of_memory"
    assert final.message.startswith("out of memory while loading the model, before training began")
    assert not any("micro_batch_size" in fix for fix in final.fixes)
    assert any("method qlora" in fix for fix in final.fixes) and "choose a smaller model" in final.fixes


def test_the_failed_attempt_is_freed_before_the_next_one_starts(tmp_path: Path) -> None:
    config, paths = make_run(tmp_path)
    attempts: list[weakref.ref[Any]] = []

    class Weights:
        """Stands in for the model, optimizer and activations the failed attempt held."""

    def train(config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]) -> Any:
        if attempts:
            assert attempts[0]() is None, "the first attempt's objects are still alive"
            return Completed(step=1)
        writer.write(Started(pid=0, step=0, total_steps=1))
        weights = Weights()
        weights.cycle = weights  # only the garbage collector frees a cycle
        attempts.append(weakref.ref(weights))
        raise OutOfMemoryError("CUDA out of memory")

    gc.disable()  # so only an explicit collection frees the cycle
    try:
        final, _ = run(config, paths, train)
    finally:
        gc.enable()
    assert isinstance(final, Completed)
