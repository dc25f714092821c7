"""Fixed scenes of the app (injected hardware, scripted keys), shared by snapshot tests and screenshots."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.core.hardware import GpuInfo, GpuProcess, HardwareProfile, SystemInfo
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.resolve import ModelResolveError, ResolvedModel
from tuiapp.core.units import GIB
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.model_screen import ModelScreen

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

# What is installed, injected as the hardware is, so a scene looks the same whether or not this machine has Unsloth
WITHOUT_UNSLOTH: Callable[[str], bool] = frozenset[str]().__contains__
WITH_UNSLOTH: Callable[[str], bool] = frozenset({"unsloth"}).__contains__


async def to_model_screen(pilot: Pilot) -> ModelScreen:
    """From the Hardware screen, `n` to the Model screen."""
    await pilot.press("n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ModelScreen)
    return pilot.app.screen


def catalogue_only(name: str) -> ResolvedModel:
    """Resolve from the offline catalogue alone, so scenes never touch the cache or the network."""
    entry = find_in_catalog(name)
    if entry is None:
        raise ModelResolveError(f"unknown model {name!r}: not in the offline catalogue")
    return ResolvedModel.from_catalog(entry)


@cache
def scene_tokenizer_dir() -> Path:
    """The tiny llama model (built once per process) whose tokenizer stands in for the chosen model's."""
    from tuiapp.training.tiny_model import build_tiny_model

    folder = Path(tempfile.gettempdir()) / "ftwizard-scenes" / "llama"
    return folder if (folder / "tokenizer.json").exists() else build_tiny_model(folder, arch="llama")


def in_process_inspector(request: InspectRequest, should_stop: Callable[[], bool]) -> Iterator[dict[str, Any]]:
    """The real dataset inspection, run in this process with the tiny tokenizer (no child, no download)."""
    from tuiapp.training.dataset_inspect import inspect_dataset

    events: list[dict[str, Any]] = []
    inspect_dataset(replace(request, model=str(scene_tokenizer_dir())), events.append)
    yield from events


def dataset_app() -> FTWizardApp:
    return FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, inspect=in_process_inspector, installed=WITH_UNSLOTH)


SAVED_SCENE_DIR = Path(tempfile.gettempdir()) / "ftwizard-scenes" / "saved"  # a fixed path, shown on screen


SCENE_ALPACA = str(SAVED_SCENE_DIR.parent / "data" / "alpaca.json")  # the commands on screen show its path


def planned_app() -> FTWizardApp:
    """Planning for an RTX 4090 on a machine without a GPU; the config is saved to a fixed folder and the
    dataset read from a fixed copy, so the commands on screen name the same paths in any checkout."""
    SAVED_SCENE_DIR.mkdir(parents=True, exist_ok=True)
    for old in SAVED_SCENE_DIR.glob("*.yaml"):
        old.unlink()
    Path(SCENE_ALPACA).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).parents[2] / ALPACA, SCENE_ALPACA)
    return FTWizardApp(
        hardware=NO_GPU,
        resolve=catalogue_only,
        inspect=in_process_inspector,
        save_dir=SAVED_SCENE_DIR,
        installed=WITHOUT_UNSLOTH,
    )


TO_DATASET = ("n", *"Llama-3.2-1B-Instruct", "enter", "ctrl+n", "enter")
ALPACA = "tuiapp/sample_data/alpaca.json"
TO_TABS = ("tab",) * 6  # from the source box past format, rename, max length, skip bad and dedupe


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
        lambda: FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, installed=WITH_UNSLOTH),
        ("n", *"Llama-3.1-8B-Instruct", "enter", "ctrl+n"),
    ),
    "method_without_unsloth": Scene(
        lambda: FTWizardApp(hardware=ONE_GPU, resolve=catalogue_only, installed=WITHOUT_UNSLOTH),
        ("n", *"Llama-3.1-8B-Instruct", "enter", "ctrl+n"),
    ),
    "dataset_preview": Scene(dataset_app, (*TO_DATASET, *ALPACA, "enter", *TO_TABS)),
    "dataset_tokens": Scene(dataset_app, (*TO_DATASET, *ALPACA, "enter", *TO_TABS, "right")),
    "hyperparams": Scene(dataset_app, (*TO_DATASET, *ALPACA, "enter", "ctrl+n")),
    "gpu_box": Scene(
        planned_app, ("t", *"4090", "enter", *TO_DATASET, *SCENE_ALPACA, "enter", "ctrl+n", "ctrl+n", "enter")
    ),
    "export_trl": Scene(
        planned_app, ("t", *"4090", "enter", *TO_DATASET, *SCENE_ALPACA, "enter", "ctrl+n", "ctrl+x", "down", "enter")
    ),
    "help_hardware": Scene(lambda: FTWizardApp(hardware=NO_GPU), ("f1",)),
}
SIZES = ((80, 24), (120, 40))

# ---- Training dashboard (step 4): recorded runs replayed with a frozen clock and scripted GPUs ----
from training_scenes import TRAINING_SCENES  # noqa: E402

SCENES.update(TRAINING_SCENES)

# ---- Finish screen (step 7): a completed run and the actions run on it ----
from finish_scenes import FINISH_SCENES  # noqa: E402

SCENES.update(FINISH_SCENES)
