"""benchmarks/vram_check.py: a clear exit without CUDA, the whole path on CPU, and the real check on a GPU."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tuiapp.core.estimate.closed_form import TrainingSetup
from tuiapp.core.estimate.sim_request import simulation_request
from tuiapp.core.models.catalog import find_in_catalog

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "vram_check.py"


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vram_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _small_config() -> dict[str, Any]:
    """SmolLM2-135M's catalogue config cut to two layers, as `--layers 2` cuts it."""
    entry = find_in_catalog("SmolLM2-135M")
    assert entry is not None
    return _script().reduced_config(entry.config, 2)


def test_without_cuda_it_says_so_and_exits_2() -> None:
    if _cuda():
        pytest.skip("this machine has CUDA: the script runs for real")
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert "vram_check needs a CUDA GPU" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_every_method_builds_prepares_and_trains_on_cpu(method: str) -> None:
    """The path the GPU run takes (random init, bitsandbytes load for QLoRA, kbit preparation, LoRA,
    checkpointing, AdamW steps), on CPU where nothing is measured."""
    script = _script()
    setup = TrainingSetup(method=method, seq_len=32, micro_batch=2)  # type: ignore[arg-type]
    request = simulation_request(_small_config(), setup)
    assert script.measure(_small_config(), request, steps=2, device="cpu") == [0, 0]


@pytest.mark.gpu
def test_estimates_track_the_measured_peak_on_a_gpu() -> None:
    if not _cuda():
        pytest.skip("needs a CUDA GPU")
    args = ["--models", "Qwen/Qwen2.5-0.5B-Instruct", "--layers", "4", "--seq-len", "512", "--steps", "2"]
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"Qwen/\S+ +(full|lora|qlora) ", line)]
    assert [row[1] for row in rows] == ["full", "lora", "qlora"], result.stdout
    for row in rows:
        closed_over_real, sim_over_real = float(row[5]), float(row[6])
        assert 0.8 <= closed_over_real <= 1.25 and 0.8 <= sim_over_real <= 1.25, result.stdout
