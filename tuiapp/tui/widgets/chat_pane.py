"""One side of the chat (Base or Tuned): the prompts and that side's answers, redrawn whole on each batch.

The screen redraws a pane at most once per batch of replies (twenty times a second at most), never once per
token; the pane follows the end of the conversation unless the user has scrolled up to read.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuiapp.core.chat.conversation import Exchange
from tuiapp.core.chat.printable import printable

STATE_NOTES = {"waiting": "waiting…", "streaming": "", "stopped": "stopped", "failed": "failed", "done": ""}


def pane_text(exchanges: Sequence[Exchange], side: str, empty: str) -> Text:
    """The conversation as `side` had it: each prompt, then its answer (with its figures or its state)."""
    out = Text()
    for exchange in exchanges:
        if out:
            out.append("\n\n")
        out.append("You: ", style="bold")
        out.append(printable(exchange.prompt))
        answer = exchange.answers.get(side)
        if answer is None:
            out.append("\n(not asked)", style="dim")
            continue
        out.append("\n")
        out.append(printable(answer.text))
        if answer.state == "streaming":
            out.append("▌", style="bold")
        note = " · ".join(part for part in (STATE_NOTES[answer.state], answer.note) if part)
        if note:
            style = "red" if answer.state == "failed" else ("yellow" if answer.state == "stopped" else "dim")
            out.append(("\n" if answer.text else "") + f"[{note}]", style=style)
    return out if out else Text(empty, style="dim")


class ChatPane(VerticalScroll):
    """A titled, scrolling pane; `show` redraws it (the screen calls it once per batch of replies)."""

    def __init__(self, side: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="chat-pane")
        self.side = side
        self.draws = 0  # how many times it was redrawn (the coalescing test reads it)

    def compose(self) -> ComposeResult:
        yield Static(classes="chat-text")

    def show(self, exchanges: Sequence[Exchange], empty: str) -> None:
        following = self.scroll_y >= self.max_scroll_y - 1
        self.query_one(".chat-text", Static).update(pane_text(exchanges, self.side, empty))
        self.draws += 1
        if following:
            self.call_after_refresh(self.scroll_end, animate=False)
