"""Training-screen scenes: recorded runs (tests/fixtures/runs) replayed with a frozen clock and scripted GPUs.

Shared by the snapshot tests (through tui_scenes.SCENES), the Pilot tests and scripts/screenshots.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.events import Mount
from textual.pilot import Pilot

from tuiapp import __version__
from tuiapp.core.hardware.gpu_monitor import GpuMonitor, GpuReading
from tuiapp.core.runs.status import write_status
from tuiapp.core.units import GIB
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets.training_charts import TrainingCharts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
COMPLETED_RUN = FIXTURES / "tiny-llama-lora"
FAILED_RUN = FIXTURES / "tiny-llama-oom"


def copy_run(source: Path, root: Path, keep_lines: int | None = None, alive: bool = False) -> Path:
    """A copy of a recorded run under `root` (same name), cut to its first `keep_lines` events.

    With `alive`, status.json names this process, so the run reads as running (its worker "lives").
    """
    target = root / source.name
    target.mkdir(parents=True)
    shutil.copy(source / "config.yaml", target / "config.yaml")
    lines = (source / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (target / "events.jsonl").write_text("".join(lines[:keep_lines]), encoding="utf-8")
    if alive:
        write_status(target / "status.json", os.getpid(), launched_at=0.0)
    return target


def event_time(run: Path, line: int) -> float:
    """The time of the run's `line`-th event (0-based), for freezing the clock just after it."""
    return json.loads((run / "events.jsonl").read_text(encoding="utf-8").splitlines()[line])["time"]


class ScriptedGpus(GpuMonitor):
    """A GPU monitor that plays a fixed list of readings, then reports that it has nothing more."""

    def __init__(self, readings: Iterable[tuple[GpuReading, ...]] = (), no_gpu_reason: str | None = None) -> None:
        super().__init__()
        self._script, self._reason = list(readings), no_gpu_reason

    def open(self) -> str | None:
        return self._reason

    def read(self) -> tuple[GpuReading, ...] | None:
        return self._script.pop(0) if self._script else None

    def close(self) -> None:
        pass


def busy_4090(samples: int = 30) -> list[tuple[GpuReading, ...]]:
    """An RTX 4090 loading the model (idle, memory climbing), then training with a dip at each evaluation."""
    return busy_gpu("GeForce RTX 4090", 24564 * 1024**2, samples)


def busy_gpu(name: str, total_bytes: int, samples: int = 30) -> list[tuple[GpuReading, ...]]:
    """A GPU loading the model (idle, memory climbing to ~80%), then training with a dip at each evaluation."""
    readings = []
    top = 0.78 * total_bytes / GIB
    for i in range(samples):
        loading = i < 8
        utilization = 3 + 2 * i if loading else (41 if i % 10 == 5 else 93 + i % 4)
        memory = top * (0.06 + 0.11 * i) if loading else top + 0.1 * (i % 3)
        reading = GpuReading(
            index=0,
            name=name,
            utilization_pct=float(utilization),
            memory_used_bytes=round(memory * GIB),
            memory_total_bytes=total_bytes,
            temperature_c=float(min(38 + 2 * i, 71)),
            power_w=float(45 + 3 * i if loading else 300 + i % 5),
            power_limit_w=450.0,
        )
        readings.append((reading,))
    return readings


class AttachedApp(FTWizardApp):
    """The app as `ftwizard attach` opens it, on a Training screen built by `make_screen`."""

    def __init__(self, make_screen: Callable[[], TrainingScreen]) -> None:
        super().__init__()
        self._make_screen = make_screen

    def on_mount(self, event: Mount) -> None:
        event.prevent_default()  # not the wizard's first step
        self.title = f"ftwizard {__version__}"
        self.push_screen(self._make_screen())


async def settled(pilot: Pilot, timeout: float = 10.0) -> TrainingScreen:
    """Wait until the Training screen has replayed its run, built its charts and drawn every scripted GPU
    reading."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        screen = pilot.app.screen
        if isinstance(screen, TrainingScreen) and screen.replayed and screen.query_one(TrainingCharts).up_to_date:
            gpu = [w for w in screen.workers if w.group == "gpu"]
            if all(w.is_finished for w in gpu):
                break
        if loop.time() > deadline:
            raise TimeoutError("the Training screen did not replay its run in time")
        await pilot.pause(0.02)
    await pilot.pause()
    return screen


NO_NVIDIA_DRIVER = "the NVIDIA driver library (libnvidia-ml) is not installed"


def recorded_hardware(run: Path) -> dict[str, Any]:
    """The hardware the run's first `started` event says it trained on (run_facts.hardware_facts)."""
    for line in (run / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event") == "started":
            return event["hardware"]
    raise ValueError(f"{run} has no started event")


def recorded_gpus(run: Path) -> ScriptedGpus:
    """The GPU panel of the machine the run was recorded on: no GPU for a CPU run, else its GPUs busy training."""
    hardware = recorded_hardware(run)
    if hardware["device"] == "cpu":
        return ScriptedGpus((), NO_NVIDIA_DRIVER)
    (gpu,) = hardware["gpus"]  # the scenes' recordings are single-GPU runs
    return ScriptedGpus(busy_gpu(gpu["name"], gpu["memory_bytes"]))


def replay_app() -> AttachedApp:
    """Mid-run: the first 27 recorded events (to step 22 of 40) of a run whose worker lives; 2 s later; the GPU
    panel as on the machine it was recorded on."""
    run = copy_run(COMPLETED_RUN, Path(tempfile.mkdtemp(prefix="ftwizard-scene-")), keep_lines=27, alive=True)
    now = event_time(run, 26) + 2.0
    return AttachedApp(lambda: TrainingScreen(run, clock=lambda: now, gpu_monitor=recorded_gpus(run), gpu_every_s=0))


def failed_app() -> AttachedApp:
    """The out-of-memory run: two recoveries, then failed; the GPU panel as on the machine it was recorded on."""
    run = copy_run(FAILED_RUN, Path(tempfile.mkdtemp(prefix="ftwizard-scene-")))
    return AttachedApp(lambda: TrainingScreen(run, clock=lambda: 1767225700.0, gpu_monitor=recorded_gpus(run)))


@dataclass(frozen=True)
class TrainingScene:
    """Like tui_scenes.Scene: an app factory, keys pressed once the run is replayed."""

    make_app: Callable[[], FTWizardApp]
    keys: tuple[str, ...] = ()

    async def play(self, pilot: Pilot) -> None:
        await settled(pilot)
        for key in self.keys:
            await pilot.press(key)
            await pilot.pause()


TRAINING_SCENES = {
    "training_replay": TrainingScene(replay_app),
    "training_failed": TrainingScene(failed_app),
}
