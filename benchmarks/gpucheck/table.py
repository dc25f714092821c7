"""The GPU check's results: one row per case, as CSV (benchmarks/results/gpu-<date>.csv) and a printed table.

A row carries everything needed to compute the estimate again (the model and the settings), what the
estimate said then, and what the GPU measured, so tests/core/test_gpu_results.py can hold today's
estimator to yesterday's measurements. Sizes are bytes in the CSV and GiB in the table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tuiapp.core.estimate.closed_form import MemoryEstimate, TrainingSetup, estimate_memory
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

SETTINGS = (
    "model",
    "method",
    "seq_len",
    "micro_batch",
    "grad_accum",
    "gradient_checkpointing",
    "optimizer",
    "precision",
    "lora_r",
    "attn_implementation",
    "framework",
)
FIGURES = ("alloc", "reserved", "smi")  # torch allocated, torch reserved, nvidia-smi (NVML)
COLUMNS = (
    "date",
    "gpu",
    "versions",
    "alloc_conf",
    "case",
    "kind",
    "status",
    "steps_done",
    *SETTINGS,
    *(f"est_{f}_bytes" for f in FIGURES),
    *(f"meas_{f}_bytes" for f in FIGURES),
    "tokens_per_s",
    "s_per_step",
    "mfu",
    "nvml_samples",
    "note",
)
INT_COLUMNS = {"seq_len", "micro_batch", "grad_accum", "lora_r", "steps_done", "nvml_samples"} | {
    c for c in COLUMNS if c.endswith("_bytes")
}
FLOAT_COLUMNS = {"tokens_per_s", "s_per_step", "mfu"}
TOLERANCE = 0.05  # the estimate must stay this close to each measured figure


def estimate_figures(estimate: MemoryEstimate) -> dict[str, int | None]:
    """Allocated, reserved (the caching allocator) and nvidia-smi (plus the CUDA context) bytes of an estimate."""
    return {
        "alloc": estimate.peak_alloc_bytes,
        "reserved": estimate.peak_reserved_bytes,
        "smi": estimate.nvidia_smi_bytes,
    }


def setup_of(row: dict[str, Any]) -> TrainingSetup:
    """The estimator's setup for a row's settings."""
    return TrainingSetup(
        method=row["method"],
        seq_len=int(row["seq_len"]),
        micro_batch=int(row["micro_batch"]),
        gradient_checkpointing=_bool(row["gradient_checkpointing"]),
        optimizer=row["optimizer"],
        precision=row["precision"],
        lora_r=int(row["lora_r"]),
        attn_implementation=row["attn_implementation"],
        framework=row["framework"],
    )


def shape_of(model: str) -> ModelShape:
    entry = find_in_catalog(model)
    if entry is None:
        raise ValueError(f"{model} is not in the model catalogue (presets/models.yaml)")
    return ModelShape.from_hf_config(entry.config, name=entry.name)


def estimate_row(row: dict[str, Any]) -> dict[str, int | None]:
    """Today's estimate for a row's model and settings."""
    return estimate_figures(estimate_memory(shape_of(row["model"]), setup_of(row)))


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) for c in COLUMNS})
    return out.getvalue()


def _parsed(raw: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column, text in raw.items():
        if text is None or text == "":
            row[column] = None
        elif column in INT_COLUMNS:
            row[column] = int(float(text))
        elif column in FLOAT_COLUMNS:
            row[column] = float(text)
        elif column == "gradient_checkpointing":
            row[column] = _bool(text)
        else:
            row[column] = text
    return row


def read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as handle:
        return [_parsed(raw) for raw in csv.DictReader(handle)]


def _gib(value: int | None) -> str:
    return "-" if value is None else f"{value / GIB:.2f}"


def _ratio(estimate: int | None, measured: int | None) -> str:
    return "-" if not estimate or not measured else f"{estimate / measured:.3f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """Estimate beside measured for each case (GiB; est/meas ratios), then tokens/s, MFU and the status."""
    head = (
        f"{'case':44} {'alloc e/m':>13} {'ratio':>6} {'reserved e/m':>13} {'ratio':>6} {'smi e/m':>13} "
        f"{'ratio':>6} {'tok/s':>8} {'MFU':>5}  status"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for figure in FIGURES:
            est, meas = row.get(f"est_{figure}_bytes"), row.get(f"meas_{figure}_bytes")
            cells.append(f"{_gib(est):>6}/{_gib(meas):<6} {_ratio(est, meas):>6}")
        rate = row.get("tokens_per_s")
        mfu = row.get("mfu")
        status = row.get("status") or "?"
        if row.get("note"):
            status += f": {row['note']}"
        lines.append(
            f"{row['case'][:44]:44} {' '.join(cells)} {'-' if rate is None else f'{rate:,.0f}':>8} "
            f"{'-' if mfu is None else f'{mfu:.0%}':>5}  {status}"
        )
    return "\n".join(lines)


def off_by_more_than(row: dict[str, Any], estimate: dict[str, int | None], tolerance: float = TOLERANCE) -> list[str]:
    """The figures where `estimate` is more than `tolerance` away from the row's measurement, in words."""
    problems = []
    for figure in FIGURES:
        est, meas = estimate.get(figure), row.get(f"meas_{figure}_bytes")
        if est is None or not meas:
            continue
        if abs(est / meas - 1) > tolerance:
            problems.append(f"{figure}: estimate {_gib(est)} GiB vs measured {_gib(meas)} GiB ({est / meas:.3f}x)")
    return problems
