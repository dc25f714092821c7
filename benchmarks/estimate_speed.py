"""Closed-form estimate speed: milliseconds per estimate over a grid, as a ratio of the 5 ms budget.

.venv/bin/python benchmarks/estimate_speed.py
"""

from __future__ import annotations

import itertools
import time

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.planner import PlanRequest, make_plan
from tuiapp.core.hardware import resolve_gpu
from tuiapp.core.models.catalog import model_catalog
from tuiapp.core.models.shape import ModelShape

BUDGET_MS = 5.0


def main() -> None:
    shapes = [ModelShape.from_hf_config(entry.config, name=entry.name) for entry in model_catalog()]
    grid = list(itertools.product(shapes, ("full", "lora", "qlora", "lora8"), (512, 2048, 8192), (1, 4), (True, False)))
    start = time.perf_counter()
    for shape, method, seq, batch, ckpt in grid:
        estimate_memory(
            shape, TrainingSetup(method=method, seq_len=seq, micro_batch=batch, gradient_checkpointing=ckpt)
        )
    per_estimate = (time.perf_counter() - start) * 1000 / len(grid)
    gpu = resolve_gpu("RTX 4090").as_gpu()
    start = time.perf_counter()
    for shape in shapes:
        make_plan(shape, gpu, PlanRequest())
    per_plan = (time.perf_counter() - start) * 1000 / len(shapes)
    print(f"{len(grid)} estimates: {per_estimate:.3f} ms each = {per_estimate / BUDGET_MS:.4f} of the 5 ms budget")
    print(f"{len(shapes)} full plans (every method x knob candidate): {per_plan:.2f} ms each")


if __name__ == "__main__":
    main()
