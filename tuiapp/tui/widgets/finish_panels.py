"""The Finish screen's two panels: the run's result (figures and files) and its actions (chat, merge, GGUF,
push), each action with its last outcome, so a glance says what is done and what is left."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from tuiapp.core.runs.action_history import ActionRecord
from tuiapp.core.runs.event_lines import duration
from tuiapp.core.runs.run_result import RunResult
from tuiapp.core.units import gib

ACTION_KEYS = (
    ("c", "chat", "Chat", "talk to the tuned model beside the base one"),
    ("m", "merge", "Merge", "fold the adapter into a 16-bit model (safetensors)"),
    ("g", "gguf", "GGUF", "a .gguf file and an Ollama Modelfile"),
    ("p", "push", "Push", "upload to the Hugging Face Hub with a model card"),
)
STATE_STYLES = {"running": "bold cyan", "done": "green", "failed": "bold red", "cancelled": "yellow", "died": "red"}
LINE_CHARS = 300  # of a message or a path list in the panel
NOTES_SHOWN = 2


def _figure(value: float | None, fmt: str = ".4f") -> str:
    return "-" if value is None else format(value, fmt)


def _short(path: Path, root: Path) -> str:
    """A path inside the run directory as `RUN/final`, anything else whole."""
    try:
        return f"{root.name}/{path.relative_to(root)}"
    except ValueError:
        return str(path)


def result_text(result: RunResult) -> Text:
    """Four to six lines: the outcome, losses and steps, tokens / time / memory, then the files."""
    text = Text()
    state_style = "bold green" if result.finished else "bold yellow"
    text.append(f"{result.name}", style="bold")
    text.append(f" · {result.state}", style=state_style)
    if result.model:
        text.append(f" · {result.method or '?'} on {result.model}")
    steps = f"{result.step}/{result.total_steps}" if result.total_steps else str(result.step)
    losses = f"train loss {_figure(result.train_loss)} (run mean) · last eval loss {_figure(result.eval_loss)}"
    text.append(f"\n{losses} · steps {steps}")
    tokens = f"{result.tokens:,} tokens" if result.tokens else "tokens -"
    if result.peak_memory_bytes:
        peak = f"peak GPU memory {gib(result.peak_memory_bytes)}"
    else:
        peak = "GPU memory not measured" if result.device in (None, "cpu") else "peak GPU memory -"
    where = f" on {result.device}" if result.device else ""
    text.append(f"\n{tokens} · trained {duration(result.training_s)}{where} · {peak}")
    files = [("adapter/model", result.final), ("merged", result.merged)]
    for label, folder in files:
        if folder is not None:
            text.append(f"\n{label}: ", style="dim")
            text.append(_short(folder, result.root))
    for gguf in result.gguf_files[:3]:
        text.append("\ngguf: ", style="dim")
        text.append(_short(gguf, result.root))
    if not result.finished:
        text.append(f"\n{unfinished_advice(result)}", style="yellow")
    return text


def unfinished_advice(result: RunResult) -> str:
    """Why the actions wait, and what to do, for a run without a result to use."""
    need = "merge, GGUF, chat and push need its result in final/"
    if result.state == "running":
        return f"Still training: {need}. Wait for it (ftwizard attach {result.name} shows it)."
    if result.state == "completed":
        return f"final/ is missing (moved or deleted?): {need}. Train it again to get it back."
    if result.state == "created":
        return f"Never started: {need}. Start it with ftwizard resume {result.name}."
    return f"The run has {result.state}: {need}. Continue it: ftwizard resume {result.name}."


def record_text(record: ActionRecord | None, notes_shown: int = NOTES_SHOWN) -> Text:
    """An action's last outcome in one or two lines (empty before its first launch)."""
    if record is None:
        return Text("not run yet", style="dim")
    text = Text(record.state, style=STATE_STYLES[record.state])
    if record.state == "running":
        phase = record.phase or "starting"
        text.append(f": {phase}")
        text.append(" · x cancels", style="dim")
    elif record.state == "done":
        text.append(f": {(record.summary or '')[:LINE_CHARS]}")
        for note in record.notes[:notes_shown]:  # the actions put what to do next first
            text.append(f"\n  {note[:LINE_CHARS]}", style="dim")
    elif record.state == "failed":
        text.append(f": {(record.message or '')[:LINE_CHARS]}")
        for fix in record.fixes[:2]:
            text.append("\n  Fix: ", style="bold")
            text.append(fix[:LINE_CHARS])
    elif record.state == "died":
        text.append(": its process ended without a word (killed?); run it again")
    else:
        text.append(": nothing half-written was kept", style="dim")
    return text


class ActionRow(Vertical):
    """One action: `m Merge  fold the adapter…` over its last outcome, and a bar while it runs."""

    def __init__(self, key: str, action: str, label: str, purpose: str) -> None:
        super().__init__(id=f"finish-{action}", classes="finish-action")
        self.key, self.action, self.label, self.purpose = key, action, label, purpose

    def compose(self) -> ComposeResult:
        head = Text()
        head.append(f" {self.key} ", style="reverse bold")
        head.append(f" {self.label}", style="bold")
        head.append(f"  {self.purpose}", style="dim")
        yield Static(head, classes="finish-action-head")
        yield Static(record_text(None), classes="finish-action-state")
        yield ProgressBar(total=1.0, show_eta=False, classes="finish-action-bar")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def show(self, record: ActionRecord | None, note: str | None = None, notes_shown: int = NOTES_SHOWN) -> None:
        """Draw the last launch (or a note, such as chat's `open`); `notes_shown` of its notes at most."""
        state = Text(note, style="dim") if note is not None else record_text(record, notes_shown)
        self.query_one(".finish-action-state", Static).update(state)
        bar = self.query_one(ProgressBar)
        running = record is not None and record.state == "running"
        bar.display = running
        if running:
            if record.fraction is None:
                bar.update(total=None)
            else:
                bar.update(total=1.0, progress=record.fraction)
