"""What the machine has (pynvml, psutil) or what the target GPU will have (the catalogue).

The catalogue's names load on first use: detecting this machine's hardware needs neither it nor its YAML.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tuiapp.core.hardware.nvml import read_gpus
from tuiapp.core.hardware.profile import GIB, GpuInfo, GpuProcess, HardwareProfile, SystemInfo
from tuiapp.core.hardware.system import read_system

if TYPE_CHECKING:
    from tuiapp.core.hardware.catalog import GpuSpec, UnknownGpuError, gpu_catalog, resolve_gpu

_FROM_CATALOG = ("GpuSpec", "UnknownGpuError", "gpu_catalog", "resolve_gpu")


def detect_hardware(disk_path: str | os.PathLike[str] = ".") -> HardwareProfile:
    """The GPUs on this machine (none, with a reason, is a normal answer) plus CPU, RAM and disk."""
    gpus, reason = read_gpus()
    return HardwareProfile(source="detected", gpus=gpus, system=read_system(disk_path), no_gpu_reason=reason)


def planned_hardware(spec: GpuSpec, system: SystemInfo | None = None) -> HardwareProfile:
    """A profile for planning on a GPU this machine does not have (RAM and disk are still local)."""
    return HardwareProfile(source="planned", gpus=(spec.as_gpu(),), system=system or read_system())


def __getattr__(name: str) -> Any:
    if name not in _FROM_CATALOG:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from tuiapp.core.hardware import catalog

    value = globals()[name] = getattr(catalog, name)
    return value


__all__ = [
    "GIB",
    "GpuInfo",
    "GpuProcess",
    "GpuSpec",
    "HardwareProfile",
    "SystemInfo",
    "UnknownGpuError",
    "detect_hardware",
    "gpu_catalog",
    "planned_hardware",
    "read_gpus",
    "read_system",
    "resolve_gpu",
]
