"""Step 2a: choose the base model by id, folder or catalogue name, and see its shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from tuiapp.core.models.catalog import derived_entries, model_catalog
from tuiapp.core.models.local_cache import cached_model_ids
from tuiapp.core.models.resolve import resolve_model
from tuiapp.tui.screens.step_screen import StepScreen, failure_text
from tuiapp.tui.widgets.list_nav import move_highlight
from tuiapp.tui.widgets.model_facts import ModelFacts

if TYPE_CHECKING:
    from tuiapp.core.models.resolve import ResolvedModel


class ModelScreen(StepScreen[None]):
    """Type an id or path (Tab completes from the local Hugging Face cache and the catalogue: its models, their
    base ids and their unsloth/ mirrors), or pick from the list; Ctrl+N goes on."""

    STEP = "model"
    HELP_TOPIC = "model"
    FAILURE_TITLE = "Model lookup failed"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("tab", "complete", "Complete", show=False),
        Binding("ctrl+n", "next", "Next: method", priority=True),
        Binding("down", "move(1)", "Next item", show=False),
        Binding("up", "move(-1)", "Previous item", show=False),
    ]

    @dataclass
    class Chosen(Message):
        """The user moves on with this model."""

        model: ResolvedModel

    model: reactive[ResolvedModel | None] = reactive(None)
    problem: reactive[str | None] = reactive(None)
    busy: reactive[bool] = reactive(False)

    def __init__(
        self,
        resolve: Callable[[str], ResolvedModel] | None = None,
        initial: str = "",
        cached: Callable[[], Sequence[str]] = cached_model_ids,
        chosen: ResolvedModel | None = None,
    ) -> None:
        super().__init__()
        self.set_reactive(ModelScreen.model, chosen)
        self._resolve = resolve or (lambda name: resolve_model(name))
        self._initial = initial
        self._cached = tuple(cached())  # a directory listing: fast enough to do here
        self._catalogue = {entry.name: entry.aliases for entry in (*model_catalog(), *derived_entries())}
        self._names = list(dict.fromkeys([*self._cached, *self._catalogue]))

    def compose(self) -> ComposeResult:
        yield from self.header()
        with Vertical(id="model-body"):
            yield Input(
                value=self._initial,
                placeholder="Qwen/Qwen2.5-7B-Instruct, ./my-model, or a catalogue name",
                suggester=SuggestFromList(self._names, case_sensitive=False),
                id="model-query",
            )
            yield OptionList(*self._options(self._initial), id="model-options")
            yield LoadingIndicator(id="model-busy")
            yield Static("", id="model-problem", classes="notice warning")
            yield ModelFacts(id="model-facts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#model-busy").display = False
        self.query_one("#model-problem").display = False
        self.query_one(ModelFacts).model = self.model

    def _options(self, query: str) -> list[Option]:
        """Cached models first (they need no network), then the catalogue (listed models, then base ids and
        mirrors); both filtered by the words typed."""
        searchable = {name: name for name in self._cached}
        for name, aliases in self._catalogue.items():
            searchable.setdefault(name, f"{name} {' '.join(aliases)}")
        words = query.lower().split()
        names = [name for name, text in searchable.items() if all(word in text.lower() for word in words)]
        cached = set(self._cached)
        return [
            Option(Content.assemble(name, ("  cached", "dim")) if name in cached else name, id=name) for name in names
        ]

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter the list; its first row is highlighted, so what Enter will take is on screen."""
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        options.highlighted = 0 if event.value.strip() and options.option_count else None

    def action_complete(self) -> None:
        """Tab takes the completion the input shows (as → does); with none, or elsewhere, it moves focus."""
        query = self.query_one("#model-query", Input)
        if query.has_focus and query.cursor_at_end:
            typed = query.value
            query.action_cursor_right()
            if query.value != typed:
                return
        self.focus_next()

    def action_move(self, delta: int) -> None:
        move_highlight(self.query_one(OptionList), delta)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter takes what was typed when it names a listed model exactly, else the highlighted row."""
        options = self.query_one(OptionList)
        typed = event.value.strip()
        listed = {str(options.get_option_at_index(i).id).lower() for i in range(options.option_count)}
        if typed.lower() not in listed and options.highlighted is not None:
            typed = str(options.get_option_at_index(options.highlighted).id)
        if typed:
            self.look_up(typed)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.look_up(str(event.option.id))

    def look_up(self, name: str) -> None:
        """Forget the last choice while this one is looked up: Next waits for a model that resolved."""
        self.busy, self.problem, self.model = True, None, None
        self.query_one("#model-query", Input).value = name  # the input shows what was chosen
        self.refresh_bindings()
        self.run_resolve(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resolve")
    def run_resolve(self, name: str) -> None:
        """Reading a config may reach the Hub: keep it off the event loop."""
        model = self._resolve(name)
        self.app.call_from_thread(self._resolved, model)

    def _resolved(self, model: ResolvedModel) -> None:
        self.busy, self.model = False, model
        self.refresh_bindings()

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        self.busy, self.problem, self.model = False, failure_text(error), None
        self.refresh_bindings()
        return True

    def watch_busy(self, busy: bool) -> None:
        self.query_one("#model-busy").display = busy

    def watch_problem(self, problem: str | None) -> None:
        widget = self.query_one("#model-problem", Static)
        widget.display = problem is not None
        widget.update(problem or "")

    def watch_model(self, model: ResolvedModel | None) -> None:
        self.query_one(ModelFacts).model = model

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            return True if self.model is not None else None  # shown, dimmed, until a model resolves
        return True

    def action_next(self) -> None:
        if self.model is not None:
            self.post_message(self.Chosen(self.model))

    def action_back(self) -> None:
        self.app.pop_screen()
