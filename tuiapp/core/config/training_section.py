"""Training hyperparameters."""

from pydantic import Field, model_validator

from tuiapp.core.config.base import Section
from tuiapp.core.config.bounds import within
from tuiapp.core.config.choices import EFFECTIVE_BATCH_MAX, Optimizer, Precision, Scheduler

# Passes over the data: a fine-tune makes 1-10; past 10,000 any data set is memorised, and max_steps is the way
# to ask for a number of steps. Every float below is finite too (Section refuses .inf and .nan).
EPOCHS_MAX = 10_000


class TrainingSection(Section):
    epochs: float = Field(default=1.0, gt=0, le=EPOCHS_MAX)
    """Passes over the training set (fractions allowed); ignored when max_steps is set."""

    max_steps: int | None = Field(default=None, **within("training.max_steps"))
    """Stop after this many optimizer steps; empty means train for `epochs`."""

    learning_rate: float = Field(default=2e-4, gt=0, le=1)
    """Peak learning rate (LoRA ~1e-4..2e-4, full fine-tune ~1e-5)."""

    lr_scheduler: Scheduler = "cosine"
    """How the learning rate decays after warmup."""

    warmup_ratio: float = Field(default=0.03, ge=0, lt=1)
    """Share of the steps spent ramping the learning rate up from 0."""

    micro_batch_size: int = Field(default=2, **within("training.micro_batch_size"))
    """Sequences per forward pass on the GPU (drives peak memory)."""

    grad_accum: int = Field(default=8, **within("training.grad_accum"))
    """Micro-batches summed before each optimizer step; effective batch = micro_batch_size x grad_accum."""

    max_length: int = Field(default=2048, **within("training.max_length"))
    """Tokens per sequence; longer rows are truncated."""

    packing: bool = False
    """Pack several short rows into each sequence (faster on short data; SFT only)."""

    gradient_checkpointing: bool = True
    """Recompute activations in the backward pass: much less memory for ~30% more compute."""

    optimizer: Optimizer = "adamw_torch"
    """Optimizer; the 8-bit ones keep their states in 1 byte per value (bitsandbytes)."""

    weight_decay: float = Field(default=0.0, ge=0, le=1)  # lr <= 1 and this <= 1: no step flips a weight's sign
    """Decoupled weight decay."""

    max_grad_norm: float = Field(default=1.0, ge=0)  # any finite norm is a threshold; 0 is off
    """Clip gradients to this norm; 0 turns clipping off."""

    precision: Precision = "auto"
    """Compute dtype: auto picks bf16 where the GPU supports it, else fp16; fp32 on CPU."""

    seed: int = Field(default=42, **within("training.seed"))
    """Seed for data order, dropout and adapter init."""

    logging_steps: int = Field(default=1, **within("training.logging_steps"))
    """Log loss, learning rate and grad norm every N steps."""

    eval_steps: int | None = Field(default=None, **within("training.eval_steps"))
    """Evaluate every N steps; empty means once per epoch when there is eval data."""

    save_steps: int = Field(default=200, **within("training.save_steps"))
    """Write a checkpoint every N steps."""

    save_total_limit: int | None = Field(default=3, **within("training.save_total_limit"))
    """Keep at most this many checkpoints (oldest deleted first); empty keeps all."""

    oom_retries: int = Field(default=2, **within("training.oom_retries"))
    """On GPU out-of-memory, restart from the last checkpoint at most this many times: first with half the
    micro-batch and twice grad_accum (the same effective batch), once the micro-batch is 1 with gradient
    checkpointing on; 0 turns this off."""

    @property
    def effective_batch_size(self) -> int:
        """Sequences per optimizer step on one GPU."""
        return self.micro_batch_size * self.grad_accum

    @model_validator(mode="after")
    def _warmup_fits(self) -> "TrainingSection":
        if self.max_steps is not None and self.eval_steps is not None and self.eval_steps > self.max_steps:
            raise ValueError(
                f"training.eval_steps ({self.eval_steps}) is larger than training.max_steps "
                f"({self.max_steps}): no evaluation would run; lower eval_steps"
            )
        if self.effective_batch_size > EFFECTIVE_BATCH_MAX:
            raise ValueError(
                f"training.micro_batch_size x training.grad_accum is {self.effective_batch_size:,} sequences per "
                f"step, more than {EFFECTIVE_BATCH_MAX:,}: lower grad_accum (fine-tunes use 8 to 512)"
            )
        return self
