"""Memory peaks during training steps: torch's allocator counters per step, and NVML read by our own GpuMonitor.

`StepPeaks` is a trainer callback (added beside the worker's own, see runner.py). From step `steady_from` on
it resets torch's peak counters as each step begins and reads them as it ends, so loading and the first
steps (before the optimizer states exist) are outside the figures; the NVML sampler's peak is windowed the
same way. The NVML figure is the GPU's used memory minus what was used before this process touched CUDA:
nvidia-smi's number for this process, context included, on a GPU nothing else uses.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from tuiapp.core.hardware.gpu_monitor import GpuMonitor

SAMPLE_EVERY_S = 0.02


class NvmlSampler:
    """A thread reading GPU 0's used memory every SAMPLE_EVERY_S; `window_peak` since the last `reset`."""

    def __init__(self, baseline: int, monitor: GpuMonitor | None = None) -> None:
        self.monitor = monitor or GpuMonitor()
        self.baseline = baseline
        self.samples = 0
        self.window_peak = 0
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> NvmlSampler:
        self.reason = self.monitor.open()
        if self.reason is None:
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            readings = self.monitor.read()
            if not readings:
                self.reason = "NVML stopped answering during the run"
                return
            self.samples += 1
            self.window_peak = max(self.window_peak, readings[0].memory_used_bytes - self.baseline)

    def reset(self) -> None:
        self.window_peak = 0

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.monitor.close()


def used_before_cuda(monitor: GpuMonitor | None = None) -> int:
    """GPU 0's used memory as NVML reports it now (call before this process starts CUDA); 0 without a GPU."""
    monitor = monitor or GpuMonitor()
    if monitor.open() is not None:
        return 0
    readings = monitor.read() or ()
    monitor.close()
    return readings[0].memory_used_bytes if readings else 0


def make_step_peaks(sampler: NvmlSampler | None, steady_from: int = 2) -> Any:
    """A TrainerCallback collecting each steady step's peaks (allocated, reserved, NVML) and wall time."""
    import torch
    from transformers import TrainerCallback

    cuda = torch.cuda.is_available()

    class StepPeaks(TrainerCallback):
        def __init__(self) -> None:
            self.steps: list[dict[str, float]] = []
            self._began = 0.0

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if cuda:
                torch.cuda.synchronize()
                if state.global_step + 1 >= steady_from:
                    torch.cuda.reset_peak_memory_stats()
                    if sampler is not None:
                        sampler.reset()
            self._began = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if cuda:
                torch.cuda.synchronize()
            if state.global_step < steady_from:
                return
            self.steps.append(
                {
                    "step": state.global_step,
                    "seconds": time.perf_counter() - self._began,
                    "alloc": torch.cuda.max_memory_allocated() if cuda else 0,
                    "reserved": torch.cuda.max_memory_reserved() if cuda else 0,
                    "smi": sampler.window_peak if sampler is not None else 0,
                }
            )

    return StepPeaks()
