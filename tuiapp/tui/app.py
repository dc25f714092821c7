"""FTWizardApp: sequences the wizard's steps; each step is a Screen that dismisses with its result."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from tuiapp import __version__
from tuiapp.core.hardware import GpuSpec, HardwareProfile, detect_hardware
from tuiapp.tui.screens.hardware_screen import HardwareScreen


class FTWizardApp(App[None]):
    """The wizard. `hardware` (or `detect`) injects a fixed profile for tests and screenshots."""

    CSS_PATH = "app.tcss"
    TITLE = "ftwizard"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(
        self,
        target: GpuSpec | None = None,
        hardware: HardwareProfile | None = None,
        detect: Callable[[], HardwareProfile] = detect_hardware,
    ) -> None:
        super().__init__()
        self._target = target
        self._hardware = hardware
        self._detect = detect

    def on_mount(self) -> None:
        self.title = f"ftwizard {__version__}"
        self.push_screen(HardwareScreen(detected=self._hardware, target=self._target, detect=self._detect))
