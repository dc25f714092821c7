"""The Training screen's text panels: the figures line, the progress bar with ETA, and the outcome box."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.text import Text
from textual.widget import Widget

from tuiapp.core.runs.dashboard_state import DashboardState, RunPhase
from tuiapp.core.runs.event_lines import duration, phase_text
from tuiapp.core.runs.events import Completed, Failed, Phase, Stopped
from tuiapp.core.units import GIB

ENDED_EARLY = {"failed": "failed", "stopped": "stopped", "died": "the worker died"}  # before the first step
BADGES: dict[RunPhase, tuple[str, str]] = {
    "waiting": ("○ starting", "dim"),
    "training": ("● training", "bold green"),
    "completed": ("✔ completed", "bold green"),
    "stopped": ("■ stopped", "bold yellow"),
    "failed": ("✖ failed", "bold red"),
    "died": ("✖ worker died", "bold red"),
}


def _join(parts: list[tuple[str, str] | str]) -> Text:
    text = Text()
    for index, part in enumerate(parts):
        if index:
            text.append(" · ", style="dim")
        if isinstance(part, tuple):
            text.append(*part)
        else:
            text.append(part)
    return text


def activity_text(activity: Phase) -> str:
    """`preparing the dataset: tokenizing train dataset 1,200/5,000 (24%)…`, a model path by its folder's name."""
    if activity.detail and activity.detail.startswith("/"):
        activity = dataclasses.replace(activity, detail=Path(activity.detail).name)
    fraction = activity.fraction
    return phase_text(activity) + (f" ({fraction:.0%})" if fraction is not None else "") + "…"


def waiting_text(state: DashboardState) -> Text:
    """The second line before any figures: what the worker is busy with, or how it ended before the first step."""
    if state.phase in ENDED_EARLY and not state.stepped:
        activity = state.activity
        where = f", while {activity.name}" if activity is not None else ""
        return Text(f"{ENDED_EARLY[state.phase]} before the first step{where}", style="red")
    if state.activity is not None:
        return Text(activity_text(state.activity), style="dim")
    if state.phase == "waiting":
        return Text("starting the worker…", style="dim")
    return Text("first step…" if state.phase == "training" else "no steps logged", style="dim")


def stats_text(state: DashboardState, stopping: bool = False, resuming: bool = False) -> Text:
    """Two lines: state, step, epoch, loss and eval loss; then learning rate, grad norm, speed, torch memory
    (before the first step: what the worker is busy with)."""
    badge = ("■ stopping: saving a checkpoint", "bold yellow") if stopping and state.phase == "training" else None
    badge = ("○ resuming: starting the worker", "dim") if resuming else badge
    first: list[tuple[str, str] | str] = [badge or BADGES[state.phase]]
    if state.total_steps:
        first.append(f"step {state.step}/{state.total_steps}")
    latest = state.latest
    if latest is not None and latest.epoch is not None:
        first.append(f"epoch {latest.epoch:.2f}")
    if state.series["loss"].last is not None:
        first.append((f"loss {state.series['loss'].last:.4f}", "bold cyan"))
    if state.eval_loss is not None:
        first.append((f"eval {state.eval_loss:.4f}", "bold #ffa500"))
    second: list[tuple[str, str] | str] = []
    if latest is not None:
        if latest.learning_rate is not None:
            second.append(f"lr {latest.learning_rate:.2e}")
        if latest.grad_norm is not None:
            second.append(f"grad norm {latest.grad_norm:.3g}")
        if latest.tokens_per_s is not None:
            second.append(f"{latest.tokens_per_s:,.0f} tok/s")
        if latest.samples_per_s is not None:
            second.append(f"{latest.samples_per_s:.1f} samples/s")
        if latest.gpu_memory_allocated is not None:
            reserved = (latest.gpu_memory_reserved or 0) / GIB
            second.append(f"torch {latest.gpu_memory_allocated / GIB:.1f}/{reserved:.1f} GiB alloc/reserved")
    text = _join(first)
    text.append("\n")
    busy = state.activity is not None and state.phase in ("waiting", "training")  # a resume loading, say
    text.append_text(_join(second) if second and not busy else waiting_text(state))
    return text


