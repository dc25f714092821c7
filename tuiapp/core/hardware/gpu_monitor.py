"""Live GPU readings for the Training screen: utilization, memory, temperature and power, through NVML.

NVML is opened once and read every second or so; a machine without a GPU (or without the driver) is a
normal answer, reported as a reason, never an exception.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tuiapp.core.hardware.nvml import _no_gpu_reason, _text


@dataclass(frozen=True)
class GpuReading:
    """One GPU at one moment; a figure the driver does not report is None."""

    index: int
    name: str
    utilization_pct: float | None
    memory_used_bytes: int
    memory_total_bytes: int
    temperature_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None

    @property
    def memory_fraction(self) -> float:
        return self.memory_used_bytes / self.memory_total_bytes if self.memory_total_bytes else 0.0


def _maybe(nvml: ModuleType, call: str, *args: Any) -> Any:
    """An NVML figure, or None where this GPU or driver does not support it."""
    try:
        return getattr(nvml, call)(*args)
    except (AttributeError, nvml.NVMLError):
        return None


def _read_one(nvml: ModuleType, index: int) -> GpuReading:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    rates = _maybe(nvml, "nvmlDeviceGetUtilizationRates", handle)
    temperature = _maybe(nvml, "nvmlDeviceGetTemperature", handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
    power_mw = _maybe(nvml, "nvmlDeviceGetPowerUsage", handle)
    limit_mw = _maybe(nvml, "nvmlDeviceGetEnforcedPowerLimit", handle)
    return GpuReading(
        index=index,
        name=_text(nvml.nvmlDeviceGetName(handle)).removeprefix("NVIDIA "),
        utilization_pct=float(rates.gpu) if rates is not None else None,
        memory_used_bytes=int(memory.used),
        memory_total_bytes=int(memory.total),
        temperature_c=float(temperature) if temperature is not None else None,
        power_w=power_mw / 1000 if power_mw is not None else None,
        power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
    )


class GpuMonitor:
    """`open()` returns None or why there is no GPU; then `read()` as often as wanted; `close()` at the end.

    `nvml` is injectable for tests, as in `read_gpus`.
    """

    def __init__(self, nvml: ModuleType | None = None) -> None:
        self._nvml = nvml
        self._count = 0

    def open(self) -> str | None:
        if self._nvml is None:
            try:
                self._nvml = importlib.import_module("pynvml")
            except ImportError:
                return "the nvidia-ml-py package is missing (pip install nvidia-ml-py)"
        nvml = self._nvml
        try:
            nvml.nvmlInit()
            self._count = nvml.nvmlDeviceGetCount()
        except nvml.NVMLError as exc:
            return _no_gpu_reason(nvml, exc)
        return None if self._count else "the NVIDIA driver reports no GPU"

    def read(self) -> tuple[GpuReading, ...] | None:
        """Every GPU now; None once there is nothing more to read (a GPU fell off the bus, or a script ended)."""
        nvml = self._nvml
        if nvml is None or not self._count:
            return None
        try:
            return tuple(_read_one(nvml, index) for index in range(self._count))
        except nvml.NVMLError:
            return None

    def close(self) -> None:
        if self._nvml is not None and self._count:
            with contextlib.suppress(self._nvml.NVMLError):
                self._nvml.nvmlShutdown()
        self._count = 0
