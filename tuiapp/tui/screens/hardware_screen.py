"""Step 1: the GPUs on this machine (or the GPU the user will rent), RAM and disk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.worker import Worker

from tuiapp.core.hardware import HardwareProfile, detect_hardware, planned_hardware
from tuiapp.tui.screens.step_screen import StepScreen, failure_text
from tuiapp.tui.widgets.gpu_card import GpuCard
from tuiapp.tui.widgets.system_panel import SystemPanel

if TYPE_CHECKING:  # the catalogue loads when `t` is pressed, not before the first paint
    from tuiapp.core.hardware import GpuSpec


class HardwareScreen(StepScreen[None]):
    """Shows the detected hardware; `t` picks a catalogue GPU to plan for, `d` goes back to this machine."""

    STEP = "hardware"
    HELP_TOPIC = "hardware"
    FAILURE_TITLE = "Hardware detection failed"
    BINDINGS = [
        Binding("t", "pick_target", "Target GPU"),
        Binding("d", "use_detected", "This box"),
        Binding("r", "redetect", "Re-detect"),
        Binding("c", "demo", "CPU demo"),
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("n", "next", "Next: model", show=False),
    ]

    @dataclass
    class Chosen(Message):
        """The user moves on, planning for this hardware (`detected` is this machine's own)."""

        profile: HardwareProfile
        detected: HardwareProfile

    class DemoRequested(Message):
        """The user wants to watch the tiny CPU demo train (`ftwizard demo`)."""

    # Changes redraw the body only: recomposing the whole screen would rebuild the Header while its title
    # watcher may still run (a crash seen when quitting right after detection).
    detected: reactive[HardwareProfile | None] = reactive(None)
    target: reactive[GpuSpec | None] = reactive(None)
    detect_error: reactive[str | None] = reactive(None)

    def __init__(
        self,
        detected: HardwareProfile | None = None,
        target: GpuSpec | None = None,
        detect: Callable[[], HardwareProfile] = detect_hardware,
    ) -> None:
        super().__init__()
        self._detect = detect
        self._redraw_pending = False
        self.set_reactive(HardwareScreen.detected, detected)
        self.set_reactive(HardwareScreen.target, target)

    @property
    def profile(self) -> HardwareProfile | None:
        """What later steps plan for: the target GPU if one is chosen, else this machine."""
        if self.detected is None:
            return None
        if self.target is not None:
            return planned_hardware(self.target, self.detected.system)
        return self.detected

    def on_mount(self) -> None:
        if self.detected is None:
            self.run_detection()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detect")
    def run_detection(self) -> None:
        """NVML and psutil calls can block for a moment: keep them off the event loop."""
        profile = self._detect()
        self.app.call_from_thread(setattr, self, "detected", profile)

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="hardware-body"):
            yield from self._body()
        yield Footer()

    def _body(self) -> ComposeResult:
        profile = self.profile
        if self.detect_error:
            yield Static(
                f"[b]Could not read the hardware[/b]: {self.detect_error}\nPress [b]r[/b] to try again.",
                id="detect-error",
                classes="notice warning",
            )
        elif profile is None:
            yield Static("Detecting GPUs…", classes="hint")  # a few milliseconds: no spinner to start
        else:
            yield from self._describe(profile)

    def _redraw(self) -> None:
        """One redraw for any number of changes in a tick (Re-detect changes three values at once)."""
        if self.is_mounted and not self._redraw_pending:
            self._redraw_pending = True
            self.call_after_refresh(self._redraw_now)

    async def _redraw_now(self) -> None:
        self._redraw_pending = False
        body = self.query_one("#hardware-body")
        await body.remove_children()
        await body.mount_all(list(self._body()))

    def watch_detected(self) -> None:
        self._redraw()

    def watch_target(self) -> None:
        self._redraw()

    def watch_detect_error(self) -> None:
        self._redraw()

    def _describe(self, profile: HardwareProfile) -> ComposeResult:
        if profile.source == "planned":
            yield Static(
                "Planning for a GPU this machine does not have: figures are the card's, with all memory "
                "free. Press [b]d[/b] to return to this machine.",
                classes="notice",
            )
        elif not profile.gpus:
            yield Static(
                f"[b]No NVIDIA GPU found[/b]: {profile.no_gpu_reason}.\n"
                "You can still plan for the GPU you will rent: press [b]t[/b] to pick one from the "
                "catalogue, or press [b]c[/b] to watch a tiny model train on this CPU in under a minute.",
                id="no-gpu",
                classes="notice warning",
            )
        for gpu in profile.gpus:
            yield GpuCard(gpu, planned=profile.source == "planned")
        yield SystemPanel(profile.system)

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        self.detect_error = failure_text(error)
        self.refresh_bindings()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_detected":
            return self.target is not None
        if action == "redetect":  # while planning, d goes back to this machine first
            return self.target is None
        if action in ("pick_target", "next"):
            return self.detected is not None
        return True

    def action_pick_target(self) -> None:
        from tuiapp.tui.screens.gpu_picker_screen import GpuPickerScreen

        def chosen(spec: GpuSpec | None) -> None:
            if spec is not None:
                self.target = spec
                self.refresh_bindings()

        self.app.push_screen(GpuPickerScreen(), chosen)

    def action_next(self) -> None:
        if self.profile is not None and self.detected is not None:
            self.post_message(self.Chosen(self.profile, self.detected))

    def action_demo(self) -> None:
        self.post_message(self.DemoRequested())

    def action_use_detected(self) -> None:
        self.target = None
        self.refresh_bindings()

    def action_redetect(self) -> None:
        self.target = None
        self.detected = None
        self.detect_error = None
        self.refresh_bindings()
        self.run_detection()
