"""Optimizer-state bytes, tensor by tensor: bitsandbytes' 8-bit optimizers treat tensors by their size.

Small tensors (under 4096 values) keep fp32 states; the rest keep uint8 states plus an fp32 scale per 256
values. The paged variants put the uint8 states of tensors of 100,000 values or more in CUDA managed
memory, outside PyTorch's allocator (so outside max_memory_allocated), from where the driver moves them
to CPU memory when the GPU runs short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import TrainingSetup
    from tuiapp.core.models.shape import LinearSpec, ModelShape

BLOCK_8BIT_OPTIM = 256  # values per fp32 absmax in bitsandbytes' blockwise 8-bit optimizer states
MIN_8BIT_SIZE = 4096  # smaller tensors keep fp32 states
MIN_PAGED_SIZE = 100_000  # paged optimizers page only the states of tensors at least this large


def trainable_tensors(shape: ModelShape, setup: TrainingSetup, targets: list[LinearSpec]) -> list[tuple[int, int]]:
    """(values, how many such tensors) for every trainable tensor."""
    if setup.method != "full":
        r = setup.lora_r
        return [pair for s in targets for pair in ((r * s.in_features, s.count), (s.out_features * r, s.count))]
    hidden, layers = shape.hidden_size, shape.num_layers
    tensors = [(s.in_features * s.out_features, s.count) for s in shape.linear_layers()]
    tensors += [(s.out_features, s.count) for s in shape.linear_layers() if s.bias]
    tensors += [(shape.vocab_size * hidden, 1 if shape.tie_word_embeddings else 2), (hidden, 1)]
    tensors.append((hidden, (4 if shape.sandwich_norms else 2) * layers))
    if shape.qk_norm:
        tensors.append((shape.head_dim, 2 * layers))
    return tensors


def optimizer_state_bytes(
    shape: ModelShape, setup: TrainingSetup, targets: list[LinearSpec], trainable: int, param_bytes: int
) -> tuple[int, int]:
    """(bytes in PyTorch's allocator, bytes in paged managed memory) of the optimizer's states."""
    if setup.optimizer == "sgd":
        return 0, 0
    if setup.optimizer == "adafactor":
        return 4 * trainable // 64, 0  # factored second moments: rows + columns, not rows x columns
    if setup.optimizer not in ("adamw_8bit", "paged_adamw_8bit"):
        return 2 * trainable * param_bytes, 0  # AdamW: exp_avg and exp_avg_sq like the parameters
    allocated = paged = 0
    for values, count in trainable_tensors(shape, setup, targets):
        if values < MIN_8BIT_SIZE:
            allocated += 2 * 4 * values * count
            continue
        moments = 2 * values * count
        if setup.optimizer == "paged_adamw_8bit" and values >= MIN_PAGED_SIZE:
            paged += moments
        else:
            allocated += moments
        allocated += 2 * 4 * -(-values // BLOCK_8BIT_OPTIM) * count
    return allocated, paged
