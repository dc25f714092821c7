"""One trial's run directory read back into a `trial_measured` event: the figures its worker logged, the peaks
its process measured (measured.json), and the estimate for the batches it really trained on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.compare.result import mismatches
from tuiapp.core.runs.compare_events import FIGURES, EstimateMismatch, TrialMeasured
from tuiapp.core.runs.event_fields import MAX_COUNT
from tuiapp.core.runs.events import FINAL_KINDS, Failed, Metrics, Started
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.estimate.closed_form import TrainingSetup
    from tuiapp.core.models.shape import ModelShape

MEASURED_FILE = "measured.json"
"""Written by the trial process as it ends: {allocated, reserved, nvidia_smi, peak_rss: bytes or null,
batch_shape: [micro-batch, tokens] of the longest batch it trained on}."""


def read_measured(root: Path) -> dict[str, Any]:
    """measured.json, every value checked (a count in range, or None); {} when it is missing or unreadable."""
    try:
        data = json.loads((root / MEASURED_FILE).read_text(encoding="utf-8")[:10_000])
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}

    def count(value: Any) -> int | None:
        return value if type(value) is int and 0 <= value <= MAX_COUNT else None

    shape = data.get("batch_shape")
    good_shape = isinstance(shape, list) and len(shape) == 2 and all(count(v) for v in shape)
    return {
        **{name: count(data.get(name)) for name in (*FIGURES, "peak_rss")},
        "batch_shape": shape if good_shape else [],
    }


def tokens_per_second(metrics: list[Metrics]) -> float | None:
    """Tokens over time between the first and the last logged step (the first step's warm-up left out); with
    one logged step, what it reported."""
    timed = [m for m in metrics if m.tokens is not None]
    if len(timed) >= 2 and timed[-1].time > timed[0].time and timed[-1].tokens >= timed[0].tokens:
        return (timed[-1].tokens - timed[0].tokens) / (timed[-1].time - timed[0].time)
    return metrics[-1].tokens_per_s if metrics else None


def setup_at_batch(setup: TrainingSetup, batch_shape: list[int]) -> TrainingSetup:
    """The estimator's setup at the longest batch the trial ran (its rows may be shorter than max_length)."""
    if len(batch_shape) != 2:
        return setup
    return replace(setup, micro_batch=batch_shape[0], seq_len=batch_shape[1])


def measure_trial(
    trial: RunPaths, method: str, device: str, config: FTConfig | None, shape: ModelShape | None, bf16: bool
) -> TrialMeasured:
    """The trial's figures, with the estimate at its batches when its config and the model's shape are known."""
    from tuiapp.core.compare.plan import estimate_figures
    from tuiapp.core.estimate.closed_form import estimate_memory
    from tuiapp.core.estimate.from_config import setup_from_config

    events = read_events(trial.events)
    metrics = [e for e in events if isinstance(e, Metrics)]
    final = next((e for e in reversed(events) if e.kind in FINAL_KINDS), None)
    measured = read_measured(trial.root)
    estimated: dict[str, int | None] = {}
    if config is not None and shape is not None:
        setup = setup_at_batch(setup_from_config(config, bf16), measured.get("batch_shape", []))
        estimated = estimate_figures(estimate_memory(shape, setup))
    gpu_figures = {name: measured.get(name) for name in FIGURES}
    starts = [e.time for e in events if isinstance(e, Started)]
    return TrialMeasured(
        method=method,
        state=final.kind if final is not None else "died",
        device=device,
        steps=metrics[-1].step if metrics else 0,
        tokens_per_s=tokens_per_second(metrics),
        loss=next((m.loss for m in reversed(metrics) if m.loss is not None), None),
        measured=gpu_figures if device == "cuda" else dict.fromkeys(FIGURES),
        estimated=estimated,
        peak_rss=measured.get("peak_rss"),
        batch_shape=measured.get("batch_shape", []),
        wall_s=max(final.time - starts[0], 0.0) if final is not None and starts else None,  # a clock set back: 0
        message=final.message if isinstance(final, Failed) else None,
    )


def mismatch_events(trial: TrialMeasured, gpu: str | None, setup: dict[str, Any], versions: dict[str, str]):
    """An estimate_mismatch event per figure more than MISMATCH_SHARE off."""
    return [
        EstimateMismatch(
            method=trial.method,
            figure=figure,
            measured_bytes=int(trial.measured[figure] or 0),
            estimated_bytes=int(trial.estimated[figure] or 0),
            ratio=ratio,
            gpu=gpu,
            setup=setup,
            versions=versions,
        )
        for figure, ratio in mismatches(trial).items()
    ]
