"""The trainer callback that turns the trainer's progress into events, and obeys a stop request.

Between `started` and the first logged step it writes the "first step" phase, counting the steps still to go
when the trainer logs every few steps, so a slow first log is not a silent screen.

Built by a factory because `transformers.TrainerCallback` may only be imported inside a function here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tuiapp.core.runs.events import FIRST_STEP, CheckpointSaved, EvalDone, EventWriter, Metrics, Started
from tuiapp.training.phases import PhaseReporter

if TYPE_CHECKING:
    from transformers import TrainerCallback

StartedFactory = Callable[[int, int], Started]  # (start step, total steps) -> the started event


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _steps_to_first_log(start: int, logging_steps: Any) -> int:
    """How many steps this launch trains before the trainer first logs (it logs when the step is a multiple)."""
    every = int(logging_steps) if isinstance(logging_steps, int | float) and logging_steps >= 1 else 1
    return every - start % every


def _gpu_memory() -> tuple[int | None, int | None]:
    import torch

    if not torch.cuda.is_available():
        return None, None
    return torch.cuda.memory_allocated(), torch.cuda.memory_reserved()


def make_event_callback(
    writer: EventWriter, started: StartedFactory, stop_requested: Callable[[], bool], samples_per_step: int
) -> TrainerCallback:
    """A callback writing started / metrics / eval / checkpoint events; a stop request saves, then stops."""
    from transformers import TrainerCallback

    phases = PhaseReporter(writer)

    class EventCallback(TrainerCallback):
        def __init__(self) -> None:
            self.last_time = time.monotonic()
            self.last_step = 0
            self.last_tokens: float | None = None
            self.first_log: tuple[int, int] | None = None  # (start step, steps to the first log) until it comes

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.last_time, self.last_step = time.monotonic(), state.global_step
            writer.write(started(state.global_step, state.max_steps))
            every = getattr(state, "logging_steps", None) or args.logging_steps
            self.first_log = (state.global_step, min(_steps_to_first_log(state.global_step, every), state.max_steps))
            total = self.first_log[1]
            phases.show(FIRST_STEP, None, 0 if total > 1 else None, total if total > 1 else None)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.first_log is not None and self.first_log[1] > 1:
                start, total = self.first_log
                phases.show(FIRST_STEP, None, min(state.global_step - start, total), total)
            if stop_requested():
                control.should_save = True
                control.should_training_stop = True

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            logs = logs or {}
            if "loss" not in logs:  # eval and end-of-training summaries have their own events
                return
            self.first_log = None
            now = time.monotonic()
            elapsed = max(now - self.last_time, 1e-9)
            steps = state.global_step - self.last_step
            tokens = _number(logs.get("num_tokens"))
            tokens_per_s = None
            if tokens is not None and self.last_tokens is not None and tokens >= self.last_tokens:
                tokens_per_s = (tokens - self.last_tokens) / elapsed
            allocated, reserved = _gpu_memory()
            writer.write(
                Metrics(
                    step=state.global_step,
                    total_steps=state.max_steps,
                    epoch=_number(logs.get("epoch", state.epoch)),
                    loss=_number(logs.get("loss")),
                    learning_rate=_number(logs.get("learning_rate")),
                    grad_norm=_number(logs.get("grad_norm")),
                    tokens_per_s=tokens_per_s,
                    samples_per_s=steps * samples_per_step / elapsed if steps > 0 else None,
                    gpu_memory_allocated=allocated,
                    gpu_memory_reserved=reserved,
                    tokens=int(tokens) if tokens is not None else None,
                )
            )
            self.last_time, self.last_step, self.last_tokens = now, state.global_step, tokens

        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kw: Any):
            values = {k: v for k, v in (metrics or {}).items() if isinstance(v, int | float)}
            writer.write(EvalDone(step=state.global_step, eval_loss=_number(values.get("eval_loss")), metrics=values))

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            path = f"{args.output_dir}/checkpoint-{state.global_step}"
            writer.write(CheckpointSaved(step=state.global_step, path=path))

    return EventCallback()
