"""Peak memory of one comparison trial, measured in its own process from the moment training begins.

On CUDA: torch's max allocated and max reserved (the peaks reset when the `started` event is written, after
loading's transient buffers are returned to the driver) and the NVML peak, sampled in a thread: this process's
memory as nvidia-smi lists it, or, where the driver does not say per process (in some containers), the
device's used memory less what it used before this process touched CUDA. On any device: the process's peak
RSS (loading included), and the shape of the longest batch the embedding saw.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
from typing import Any

SAMPLE_EVERY_S = 0.02


class NvmlPeak:
    """A thread sampling NVML every SAMPLE_EVERY_S until stopped; `peak` in bytes, None without NVML."""

    def __init__(self) -> None:
        self.peak: int | None = None
        self._handle: Any = None
        self._baseline = 0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
        except Exception:  # no driver, no library: the figure is simply not measured
            self._nvml = None

    def baseline(self, index: int = 0) -> None:
        """Before CUDA is touched: what the device already holds (other processes)."""
        if self._nvml is None:
            return
        with contextlib.suppress(Exception):
            visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
            if visible.startswith("GPU-"):
                self._handle = self._nvml.nvmlDeviceGetHandleByUUID(visible)
            else:
                self._handle = self._nvml.nvmlDeviceGetHandleByIndex(int(visible) if visible.isdigit() else index)
            self._baseline = self._nvml.nvmlDeviceGetMemoryInfo(self._handle).used

    def _sample(self) -> int | None:
        nvml, pid = self._nvml, os.getpid()
        with contextlib.suppress(Exception):
            for process in nvml.nvmlDeviceGetComputeRunningProcesses(self._handle):
                if process.pid == pid and isinstance(process.usedGpuMemory, int):
                    return process.usedGpuMemory
        with contextlib.suppress(Exception):
            return max(nvml.nvmlDeviceGetMemoryInfo(self._handle).used - self._baseline, 0)
        return None

    def start(self) -> None:
        if self._handle is None or self._thread is not None:
            return

        def loop() -> None:
            while not self._done.wait(SAMPLE_EVERY_S):
                value = self._sample()
                if value is not None:
                    self.peak = max(self.peak or 0, value)

        self._thread = threading.Thread(target=loop, name="nvml-peak", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            value = self._sample()  # the last moment too
            if value is not None:
                self.peak = max(self.peak or 0, value)


class TrialPeaks:
    """Call `training_started` when training begins and `figures` at the end."""

    def __init__(self) -> None:
        self.nvml = NvmlPeak()
        self.nvml.baseline()
        self.batch_shape: list[int] = []
        self._hooks: list[Any] = []

    def training_started(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.empty_cache()  # loading's cached blocks are not training's
            torch.cuda.reset_peak_memory_stats()
            self.nvml.start()
        self._hooks.append(torch.nn.modules.module.register_module_forward_pre_hook(self._find_embedding))

    def _find_embedding(self, module: Any, args: tuple[Any, ...]) -> None:
        """The first nn.Embedding fed a 2-D batch of ids is the input embedding: watch it alone from then on."""
        import torch

        if isinstance(module, torch.nn.Embedding) and args and getattr(args[0], "dim", lambda: 0)() == 2:
            self._hooks.pop().remove()
            self._hooks.append(module.register_forward_pre_hook(self._record_batch))
            self._record_batch(module, args)

    def _record_batch(self, module: Any, args: tuple[Any, ...]) -> None:
        rows, tokens = (int(n) for n in args[0].shape)
        if not self.batch_shape or rows * tokens > self.batch_shape[0] * self.batch_shape[1]:
            self.batch_shape = [rows, tokens]

    def figures(self) -> dict[str, Any]:
        """The peaks as measured.json holds them (None where this machine cannot measure one)."""
        self.nvml.stop()
        for hook in self._hooks:
            hook.remove()
        allocated = reserved = None
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            allocated, reserved = torch.cuda.max_memory_allocated(), torch.cuda.max_memory_reserved()
        rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        return {
            "allocated": allocated,
            "reserved": reserved,
            "nvidia_smi": self.nvml.peak,
            "peak_rss": rss_kib * (1 if sys.platform == "darwin" else 1024),
            "batch_shape": self.batch_shape,
        }
