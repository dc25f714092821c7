"""From the allocations a training step makes to what nvidia-smi shows: the caching allocator's reserved
memory (replayed, `caching_allocator`), the library workspaces that go through it, and the CUDA context
outside it. Each constant names the source it was read from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuiapp.core.estimate.caching_allocator import CachingAllocatorModel
from tuiapp.core.units import GIB

MIB = 1 << 20
CUBLAS_WORKSPACE_BYTES = 32 * MIB
"""PyTorch's cuBLAS workspace per (handle, stream), allocated through the caching allocator
(aten/src/ATen/cuda/CublasHandlePool.cpp, `parseChosenWorkspaceSize`): 4096 KiB x 8 = 32 MiB on Hopper
(sm90), ":4096:2:16:8" = 8.125 MiB on other GPUs. The Hopper figure, the larger, since the estimate does not
know the GPU."""
CUBLASLT_WORKSPACE_BYTES = 1 * MIB
"""cuBLASLt's workspace per (handle, stream), also from the caching allocator (same file,
`parseCUDABlasLtWorkspaceSize`: 1024 KiB by default, CUBLASLT_WORKSPACE_SIZE)."""
BLAS_HANDLES = 2
"""cuBLAS handles come from a per-thread pool (`getCurrentCUDABlasHandle`): the training thread runs the
forward and the optimizer, autograd's device thread the backward, so two handles on the one stream."""
CUDA_CONTEXT_BYTES = 512 * MIB
"""The CUDA context (driver state, loaded kernel modules), outside PyTorch's allocator but in nvidia-smi's
figure. It depends on the GPU, driver and the kernels a run loads; with CUDA's lazy module loading (the default
since CUDA 11.7, which PyTorch turns on) a PyTorch training process holds about 0.4 to 0.6 GiB (the first
CUDA call alone took 723 MiB before lazy loading, discuss.pytorch.org/t/73021). bitsandbytes adds nothing
here: its 4-bit and 8-bit kernels write into tensors from PyTorch's allocator; its cuBLASLt handle for
LLM.int8() (functional.py `CUBLAS_Context`) is host state; its paged optimizer states (`get_paged`,
cudaMallocManaged) are managed memory that moves to the CPU when the GPU runs short, which the estimate notes
apart."""


def library_workspace_sizes() -> list[int]:
    """The workspaces PyTorch's BLAS handles take from the caching allocator on a run's first matmuls."""
    return [CUBLAS_WORKSPACE_BYTES, CUBLASLT_WORKSPACE_BYTES] * BLAS_HANDLES


def nvidia_smi_bytes(reserved_bytes: int) -> int:
    """nvidia-smi's figure for a process whose caching allocator reserves `reserved_bytes` (workspaces
    included): that plus the CUDA context."""
    return reserved_bytes + CUDA_CONTEXT_BYTES


@dataclass(frozen=True)
class ReplayedMemory:
    """The peaks of a recorded step replayed through the allocator model, workspaces included."""

    allocated_bytes: int
    reserved_bytes: int
    reserved_bytes_no_expandable: int

    @property
    def nvidia_smi_bytes(self) -> int:
        return nvidia_smi_bytes(self.reserved_bytes)

    def as_json(self) -> dict[str, int]:
        return {
            "replayed_alloc_bytes": self.allocated_bytes,
            "reserved_bytes": self.reserved_bytes,
            "reserved_bytes_no_expandable": self.reserved_bytes_no_expandable,
            "nvidia_smi_bytes": self.nvidia_smi_bytes,
        }


def _replay(keys: Sequence[int], sizes: Sequence[int], step_start: int, expandable: bool) -> CachingAllocatorModel:
    """Everything before the step, the workspaces, then the step twice: the second step finds the cache the
    first left, as every step after the first does. Storages the first step kept are still live in the
    second; frees of storages older than the step happen once."""
    model = CachingAllocatorModel(expandable_segments=expandable)
    for key, size in zip(keys[:step_start], sizes[:step_start], strict=True):
        model.alloc(key, size) if size >= 0 else model.free(key)
    for index, size in enumerate(library_workspace_sizes()):
        model.alloc(-1 - index, size)
    step_keys = {key for key, size in zip(keys[step_start:], sizes[step_start:], strict=True) if size >= 0}
    offset = max(keys, default=0) + 1
    for repeat in (0, offset):
        for key, size in zip(keys[step_start:], sizes[step_start:], strict=True):
            if size >= 0:
                model.alloc(key + repeat, size)
            elif key in step_keys:
                model.free(key + repeat)
            elif not repeat:
                model.free(key)
    return model


def replay_step(keys: Sequence[int], sizes: Sequence[int], step_start: int) -> ReplayedMemory:
    """Replay a recorded sequence (`keys[i]` allocated `sizes[i]` bytes, or freed them when negative; the
    steady-state step starts at index `step_start`) with expandable segments on and off."""
    on = _replay(keys, sizes, step_start, expandable=True)
    off = _replay(keys, sizes, step_start, expandable=False)
    return ReplayedMemory(on.peak_allocated, on.reserved, off.reserved)


def describe(replayed: ReplayedMemory) -> str:
    """`21.3 GiB reserved (22.1 GiB without expandable segments)` for notes and logs."""
    return (
        f"{replayed.reserved_bytes / GIB:.1f} GiB reserved "
        f"({replayed.reserved_bytes_no_expandable / GIB:.1f} GiB without expandable segments)"
    )
