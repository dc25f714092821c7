"""The training scenes show the hardware their recording ran on, never a GPU a CPU run did not have."""

from __future__ import annotations

import json

import pytest
from training_scenes import TRAINING_SCENES, recorded_gpus, recorded_hardware, settled

from tuiapp.tui.widgets.gpu_sparklines import GpuSparklines


@pytest.mark.parametrize("name", sorted(TRAINING_SCENES))
async def test_the_gpu_panel_matches_the_recorded_hardware(name: str) -> None:
    scene = TRAINING_SCENES[name]
    app = scene.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await scene.play(pilot)
        screen = await settled(pilot)
        assert screen.state.started is not None
        recorded = screen.state.started.hardware  # what the replayed run's worker wrote when it started
        assert recorded == recorded_hardware(screen.paths.root)
        panel = str(screen.query_one(GpuSparklines).render())
        shown = sorted(history.reading.name for history in screen.state.gpus.values())
        if recorded["device"] == "cpu":
            assert shown == [] and panel.startswith("no GPU"), f"{name}: a CPU run shown with GPUs {shown}"
        else:
            assert shown == sorted(gpu["name"] for gpu in recorded["gpus"])
            assert all(gpu["name"] in panel for gpu in recorded["gpus"])


def test_a_gpu_recording_gets_its_own_gpu(tmp_path) -> None:
    """The other branch of recorded_gpus: a run recorded on a GPU plays that GPU, by name and size."""
    started = {
        "event": "started",
        "time": 0.0,
        "hardware": {"device": "cuda", "gpus": [{"name": "NVIDIA L4", "memory_bytes": 23034 * 1024**2}]},
    }
    (tmp_path / "events.jsonl").write_text(json.dumps(started) + "\n", encoding="utf-8")
    monitor = recorded_gpus(tmp_path)
    assert monitor.open() is None
    (reading,) = monitor.read()
    assert (reading.name, reading.memory_total_bytes) == ("NVIDIA L4", 23034 * 1024**2)
