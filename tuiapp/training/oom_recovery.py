"""Automatic recovery from GPU out-of-memory: free the memory, lighten the batch settings, and train again from
the last checkpoint, in the same process, up to `training.oom_retries` times; then a failed event with fixes.

The lighter settings are written to the run's config.yaml before each restart, so `ftwizard resume` later
continues with the settings that fit.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from tuiapp.core.config import save_config, with_changes
from tuiapp.core.runs.events import Event, EventWriter, Failed, Recovering, Started
from tuiapp.core.runs.failure import is_out_of_memory, traceback_tail
from tuiapp.core.runs.follow import EventFollower
from tuiapp.core.runs.oom import BatchSettings, lighter_settings, loading_oom_fixes, oom_fixes

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.worker import Backend

REASON_CHARS = 300


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:REASON_CHARS]


def _free_memory() -> None:
    """Collect the failed attempt's model, optimizer and activations, and hand CUDA's cache back."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _spent_injection(config: FTConfig) -> dict[str, object]:
    """An injected fault hits `inject_oom_times` attempts: each recovery uses one up, the last clears it."""
    debug = config.debug
    if debug.inject_oom_at_step is None:
        return {}
    if debug.inject_oom_times > 1:
        return {"debug.inject_oom_times": debug.inject_oom_times - 1}
    return {"debug.inject_oom_at_step": None, "debug.inject_oom_times": 1}


def _recoveries(count: int) -> str:
    return f"{count} automatic recover{'y' if count == 1 else 'ies'}"


def out_of_memory_failure(
    exc: BaseException, config: FTConfig, recoveries: int, first: BatchSettings, stopping: bool = False
) -> Failed:
    """The final event when recovery is off or used up: what was tried, and the fixes that still apply."""
    current = BatchSettings.of(config.training)
    if stopping:
        summary = "out of memory as a stop was requested, so not retried"
    elif config.training.oom_retries == 0:
        summary = "out of memory; automatic recovery is off (training.oom_retries: 0)"
    elif recoveries >= config.training.oom_retries:
        summary = (
            f"still out of memory after {_recoveries(recoveries)} "
            f"(from micro-batch {first.micro_batch_size} x {first.grad_accum} to {current.describe()})"
        )
    else:
        after = f" after {_recoveries(recoveries)}" if recoveries else ""
        summary = f"out of memory with {current.describe()}{after}: nothing left to lower automatically"
    return _failed(exc, summary, oom_fixes(config))


def _failed(exc: BaseException, summary: str, fixes: list[str]) -> Failed:
    return Failed(
        reason="out_of_memory",
        message=f"{summary}: {_first_line(exc)}",
        hint="; ".join(fixes),
        fixes=fixes,
        traceback_tail=traceback_tail(exc),
    )


def _training_began(follower: EventFollower) -> bool:
    """Whether this attempt wrote its started event: before it, the model was still loading."""
    return any(isinstance(event, Started) for event in follower.poll())


def train_with_recovery(
    backend: Backend, config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]
) -> Event:
    """Run `backend`; on out-of-memory, restart lighter (a `recovering` event each time) while attempts remain."""
    first = BatchSettings.of(config.training)
    recoveries = 0
    while True:
        follower = EventFollower(paths.events)
        follower.offset = paths.events.stat().st_size if paths.events.exists() else 0  # this attempt's events
        try:
            return backend(config, paths, writer, stop_requested)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            traceback.print_exc()  # the worker's log keeps every attempt's traceback
            if not _training_began(follower):  # lighter batches cannot help weights that do not fit
                summary = "out of memory while loading the model, before training began"
                return _failed(exc, summary, loading_oom_fixes(config))
            old = BatchSettings.of(config.training)
            new = lighter_settings(old)
            stopping = stop_requested()
            if new is None or recoveries >= config.training.oom_retries or stopping:
                return out_of_memory_failure(exc, config, recoveries, first, stopping)
            reason = _first_line(exc)
            traceback.clear_frames(exc.__traceback__)  # the failed attempt's trainer and model are locals there
        _free_memory()  # outside the except block: the exception and its frames are gone now
        recoveries += 1
        config = with_changes(config, {**new.as_changes(), **_spent_injection(config)})
        save_config(config, paths.config)
        checkpoint = paths.last_checkpoint()
        writer.write(
            Recovering(
                attempt=recoveries,
                max_attempts=config.training.oom_retries,
                reason=reason,
                step=int(checkpoint.name.removeprefix("checkpoint-")) if checkpoint else 0,
                checkpoint=str(checkpoint) if checkpoint else None,
                old_micro_batch_size=old.micro_batch_size,
                old_grad_accum=old.grad_accum,
                old_gradient_checkpointing=old.gradient_checkpointing,
                new_micro_batch_size=new.micro_batch_size,
                new_grad_accum=new.grad_accum,
                new_gradient_checkpointing=new.gradient_checkpointing,
            )
        )
        print(f"ftwizard worker: out of memory; retrying with {new.describe()}", flush=True)
