"""The closed form's loss terms follow the code of the stack that runs: TRL's fused head, Unsloth's CE."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.core.estimate.activation_bytes import _unsloth_rows
from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

ROOT = Path(__file__).resolve().parents[2]
ROWS_CASES = [(16384, 4096, 128256), (1000, 896, 151936), (20000, 8192, 32000), (3, 64, 512), (65536, 5120, 152064)]


def _llama_8b() -> ModelShape:
    entry = find_in_catalog("meta-llama/Llama-3.1-8B-Instruct")
    assert entry is not None
    return ModelShape.from_hf_config(entry.config, name="Llama-3.1-8B")


@pytest.mark.parametrize("framework", ["hf", "unsloth"])
def test_a_chunked_loss_saves_gibibytes_at_128k_vocabulary(framework: str) -> None:
    """Micro-batch 4 x 4096 on a 128k vocabulary: the full logits and their fp32 companions are ~20 GiB."""
    setup = TrainingSetup(method="lora", seq_len=4096, micro_batch=4, framework=framework)  # type: ignore[arg-type]
    shape = _llama_8b()
    full = estimate_memory(shape, TrainingSetup(**{**setup.__dict__, "loss_path": "full_logits"}))
    chunked = estimate_memory(shape, TrainingSetup(**{**setup.__dict__, "loss_path": "chunked"}))
    assert estimate_memory(shape, setup).peak_alloc_bytes == chunked.peak_alloc_bytes  # the backend's default
    assert full.peak_alloc_bytes - chunked.peak_alloc_bytes > 10 * GIB
    assert chunked.phases["start of backward"]["logits and loss"] < 2 * GIB


def test_trl_tile_buffer_is_full_width_whatever_the_vocabulary() -> None:
    """TRL allocates its (min(rows, 4096), 32768) tile buffer even for a 512-token vocabulary."""
    shape = _llama_8b().model_copy(update={"vocab_size": 512})
    setup = TrainingSetup(method="lora", seq_len=4096, micro_batch=4, loss_path="chunked")
    forward = estimate_memory(shape, setup).phases["forward / loss"]["logits and loss"]
    assert forward >= 4096 * 32768 * 2


@pytest.mark.skipif(importlib.util.find_spec("unsloth") is None, reason="Unsloth is not installed")
def test_unsloth_chunk_rows_are_unsloths_own(tmp_path: Path) -> None:
    """`_unsloth_rows` against unsloth_zoo's `fused_linear_rows`, imported in a child (Unsloth patches on import;
    it runs in tmp_path, where Unsloth writes its compiled cache)."""
    code = (
        "import json, sys, torch, unsloth\n"
        "from unsloth_zoo.fused_losses.fused_linear import fused_linear_rows\n"
        "cases = json.loads(sys.argv[1])\n"
        "print(json.dumps([fused_linear_rows(*c, 4, torch.device('cpu')) for c in cases]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(ROWS_CASES)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=300,
    )
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [_unsloth_rows(*case) for case in ROWS_CASES] == theirs
