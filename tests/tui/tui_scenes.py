"""Fixed scenes of the app (injected hardware, scripted keys), shared by snapshot tests and screenshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.pilot import Pilot

from tuiapp.core.hardware import GpuInfo, GpuProcess, HardwareProfile, SystemInfo
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.resolve import ModelResolveError, ResolvedModel
from tuiapp.core.units import GIB
from tuiapp.tui.app import FTWizardApp

SYSTEM = SystemInfo(
    cpu_count=16,
    ram_total_bytes=64 * GIB,
    ram_available_bytes=51 * GIB,
    disk_path="/home/ada/runs",
    disk_total_bytes=1000 * GIB,
    disk_free_bytes=412 * GIB,
)
RTX_4090 = GpuInfo(
    index=0,
    name="GeForce RTX 4090",
    total_bytes=24564 * 1024**2,
    used_bytes=round(3.4 * GIB),
    free_bytes=24564 * 1024**2 - round(3.4 * GIB),
    compute_capability=(8, 9),
    driver_version="550.54.15",
    cuda_version="12.4",
    processes=(GpuProcess(pid=4242, name="python3", used_bytes=round(3.1 * GIB)),),
)
ONE_GPU = HardwareProfile(source="detected", gpus=(RTX_4090,), system=SYSTEM)
NO_GPU = HardwareProfile(
    source="detected",
    gpus=(),
    system=SYSTEM,
    no_gpu_reason="the NVIDIA driver library (libnvidia-ml) is not installed",
)


def catalogue_only(name: str) -> ResolvedModel:
    """Resolve from the offline catalogue alone, so scenes never touch the cache or the network."""
    entry = find_in_catalog(name)
    if entry is None:
        raise ModelResolveError(f"unknown model {name!r}: not in the offline catalogue")
    return ResolvedModel.from_catalog(entry)


@dataclass(frozen=True)
class Scene:
    """An app factory and the keys pressed before the picture is taken."""

    make_app: Callable[[], FTWizardApp]
    keys: tuple[str, ...] = ()

    async def play(self, pilot: Pilot) -> None:
        """Press the keys one by one, letting any worker they start finish before the next key."""
        for key in self.keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


SCENES: dict[str, Scene] = {
    "hardware_gpu": Scene(lambda: FTWizardApp(hardware=ONE_GPU)),
    "hardware_no_gpu": Scene(lambda: FTWizardApp(hardware=NO_GPU)),
    "gpu_picker": Scene(lambda: FTWizardApp(hardware=NO_GPU), ("t", "h", "1")),
    "hardware_planned": Scene(lambda: FTWizardApp(hardware=NO_GPU), ("t", "4", "0", "9", "0", "enter")),
    "model": Scene(
        lambda: FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only),
        ("n", *"qwen2.5-7b-instruct", "enter"),
    ),
    "method": Scene(
        lambda: FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only),
        ("n", *"Llama-3.1-8B-Instruct", "enter", "ctrl+n"),
    ),
}
SIZES = ((80, 24), (120, 40))
