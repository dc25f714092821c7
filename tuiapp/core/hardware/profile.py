"""Plain data describing the machine: GPUs (detected or planned), RAM and disk.

Frozen dataclasses, not pydantic models: the values come from NVML, psutil and the catalogue (already
validated), never from a user, and the first screen paints about 90 ms sooner without importing pydantic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from tuiapp.core.units import GIB  # noqa: F401  (re-exported)

_frozen = dataclass(frozen=True, kw_only=True)


@_frozen
class GpuProcess:
    """A process holding memory on a GPU."""

    pid: int
    name: str
    used_bytes: int | None = None


@_frozen
class GpuInfo:
    """One GPU as NVML reports it, or as the catalogue describes a target."""

    index: int
    name: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    compute_capability: tuple[int, int] | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    uuid: str | None = None
    processes: tuple[GpuProcess, ...] = ()

    @property
    def bf16(self) -> bool:
        """bfloat16 needs compute capability 8.0 (Ampere) or newer."""
        return self.compute_capability is not None and self.compute_capability >= (8, 0)

    @property
    def fp8(self) -> bool:
        """fp8 tensor cores arrive with compute capability 8.9 (Ada, Hopper, Blackwell)."""
        return self.compute_capability is not None and self.compute_capability >= (8, 9)

    @property
    def capability_text(self) -> str:
        return "?" if self.compute_capability is None else "{}.{}".format(*self.compute_capability)


@_frozen
class SystemInfo:
    """CPU, RAM and the disk that will hold runs."""

    cpu_count: int
    ram_total_bytes: int
    ram_available_bytes: int
    disk_path: str
    disk_total_bytes: int
    disk_free_bytes: int


@_frozen
class HardwareProfile:
    """What the planner plans for: the GPUs found here, or a catalogue GPU the user will rent."""

    source: Literal["detected", "planned"]
    gpus: tuple[GpuInfo, ...]
    system: SystemInfo
    no_gpu_reason: str | None = None
    """Why no GPU was found (only when `gpus` is empty)."""

    @property
    def primary_gpu(self) -> GpuInfo | None:
        """The GPU with the most free memory (the one a single-GPU run would use)."""
        return max(self.gpus, key=lambda gpu: gpu.free_bytes, default=None)

    def to_json_dict(self) -> dict:
        """JSON-ready dict with the derived bf16/fp8 flags included per GPU."""
        data = asdict(self)
        for gpu, out in zip(self.gpus, data["gpus"], strict=True):
            out.update(bf16=gpu.bf16, fp8=gpu.fp8)
        return data
