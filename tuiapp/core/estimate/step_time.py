"""Optimizer steps and a rough training time for a config, before anything runs (the Hyperparameters screen).

Time comes from counting FLOPs. Per trained token a matrix multiply by N weights costs 2·N forward; backward
costs 2·N for the input gradients plus 2·N for the weight gradients, which LoRA-family methods skip because the
base is frozen: ≈ 6·N for a full fine-tune, ≈ 4·N for LoRA, QLoRA and lora8 (the adapters themselves are
negligible). Gradient checkpointing reruns the forward (+2·N). Attention's score and value products add
4·d_attn·span per layer forward and twice that backward (PaLM's 12·layers·d·seq for forward plus backward).
Seconds = FLOPs / (spec-sheet TFLOPS × MFU), MFU being the share of the peak a real run reaches; the MFU
constants below are rough, so read the result as "about an hour", not "63 minutes".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.models.shape import ModelShape

BASE_MFU = 0.40
"""Share of the tensor-core peak a bf16/fp16 LoRA or full fine-tune on one GPU typically sustains with
sdpa/flash attention (public runs land roughly between 0.3 and 0.55); rough."""

METHOD_SPEED = {"full": 1.0, "lora": 1.0, "qlora": 0.6, "lora8": 0.5}
"""Multiplier on BASE_MFU. QLoRA dequantizes every 4-bit weight on each pass (≈0.6); bitsandbytes' int8
matmuls with outlier decomposition are slower still (≈0.5). Rough guesses, not measurements."""

SEQUENCES_PER_ROW = {"dpo": 2, "orpo": 2}
"""Preference rows train on two sequences (chosen and rejected); micro_batch_size counts rows."""

REFERENCE_FORWARD_TASKS = frozenset({"dpo", "kto"})
"""Tasks that also run a frozen reference model forward over every sequence (the base, for adapters)."""

NO_TIME_TASKS = frozenset({"grpo"})
"""Tasks whose time is dominated by generating completions, which this FLOP count does not model."""


@dataclass(frozen=True)
class StepEstimate:
    """How many optimizer steps a config runs, and roughly how long they take on one GPU."""

    steps_per_epoch: int
    total_steps: int
    tokens_per_step: int
    """Tokens through the model per optimizer step (micro-batch × grad_accum sequences)."""
    flops_per_token: float
    mfu: float
    """The assumed share of the spec-sheet peak (BASE_MFU × METHOD_SPEED)."""
    seconds: float | None
    """Total training time; None without a TFLOPS figure, in fp32, or for tasks that generate (grpo)."""

    @property
    def seconds_per_step(self) -> float | None:
        return None if self.seconds is None else self.seconds / self.total_steps


def estimate_steps(
    shape: ModelShape,
    config: FTConfig,
    rows: int,
    mean_tokens: float | None = None,
    tflops: float | None = None,
) -> StepEstimate:
    """Steps and time for training `config` on `rows` training rows (after any eval hold-out).

    `mean_tokens` is the mean length of one sequence in tokens (half of max_length when unknown, capped at
    max_length); `tflops` is the GPU's spec-sheet dense 16-bit tensor figure (GpuSpec.bf16_tflops).
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, not {rows}")
    if mean_tokens is not None and mean_tokens <= 0:
        raise ValueError(f"mean_tokens must be positive, not {mean_tokens}")
    if tflops is not None and tflops <= 0:
        raise ValueError(f"tflops must be positive, not {tflops}")
    training = config.training
    mean = min(mean_tokens if mean_tokens is not None else training.max_length / 2, training.max_length)
    if training.packing:  # rows are concatenated and cut into full max_length sequences
        sequences, seq_tokens = math.ceil(rows * mean / training.max_length), float(training.max_length)
    else:
        sequences, seq_tokens = rows, mean
    steps_per_epoch = math.ceil(sequences / training.effective_batch_size)
    total_steps = training.max_steps or math.ceil(training.epochs * steps_per_epoch)
    per_row = SEQUENCES_PER_ROW.get(config.task, 1)
    tokens_per_step = round(training.effective_batch_size * per_row * seq_tokens)
    flops = flops_per_token(
        shape,
        full=config.method == "full",
        seq_len=seq_tokens,
        gradient_checkpointing=training.gradient_checkpointing,
        reference_forward=config.task in REFERENCE_FORWARD_TASKS,
    )
    mfu = BASE_MFU * METHOD_SPEED[config.method]
    seconds = None
    if tflops is not None and training.precision != "fp32" and config.task not in NO_TIME_TASKS:
        seconds = total_steps * tokens_per_step * flops / (tflops * 1e12 * mfu)
    return StepEstimate(steps_per_epoch, total_steps, tokens_per_step, flops, mfu, seconds)


def flops_per_token(
    shape: ModelShape,
    *,
    full: bool,
    seq_len: float,
    gradient_checkpointing: bool,
    reference_forward: bool = False,
) -> float:
    """Training FLOPs for one token of a `seq_len`-token sequence (see the module docstring)."""
    # The embedding lookup is free; the lm_head matmul is not (and reuses the embedding when tied).
    matmul_params = shape.active_params - (0 if shape.tie_word_embeddings else shape.embedding_params)
    extra_forwards = int(gradient_checkpointing) + int(reference_forward)
    linear_passes = 1 + (2 if full else 1) + extra_forwards  # in units of one forward (2·N FLOPs)
    attention_passes = 3 + extra_forwards  # attention has no weights: its backward is all input gradients
    return 2 * matmul_params * linear_passes + attention_forward_flops(shape, seq_len) * attention_passes


def attention_forward_flops(shape: ModelShape, seq_len: float) -> float:
    """QKᵀ and the product with V, per token, over all layers: 4·d_attn·span each (span = the sliding
    window on local-attention layers). Counted without the causal half, as PaLM's MFU convention does."""
    d_attn = shape.num_attention_heads * shape.head_dim
    local = min(shape.sliding_window_layers, shape.num_layers) if shape.sliding_window else 0
    window = min(seq_len, shape.sliding_window or seq_len)
    return 4 * d_attn * ((shape.num_layers - local) * seq_len + local * window)


def format_duration(seconds: float) -> str:
    """An estimate for people: "≈ 45 s", "≈ 12 min", "≈ 2 h 10 min", "≈ 3 d 4 h"."""
    if not 0 <= seconds < math.inf:  # also rejects NaN
        raise ValueError(f"a duration cannot be {seconds}")
    if seconds < 0.5:
        return "< 1 s"
    if round(seconds) < 60:
        return f"≈ {round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"≈ {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"≈ {hours} h {minutes} min" if minutes else f"≈ {hours} h"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"≈ {days} d {hours} h" if hours else f"≈ {days} d"
