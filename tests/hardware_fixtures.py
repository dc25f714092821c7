"""Hardware the tests inject instead of detecting it: a small machine's system facts and a CPU-only profile."""

from __future__ import annotations

from tuiapp.core.hardware import HardwareProfile
from tuiapp.core.hardware.profile import SystemInfo
from tuiapp.core.units import GIB

SYSTEM = SystemInfo(
    cpu_count=2,
    ram_total_bytes=8 * GIB,
    ram_available_bytes=6 * GIB,
    disk_path="/",
    disk_total_bytes=100 * GIB,
    disk_free_bytes=50 * GIB,
)


def cpu_only(source: str = "detected") -> HardwareProfile:
    """A machine without a GPU, as detection reports it (or as planned)."""
    return HardwareProfile(source=source, gpus=(), system=SYSTEM, no_gpu_reason="no driver")
