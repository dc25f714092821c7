"""Ask where to save a config: a suggested path to edit, Enter saves, an existing file is never replaced unasked."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuiapp.core.config import FTConfig, save_config
from tuiapp.core.save_target import save_target
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.confirm_screen import ConfirmScreen


def suggested_name(config: FTConfig) -> str:
    """`qwen2.5-0.5b-lora.yaml`: the model's last path part and the method."""
    name = config.model.name_or_path.rstrip("/").rsplit("/", 1)[-1].lower() or "ftwizard"
    return f"{name}-{config.method}.yaml"


class SaveConfigScreen(ModalScreen[Path | None]):
    """Dismisses with the path written, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, config: FTConfig, suggested: Path, title: str = "Save the config") -> None:
        super().__init__()
        self.config, self.suggested, self.title_text = config, suggested, title

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static(f"[b]{escape(self.title_text)}[/b]: a file name or path (folders are created)")
            yield Input(str(self.suggested), id="save-path")
            yield Static("[dim]Enter saves · Esc cancels[/]", id="save-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            path = save_target(event.value, suggested_name(self.config))
        except UserError as exc:  # no name, ~nosuchuser, a NUL, /dev/null, a FIFO
            self._problem(str(exc))
            return
        if path.exists():
            question = f"{path.name} exists. Replace it?"
            detail = f"{path.resolve()} will be overwritten with this config."
            self.app.push_screen(ConfirmScreen(question, detail), lambda yes: self._write(path) if yes else None)
            return
        self._write(path)

    def _write(self, path: Path) -> None:
        try:
            written = save_config(self.config, path)
        except OSError as exc:
            self._problem(f"cannot write {path}: {exc.strerror or exc}; choose another folder")
            return
        self.dismiss(written.resolve())

    def _problem(self, text: str) -> None:
        self.query_one("#save-problem", Static).update(f"[red]{escape(text)}[/]")

    def action_cancel(self) -> None:
        self.dismiss(None)
