"""A finished run's result, as the Finish screen and `ftwizard finish` show it: the figures a person asks for
first (losses, steps, tokens, time, peak memory) and where its files are (adapter, merged model, GGUF)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tuiapp.core.runs.events import Event, Metrics, Started
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.listing import summarize_run
from tuiapp.core.runs.status import RunState


@dataclass(frozen=True)
class RunResult:
    """What a run produced; None where the run did not say (a CPU run has no GPU peak)."""

    name: str
    root: Path
    state: RunState
    model: str | None
    method: str | None
    step: int
    total_steps: int | None
    train_loss: float | None
    eval_loss: float | None
    tokens: int | None
    training_s: float
    peak_memory_bytes: int | None  # the most GPU memory torch held (reserved) in any logged step
    device: str | None
    final: Path | None  # the adapter or model, when it is there
    merged: Path | None
    gguf_files: list[Path] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Completed with its result on disk: what merge, GGUF, chat and push need."""
        return self.state == "completed" and self.final is not None


def _peak(metrics: list[Metrics]) -> int | None:
    values = [m.gpu_memory_reserved or m.gpu_memory_allocated for m in metrics]
    values = [v for v in values if v]
    return max(values) if values else None


def _config_facts(paths: RunPaths) -> tuple[str | None, str | None]:
    """The model and method the run's config names (None when it cannot be read)."""
    from tuiapp.core.config import load_config
    from tuiapp.core.user_error import UserError

    try:
        config = load_config(paths.config)
    except UserError:
        return None, None
    return config.model.name_or_path, config.method


def _holds_a_model(folder: Path) -> bool:
    return (folder / "config.json").is_file() or (folder / "adapter_config.json").is_file()


def run_result(paths: RunPaths, events: list[Event] | None = None) -> RunResult:
    """Read one run directory's result (its events are read unless given)."""
    events = read_events(paths.events) if events is None else events
    summary = summarize_run(paths, events)
    started = [e for e in events if isinstance(e, Started)]
    model, method = _config_facts(paths)
    return RunResult(
        name=paths.name,
        root=paths.root,
        state=summary.state,
        model=model,
        method=method,
        step=summary.step,
        total_steps=summary.total_steps,
        train_loss=summary.train_loss if summary.train_loss is not None else summary.loss,
        eval_loss=summary.eval_loss,
        tokens=summary.tokens,
        training_s=summary.training_s,
        peak_memory_bytes=_peak([e for e in events if isinstance(e, Metrics)]),
        device=str(started[-1].hardware.get("device")) if started and started[-1].hardware.get("device") else None,
        final=paths.final if _holds_a_model(paths.final) else None,
        merged=paths.merged if (paths.merged / "config.json").is_file() else None,
        gguf_files=sorted(paths.gguf.glob("*.gguf")) if paths.gguf.is_dir() else [],
    )
