"""The loss path of the simulated step: the one the backend really takes.

"chunked" is TRL 1.16's SFTTrainer: `trl.trainer.utils.add_fused_lm_head` on the base model, called with
`fused_lm_head=True`, the loss summed from `-log_probs` as `SFTTrainer.compute_loss` does, so the
(batch, seq, vocab) logits never exist. "full_logits" is transformers' own loss on the model's logits
(other stacks, and TRL before 1.16).

On CUDA, TRL folds each logits tile into its running statistics with a Triton kernel and accumulates the
gradient GEMMs with `torch.addmm(..., out_dtype=float32)`: neither allocates. On the CPU the same tiles
go through torch ops (`_forward_tile`, `_backward_tile`, and `_addmm_fp32`'s fp32 copies of both
operands), so `gpu_kernels` runs those with the tracker paused. One difference stays and is named: on
CUDA only labelled positions are gathered (`hidden_states[mask]`, a data-dependent shape fake tensors
cannot take), on the CPU every position is scored; the simulated batch labels every position, so the
bytes are the same except at micro-batch 1, where the CPU's reshape is a view and CUDA's gather is a copy
of one (seq_len, hidden) tensor during the forward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

    from tuiapp.training.memory_tracker import StorageTracker

LOSS_PATHS = ("chunked", "full_logits")
FUSED_OUTPUTS = ("log_probs", "entropy", "is_top1")  # what SFTTrainer asks for (sft_trainer.py, __init__)


def apply_loss_path(model: nn.Module, loss_path: str) -> None:
    """Give the model TRL's fused LM head, as SFTTrainer does after PEFT wrapping (on the base model)."""
    if loss_path != "chunked":
        return
    from trl.trainer.utils import add_fused_lm_head

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    add_fused_lm_head(base, outputs=FUSED_OUTPUTS)


def _paused(tracker: StorageTracker, body: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        with tracker.paused():
            return body(*args, **kwargs)

    return run


@contextmanager
def gpu_kernels(tracker: StorageTracker, loss_path: str) -> Iterator[None]:
    """Run TRL's CPU stand-ins for its Triton tile kernels and fp32-out addmm without counting their
    temporaries (the GPU kernels have none); they write their results in place into counted tensors."""
    if loss_path != "chunked":
        yield
        return
    from trl.kernels import chunked_logprob

    names = ("_forward_tile", "_backward_tile", "_addmm_fp32")
    saved = {name: getattr(chunked_logprob, name) for name in names}
    for name, body in saved.items():
        setattr(chunked_logprob, name, _paused(tracker, body))
    try:
        yield
    finally:
        for name, body in saved.items():
            setattr(chunked_logprob, name, body)


def forward_loss(
    model: nn.Module,
    batch: dict[str, torch.Tensor],
    mixed_precision: torch.dtype | None,
    device_type: str,
    loss_path: str,
) -> torch.Tensor:
    """The forward and loss as Trainer runs them for `loss_path`, keeping only the loss (as
    `Trainer.training_step` does).

    full_logits: the model's own loss; with mixed precision accelerate casts the outputs' logits to fp32.
    chunked: SFTTrainer.compute_loss with the fused head; its metrics (entropy, token accuracy) are summed
    as it sums them (the `.item()` it then calls has no memory to count)."""
    import torch

    autocast = torch.autocast(device_type, dtype=mixed_precision) if mixed_precision else nullcontext()
    if loss_path == "chunked":
        num_items = (batch["labels"][:, 1:] != -100).sum()  # Trainer's num_items_in_batch
        with autocast:
            outputs = model(**batch, fused_lm_head=True)
        per_token_loss = -outputs.log_probs
        loss = per_token_loss.sum() / torch.as_tensor(num_items).clamp(min=1)
        metrics = (outputs.label_mask.sum(), outputs.entropy.detach().sum(), outputs.is_top1.sum())
        del per_token_loss, metrics, outputs
        return loss
    with autocast:
        outputs = model(**batch)
    loss = outputs.loss
    if mixed_precision is not None:
        fp32_logits = outputs.logits.float()
        del fp32_logits
    del outputs
    return loss