def outcome_text(state: DashboardState, run_dir: Path) -> Text | None:
    """What the run's end means and what to do next; None while it trains."""
    final = state.final
    if isinstance(final, Completed):
        text = Text()
        took = f" in {duration(final.runtime_s)}" if final.runtime_s is not None else ""
        loss = f" (train loss {final.train_loss:.4f})" if final.train_loss is not None else ""
        text.append(f"Completed at step {final.step}{took}{loss}. Result: ", style="bold green")
        text.append(", ".join(final.artifacts) or str(run_dir / "final"), style="green")
        text.append("\nWhat next: f opens Finish: chat with it, merge, GGUF for Ollama, push to the Hub", style="dim")
        return text
    if isinstance(final, Stopped):
        saved = f"checkpoint {Path(final.checkpoint).name}" if final.checkpoint else "no checkpoint yet"
        return Text(f"Stopped at step {final.step} ({saved}). Continue: r, or ftwizard resume {run_dir.name}", "yellow")
    if isinstance(final, Failed):
        text = Text()
        text.append(f"Failed ({final.reason.replace('_', ' ')}): {final.message}", style="bold red")
        fixes = final.fixes or ([final.hint] if final.hint else [])
        fixes = [fix for fix in fixes if "worker.log" not in fix]  # the line below names it once
        for number, fix in enumerate(fixes, start=1):
            text.append(f"\nFix {number}: " if len(fixes) > 1 else "\nFix: ", style="bold")
            text.append(fix)
        text.append("\nThe whole traceback is in worker.log in the run directory (o shows its path).", style="dim")
        return text
    if state.phase == "died":
        return Text(
            "The worker ended without a final event (killed, or out of RAM); worker.log in the run directory "
            "(o shows its path) says more.\n"
            f"Continue from the last checkpoint: r, or ftwizard resume {run_dir.name}",
            style="red",
        )
    return None


class RunProgress(Widget):
    """`━━━━━━━╸━━━━  60%  elapsed 0:00:21  ETA 0:00:13`, the bar sized to the width."""

    DEFAULT_CSS = "RunProgress { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fraction: float | None = None
        self.elapsed_s: float | None = None
        self.eta_s: float | None = None
        self.activity: str | None = None  # before the run's step count is known: the phase (its bar if counted)

    def show(self, state: DashboardState, now: float) -> None:
        """Draw `state`; hidden for a run that ended before its first step (the figures line says so)."""
        hidden = state.phase in ENDED_EARLY and not state.stepped
        if self.display == hidden:
            self.display = not hidden
        self.fraction, self.elapsed_s, self.eta_s = state.fraction, state.elapsed_s(now), state.eta_s(now)
        self.activity = None
        if self.fraction is None:
            activity = state.activity
            if activity is None:
                self.activity = "starting"
            else:
                self.fraction = activity.fraction
                self.activity = activity.detail if self.fraction is not None and activity.detail else activity.name
        self.refresh()

    def render(self) -> Text:
        if self.activity is not None:
            label = f" {self.activity}" + (f" {self.fraction:.0%}" if self.fraction is not None else "…")
        else:
            label = f" {self.fraction:4.0%}" if self.fraction is not None else "   -%"
        if self.elapsed_s is not None:
            label += f"  elapsed {duration(self.elapsed_s)}"
        if self.eta_s is not None:
            label += f"  ETA {duration(self.eta_s)}"
        width = max(self.size.width - len(label), 4)
        done = (self.fraction or 0.0) * width
        full = int(done)
        text = Text()
        text.append("━" * full, style="green" if self.fraction == 1 else "magenta")
        if full < width:
            text.append("╸" if done - full >= 0.5 else "━", style="magenta" if done - full >= 0.5 else "grey23")
            text.append("━" * (width - full - 1), style="grey23")
        text.append(label)
        return text
