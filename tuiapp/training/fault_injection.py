"""Faults raised on purpose (the config's `debug` section), so tests prove the recovery paths on a CPU:
out of memory as a step begins, a full disk or a SIGKILL partway through a save.

Built by a factory because `transformers.TrainerCallback` may only be imported inside a function here.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import TrainerCallback

    from tuiapp.core.config import FTConfig

ADAPTER_FILE = "adapter_model.safetensors"


def make_fault_callbacks(config: FTConfig) -> list[TrainerCallback]:
    """The trainer callbacks that inject the faults `config.debug` asks for (none, normally)."""
    debug = config.debug
    callbacks: list[TrainerCallback] = []
    if debug.inject_oom_at_step is not None:
        callbacks.append(_out_of_memory_at(debug.inject_oom_at_step))
    if debug.inject_disk_full_at_step is not None:
        callbacks.append(_fault_in_save(debug.inject_disk_full_at_step, _disk_full))
    if debug.inject_kill_in_save_at_step is not None:
        callbacks.append(_fault_in_save(debug.inject_kill_in_save_at_step, _killed_after_the_adapter))
    return callbacks


def _out_of_memory_at(at_step: int) -> TrainerCallback:
    import torch
    from transformers import TrainerCallback

    class InjectOutOfMemory(TrainerCallback):
        """Raises as optimizer step `at_step` begins, where a real one would hit: in its forward pass."""

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step + 1 == at_step:
                raise torch.OutOfMemoryError(
                    f"CUDA out of memory (injected at step {at_step} by debug.inject_oom_at_step)"
                )

    return InjectOutOfMemory()


SaveFault = Callable[[Callable[..., Any], Path, tuple[Any, ...], dict[str, Any]], Any]


def _disk_full(save: Callable[..., Any], folder: Path, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What a full disk does to a save: the folder is made, the first large file cannot be written."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ADAPTER_FILE
    raise OSError(
        errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (injected by debug.inject_disk_full_at_step)", str(target)
    )


def _killed_after_the_adapter(save: Callable[..., Any], folder: Path, args: tuple[Any, ...], kwargs: dict[str, Any]):
    """A SIGKILL partway through the save: the weights are on disk, the optimizer state and the rest are not."""
    save(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)


def _fault_in_save(at_step: int, fault: SaveFault) -> TrainerCallback:
    """Wraps the model's `save_pretrained` (the trainer's checkpoints and its final save both go through it) so
    the first save at step `at_step` meets `fault`; a step past the last one means the final save (the trainer
    also writes a checkpoint at the last step, before it)."""
    from transformers import TrainerCallback

    class InjectSaveFault(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if model is None or getattr(model, "_ftwizard_fault", False):
                return
            save = model.save_pretrained
            fired = False

            checkpoints = Path(args.output_dir).resolve()

            def hits(folder: Path) -> bool:
                if at_step > state.max_steps:
                    return checkpoints not in folder.resolve().parents
                return state.global_step == at_step

            def save_pretrained(save_directory: Any, *rest: Any, **options: Any) -> Any:
                nonlocal fired
                if not fired and hits(Path(save_directory)):
                    fired = True
                    return fault(save, Path(save_directory), (save_directory, *rest), options)
                return save(save_directory, *rest, **options)

            model.save_pretrained = save_pretrained
            model._ftwizard_fault = True

    return InjectSaveFault()
