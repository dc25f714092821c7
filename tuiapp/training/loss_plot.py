"""The loss curve pushed beside the model card: train loss (and eval loss where the run evaluated) by step,
drawn from the run's events as a PNG with matplotlib's object API on the Agg canvas (no pyplot, no display)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from tuiapp.core.runs.events import EvalDone, Metrics

if TYPE_CHECKING:
    from tuiapp.core.runs.event_base import Event

SIZE_INCHES, DPI = (8.0, 4.5), 100


def loss_points(events: list[Event]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(train, eval) losses by step; a step trained again after a resume keeps its latest value."""
    train: dict[int, float] = {}
    evals: dict[int, float] = {}
    for event in events:
        if isinstance(event, Metrics) and event.loss is not None:
            train[event.step] = event.loss
        elif isinstance(event, EvalDone) and event.eval_loss is not None:
            evals[event.step] = event.eval_loss
    return sorted(train.items()), sorted(evals.items())


def loss_curve_png(events: list[Event], title: str) -> bytes | None:
    """The curve as PNG bytes (the same events give the same bytes); None when no loss was logged."""
    train, evals = loss_points(events)
    if not train and not evals:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if train:
        axes.plot(*zip(*train, strict=True), label="train loss", color="#1f77b4", linewidth=1.4)
    if evals:
        axes.plot(*zip(*evals, strict=True), label="eval loss", color="#d62728", marker="o", linewidth=1.4)
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title[:80])
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
