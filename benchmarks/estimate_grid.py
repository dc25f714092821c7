"""Closed-form estimate vs the exact simulation over a grid of catalogue models and setups.

.venv/bin/python benchmarks/estimate_grid.py            # every shape at full size: takes a while
.venv/bin/python benchmarks/estimate_grid.py --quick    # four shapes, a few setups: a few minutes
.venv/bin/python benchmarks/estimate_grid.py --layers 2 # what tests/training/test_estimate_grid.py checks
.venv/bin/python benchmarks/estimate_grid.py --quick --targets q_proj,k_proj,v_proj,o_proj  # frozen MLP

Prints one row per setup (closed form, simulation, relative error, the closed form's peak phase), then
the median and worst error and the five worst cases. The simulation runs in this process (it imports
torch); each one at full size takes seconds (an 8B model ~9 s, a 70B one longer).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from typing import Any, Literal

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.sim_request import simulation_request
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

# Dense shapes from 0.5B to 70B across every family the catalogue holds; a mixture of experts for full
# fine-tuning only (PEFT's all-linear LoRA wraps the fused experts, which the closed form does not model).
SHAPES = (
    "Qwen/Qwen2.5-0.5B-Instruct",
    "meta-llama/Llama-3.2-1B-Instruct",
    "google/gemma-3-1b-it",
    "microsoft/Phi-3.5-mini-instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen3-8B",
    "google/gemma-2-9b-it",
    "Qwen/Qwen2.5-14B-Instruct",
    "mistralai/Mistral-Small-24B-Instruct-2501",
    "Qwen/Qwen2.5-32B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
)
QUICK_SHAPES = SHAPES[0], SHAPES[3], SHAPES[5], SHAPES[7]
MOE_SHAPES = ("mistralai/Mixtral-8x7B-Instruct-v0.1",)
METHODS = ("full", "lora", "qlora")
SEQ_BATCH = ((512, 1), (512, 8), (2048, 1), (2048, 4), (8192, 1), (8192, 4))
QUICK_SEQ_BATCH = ((512, 8), (8192, 1))


def reduced_config(config: dict[str, Any], layers: int | None) -> dict[str, Any]:
    """config.json with `layers` decoder layers (and no per-layer lists that would no longer fit)."""
    if not layers:
        return dict(config)
    dropped = ("layer_types", "mlp_only_layers")
    return {**{k: v for k, v in config.items() if k not in dropped}, "num_hidden_layers": layers}


def grid(
    quick: bool, targets: tuple[str, ...] | Literal["all-linear"] = "all-linear"
) -> list[tuple[str, TrainingSetup]]:
    shapes, seq_batch = (QUICK_SHAPES, QUICK_SEQ_BATCH) if quick else (SHAPES, SEQ_BATCH)
    cases = [
        (
            name,
            TrainingSetup(
                method=method, seq_len=seq, micro_batch=batch, gradient_checkpointing=ckpt, lora_targets=targets
            ),
        )
        for name, method, (seq, batch), ckpt in itertools.product(shapes, METHODS, seq_batch, (True, False))
    ]
    moe = () if quick else MOE_SHAPES
    cases += [
        (name, TrainingSetup(method="full", seq_len=seq, micro_batch=batch, gradient_checkpointing=ckpt))
        for name, (seq, batch), ckpt in itertools.product(moe, seq_batch, (True, False))
    ]
    return cases


def compare(name: str, setup: TrainingSetup, layers: int | None) -> tuple[float, float, str]:
    """(closed-form bytes, simulated bytes, closed form's peak phase) for one case."""
    from tuiapp.training.memory_sim import simulate_training_step

    entry = find_in_catalog(name)
    if entry is None:
        raise SystemExit(f"{name} is not in the catalogue (presets/models.yaml)")
    config = reduced_config(entry.config, layers)
    estimate = estimate_memory(ModelShape.from_hf_config(config, name=name), setup)
    simulated = simulate_training_step(simulation_request(config, setup))["peak_bytes"]
    return estimate.peak_alloc_bytes, simulated, estimate.peak_phase


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four shapes, two sequence/batch settings")
    parser.add_argument("--layers", type=int, default=None, help="cut every model to this many layers")
    parser.add_argument(
        "--targets", default="all-linear", help="LoRA target modules, comma-separated (default all-linear)"
    )
    args = parser.parse_args(argv)
    targets = "all-linear" if args.targets == "all-linear" else tuple(args.targets.split(","))
    started = time.perf_counter()
    print(
        f"{'model':38} {'method':6} {'seq':>5} {'mb':>2} {'ckpt':4} {'closed':>8} {'sim':>8} {'error':>7}  peak phase"
    )
    rows = []
    for name, setup in grid(args.quick, targets):
        closed, simulated, phase = compare(name, setup, args.layers)
        error = closed / simulated - 1
        rows.append((error, name, setup))
        ckpt = "on" if setup.gradient_checkpointing else "off"
        print(
            f"{name:38} {setup.method:6} {setup.seq_len:5} {setup.micro_batch:2} {ckpt:4} "
            f"{closed / GIB:8.2f} {simulated / GIB:8.2f} {error:+7.1%}  {phase}",
            flush=True,
        )
    errors = [abs(error) for error, _, _ in rows]
    print(f"\n{len(rows)} setups in {time.perf_counter() - started:.0f} s: ", end="")
    print(f"median |error| {statistics.median(errors):.2%}, worst {max(errors):.2%} (GiB, closed form vs simulation)")
    for error, name, setup in sorted(rows, key=lambda row: -abs(row[0]))[:5]:
        print(f"  {error:+.1%} {name} {setup.method} seq {setup.seq_len} x {setup.micro_batch}", end="")
        print(f" checkpointing {'on' if setup.gradient_checkpointing else 'off'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
