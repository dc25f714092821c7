"""Read every NVIDIA GPU through NVML (the nvidia-ml-py package, imported as pynvml)."""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType
from typing import Any

from tuiapp.core.hardware.profile import GpuInfo, GpuProcess

NO_DRIVER_LIBRARY = "the NVIDIA driver library (libnvidia-ml) is not installed"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _process_name(pid: int) -> str:
    import psutil  # imported where used: the wizard's first paint does not wait for it

    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return f"pid {pid}"  # another container's process, or already gone


def _processes(nvml: ModuleType, handle: Any) -> tuple[GpuProcess, ...]:
    found: dict[int, GpuProcess] = {}
    for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        try:
            entries = getattr(nvml, getter)(handle)
        except (nvml.NVMLError, AttributeError):
            continue
        for entry in entries:
            used = getattr(entry, "usedGpuMemory", None)
            found.setdefault(entry.pid, GpuProcess(pid=entry.pid, name=_process_name(entry.pid), used_bytes=used))
    return tuple(sorted(found.values(), key=lambda proc: -(proc.used_bytes or 0)))


def _cuda_version(nvml: ModuleType) -> str | None:
    try:
        version = nvml.nvmlSystemGetCudaDriverVersion()
    except nvml.NVMLError:
        return None
    return f"{version // 1000}.{version % 1000 // 10}"


def _read_gpu(nvml: ModuleType, index: int, driver: str | None, cuda: str | None) -> GpuInfo:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    capability = None
    with contextlib.suppress(nvml.NVMLError):
        capability = tuple(nvml.nvmlDeviceGetCudaComputeCapability(handle))
    uuid = None
    with contextlib.suppress(nvml.NVMLError):
        uuid = _text(nvml.nvmlDeviceGetUUID(handle))
    return GpuInfo(
        index=index,
        name=_text(nvml.nvmlDeviceGetName(handle)).removeprefix("NVIDIA "),
        total_bytes=memory.total,
        used_bytes=memory.used,
        free_bytes=memory.free,
        compute_capability=capability,
        driver_version=driver,
        cuda_version=cuda,
        uuid=uuid,
        processes=_processes(nvml, handle),
    )


def _no_gpu_reason(nvml: ModuleType, exc: Exception) -> str:
    if isinstance(exc, getattr(nvml, "NVMLError_LibraryNotFound", ())):
        return NO_DRIVER_LIBRARY
    if isinstance(exc, getattr(nvml, "NVMLError_DriverNotLoaded", ())):
        return "the NVIDIA driver is installed but not loaded (try nvidia-smi, or reboot after installing it)"
    if isinstance(exc, getattr(nvml, "NVMLError_NoPermission", ())):
        return "no permission to query the NVIDIA driver (check /dev/nvidia* permissions)"
    return f"NVML failed: {exc}"


def _driver_library_missing() -> bool:
    """Linux without libnvidia-ml.so.1 (what pynvml loads): known in a millisecond, while importing pynvml takes
    about 50 (the wizard's first screen waits on this on every machine without a GPU)."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return True
    return False


def read_gpus(nvml: ModuleType | None = None) -> tuple[tuple[GpuInfo, ...], str | None]:
    """All GPUs, or none plus the reason; never raises. `nvml` is injectable for tests."""
    if nvml is None:
        if _driver_library_missing():
            return (), NO_DRIVER_LIBRARY
        try:
            nvml = importlib.import_module("pynvml")
        except ImportError:
            return (), "the nvidia-ml-py package is missing (pip install nvidia-ml-py)"
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        return (), _no_gpu_reason(nvml, exc)
    try:
        driver = None
        with contextlib.suppress(nvml.NVMLError):
            driver = _text(nvml.nvmlSystemGetDriverVersion())
        cuda = _cuda_version(nvml)
        gpus = tuple(_read_gpu(nvml, index, driver, cuda) for index in range(nvml.nvmlDeviceGetCount()))
    except nvml.NVMLError as exc:
        return (), _no_gpu_reason(nvml, exc)
    finally:
        with contextlib.suppress(nvml.NVMLError):
            nvml.nvmlShutdown()
    return gpus, (None if gpus else "the NVIDIA driver reports no GPU")
