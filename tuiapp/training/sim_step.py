"""One training step as transformers' Trainer runs it, instrumented phase by phase.

Shared by the simulation (fake tensors) and the measurement (real CPU tensors), so both execute the
same Python. The step is a steady-state one: optimizer states already exist (created by a zero-gradient
warm-up step beforehand) and gradients start as None, as after `zero_grad(set_to_none=True)`.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from tuiapp.training.memory_tracker import aligned_bytes

if TYPE_CHECKING:
    import torch
    from torch import nn

    from tuiapp.training.memory_tracker import StorageTracker

LEARNING_RATE = 2e-4
MAX_GRAD_NORM = 1.0  # Trainer's default: gradients are clipped (foreach on GPU) before every step
MIN_8BIT_SIZE = 4096  # bitsandbytes keeps fp32 states for smaller tensors
MIN_PAGED_SIZE = 100_000  # bitsandbytes pages only states of tensors at least this large
OPTIM_BLOCK = 256  # values per fp32 absmax in bitsandbytes' blockwise 8-bit states


def unique_bytes(tensors: list[torch.Tensor]) -> int:
    """Aligned bytes of the distinct storages behind `tensors`."""
    seen: dict[int, int] = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        seen[storage._cdata] = aligned_bytes(storage.nbytes())
    return sum(seen.values())


def _blockwise_8bit_adamw(params: list[nn.Parameter], tracker: StorageTracker, paged: bool) -> Any:
    """bitsandbytes' AdamW8bit, memory-wise: uint8 moments + fp32 absmax per 256 values, updated in place
    by one fused kernel. Paged states live in CUDA managed memory, outside PyTorch's allocator (and so
    outside `max_memory_allocated`); they are not counted in the peak."""
    import torch

    class BlockwiseAdamW8bit(torch.optim.Optimizer):
        def __init__(self) -> None:
            super().__init__(params, {"lr": LEARNING_RATE})

        @torch.no_grad()
        def step(self, closure: Any = None) -> None:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if not self.state[p]:
                        self._init_state(p)
                    p.add_(p.grad, alpha=-group["lr"])  # stands in for the in-place fused update

        def _init_state(self, p: torch.Tensor) -> None:
            state = self.state[p]
            untracked = paged and p.numel() >= MIN_PAGED_SIZE
            with tracker.paused() if untracked else nullcontext():
                if p.numel() < MIN_8BIT_SIZE:
                    state["state1"] = torch.zeros_like(p, dtype=torch.float32)
                    state["state2"] = torch.zeros_like(p, dtype=torch.float32)
                    return
                state["state1"] = torch.zeros_like(p, dtype=torch.uint8)
                state["state2"] = torch.zeros_like(p, dtype=torch.uint8)
            blocks = -(-p.numel() // OPTIM_BLOCK)
            state["absmax1"] = torch.zeros(blocks, dtype=torch.float32, device=p.device)
            state["absmax2"] = torch.zeros(blocks, dtype=torch.float32, device=p.device)

    return BlockwiseAdamW8bit()


def build_optimizer(params: list[nn.Parameter], name: str, tracker: StorageTracker) -> torch.optim.Optimizer:
    """The optimizer Trainer builds for `name`, configured as on a GPU (AdamW's foreach path)."""
    import torch

    if name == "adamw_torch":
        return torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.0, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=LEARNING_RATE, foreach=True)
    return _blockwise_8bit_adamw(params, tracker, paged=name.startswith("paged_"))


def create_optimizer_states(params: list[nn.Parameter], optimizer: torch.optim.Optimizer) -> None:
    """A zero-gradient step, so the measured step finds its optimizer states already allocated."""
    import torch

    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def run_training_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    tracker: StorageTracker,
    mixed_precision: torch.dtype | None,
    device_type: str = "cpu",
    loss_path: str = "full_logits",
) -> dict[str, int]:
    """Forward and loss (`tuiapp.training.sim_loss.forward_loss` for `loss_path`), backward, gradient
    clipping, optimizer step; bytes per phase.

    With mixed precision the forward runs under autocast (on `device_type`), as accelerate wraps the
    model's forward for Trainer's `bf16=True` / `fp16=True`."""
    import torch

    from tuiapp.training.sim_loss import forward_loss, gpu_kernels

    params = [p for p in model.parameters() if p.requires_grad]
    with gpu_kernels(tracker, loss_path):
        with tracker.window() as forward:
            loss = forward_loss(model, batch, mixed_precision, device_type, loss_path)
        after_forward = tracker.live
        with tracker.window() as backward:
            loss.backward()
            del loss
            torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM, foreach=True)
    gradient_bytes = unique_bytes([p.grad for p in params if p.grad is not None])
    with tracker.window() as step:
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return {
        "peak_forward_bytes": forward["peak"],
        "after_forward_bytes": after_forward,
        "peak_backward_bytes": backward["peak"],
        "gradient_bytes": gradient_bytes,
        "peak_optimizer_bytes": step["peak"],
    }


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Aligned bytes of every tensor the optimizer keeps (paged ones included)."""
    import torch

    tensors = [v for state in optimizer.state.values() for v in state.values() if isinstance(v, torch.Tensor)]
    return unique_bytes(tensors)
