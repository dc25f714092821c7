"""Out of memory: the next lighter setting to retry with, and the fixes that apply to a config.

The ladder keeps the effective batch (micro-batch x accumulation) exact: the micro-batch is divided by its
smallest prime factor (halved when even) and the accumulation multiplied by the same; once the micro-batch
is 1, gradient checkpointing is turned on; after that nothing is left to lower automatically. Pure: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.config.training_section import TrainingSection

EIGHT_BIT_OPTIMIZERS = ("adamw_8bit", "paged_adamw_8bit")


@dataclass(frozen=True)
class BatchSettings:
    """The three settings out-of-memory recovery changes."""

    micro_batch_size: int
    grad_accum: int
    gradient_checkpointing: bool

    @classmethod
    def of(cls, training: TrainingSection) -> BatchSettings:
        return cls(training.micro_batch_size, training.grad_accum, training.gradient_checkpointing)

    def describe(self) -> str:
        """`micro-batch 2 x 4 accumulation, checkpointing on`."""
        checkpointing = "on" if self.gradient_checkpointing else "off"
        return f"micro-batch {self.micro_batch_size} x {self.grad_accum} accumulation, checkpointing {checkpointing}"

    def as_changes(self) -> dict[str, object]:
        """The dotted config changes that apply these settings (for `with_changes`)."""
        return {
            "training.micro_batch_size": self.micro_batch_size,
            "training.grad_accum": self.grad_accum,
            "training.gradient_checkpointing": self.gradient_checkpointing,
        }


def _smallest_factor(number: int) -> int:
    """The smallest prime factor of `number` (> 1)."""
    factor = 2
    while number % factor:
        factor += 1
    return factor


def lighter_settings(current: BatchSettings) -> BatchSettings | None:
    """The next rung down the ladder, or None when the micro-batch is 1 and checkpointing is already on."""
    if current.micro_batch_size > 1:
        factor = _smallest_factor(current.micro_batch_size)
        return BatchSettings(
            current.micro_batch_size // factor, current.grad_accum * factor, current.gradient_checkpointing
        )
    if not current.gradient_checkpointing:
        return BatchSettings(1, current.grad_accum, True)
    return None


def _method_fix(config: FTConfig) -> list[str]:
    if config.method == "full":
        return ["train an adapter instead (method lora or qlora): a fraction of a full fine-tune's memory"]
    if config.method != "qlora":
        return [f"use method qlora instead of {config.method}: the base model is held in 4 bits"]
    return []


def _plan_fix(config: FTConfig) -> str:
    return f"`ftwizard plan --model {config.model.name_or_path}` shows which settings fit this GPU"


def oom_fixes(config: FTConfig) -> list[str]:
    """What a person can change to fit a training step, in plain words, leaving out what is already done."""
    training = config.training
    fixes = [
        f"shorten training.max_length (now {training.max_length}): activations grow with it; "
        "`ftwizard data inspect` shows how many rows a shorter one would truncate"
    ]
    if training.micro_batch_size > 1:
        smaller = lighter_settings(BatchSettings.of(training))
        assert smaller is not None  # a micro-batch above 1 can always be divided
        example = f"{smaller.micro_batch_size} x {smaller.grad_accum}"
        fixes.append(
            f"lower training.micro_batch_size (now {training.micro_batch_size}) and raise grad_accum to keep the "
            f"effective batch of {training.effective_batch_size}, e.g. {example}"
        )
    if not training.gradient_checkpointing:
        fixes.append("turn on training.gradient_checkpointing: far less activation memory for ~30% more time")
    fixes += _method_fix(config)
    if training.optimizer not in EIGHT_BIT_OPTIMIZERS:
        fixes.append("use an 8-bit optimizer (training.optimizer: adamw_8bit or paged_adamw_8bit): 1 byte per state")
    return [*fixes, _plan_fix(config)]


def loading_oom_fixes(config: FTConfig) -> list[str]:
    """The fixes when the model did not even load: batch settings cannot help, only smaller weights or more room."""
    return [
        *_method_fix(config),
        "choose a smaller model",
        "free the GPU: `ftwizard gpu` lists the processes holding its memory",
        _plan_fix(config),
    ]
