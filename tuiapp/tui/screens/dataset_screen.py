"""Step 3: open a dataset, see its format, a row as the model sees it, and its token lengths."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import (
    Checkbox,
    Footer,
    Input,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, get_current_worker

from tuiapp.core.config import FTConfig, with_changes
from tuiapp.core.config.choices import TASK_FORMATS
from tuiapp.core.data.inspect_job import inspection_events
from tuiapp.core.data.inspect_request import InspectRequest, parse_mapping
from tuiapp.core.data.token_stats import TokenStats
from tuiapp.core.user_error import UserError
from tuiapp.tui.control_words import DATASET_WORDS, on_screen
from tuiapp.tui.screens.source_picker_screen import SourcePickerScreen
from tuiapp.tui.screens.step_screen import StepScreen, failure_text
from tuiapp.tui.widgets.dataset_panels import checks_text, format_line, row_view, stats_text
from tuiapp.tui.widgets.state_checkbox import StateCheckbox
from tuiapp.tui.widgets.token_histogram import TokenHistogram

Inspector = Callable[[InspectRequest, Callable[[], bool]], Iterator[dict[str, Any]]]
PROGRESS_INTERVAL_S = 0.1  # progress reaches the UI at most this often


class DatasetScreen(StepScreen[None]):
    """Enter in the source box inspects; Tab moves between boxes and panels; [ and ] browse rows."""

    STEP = "dataset"
    HELP_TOPIC = "dataset"
    FAILURE_TITLE = "Dataset inspection failed"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+o", "browse", "Browse", priority=True),
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("r", "recommended", "Advised length"),
        Binding("right_square_bracket", "row(1)", "Next row", key_display="]"),
        Binding("left_square_bracket", "row(-1)", "Previous row", show=False),
    ]

    @dataclass
    class Chosen(Message):
        """The user moves on with this dataset (the config's dataset and max length are set)."""

        config: FTConfig
        stats: TokenStats

    events: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    position: reactive[int] = reactive(0)
    max_length: reactive[int] = reactive(2048)

    def __init__(
        self,
        config: FTConfig,
        inspect: Inspector = inspection_events,
        memory_at: Callable[[int], str] | None = None,
        advance: bool = False,
    ) -> None:
        super().__init__()
        self.config, self._advance = config, advance  # advance: go on by itself once the dataset checks out
        self._inspect, self._memory_at = inspect, memory_at
        self.set_reactive(DatasetScreen.max_length, config.training.max_length)
        self._lengths: list[int] = []

    def compose(self) -> ComposeResult:
        dataset = self.config.dataset
        formats = [(name, name) for name in TASK_FORMATS[self.config.task]]
        yield from self.header()
        with Vertical(id="dataset-body"):
            yield Input(
                value=dataset.source if dataset else "",
                placeholder="a .jsonl/.json/.csv/.parquet/.txt file or folder, or a Hub id; Ctrl+O browses",
                id="dataset-source",
                compact=True,
            )
            with Horizontal(id="dataset-options"):
                yield Select(formats, value=dataset.format if dataset else "auto", allow_blank=False,
                             id="dataset-format", compact=True)  # fmt: skip
                yield Input(
                    value=" ".join(f"{k}={v}" for k, v in (dataset.columns if dataset else {}).items()),
                    placeholder="rename a=b",
                    id="dataset-map",
                    compact=True,
                )
                yield Static("max len", classes="dataset-label")
                yield Input(str(self.max_length), type="integer", id="dataset-max-length", compact=True)
                yield StateCheckbox("skip bad", dataset.skip_bad if dataset else False, id="dataset-skip-bad")
                yield StateCheckbox("dedupe", dataset.dedupe if dataset else False, id="dataset-dedupe")
            yield Static(format_line(None), id="dataset-format-line")
            with Horizontal(id="dataset-progress-row"):
                yield Static(id="dataset-phase")
                yield ProgressBar(id="dataset-progress", show_eta=False)
            with TabbedContent(id="dataset-tabs"):
                with TabPane("Preview", id="tab-preview"), VerticalScroll(id="dataset-row-scroll"):
                    yield Static(row_view(None, 0, 0), id="dataset-row")
                with TabPane("Tokens", id="tab-tokens"):
                    yield Static(stats_text(None, False, None), id="dataset-stats")
                    yield TokenHistogram(id="dataset-histogram")
                with TabPane("Checks", id="tab-checks"), VerticalScroll():
                    yield Static(checks_text({}), id="dataset-checks")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#dataset-progress-row").display = False
        if self.config.dataset:
            self.inspect()

    # ----- running the inspection -------------------------------------------------------------
    def _request(self) -> InspectRequest:
        source = self.query_one("#dataset-source", Input).value.strip()
        if not source:
            raise UserError("type a file, folder or Hub dataset id first (Ctrl+O browses local files)")
        return InspectRequest(
            source=source,
            task=self.config.task,
            format=self.query_one("#dataset-format", Select).value,
            columns=parse_mapping(self.query_one("#dataset-map", Input).value),
            model=self.config.model.name_or_path,
            trust_remote_code=self.config.model.trust_remote_code,
            max_length=self.max_length,
            micro_batch=self.config.training.micro_batch_size,
            grad_accum=self.config.training.grad_accum,
            skip_bad=self.query_one("#dataset-skip-bad", Checkbox).value,
            dedupe=self.query_one("#dataset-dedupe", Checkbox).value,
            eval_size=dataset.eval_size if (dataset := self.config.dataset) else 0.0,
            seed=self.config.training.seed,
        )

    def inspect(self) -> None:
        """Start (or restart) the inspection of what the boxes say; problems show in the format line."""
        try:
            request = self._request()
        except UserError as exc:
            self.query_one("#dataset-format-line", Static).update(f"[red]{exc}[/]")
            return
        self._lengths = []
        self.position = 0
        self.events = {"notes": [], "request": request}
        self.query_one("#dataset-format-line", Static).update(f"[dim]Reading {request.source}…[/]")
        self.query_one("#dataset-progress", ProgressBar).update(total=None, progress=0)
        self._phase(f"reading {request.source}")
        self.run_inspection(request)

    def _phase(self, text: str) -> None:
        """Say what the inspection is doing beside its progress bar (so a long wait is never silent)."""
        self.query_one("#dataset-phase", Static).update(f"[dim]{text[:60]}…[/]")
        self.query_one("#dataset-progress-row").display = True

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect")
    def run_inspection(self, request: InspectRequest) -> None:
        """Reads the child's events; progress is coalesced so a fast child cannot flood the UI."""
        worker = get_current_worker()
        last = 0.0
        for event in self._inspect(request, lambda: worker.is_cancelled):
            if worker.is_cancelled:
                return
            if event["event"] == "progress" and event["done"] < event["total"]:
                if time.monotonic() - last < PROGRESS_INTERVAL_S:
                    continue
                last = time.monotonic()
            self.app.call_from_thread(self._apply, request, event)
        self.app.call_from_thread(self._finished, request)

    def _apply(self, request: InspectRequest, event: dict[str, Any]) -> None:
        if self.events.get("request") is not request:
            return  # a newer inspection has started
        kind = event.pop("event")
        bar = self.query_one("#dataset-progress", ProgressBar)
        if kind == "progress":
            bar.update(total=event["total"], progress=event["done"])
            self._phase(f"counting tokens: {event['done']:,} of {event['total']:,} rows")
        elif kind == "stage":
            self._phase(event["message"])
        elif kind == "note":
            note = on_screen(event["message"], DATASET_WORDS)
            self.events = {**self.events, "notes": [*self.events["notes"], note]}
        elif kind == "stats":
            self._lengths = event.pop("lengths")
            self.events = {**self.events, "stats": event}
        else:
            self.events = {**self.events, kind: event}

    def _finished(self, request: InspectRequest) -> None:
        if self.events.get("request") is request:
            self.query_one("#dataset-progress-row").display = False
            if self._advance:  # started from a saved config: on to Hyperparameters unless something is wrong
                self._advance = False
                self.action_next()

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        self.query_one("#dataset-progress-row").display = False
        text = escape(on_screen(failure_text(error), DATASET_WORDS))
        self.query_one("#dataset-format-line", Static).update(f"[red]{text}[/]")
        return True

    # ----- drawing -------------------------------------------------------------------------------
    def _stats(self) -> TokenStats | None:
        if not self._lengths:
            return None
        training = self.config.training
        return TokenStats.of(self._lengths, self.max_length, training.micro_batch_size, training.grad_accum)

    def watch_events(self, events: dict[str, Any]) -> None:
        if "detected" in events:
            self.query_one("#dataset-format-line", Static).update(
                on_screen(format_line(events["detected"]), DATASET_WORDS)
            )
        self._draw_row()
        self._draw_stats()
        self.query_one("#dataset-checks", Static).update(on_screen(checks_text(events), DATASET_WORDS))

    def _draw_row(self) -> None:
        rows = self.events.get("rows", {})
        shown = rows.get("rows", [])
        row = shown[self.position] if shown else None
        self.query_one("#dataset-row", Static).update(row_view(row, self.position, rows.get("total", 0)))

    def _draw_stats(self) -> None:
        stats = self._stats()
        approximate = bool(self.events.get("stats", {}).get("approximate"))
        memory = self._memory_at(self.max_length) if self._memory_at and stats else None
        self.query_one("#dataset-stats", Static).update(stats_text(stats, approximate, memory))
        self.query_one(TokenHistogram).show(stats)

    def watch_position(self) -> None:
        if self.is_mounted:
            self._draw_row()

    def watch_max_length(self) -> None:
        if self.is_mounted:
            self._draw_stats()

    # ----- input -------------------------------------------------------------------------------
    @on(Input.Submitted, "#dataset-source, #dataset-map")
    def _submitted(self) -> None:
        self.inspect()

    @on(Select.Changed, "#dataset-format")
    @on(Checkbox.Changed)
    def _option_changed(self) -> None:
        if self.events.get("request"):
            self.inspect()

    @on(Input.Changed, "#dataset-max-length")
    def _max_length_typed(self, event: Input.Changed) -> None:
        if event.value.isdigit() and 16 <= int(event.value) <= 1_048_576:
            self.max_length = int(event.value)

    def action_row(self, delta: int) -> None:
        shown = self.events.get("rows", {}).get("rows", [])
        if shown:
            self.position = (self.position + delta) % len(shown)

    def action_recommended(self) -> None:
        stats = self._stats()
        if stats:
            self.query_one("#dataset-max-length", Input).value = str(stats.recommended_max_length)

    def action_browse(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.query_one("#dataset-source", Input).value = path
                self.inspect()

        self.app.push_screen(SourcePickerScreen(), chosen)

    def action_next(self) -> None:
        request, stats = self.events.get("request"), self._stats()
        if request is not None and stats is None and self.query_one("#dataset-progress-row").display:
            self._advance = True  # still counting: go on by itself when it is done
            self.notify("Going on to Hyperparameters once the rows are counted…", timeout=3)
            return
        if stats is None or request is None:
            self.notify("Open a dataset first: type its path and press Enter (Ctrl+O browses)", severity="warning")
            return
        dropped = self.events.get("cleaned", {}).get("dropped", 0)
        if dropped and not request.skip_bad:
            self.notify(
                f"{dropped} row(s) cannot train (see Checks): tick [b]skip bad[/b] to leave them out, or fix the file",
                severity="warning",
            )
            return
        detected = self.events["detected"]["format"]
        config = with_changes(
            self.config,
            {
                "dataset.source": request.source,
                "dataset.format": request.format if request.format != "auto" else detected,
                "dataset.columns": request.columns,
                "dataset.skip_bad": request.skip_bad,
                "dataset.dedupe": request.dedupe,
                "training.max_length": self.max_length,
            },
        )
        self.post_message(self.Chosen(config, stats))

    def action_back(self) -> None:
        self.app.pop_screen()
