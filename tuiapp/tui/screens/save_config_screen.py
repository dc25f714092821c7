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
from tuiapp.core.file_kinds import special_kind
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path
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
        typed = event.value.strip()
        if not typed:
            self._problem("type a file name first")
            return
        try:
            path = user_path(typed)
        except UserError as exc:  # ~nosuchuser, a NUL
            self._problem(str(exc))
            return
        if kind := _not_a_file(path):  # /dev/null, a FIFO: not a place for a config (nor for `x.yaml` beside it)
            self._problem(f"{path} is {kind}: type the name of a file to save to")
            return
        if path.is_dir():
            path = path / suggested_name(self.config)
        if path.suffix not in (".yaml", ".yml"):
            path = path.with_name(path.name + ".yaml")
        if kind := _not_a_file(path):
            self._problem(f"{path} is {kind}: type the name of a file to save to")
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


def _not_a_file(path: Path) -> str | None:
    """What is at `path` when it is neither a regular file nor a folder (links followed), else None."""
    try:
        return special_kind(path.stat().st_mode)
    except OSError:  # nothing there yet (or unreachable: saving says why)
        return None
