"""Help for the screen underneath: what it is for, what its figures mean, and every key that works on it.

The text is data (tuiapp/tui/help/TOPIC.md, chosen by the screen's `HELP_TOPIC`); the keys are read from
the screen's and the app's bindings as they stand, so the table cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.actions import parse
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown, Static

from tuiapp.tui.help import GENERAL, help_text, split_title


@dataclass(frozen=True)
class KeyRow:
    """One action and the keys bound to it (`q / ^q`); `available` is False while the screen refuses it."""

    keys: str
    description: str
    available: bool


def _available(binding: Binding, node: DOMNode, screen: Screen) -> bool:
    """What the footer asks before it offers a key: the action's target's `check_action`."""
    namespace, action, parameters = parse(binding.action)
    target = {"app": screen.app, "screen": screen}.get(namespace, node)
    return target.check_action(action, parameters) is True


def _textual_defaults() -> list[Binding]:
    """The bindings every Textual screen and app has, as Textual made them (focus, copy, quit)."""
    return Binding.make_bindings([*Screen.BINDINGS, *App.BINDINGS])


def screen_keys(screen: Screen) -> list[KeyRow]:
    """Every key the screen and the app answer, footer-hidden ones too; system and undescribed ones left out.

    Widget keys (typing, arrows inside a list) are left to the help text. As in Textual, a screen binding
    hides the app's binding for the same key unless the app's is a priority one, and a modal screen hides
    all but the app's priority keys. The screen's own keys come first, Textual's generic ones last.
    """
    app = screen.app
    winners: dict[str, tuple[DOMNode, Binding]] = {}
    for node in (screen, app):
        for key, binding in node._bindings:  # the merged class BINDINGS (Textual has no public view of them)
            if node is app and screen.is_modal and not binding.priority:
                continue
            held = winners.get(key)
            if held is None or (binding.priority and not held[1].priority):
                winners[key] = (node, binding)
    grouped: dict[tuple[int, str, str], list[tuple[DOMNode, Binding]]] = {}
    for node, binding in winners.values():
        if binding.system or not binding.description:
            continue
        grouped.setdefault((id(node), binding.action, binding.description), []).append((node, binding))
    generic = _textual_defaults()
    ranked = []
    for (_, _, description), bound in grouped.items():
        bound.sort(key=lambda pair: not pair[1].show)  # the key the footer offers first
        node, first = bound[0]
        keys = " / ".join(dict.fromkeys(app.get_key_display(binding) for _, binding in bound))
        row = KeyRow(keys, description[:1].upper() + description[1:], _available(first, node, screen))
        rank = 2 if all(b in generic or b.action == "command_palette" for _, b in bound) else int(node is app)
        ranked.append((rank, row))
    return [row for _, row in sorted(ranked, key=lambda pair: pair[0])]


def keys_table(rows: list[KeyRow]) -> Table:
    """Two columns, keys in bold; keys the screen refuses just now dimmed and marked."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for row in rows:
        if row.available:
            table.add_row(row.keys, row.description)
        else:
            table.add_row(Text(row.keys, style="dim"), Text(f"{row.description} (not now)", style="dim"))
    return table


class HelpScreen(ModalScreen[None]):
    """`HelpScreen(app.screen)`: the help of that screen's `HELP_TOPIC`, its keys, then what applies everywhere."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, for_screen: Screen) -> None:
        super().__init__()
        self.for_screen = for_screen
        self.topic = str(getattr(for_screen, "HELP_TOPIC", GENERAL))
        self.rows = screen_keys(for_screen)

    def title_text(self, heading: str) -> str:
        """The step's name as the title bar shows it (`Step 3 of 6 · Method`), else the help file's heading."""
        screen_title = getattr(self.for_screen, "screen_title", None)
        named = screen_title() if callable(screen_title) else ""
        return f"Help · {named or heading or 'ftwizard'}"

    def compose(self) -> ComposeResult:
        heading, body = split_title(help_text(self.topic))
        general = split_title(help_text(GENERAL))[1]
        with VerticalScroll(id="help-box"):
            yield Static(self.title_text(heading), id="help-title")
            yield Markdown(body, id="help-topic")
            yield Static("[b]Keys on this screen[/b]", classes="help-heading")
            yield Static(keys_table(self.rows), id="help-keys")
            if body != general:  # a topic without a file falls back on the general text: show it once
                yield Markdown(general, id="help-general")
            yield Static("Esc, q, ? or F1 closes this help · ↑ ↓ PgUp PgDn scroll", id="help-close")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
