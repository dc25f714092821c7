"""Peak live tensor memory, counted op by op with a TorchDispatchMode.

The same tracker runs over fake tensors (the simulation) and real CPU tensors (the measurement), so the
two can be compared byte for byte. It counts storages, not tensors: views share their base's bytes,
and a storage stops counting when its last tensor dies (a weakref finalizer on the storage object,
which PyTorch keeps alive exactly as long as the C++ storage). Sizes are rounded up to 512 bytes, the
granularity of PyTorch's CUDA caching allocator, so the figure reads like `max_memory_allocated`.

Given an `AllocationRecord`, it also writes down the order of allocations and frees, which
`tuiapp.core.estimate.reserved` replays through a model of the caching allocator to predict reserved memory.
"""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch

CUDA_ALLOC_GRANULARITY = 512


def aligned_bytes(nbytes: int, alignment: int = CUDA_ALLOC_GRANULARITY) -> int:
    """Bytes the CUDA caching allocator hands out for a request of `nbytes` (0 stays 0)."""
    return -(-nbytes // alignment) * alignment


class AllocationRecord:
    """Allocations and frees in order, two machine-word arrays (16 bytes an event): `keys[i]` is a storage's
    serial number, `sizes[i]` its aligned bytes, negative when it was freed."""

    def __init__(self) -> None:
        self.keys = array("q")
        self.sizes = array("q")

    def __len__(self) -> int:
        return len(self.keys)


def make_storage_tracker(
    expand: dict[Any, Callable[..., Any]] | None = None,
    record: AllocationRecord | None = None,
) -> StorageTracker:
    """A new tracker; `expand` maps an op to a Python body run under the tracker, so allocations a
    fused custom op makes inside (bitsandbytes' dequantize-then-matmul) are seen as the GPU sees them;
    `record`, when given, receives every allocation and free."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class DispatchStorageTracker(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.live = 0
            self.peak = 0
            self.window_peak = 0
            self._sizes: dict[int, int] = {}
            self._serials: dict[int, int] = {}
            self._next_serial = 0
            self._paused = 0
            self._expand = dict(expand or {})

        def track(self, tensor: torch.Tensor) -> None:
            """Count `tensor`'s storage until it is freed (no-op if already counted or paused)."""
            if self._paused or not isinstance(tensor, torch.Tensor):
                return
            storage = tensor.untyped_storage()
            key = storage._cdata
            if key in self._sizes:
                return
            size = aligned_bytes(storage.nbytes())
            self._sizes[key] = size
            if record is not None and size:  # an empty storage takes no GPU memory
                self._serials[key] = serial = self._next_serial
                self._next_serial += 1
                record.keys.append(serial)
                record.sizes.append(size)
            self.live += size
            self.peak = max(self.peak, self.live)
            self.window_peak = max(self.window_peak, self.live)
            weakref.finalize(storage, self._free, key).atexit = False

        def track_all(self, tensors: Iterable[torch.Tensor]) -> None:
            for tensor in tensors:
                self.track(tensor)

        def _free(self, key: int) -> None:
            size = self._sizes.pop(key, None)
            if size is None:
                return
            self.live -= size
            if key in self._serials:
                record.keys.append(self._serials.pop(key))  # type: ignore[union-attr]
                record.sizes.append(-size)

        def reset_peak(self) -> None:
            """Forget earlier peaks: the peak restarts from what is live now."""
            self.peak = self.window_peak = self.live

        @contextmanager
        def window(self) -> Iterator[dict[str, int]]:
            """Yield a dict that holds, on exit, the highest live bytes seen inside the block."""
            result: dict[str, int] = {}
            self.window_peak = self.live
            try:
                yield result
            finally:
                result["peak"] = self.window_peak

        @contextmanager
        def paused(self) -> Iterator[None]:
            """Allocations inside are not counted (memory the GPU takes outside PyTorch's allocator)."""
            self._paused += 1
            try:
                yield
            finally:
                self._paused -= 1

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            kwargs = kwargs or {}
            body = self._expand.get(func)
            if body is not None:
                with self:
                    out = body(*args, **kwargs)
            else:
                out = func(*args, **kwargs)
            for leaf in tree_leaves(out):
                self.track(leaf)
            return out

    return DispatchStorageTracker()  # type: ignore[return-value]


class StorageTracker(Protocol):
    """What the tracker offers (the class itself is built inside a function, where torch is imported)."""

    live: int
    peak: int

    def track(self, tensor: torch.Tensor) -> None: ...
    def track_all(self, tensors: Iterable[torch.Tensor]) -> None: ...
    def reset_peak(self) -> None: ...
    def window(self) -> AbstractContextManager[dict[str, int]]: ...
    def paused(self) -> AbstractContextManager[None]: ...
    def __enter__(self) -> StorageTracker: ...
    def __exit__(self, *exc: object) -> None: ...
