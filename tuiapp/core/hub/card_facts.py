"""The facts a model card states, read from the run directory: its config, its events (losses, time, tokens,
hardware, library versions) and the merge / GGUF / push records its actions left in the same log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tuiapp.core.config.root import FTConfig
from tuiapp.core.hub.base_model import BaseLicense
from tuiapp.core.runs.action_history import ActionRecord, action_records
from tuiapp.core.runs.event_base import Event
from tuiapp.core.runs.events import EvalDone, Metrics, Started
from tuiapp.core.runs.run_totals import run_totals

PushKind = Literal["adapter", "full", "merged", "gguf"]  # a LoRA adapter, a full fine-tune's model, merge, GGUF


@dataclass(frozen=True)
class TrainingFigures:
    """What training measured, over every launch of the run."""

    step: int
    total_steps: int | None
    train_loss: float | None  # the mean over the run, as the trainer reports it
    last_loss: float | None
    last_loss_step: int | None
    eval_loss: float | None
    eval_step: int | None
    training_s: float
    tokens: int | None
    peak_memory_bytes: int | None  # the most GPU memory torch held (reserved) in a logged step
    hardware: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CardFacts:
    """Everything the card says, already made public (no local path, no secret)."""

    repo_id: str
    kind: PushKind
    config: FTConfig  # the published config (see public_config)
    config_yaml: str
    config_changes: list[str]
    base_model: str | None  # the base's Hub id; None for a local folder that is not a cache copy
    base_label: str  # how the text names the base
    license: BaseLicense | None
    dataset_id: str | None  # the dataset's Hub id, when it came from the Hub
    figures: TrainingFigures
    action_facts: dict[str, Any] = field(default_factory=dict)  # the merge's or the GGUF's own figures
    action_notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # paths in the repo
    has_chat_template: bool = False
    loss_curve: str | None = None  # the PNG's path in the repo
    endpoint: str | None = None  # a self-hosted Hub's address; None for huggingface.co
    quantized_from: str | None = None  # GGUF: the pushed merged model it was made from

    @property
    def relation(self) -> str:
        """The card's base_model_relation: how this repo stands to `base_model`."""
        if self.kind == "adapter":
            return "adapter"
        return "quantized" if self.kind == "gguf" and self.quantized_from else "finetune"

    @property
    def gguf_files(self) -> list[str]:
        return [name for name in self.files if name.endswith(".gguf")]


def training_figures(events: list[Event]) -> TrainingFigures:
    """Losses, time, tokens, peak memory and the environment of the run's events."""
    totals = run_totals(events)  # type: ignore[arg-type]
    metrics = [e for e in events if isinstance(e, Metrics)]
    losses = [m for m in metrics if m.loss is not None]
    evals = [e for e in events if isinstance(e, EvalDone) and e.eval_loss is not None]
    started = [e for e in events if isinstance(e, Started)]
    peaks = [m.gpu_memory_reserved or m.gpu_memory_allocated for m in metrics]
    peaks = [p for p in peaks if p]
    return TrainingFigures(
        step=totals.step,
        total_steps=metrics[-1].total_steps if metrics else (started[-1].total_steps if started else None),
        train_loss=totals.train_loss,
        last_loss=losses[-1].loss if losses else None,
        last_loss_step=losses[-1].step if losses else None,
        eval_loss=evals[-1].eval_loss if evals else None,
        eval_step=evals[-1].step if evals else None,
        training_s=totals.training_s,
        tokens=totals.tokens,
        peak_memory_bytes=max(peaks) if peaks else None,
        hardware=dict(started[-1].hardware) if started else {},
        versions=dict(started[-1].versions) if started else {},
    )


def latest_done(events: list[Event], action: str) -> ActionRecord | None:
    """The last launch of `action` that finished."""
    done = [r for r in action_records(events, check_alive=False) if r.action == action and r.state == "done"]
    return done[-1] if done else None


def pushed_merged_repo(events: list[Event], endpoint: str | None) -> str | None:
    """The repo a merged model of this run was last pushed to (on the same Hub), for a GGUF's base_model."""
    pushes = [r for r in action_records(events, check_alive=False) if r.action == "push" and r.state == "done"]
    for record in reversed(pushes):
        if record.facts.get("what") == "merged" and record.facts.get("endpoint") == endpoint:
            repo = record.facts.get("repo")
            return repo if isinstance(repo, str) else None
    return None


def has_chat_template(folder: Path) -> bool:
    """Whether the tokenizer saved in `folder` carries a chat template (its own file, or in its config)."""
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(config, dict) and bool(config.get("chat_template"))
