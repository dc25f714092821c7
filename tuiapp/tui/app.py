"""FTWizardApp: sequences the wizard's steps; each step is a Screen that dismisses with its result."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from tuiapp import __version__
from tuiapp.core.config import FTConfig, save_config
from tuiapp.core.crash_log import one_line
from tuiapp.core.data.inspect_job import inspection_events
from tuiapp.core.demo import demo_config, ensure_demo_model
from tuiapp.core.estimate.at_length import memory_line
from tuiapp.core.estimate.schedule_line import schedule_line
from tuiapp.core.hardware import GpuSpec, HardwareProfile, detect_hardware
from tuiapp.core.models.resolve import ResolvedModel
from tuiapp.core.runs.launcher import launch_worker, prepare_run
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.dataset_screen import DatasetScreen, Inspector
from tuiapp.tui.screens.hardware_screen import HardwareScreen
from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen
from tuiapp.tui.screens.method_screen import MethodScreen
from tuiapp.tui.screens.model_screen import ModelScreen
from tuiapp.tui.screens.training_screen import TrainingScreen


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
        launch: Callable[[RunPaths], object] = launch_worker,
        run_dir: Path | None = None,  # open straight on this run's Training screen (ftwizard attach)
    ) -> None:
        super().__init__()
        self._run_dir, self._launch = run_dir, launch
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
        gc.freeze()  # startup objects leave the collector's view: full collections stop stalling the dashboard
        if self._run_dir is not None:  # ftwizard attach RUN
            self.push_screen(TrainingScreen(self._run_dir))
            return
        self.push_screen(HardwareScreen(detected=self._hardware, target=self._target, detect=self._detect))

    def on_hardware_screen_demo_requested(self) -> None:
        self.notify("Building the tiny demo model and starting the run…", title="CPU demo", timeout=4)
        self.start_demo()

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo")
    def start_demo(self) -> None:
        """Build the demo model (a child process) and launch its run; then show the dashboard."""
        try:
            paths = prepare_run(demo_config(ensure_demo_model()))
            self._launch(paths)
        except UserError as exc:
            self.call_from_thread(self.notify, str(exc), title="Cannot start the demo", severity="error")
            return
        self.call_from_thread(self.push_screen, TrainingScreen(paths.root))

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
        gpu = self._profile.primary_gpu if self._profile else None
        stats = message.stats
        self.push_screen(
            HyperparamsScreen(
                message.config,
                self._model,
                free_bytes=gpu.free_bytes if gpu else None,
                schedule=lambda config: schedule_line(config, self._model.shape, stats, gpu),
                bf16=gpu.bf16 if gpu else True,
                save=lambda config: str(self._save_config(config)),
            )
        )

    def on_hyperparams_screen_chosen(self, message: HyperparamsScreen.Chosen) -> None:
        """Save the config next to the user's work, start the detached worker, watch it train."""
        config = message.config
        saved = self._save_config(config)
        try:
            paths = prepare_run(config, base=Path.cwd())  # where relative dataset paths were typed
            self._launch(paths)
        except UserError as exc:
            self.notify(str(exc), title="Cannot start training", severity="error")
            return
        self.notify(f"Config saved to {saved}; the run lives in {paths.root}", title="Training started")
        self.push_screen(TrainingScreen(paths.root))

    def _save_config(self, config: FTConfig) -> Path:
        name = config.model.name_or_path.rstrip("/").rsplit("/", 1)[-1].lower()
        return save_config(config, (self._save_dir or Path.cwd()) / f"{name}-{config.method}.yaml")
