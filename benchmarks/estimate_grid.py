"""Closed-form estimate vs the exact simulation over a grid of catalogue models and setups.

.venv/bin/python benchmarks/estimate_grid.py             # every shape at full size: takes a while
.venv/bin/python benchmarks/estimate_grid.py --quick     # four shapes, the corner settings
.venv/bin/python benchmarks/estimate_grid.py --layers 2  # every shape cut to 2 layers (what the test samples)
.venv/bin/python benchmarks/estimate_grid.py --quick --targets q_proj,k_proj,v_proj,o_proj  # frozen MLP

The grid: 0.5B-70B dense shapes of every catalogue family x full/LoRA/QLoRA x sequence 512-8192 x
micro-batch 1-8 x checkpointing on/off (and Mixtral-8x7B for full fine-tuning). Prints one row per setup
(closed form, simulation, relative error, the closed form's peak phase; the reserved pair too once the
exact check reports `reserved_bytes`), then the median and worst error overall and per method, and the
five worst cases. Setups `tuiapp/core/estimate/sim_guard.py` would not simulate (a peak far past the largest
GPU) are listed as skipped, not compared. The simulation runs in this process, uncached: the exact
check's disk cache is keyed by the request and library versions, not by our simulator's code, so it
would hide a change to it. At full size one setup takes seconds (an 8B model ~9 s, 70B ~40 s).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Literal

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.sim_guard import simulation_skip_reason
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
QUICK_SHAPES = SHAPES[0], SHAPES[3], SHAPES[5], SHAPES[11]
MOE_SHAPES = ("mistralai/Mixtral-8x7B-Instruct-v0.1",)
METHODS = ("full", "lora", "qlora")
SEQ_BATCH = ((512, 1), (512, 8), (2048, 1), (2048, 4), (8192, 1), (8192, 4), (8192, 8))
QUICK_SEQ_BATCH = ((512, 1), (512, 8), (8192, 1), (8192, 8))  # the corners


@dataclass(frozen=True)
class GridRow:
    """One setup's closed form and simulation (bytes); reserved ones when both sides report them."""

    name: str
    setup: TrainingSetup
    closed: int
    simulated: int
    phase: str
    closed_reserved: int | None = None
    simulated_reserved: int | None = None

    @property
    def error(self) -> float:
        return self.closed / self.simulated - 1

    @property
    def reserved_error(self) -> float | None:
        if self.closed_reserved is None or not self.simulated_reserved:
            return None
        return self.closed_reserved / self.simulated_reserved - 1


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


def catalogue_config(name: str, layers: int | None) -> dict[str, Any]:
    entry = find_in_catalog(name)
    if entry is None:
        raise SystemExit(f"{name} is not in the catalogue (tuiapp/core/models/catalog.py)")
    return reduced_config(entry.config, layers)


def compare(name: str, setup: TrainingSetup, config: dict[str, Any]) -> GridRow | str:
    """One case's row, or why sim_guard would not simulate it."""
    from tuiapp.training.memory_sim import simulate_training_step

    shape = ModelShape.from_hf_config(config, name=name)
    estimate = estimate_memory(shape, setup)
    skipped = simulation_skip_reason(shape, estimate.peak_alloc_bytes)
    if skipped is not None:
        return skipped
    simulated = simulate_training_step(simulation_request(config, setup))
    return GridRow(
        name,
        setup,
        estimate.peak_alloc_bytes,
        simulated["peak_bytes"],
        estimate.peak_phase,
        estimate.peak_reserved_bytes,
        simulated["reserved_bytes"],
    )


def summary_lines(rows: list[GridRow]) -> list[str]:
    """Median and worst |error|, overall and per method, for allocated (and reserved where present)."""
    lines = []
    for label, pick in (("allocated", lambda r: r.error), ("reserved", lambda r: r.reserved_error)):
        for method in (None, *METHODS):
            errors = [abs(e) for r in rows if method in (None, r.setup.method) and (e := pick(r)) is not None]
            if errors:
                who = method or "all"
                lines.append(
                    f"{label:9} {who:5} {len(errors):4} setups: median |error| {statistics.median(errors):.2%}, "
                    f"worst {max(errors):.2%}"
                )
    return lines


def _row_text(row: GridRow) -> str:
    ckpt = "on" if row.setup.gradient_checkpointing else "off"
    text = (
        f"{row.name:38} {row.setup.method:6} {row.setup.seq_len:5} {row.setup.micro_batch:2} {ckpt:4} "
        f"{row.closed / GIB:8.2f} {row.simulated / GIB:8.2f} {row.error:+7.1%}  {row.phase}"
    )
    if row.reserved_error is not None:
        closed, simulated = (row.closed_reserved or 0) / GIB, (row.simulated_reserved or 0) / GIB
        text += f"  reserved {closed:.2f} vs {simulated:.2f} {row.reserved_error:+.1%}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four shapes (0.5B to 70B), the corner settings")
    parser.add_argument("--layers", type=int, default=None, help="cut every model to this many layers")
    parser.add_argument(
        "--targets", default="all-linear", help="LoRA target modules, comma-separated (default all-linear)"
    )
    parser.add_argument("--method", choices=METHODS, default=None, help="only this method")
    args = parser.parse_args(argv)
    targets = "all-linear" if args.targets == "all-linear" else tuple(args.targets.split(","))
    started = time.perf_counter()
    print(
        f"{'model':38} {'method':6} {'seq':>5} {'mb':>2} {'ckpt':4} {'closed':>8} {'sim':>8} {'error':>7}  peak phase"
    )
    rows: list[GridRow] = []
    skipped: list[str] = []
    for name, setup in grid(args.quick, targets):
        if args.method and setup.method != args.method:
            continue
        case_started = time.perf_counter()
        row = compare(name, setup, catalogue_config(name, args.layers))
        if isinstance(row, str):
            skipped.append(f"{name} {setup.method} {setup.seq_len}x{setup.micro_batch}: {row}")
            continue
        rows.append(row)
        print(f"{_row_text(row)}  ({time.perf_counter() - case_started:.1f} s)", flush=True)
    print(f"\n{len(rows)} setups compared, {len(skipped)} skipped, in {time.perf_counter() - started:.0f} s")
    for line in skipped:
        print(f"  skipped {line}")
    print("\n".join(summary_lines(rows)))
    print("worst:")
    for row in sorted(rows, key=lambda row: -abs(row.error))[:5]:
        print(f"  {row.error:+.1%} {_row_text(row)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
