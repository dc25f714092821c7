"""The last step when planning for a GPU this machine lacks: the saved config and what to run on the box."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static

from tuiapp.core.config import FTConfig
from tuiapp.core.gpu_box_commands import gpu_box_commands
from tuiapp.tui.messages import SaveConfigRequested
from tuiapp.tui.screens.step_screen import StepScreen


class GpuBoxScreen(StepScreen[None]):
    """Shows where the config went and the commands for the GPU box; `c` offers to train here on the CPU."""

    STEP = "train"
    HELP_TOPIC = "gpu_box"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "save", "Save again"),
        Binding("c", "train_here", "Train here (CPU)"),
    ]

    @dataclass
    class TrainHereRequested(Message):
        """The user wants this config trained on this machine anyway (the app confirms first)."""

        config: FTConfig

    def __init__(self, config: FTConfig, saved: Path, gpu_name: str, base: Path) -> None:
        super().__init__()
        self.config, self.saved, self.gpu_name, self.base = config, saved, gpu_name, base

    def compose(self) -> ComposeResult:
        yield from self.header()
        commands = "\n".join(escape(line) for line in gpu_box_commands(self.config, self.saved, self.base))
        with VerticalScroll(id="gpu-box-body"):
            yield Static(f"[b green]Saved[/] {escape(str(self.saved))}", id="gpu-box-saved")
            yield Static(
                f"This plan is for the [b]{escape(self.gpu_name)}[/b], which this machine does not have. "
                "Copy the config (and a local dataset) to the GPU box, then check and train there:",
                classes="hint",
            )
            yield Static(commands, id="gpu-box-commands")
            yield Static(
                "[dim]s saves a copy elsewhere · c trains here on this machine's CPU instead (it asks first) · "
                "Esc goes back to change settings[/]",
                classes="hint",
            )
        yield Footer()

    def action_save(self) -> None:
        self.post_message(SaveConfigRequested(self.config))

    def action_train_here(self) -> None:
        self.post_message(self.TrainHereRequested(self.config))

    def action_back(self) -> None:
        self.app.pop_screen()
