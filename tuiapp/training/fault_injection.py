"""Faults raised on purpose (the config's `debug` section), so tests prove the recovery paths on a CPU.

Built by a factory because `transformers.TrainerCallback` may only be imported inside a function here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import TrainerCallback

    from tuiapp.core.config import FTConfig


def make_fault_callbacks(config: FTConfig) -> list[TrainerCallback]:
    """The trainer callbacks that inject the faults `config.debug` asks for (none, normally)."""
    at_step = config.debug.inject_oom_at_step
    if at_step is None:
        return []
    import torch
    from transformers import TrainerCallback

    class InjectOutOfMemory(TrainerCallback):
        """Raises as optimizer step `at_step` begins, where a real one would hit: in its forward pass."""

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step + 1 == at_step:
                raise torch.OutOfMemoryError(
                    f"CUDA out of memory (injected at step {at_step} by debug.inject_oom_at_step)"
                )

    return [InjectOutOfMemory()]
