"""The Training screen's text panels: the figures line, the progress bar with ETA, and the outcome box."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widget import Widget

from tuiapp.core.runs.dashboard_state import DashboardState, Phase
from tuiapp.core.runs.event_lines import duration
from tuiapp.core.runs.events import Completed, Failed, Stopped
from tuiapp.core.units import GIB

BADGES: dict[Phase, tuple[str, str]] = {
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


def stats_text(state: DashboardState, stopping: bool = False) -> Text:
    """Two lines: state, step, epoch, loss and eval loss; then learning rate, grad norm, speed, torch memory."""
    badge = ("■ stopping: saving a checkpoint", "bold yellow") if stopping and state.phase == "training" else None
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
    text.append_text(_join(second) if second else Text("waiting for the first step…", style="dim"))
    return text


def outcome_text(state: DashboardState, run_dir: Path) -> Text | None:
    """What the run's end means and what to do next; None while it trains."""
    final = state.final
    if isinstance(final, Completed):
        text = Text()
        text.append(f"Completed at step {final.step}. Result: ", style="bold green")
        text.append(", ".join(final.artifacts) or str(run_dir / "final"), style="green")
        return text
    if isinstance(final, Stopped):
        saved = f"checkpoint {Path(final.checkpoint).name}" if final.checkpoint else "no checkpoint yet"
        return Text(f"Stopped at step {final.step} ({saved}). Continue: ftwizard resume {run_dir.name}", "yellow")
    if isinstance(final, Failed):
        text = Text()
        text.append(f"Failed ({final.reason}): {final.message}", style="bold red")
        fixes = getattr(final, "fixes", None) or ([final.hint] if final.hint else [])
        for number, fix in enumerate(fixes, start=1):
            text.append(f"\nFix {number}: " if len(fixes) > 1 else "\nFix: ", style="bold")
            text.append(fix)
        text.append("\nThe whole traceback is in worker.log in the run directory (o shows its path).", style="dim")
        return text
    if state.phase == "died":
        return Text(
            "The worker ended without a final event (killed, or out of RAM); worker.log in the run directory "
            "(o shows its path) says more.\n"
            f"Continue from the last checkpoint: ftwizard resume {run_dir.name}",
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

    def show(self, state: DashboardState, now: float) -> None:
        self.fraction, self.elapsed_s, self.eta_s = state.fraction, state.elapsed_s(now), state.eta_s(now)
        self.refresh()

    def render(self) -> Text:
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
