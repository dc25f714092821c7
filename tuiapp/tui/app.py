"""FTWizardApp: sequences the wizard's steps; each step is a Screen that dismisses with its result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tuiapp import __version__
from tuiapp.core.config import save_config
from tuiapp.core.crash_log import one_line
from tuiapp.core.data.inspect_job import inspection_events
from tuiapp.core.estimate.at_length import memory_line
from tuiapp.core.hardware import GpuSpec, HardwareProfile, detect_hardware
from tuiapp.core.models.resolve import ResolvedModel
from tuiapp.tui.screens.dataset_screen import DatasetScreen, Inspector
from tuiapp.tui.screens.hardware_screen import HardwareScreen
from tuiapp.tui.screens.method_screen import MethodScreen
from tuiapp.tui.screens.model_screen import ModelScreen


class FTWizardApp(App[None]):
    """The wizard. `hardware` (or `detect`) injects a fixed profile for tests and screenshots."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it too
    TITLE = "ftwizard"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(
        self,
        target: GpuSpec | None = None,
        hardware: HardwareProfile | None = None,
        detect: Callable[[], HardwareProfile] = detect_hardware,
        resolve: Callable[[str], ResolvedModel] | None = None,
        save_dir: Path | None = None,
        inspect: Inspector = inspection_events,
    ) -> None:
        super().__init__()
        self._resolve, self._save_dir, self._inspect = resolve, save_dir, inspect
        self._model: ResolvedModel | None = None
        self._profile: HardwareProfile | None = None
        self._target = target
        self._hardware = hardware
        self._detect = detect

    def _fatal_error(self) -> None:
        """An unhandled error: one line for the user, the traceback in a crash log.

        Overrides Textual's private hook that would print a full traceback on exit; textual is pinned
        exactly, and tests/tui/test_app_errors.py fails if this hook stops being called.
        """
        error = self._exception or RuntimeError("unknown error")
        self._exit_renderables.append(one_line(error))
        self._close_messages_no_wait()

    def on_mount(self) -> None:
        self.title = f"ftwizard {__version__}"
        self.push_screen(HardwareScreen(detected=self._hardware, target=self._target, detect=self._detect))

    def on_hardware_screen_chosen(self, message: HardwareScreen.Chosen) -> None:
        self._profile = message.profile
        self.push_screen(ModelScreen(resolve=self._resolve))

    def on_model_screen_chosen(self, message: ModelScreen.Chosen) -> None:
        self._model = message.model
        self.push_screen(MethodScreen(message.model, self._profile, save_dir=self._save_dir))

    def on_method_screen_chosen(self, message: MethodScreen.Chosen) -> None:
        shape, option = self._model.shape, message.option
        self.push_screen(
            DatasetScreen(message.config, inspect=self._inspect, memory_at=lambda n: memory_line(shape, option, n))
        )

    def on_dataset_screen_chosen(self, message: DatasetScreen.Chosen) -> None:
        """Until the training step lands, the wizard ends here by saving the finished config."""
        config = message.config
        name = config.model.name_or_path.rstrip("/").rsplit("/", 1)[-1].lower()
        path = save_config(config, (self._save_dir or Path.cwd()) / f"{name}-{config.method}.yaml")
        self.notify(f"Saved {path}; check it with `ftwizard check {path.name}`", title="Config saved")
