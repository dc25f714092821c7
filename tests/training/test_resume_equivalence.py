"""A run stopped after a checkpoint and resumed is the run trained straight through: the same loss at every
step, each step once (epoch continuity), and the same adapter weights.

Tolerance: fp32 on the CPU with a fixed seed, no dropout and the trainer restoring its RNG state, data order,
optimizer and scheduler from the checkpoint; the only difference is where the arithmetic restarts, so losses
agree to rel 1e-5 and adapter weights to 1e-5 absolute (the weights are of order 1e-2; a repeated or skipped
batch moves them by more than 1e-3 at this learning rate, which the test would see).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fault_runs import (
    MAX_STEPS,
    SAVE_STEPS,
    finish,
    make_config,
    reference_run,
    step_losses,
    wait_until,
)

from tuiapp.core.runs import Metrics, RunPaths, Started, Stopped, read_events
from tuiapp.core.runs.launcher import launch_worker, prepare_run, resume_run, stop_run

LOSS_REL = 1e-5
WEIGHT_ATOL = 1e-5


def adapter(paths: RunPaths) -> dict:
    from safetensors.torch import load_file

    return load_file(str(paths.final / "adapter_model.safetensors"))


def past_first_checkpoint(paths: RunPaths) -> bool:
    return any(isinstance(e, Metrics) and e.step > SAVE_STEPS for e in read_events(paths.events))


def epochs(paths: RunPaths) -> dict[int, float | None]:
    return {e.step: e.epoch for e in read_events(paths.events) if isinstance(e, Metrics)}


@pytest.mark.slow
def test_stopped_and_resumed_matches_the_run_trained_straight_through(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    straight, _, _ = reference_run(tiny_model_dir, tmp_path_factory)
    paths = prepare_run(make_config(tiny_model_dir), runs_dir=str(tmp_path_factory.mktemp("resumed")))
    process = launch_worker(paths)
    wait_until(lambda: past_first_checkpoint(paths), process, paths)
    stop_run(paths)  # what `ftwizard stop` sends: SIGTERM, a checkpoint at the step reached, then stopped
    assert finish(process, paths) == 0
    stopped = read_events(paths.events)[-1]
    assert isinstance(stopped, Stopped) and SAVE_STEPS < stopped.step < MAX_STEPS, stopped
    assert finish(resume_run(paths), paths) == 0, paths.log.read_text()[-3000:]

    events = read_events(paths.events)
    assert [e.step for e in events if isinstance(e, Started)] == [0, stopped.step]
    ours, reference = step_losses(paths), step_losses(straight)
    assert sorted(ours) == list(range(1, MAX_STEPS + 1)) and all(len(v) == 1 for v in ours.values()), ours
    for step in range(1, MAX_STEPS + 1):
        assert ours[step][0] == pytest.approx(reference[step][0], rel=LOSS_REL), f"step {step}"
    assert epochs(paths) == pytest.approx(epochs(straight)), "the epoch count must go on where it stopped"
    weights, expected = adapter(paths), adapter(straight)
    assert weights.keys() == expected.keys()
    worst = max(float((weights[k] - expected[k]).abs().max()) for k in weights)
    assert worst <= WEIGHT_ATOL, f"adapter weights differ by up to {worst}"
    moved = max(float((expected[k]).abs().max()) for k in expected if "lora_B" in k)
    assert moved > 100 * WEIGHT_ATOL, "training moved the adapter far more than the tolerance"


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FTWIZARD_UNSLOTH_RESUME") != "1" and not _cuda(),
    reason="Unsloth's resume differs from the hf backend's only on a GPU (on a CPU Unsloth 2026.10 falls back to "
    "stock transformers + PEFT + TRL, which the test above covers); runs on a CUDA machine with Unsloth",
)
def test_unsloth_stopped_and_resumed_matches_straight_through(tiny_model_dir: Path, tmp_path: Path) -> None:
    import importlib.util

    from tuiapp.core.config import with_changes

    if importlib.util.find_spec("unsloth") is None:
        pytest.skip("unsloth is not installed")
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    config = with_changes(make_config(tiny_model_dir), {"framework": "unsloth", "lora.target_modules": targets})
    straight = prepare_run(config, runs_dir=str(tmp_path / "straight"))
    assert finish(launch_worker(straight), straight) == 0, straight.log.read_text()[-3000:]
    paths = prepare_run(config, runs_dir=str(tmp_path / "resumed"))
    process = launch_worker(paths)
    wait_until(lambda: past_first_checkpoint(paths), process, paths)
    stop_run(paths)
    assert finish(process, paths) == 0
    assert finish(resume_run(paths), paths) == 0, paths.log.read_text()[-3000:]
    ours, reference = step_losses(paths), step_losses(straight)
    assert sorted(ours) == list(range(1, MAX_STEPS + 1)) and all(len(v) == 1 for v in ours.values())
    for step in ours:  # bf16 kernels on a GPU: looser than the CPU's fp32
        assert ours[step][0] == pytest.approx(reference[step][0], rel=1e-2), f"step {step}"
    weights, expected = adapter(paths), adapter(straight)
    assert max(float((weights[k].float() - expected[k].float()).abs().max()) for k in weights) <= 1e-2
