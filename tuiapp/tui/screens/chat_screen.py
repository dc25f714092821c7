"""Chat with a finished run: the same prompt answered by the base model and the tuned one, side by side.

The model lives in a child process (tuiapp.core.chat.client), loaded once: for an adapter, one copy of the
weights, the adapter switched off for the base answer. Replies arrive on the client's reader thread into an
inbox; a timer drains it twenty times a second and redraws each pane that changed once, so a fast model never
floods the event loop. Esc stops the answers (and goes back when none is running).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import Resize
from textual.widgets import Footer, Input, Static

from tuiapp.core.chat.client import ChatClient, ModelChoice
from tuiapp.core.chat.conversation import Answer, Conversation
from tuiapp.core.chat.protocol import Done, Error, Ready, Reply, Token
from tuiapp.core.chat.settings import GenerationSettings
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.chat_settings_screen import ChatSettingsScreen
from tuiapp.tui.screens.step_screen import StepScreen
from tuiapp.tui.widgets.chat_pane import ChatPane

DRAIN_S = 0.05  # replies reach the panes at most twenty times a second
SIDE_BY_SIDE_COLUMNS = 100  # narrower terminals stack the panes (Base above Tuned)
SIDES = ("base", "tuned")  # the panes, left to right (top to bottom when stacked)
ASK_ORDER = ("tuned", "base")  # the tuned answer is generated first
TITLES = {"base": "Base", "tuned": "Tuned"}
HOW = {"adapter off": "base = adapter off", "second model": "base = a second model", "base only": "base model alone"}


class ChatBackend(Protocol):
    """What the screen needs of a client (ChatClient, or a scripted one in tests)."""

    def start(self) -> None: ...
    def generate(self, messages: list[dict[str, str]], which: Any, settings: GenerationSettings) -> str: ...
    def stop(self, request_id: str | None = None) -> None: ...
    def close(self, timeout: float = 5.0) -> None: ...


ClientFactory = Callable[[Path, ModelChoice, Callable[[Reply], None]], ChatBackend]


def child_client(run_dir: Path, model: ModelChoice, on_reply: Callable[[Reply], None]) -> ChatBackend:
    return ChatClient(run_dir, model, on_reply)


def done_note(done: Done) -> str:
    """`42 tokens · 1.3 s · 32 tok/s`."""
    rate = f" · {done.tokens / done.seconds:.0f} tok/s" if done.seconds > 0 and done.tokens else ""
    return f"{done.tokens} tokens · {done.seconds:.1f} s{rate}"


class ChatScreen(StepScreen[None]):
    """Enter sends, Esc stops the answers (or goes back), Ctrl+S settings, Ctrl+L clears, Ctrl+B base on/off."""

    HELP_TOPIC = "chat"
    SCREEN_TITLE = "Chat"
    CSS_PATH = "chat_screen.tcss"
    BINDINGS = [
        Binding("escape", "stop_or_back", "Stop/Back"),
        Binding("ctrl+s", "settings", "Settings"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("ctrl+b", "toggle_base", "Base"),
    ]

    def __init__(
        self,
        run_dir: Path,
        model: ModelChoice = "tuned",
        *,
        make_client: ClientFactory = child_client,
        settings: GenerationSettings | None = None,
    ) -> None:
        super().__init__()
        self.run_dir, self.model_choice = Path(run_dir), model
        self.settings = settings or GenerationSettings()
        self.conversation = Conversation()
        self.facts: dict[str, Any] | None = None  # the ready reply's, once the model is loaded
        self.fatal: str | None = None
        self.base_on = model == "base"
        self._make_client = make_client
        self._client: ChatBackend | None = None
        self._inbox: deque[Reply] = deque()  # filled on the client's thread, drained on the event loop
        self._asked: dict[str, tuple[str, Answer]] = {}  # request id -> the side and the answer it fills

    def compose(self) -> ComposeResult:
        yield from self.header()
        yield Static(
            f"[dim]Loading {escape(self.run_dir.name)}: the model loads once, in its own process…[/]", id="chat-status"
        )
        with Container(id="chat-panes"):
            for side in SIDES:
                yield ChatPane(side, id=f"chat-{side}")
        yield Input(placeholder="Message (Enter sends)", id="chat-input", max_length=16_000)
        yield Footer()

    def on_mount(self) -> None:
        self._fit(self.app.size.width)
        self._redraw(*SIDES)
        self.set_interval(DRAIN_S, self._drain)
        self.query_one("#chat-input", Input).focus()
        try:
            self._client = self._make_client(self.run_dir, self.model_choice, self._inbox.append)
            self._client.start()
        except UserError as exc:
            self._inbox.append(Error(str(exc), fatal=True))

    def on_unmount(self) -> None:
        if self._client is not None:
            import threading

            threading.Thread(target=self._client.close, name="chat-close", daemon=True).start()

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        self.set_class(width < SIDE_BY_SIDE_COLUMNS, "-stacked")

    # ----- replies: drained in batches --------------------------------------------------------------
    @property
    def generating(self) -> bool:
        return any(a.state in ("waiting", "streaming") for _, a in self._asked.values())

    def _drain(self) -> None:
        changed: set[str] = set()
        status = False
        while self._inbox:
            reply = self._inbox.popleft()
            if isinstance(reply, Token | Done | Error) and reply.id is not None:
                asked = self._asked.get(reply.id)
                if asked is None:
                    continue  # an answer from before Clear
                side, answer = asked
                changed.add(side)
                status |= not isinstance(reply, Token)
                self._apply(answer, reply)
            elif isinstance(reply, Ready):
                self.facts, status = reply.facts, True
                self.base_on = self.facts.get("base_mode") != "second model"
                changed.update(SIDES)
            elif isinstance(reply, Error):
                status = True
                if reply.fatal:
                    self.fatal = reply.message
                    self._fail_all(reply.message)
                    changed.update(SIDES)
                else:
                    self.notify(reply.message, title="Chat", severity="warning")
        if changed:
            self._redraw(*changed)
        if status:
            self._show_status()

    def _apply(self, answer: Answer, reply: Reply) -> None:
        if isinstance(reply, Token):
            answer.text += reply.text
            answer.state = "streaming"
        elif isinstance(reply, Done):
            answer.state = "stopped" if reply.stopped else "done"
            answer.note = done_note(reply)
        elif isinstance(reply, Error):
            answer.state, answer.note = "failed", reply.message

    def _fail_all(self, message: str) -> None:
        for _, answer in self._asked.values():
            if answer.state in ("waiting", "streaming"):
                answer.state, answer.note = "failed", "the chat process ended"
        self.query_one("#chat-input", Input).disabled = True

    # ----- drawing ---------------------------------------------------------------------------------
    def _empty_text(self, side: str) -> str:
        if self.fatal:
            return f"The chat could not go on: {self.fatal}"
        if self.facts is None:
            return "Loading the model…"
        if side not in self.facts.get("sides", ()):
            return "This chat loaded the base model alone."
        if side == "base" and not self.base_on:
            extra = self.facts.get("base_extra_bytes", 0) / 1e9
            if self.facts.get("base_mode") == "second model":
                return (
                    f"This run's result is a whole model, so base answers need a second copy of the base "
                    f"(about {extra:.1f} GB more memory). Ctrl+B loads it at the next prompt."
                )
            return "Base answers are off: Ctrl+B turns them on."
        return "Type a message below and press Enter."

    def _redraw(self, *sides: str) -> None:
        for side in sides:
            pane = self.query_one(f"#chat-{side}", ChatPane)
            pane.border_title = f"{TITLES[side]} · {self.settings.short()}"
            system = self.settings.system_prompt
            pane.border_subtitle = f"system: {system[:60]}{'…' if len(system) > 60 else ''}" if system else ""
            pane.show(self.conversation.exchanges, self._empty_text(side))

    def _show_status(self) -> None:
        status = self.query_one("#chat-status", Static)
        if self.fatal:
            status.update(f"[red]{escape(self.fatal)}[/]")
            return
        if self.facts is None:
            return
        f = self.facts
        head = f"[b]{escape(str(f.get('run')))}[/b] · {HOW.get(str(f.get('base_mode')), '')} · {f.get('device')} "
        tail = f"{f.get('dtype')} · {f.get('prompt')} · loaded in {f.get('load_seconds')} s"
        state = " · [yellow]answering… Esc stops[/]" if self.generating else ""
        status.update(head + escape(tail) + state)

    # ----- keys ------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.fatal or self._client is None:
            return
        if self.facts is None:
            self.notify("The model is still loading", severity="warning")
            return
        if self.generating:
            self.notify("Wait for the answers, or press Esc to stop them", severity="warning")
            return
        sides = tuple(s for s in ASK_ORDER if s in self.facts.get("sides", ()) and (s == "tuned" or self.base_on))
        try:
            exchange = self.conversation.ask(event.value, sides)
        except UserError as exc:
            self.notify(str(exc), severity="warning")
            return
        for side in sides:
            messages = self.conversation.messages_for(side, self.settings.system_prompt)
            request_id = self._client.generate(messages, side, self.settings)
            self._asked[request_id] = (side, exchange.answers[side])
        event.input.value = ""
        self._redraw(*SIDES)
        self._show_status()

    def action_stop_or_back(self) -> None:
        if self.generating and self._client is not None and not self.fatal:
            self._client.stop(None)
            self.query_one("#chat-status", Static).update("[yellow]Stopping…[/]")
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()

    def action_settings(self) -> None:
        def chosen(settings: GenerationSettings | None) -> None:
            if settings is not None:
                self.settings = settings
                self._redraw(*SIDES)

        self.app.push_screen(ChatSettingsScreen(self.settings), chosen)

    def action_clear(self) -> None:
        if self.generating and self._client is not None:
            self._client.stop(None)
        self.conversation.clear()
        self._asked.clear()
        self._redraw(*SIDES)
        self._show_status()

    def action_toggle_base(self) -> None:
        if self.facts is None or "base" not in self.facts.get("sides", ()) or self.model_choice == "base":
            return
        self.base_on = not self.base_on
        self.notify("Base answers on" if self.base_on else "Base answers off: the tuned model alone answers")
        self._redraw("base")
