"""Edit the chat's generation settings: one field each, with its bounds; Enter checks and keeps them, Esc cancels."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tuiapp.core.chat.settings import BOUNDS, SYSTEM_PROMPT_CHARS, GenerationSettings
from tuiapp.core.user_error import UserError

LABELS = {
    "max_new_tokens": "Max new tokens",
    "temperature": "Temperature",
    "top_p": "Top-p",
    "repetition_penalty": "Repetition penalty",
    "system_prompt": "System prompt",
}


def field_hint(name: str) -> str:
    """`1-4096` for a bounded field, `max 4000 chars` for the system prompt."""
    if name == "system_prompt":
        return f"max {SYSTEM_PROMPT_CHARS} chars"
    low, high, _ = BOUNDS[name]
    return f"{low:g}-{high:g}"


class ChatSettingsScreen(ModalScreen[GenerationSettings | None]):
    """Dismisses with the new settings, or None when cancelled."""

    CSS_PATH = "chat_screen.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, settings: GenerationSettings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical(id="chat-settings-box"):
            yield Static("[b]Generation settings[/b] (both panes use them)")
            for name, label in LABELS.items():
                with Horizontal(classes="chat-setting"):
                    yield Label(f"{label} [dim]{field_hint(name)}[/]", classes="chat-setting-label")
                    value = getattr(self.settings, name)
                    yield Input(
                        f"{value:g}" if isinstance(value, float) else str(value), id=f"set-{name}", compact=True
                    )
            yield Static("[dim]Temperature 0 = greedy (the same answer each time)[/]")
            yield Static("[dim]Tab moves · Enter keeps · Esc cancels[/]", id="chat-settings-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        settings = self.settings
        for name in LABELS:
            try:
                settings = settings.with_text(name, self.query_one(f"#set-{name}", Input).value)
            except UserError as exc:
                self.query_one("#chat-settings-problem", Static).update(f"[red]{escape(str(exc))}[/]")
                self.query_one(f"#set-{name}", Input).focus()
                return
        self.dismiss(settings)

    def action_cancel(self) -> None:
        self.dismiss(None)
