"""Step 4: every training value in a validated form, with the batch, steps, time and peak memory kept live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Label, LoadingIndicator, Select, Static
from textual.worker import Worker

from tuiapp.core.config import FTConfig, with_changes
from tuiapp.core.config.errors import ConfigError
from tuiapp.core.config.form_fields import form_fields
from tuiapp.core.config.lora_section import LoraSection
from tuiapp.core.config.training_section import TrainingSection
from tuiapp.core.estimate.closed_form import FIT_MARGIN
from tuiapp.core.estimate.exact_check import run_exact_check
from tuiapp.core.estimate.from_config import estimate_config, setup_from_config
from tuiapp.core.estimate.sim_request import simulation_request
from tuiapp.core.hyperparam_presets import apply_profile, profile_description, profile_names
from tuiapp.core.models.resolve import ResolvedModel
from tuiapp.tui.messages import ExportRequested, SaveConfigRequested
from tuiapp.tui.screens.step_screen import StepScreen, failure_text
from tuiapp.tui.widgets.config_field import ConfigField
from tuiapp.tui.widgets.exact_result import exact_result_text, simulated_peak
from tuiapp.tui.widgets.memory_bar import memory_bar

ESTIMATE_DELAY_S = 0.15  # typing settles this long before the memory estimate is redrawn


class HyperparamsScreen(StepScreen[None]):
    """Tab through the fields; a bad value is marked and explained, and the last good config is kept."""

    STEP = "hyperparams"
    HELP_TOPIC = "hyperparams"
    FAILURE_TITLE = "Exact check failed"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("ctrl+e", "exact", "Exact", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+x", "export", "Export", priority=True),
    ]

    @dataclass
    class Chosen(Message):
        """The user goes on to train this config."""

        config: FTConfig

    config: reactive[FTConfig | None] = reactive(None, always_update=True)

    def __init__(
        self,
        config: FTConfig,
        model: ResolvedModel,
        free_bytes: int | None,
        schedule: Callable[[FTConfig], str],
        bf16: bool = True,
        exact: Callable[[dict[str, Any]], dict[str, Any]] = run_exact_check,
        train_rows: int | None = None,
    ) -> None:
        super().__init__()
        self.model, self.free_bytes, self.bf16 = model, free_bytes, bf16
        self._schedule, self._exact, self._train_rows = schedule, exact, train_rows
        self._fields = form_fields(TrainingSection, "training")
        if config.uses_adapter:
            self._fields += form_fields(LoraSection, "lora")
        self._problems: dict[str, str] = {}
        self._estimate_timer: Timer | None = None
        self.set_reactive(HyperparamsScreen.config, config)

    def compose(self) -> ComposeResult:
        config = self.config
        assert config is not None
        yield from self.header()
        with Horizontal(id="hp-top"):
            yield Label("Preset", classes="dataset-label")
            profiles = [(name.replace("_", " "), name) for name in profile_names()]
            yield Select(profiles, prompt="as planned", id="hp-preset", compact=True)
            yield Static(id="hp-summary")
        with Horizontal(id="hp-memory-row"):
            yield Static(id="hp-memory")
            yield LoadingIndicator(id="hp-exact-busy")
        with VerticalScroll(id="hp-form"):
            for field in self._fields:
                yield ConfigField(field, _value(config, field.path))
        yield Static(id="hp-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#hp-exact-busy").display = False
        self._draw_summary()
        self._draw_memory()
        self._hint(self._fields[0].path)
        self.query(ConfigField).first().children[1].focus()

    # ----- edits -----------------------------------------------------------------------------------
    @on(ConfigField.Edited)
    def _edited(self, event: ConfigField.Edited) -> None:
        assert self.config is not None
        try:
            config = with_changes(self.config, {event.field.path: event.value})
        except ConfigError as exc:
            self._problems[event.field.path] = "; ".join(exc.problems)
            self.query_one(f"#field-{event.field.path.replace('.', '-')}").add_class("-invalid")
            self._hint(event.field.path)
            return
        self._problems.pop(event.field.path, None)
        self.query_one(f"#field-{event.field.path.replace('.', '-')}").remove_class("-invalid")
        self.config = config
        self._hint(event.field.path)

    @on(ConfigField.Invalid)
    def _invalid(self, event: ConfigField.Invalid) -> None:
        self._problems[event.field.path] = event.reason
        self._hint(event.field.path)

    @on(ConfigField.Focused)
    def _focused(self, event: ConfigField.Focused) -> None:
        self._hint(event.field.path)

    @on(Select.Changed, "#hp-preset")
    def _preset(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK or self.config is None:
            return
        self.config = apply_profile(self.config, str(event.value), train_rows=self._train_rows)
        for field_widget in self.query(ConfigField):
            field_widget.show(_value(self.config, field_widget.field.path))
        self._problems.clear()
        name = str(event.value)
        self.query_one("#hp-hint", Static).update(
            f"[b]Preset {name.replace('_', ' ')}[/b]: {escape(profile_description(name))}"
        )

    def _hint(self, path: str) -> None:
        field = next(f for f in self._fields if f.path == path)
        problem = self._problems.get(path)
        text = f"[red]{field.label}: {problem}[/]" if problem else f"[b]{field.label}[/b]: {field.help}"
        self.query_one("#hp-hint", Static).update(text)

    # ----- live figures --------------------------------------------------------------------------------
    def watch_config(self) -> None:
        if not self.is_mounted:
            return
        self._draw_summary()
        if self._estimate_timer is not None:
            self._estimate_timer.stop()
        self._estimate_timer = self.set_timer(ESTIMATE_DELAY_S, self._draw_memory)

    def _draw_summary(self) -> None:
        config = self.config
        assert config is not None
        t = config.training
        batch = f"Effective batch {t.effective_batch_size} = {t.micro_batch_size} × {t.grad_accum}"
        from tuiapp.core.context_check import max_length_problem  # the rule `ftwizard check` applies too

        problem = max_length_problem(config, self.model.context_length)
        beyond = f"\n[yellow]{escape(problem)}[/]" if problem else ""
        self.query_one("#hp-summary", Static).update(f"{batch} · {self._schedule(config)}{beyond}")

    def _draw_memory(self) -> None:
        config = self.config
        assert config is not None
        estimate = estimate_config(config, self.model.shape, self.bf16)
        peak = estimate.nvidia_smi_bytes
        bar = memory_bar(peak, self.free_bytes, width=16)
        if self.free_bytes is None:
            verdict = "[dim](no GPU to compare with)[/]"
        elif estimate.fits(self.free_bytes):
            verdict = f"[green]fits[/] in nvidia-smi, {FIT_MARGIN:.0%} kept spare"
        else:
            verdict = "[red]does NOT fit[/]: lower the micro-batch or max length, or turn on checkpointing"
        self.query_one("#hp-memory", Static).update(
            f"Peak {bar.markup} {verdict} · {estimate.peak_phase} · ^e exact check"
        )

    # ----- actions -------------------------------------------------------------------------------------
    def action_exact(self) -> None:
        assert self.config is not None
        self.query_one("#hp-exact-busy").display = True
        self.notify("Simulating one real training step in a child process…", timeout=3)
        self.run_exact(self.config)

    @work(thread=True, exclusive=True, exit_on_error=False, group="exact")
    def run_exact(self, config: FTConfig) -> None:
        """The simulation runs in a child process; this thread only waits for it."""
        result = self._exact(simulation_request(self.model.hf_config, setup_from_config(config, self.bf16)))
        simulated_peak(result)  # a malformed answer fails here, in the worker, and is shown as a failure
        self.app.call_from_thread(self._show_exact, config, result)

    def _show_exact(self, config: FTConfig, result: dict[str, Any]) -> None:
        self.query_one("#hp-exact-busy").display = False
        closed = estimate_config(config, self.model.shape, self.bf16).peak_alloc_bytes
        label = f"{config.method}, micro-batch {config.training.micro_batch_size}, {config.training.max_length} tokens"
        self.query_one("#hp-hint", Static).update(exact_result_text(label, result, closed, self.free_bytes))

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        self.query_one("#hp-exact-busy").display = False
        self.query_one("#hp-hint", Static).update(f"[red]Exact check failed[/]: {escape(failure_text(error))}")
        return True

    def _valid_config(self) -> FTConfig | None:
        """The config when no field is marked; else the first problem is shown and None given."""
        if self._problems:
            self._hint(next(iter(self._problems)))
            self.notify("Fix the marked values first", severity="warning")
            return None
        return self.config

    def action_next(self) -> None:
        if (config := self._valid_config()) is not None:
            self.post_message(self.Chosen(config))

    def action_save(self) -> None:
        if (config := self._valid_config()) is not None:
            self.post_message(SaveConfigRequested(config))

    def action_export(self) -> None:
        if (config := self._valid_config()) is not None:
            self.post_message(ExportRequested(config))

    def action_back(self) -> None:
        self.app.pop_screen()


def _value(config: FTConfig, path: str) -> Any:
    section, name = path.split(".")
    return getattr(getattr(config, section), name)
