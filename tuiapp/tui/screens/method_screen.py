"""Step 2b: every method's estimated peak against free VRAM, the recommendation and its reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, LoadingIndicator, Static
from textual.worker import Worker

from tuiapp.core.axolotl_tool import axolotl_offer, find_axolotl
from tuiapp.core.config import FTConfig
from tuiapp.core.estimate.exact_check import run_exact_check
from tuiapp.core.estimate.planner import METHOD_QUALITY, Plan, PlanOption, PlanRequest, make_plan, module_installed
from tuiapp.core.estimate.setup_line import setup_line
from tuiapp.core.estimate.sim_request import simulation_request
from tuiapp.core.estimate.to_config import config_from_option
from tuiapp.core.units import GIB
from tuiapp.tui.control_words import PLAN_WORDS, on_screen
from tuiapp.tui.messages import SaveConfigRequested
from tuiapp.tui.screens.step_screen import StepScreen, failure_text
from tuiapp.tui.widgets.exact_result import exact_result_text, simulated_peak
from tuiapp.tui.widgets.memory_bar import memory_bar, memory_totals
from tuiapp.tui.widgets.model_facts import param_count

if TYPE_CHECKING:
    from tuiapp.core.hardware import HardwareProfile
    from tuiapp.core.models.resolve import ResolvedModel


class MethodScreen(StepScreen[None]):
    """↑/↓ compare options, `x` simulates the highlighted one exactly, `s` saves its config, `a` switches to Axolotl
    where its command is found, Enter goes on."""

    STEP = "method"
    HELP_TOPIC = "method"
    FAILURE_TITLE = "Exact check failed"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("x", "exact", "Exact"),
        Binding("s", "save", "Save"),
        Binding("c", "compare", "Compare"),
        Binding("a", "axolotl", "Axolotl", show=False),  # said in the details line; the footer is full at 80 columns
        Binding("ctrl+n", "next", "Next", priority=True),
    ]

    @dataclass
    class Chosen(Message):
        """The user moves on with this option and the config it makes."""

        option: PlanOption
        config: FTConfig

    highlighted: reactive[PlanOption | None] = reactive(None)
    use_axolotl: reactive[bool] = reactive(False)
    exact_text: reactive[str] = reactive("")

    def __init__(
        self,
        model: ResolvedModel,
        profile: HardwareProfile,
        request: PlanRequest | None = None,
        exact: Callable[[dict[str, Any]], dict[str, Any]] = run_exact_check,
        prefer: str | None = None,
        installed: Callable[[str], bool] | None = None,  # which modules (Unsloth) and tools are here; None: look
    ) -> None:
        super().__init__()
        self.model, self.profile = model, profile
        self._exact, self._prefer = exact, prefer
        gpu = profile.primary_gpu
        planned = profile.source == "planned"
        self.plan: Plan = make_plan(model.shape, gpu, request or PlanRequest(), planned, installed or module_installed)
        if installed is None:  # the axolotl command: PATH, else the side environment (a few stat calls)
            self.axolotl = find_axolotl()
        else:  # injected, as tests and scenes inject the hardware: no path of this machine on screen
            self.axolotl = Path("axolotl") if installed("axolotl") else None

    def compose(self) -> ComposeResult:
        yield from self.header()
        gpu = self.profile.primary_gpu
        where = f"{gpu.name}, {gpu.free_bytes / GIB:.1f} GiB free" if gpu else "no GPU (estimates only)"
        with Vertical(id="method-body"):
            yield Static(f"[b]{self.model.shape.name}[/b] on {where}", id="method-title")
            yield DataTable(id="method-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="method-details"):  # at 80x24 the reasons scroll (Tab, then ↑/↓)
                yield LoadingIndicator(id="exact-busy")
                yield Static(id="exact-result")
                yield Static(id="method-reasons")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#exact-busy").display = False
        table = self.query_one(DataTable)
        table.add_columns("", "method", "trainable", "peak (nvidia-smi) vs free", "fits", "speed", "batch")
        free = self.profile.primary_gpu.free_bytes if self.profile.primary_gpu else None
        for option in self.plan.options:
            setup = option.setup
            star = "★" if option is self.plan.recommended else ""
            fits = "-" if free is None else ("[green]yes[/]" if option.fits else "[red]no[/]")
            settings = f"{setup.micro_batch}×{option.grad_accum}{' ckpt' if setup.gradient_checkpointing else ''}"
            table.add_row(
                star,
                option.method,
                param_count(option.estimate.trainable_params),
                memory_bar(option.estimate.nvidia_smi_bytes, free),
                fits,
                f"{option.relative_speed:.2f}x",
                settings,
                key=option.method,
            )
        methods = [option.method for option in self.plan.options]
        if self._prefer in methods:  # the method of a config the wizard was started with
            start = methods.index(self._prefer)
        else:
            start = self.plan.options.index(self.plan.recommended) if self.plan.recommended else 0
        table.move_cursor(row=start)
        self.highlighted = self.plan.options[start]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.highlighted = self.plan.options[event.cursor_row]
        self.exact_text = ""

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.highlighted = self.plan.options[event.cursor_row]
        self.action_next()

    def _config(self, option: PlanOption) -> FTConfig:
        framework = "axolotl" if self.use_axolotl else self.plan.framework
        return config_from_option(self.model.shape.name, option, framework)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`a` (framework axolotl) is offered only where the axolotl command is found."""
        return self.axolotl is not None if action == "axolotl" else True

    def action_axolotl(self) -> None:
        self.use_axolotl = not self.use_axolotl

    def watch_use_axolotl(self, chosen: bool) -> None:
        self.watch_highlighted(self.highlighted)

    def action_next(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Chosen(self.highlighted, self._config(self.highlighted)))

    def watch_highlighted(self, option: PlanOption | None) -> None:
        if option is None:
            return
        lines = [f"[b]{option.method}[/b]: {METHOD_QUALITY[option.method]}"]
        if option is self.plan.recommended:
            lines += [f"[green]★ recommended[/]: {reason}" for reason in self.plan.reasons[:1]]
            lines += [f"  • {reason}" for reason in self.plan.reasons[1:]]
        breakdown = " · ".join(f"{name} {value / GIB:.1f}" for name, value in option.estimate.breakdown().items())
        lines.append(f"[dim]GiB: {breakdown}[/]\n[dim]{escape(setup_line(option.setup))}[/]")
        lines.append(f"[dim]{memory_totals(option.estimate)}[/]")
        lines.append(f"[dim]Framework: {escape(self.plan.framework_reason)}[/]")
        offer = axolotl_offer(self.axolotl, self.use_axolotl, self.plan.framework)
        lines.append(f"[yellow]{escape(offer)}[/]" if self.use_axolotl else f"[dim]{escape(offer)}[/]")
        lines += [f"[yellow]→ {escape(on_screen(advice, PLAN_WORDS))}[/]" for advice in self.plan.advice]
        lines += [f"[dim]Note: {escape(note)}[/]" for note in self.plan.notes]
        lines.append("[dim]batch: micro-batch × accumulation; ckpt: gradient checkpointing · Enter or ^n: next[/]")
        self.query_one("#method-reasons", Static).update("\n".join(lines))

    def watch_exact_text(self, text: str) -> None:
        self.query_one("#exact-result", Static).update(text)

    def action_exact(self) -> None:
        if self.highlighted is not None:
            self.query_one("#exact-busy").display = True
            self.exact_text = "[dim]Simulating one real training step in a child process…[/]"
            self.run_exact(self.highlighted)

    @work(thread=True, exclusive=True, exit_on_error=False, group="exact")
    def run_exact(self, option: PlanOption) -> None:
        """The simulation runs in a child process; this thread only waits for it."""
        result = self._exact(simulation_request(self.model.hf_config, option.setup))
        simulated_peak(result)  # a malformed answer fails here, in the worker, and is shown as a failure
        self.app.call_from_thread(self._show_exact, option, result)

    def _show_exact(self, option: PlanOption, result: dict[str, Any]) -> None:
        self.query_one("#exact-busy").display = False
        free = option.free_bytes
        self.exact_text = exact_result_text(option.method, result, option.estimate.peak_alloc_bytes, free)

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        self.query_one("#exact-busy").display = False
        self.exact_text = f"[red]Exact check failed[/]: {escape(failure_text(error))}"
        return True

    def action_compare(self) -> None:
        """Measure a short trial of every method here, on the highlighted option's config (compare_screen)."""
        from tuiapp.tui.screens.compare_screen import CompareScreen

        if self.highlighted is not None:
            methods = tuple(option.method for option in self.plan.options)
            self.app.push_screen(CompareScreen(config=self._config(self.highlighted), methods=methods))

    def action_save(self) -> None:
        if self.highlighted is not None:
            self.post_message(SaveConfigRequested(self._config(self.highlighted)))

    def action_back(self) -> None:
        self.app.pop_screen()
